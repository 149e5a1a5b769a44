//! XML-RPC messages: [`MethodCall`], [`MethodResponse`], [`Fault`].

use crate::Value;

/// A `<methodCall>`: a method name and its positional parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodCall {
    /// The `<methodName>`.
    pub method_name: String,
    /// The `<params>`, in order (empty when the document has none).
    pub params: Vec<Value>,
}

impl MethodCall {
    /// A call of `method_name` with `params`.
    pub fn new(method_name: impl Into<String>, params: Vec<Value>) -> Self {
        Self {
            method_name: method_name.into(),
            params,
        }
    }
}

/// A `<methodResponse>`: one result value, or a fault.
#[derive(Debug, Clone, PartialEq)]
pub enum MethodResponse {
    /// `<params><param><value>…</value></param></params>`.
    Success(Value),
    /// `<fault>`.
    Fault(Fault),
}

/// An XML-RPC fault: exactly `faultCode` (int) and `faultString` (string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// `faultCode`.
    pub code: i32,
    /// `faultString`.
    pub string: String,
}

impl Fault {
    /// A fault with `code` and `string`.
    pub fn new(code: i32, string: impl Into<String>) -> Self {
        Self {
            code,
            string: string.into(),
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "fault {}: {}", self.code, self.string)
    }
}

impl std::error::Error for Fault {}
