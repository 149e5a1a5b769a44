//! XML-RPC messages: [`MethodCall`], [`MethodResponse`], [`Fault`].

use crate::{Struct, Value};

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

impl MethodResponse {
    /// The result, or the fault as an error: what a client usually wants.
    ///
    /// ```
    /// use xmlrpc_codec::{Fault, MethodResponse, Value};
    ///
    /// assert_eq!(MethodResponse::Success(Value::Int(1)).into_result(), Ok(Value::Int(1)));
    /// let fault = Fault::new(4, "Too many parameters");
    /// assert_eq!(MethodResponse::Fault(fault.clone()).into_result(), Err(fault));
    /// ```
    pub fn into_result(self) -> Result<Value, Fault> {
        match self {
            MethodResponse::Success(value) => Ok(value),
            MethodResponse::Fault(fault) => Err(fault),
        }
    }
}

impl From<Result<Value, Fault>> for MethodResponse {
    fn from(result: Result<Value, Fault>) -> Self {
        match result {
            Ok(value) => MethodResponse::Success(value),
            Err(fault) => MethodResponse::Fault(fault),
        }
    }
}

/// An XML-RPC fault: `faultCode` (an int) and `faultString` (a string).
///
/// **Written strictly**: the encoder writes exactly `faultCode` as an `<int>` (from
/// [`Fault::code`]) and `faultString`, never [`Fault::raw_code`] or
/// [`Fault::extra`].
///
/// **Read liberally**, as Python's `xmlrpc.client` does: real servers send faults
/// the spec does not allow, and losing the whole fault over it helps nobody. The
/// oddity stays visible:
///
/// - a `faultCode` that is not an int within 32 bits (Odoo's legacy endpoint sends
///   `<string>` codes, some servers `<i8>`) is kept as sent in [`Fault::raw_code`];
///   [`Fault::code`] is then the number its text holds if it is a 32-bit integer
///   (`<string>4</string>` gives 4), else 0;
/// - members other than `faultCode` and `faultString` are kept, in order, in
///   [`Fault::extra`].
///
/// A fault without `faultCode` or `faultString`, or whose `faultString` is not a
/// string, is still a decode error. [`Fault::is_conforming`] tells a fault the spec
/// allows from one that was read leniently.
///
/// `#[non_exhaustive]`: build one with [`Fault::new`] (or `Fault::try_from(value)`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Fault {
    /// `faultCode` (see the type's docs when the peer did not send an int).
    pub code: i32,
    /// `faultString`.
    pub string: String,
    /// The `faultCode` as the peer sent it, when it was not an int within 32 bits;
    /// `None` for a conforming fault. Never written.
    pub raw_code: Option<Value>,
    /// Members other than `faultCode` and `faultString`, in document order; empty
    /// for a conforming fault. Never written.
    pub extra: Struct,
}

impl Fault {
    /// A fault with `code` and `string` (conforming: no raw code, no extra members).
    pub fn new(code: i32, string: impl Into<String>) -> Self {
        Self {
            code,
            string: string.into(),
            raw_code: None,
            extra: Struct::new(),
        }
    }

    /// Whether the fault is what the spec allows: an int `faultCode` within 32 bits,
    /// a `faultString`, and nothing else (no [`Fault::raw_code`], no [`Fault::extra`]).
    pub fn is_conforming(&self) -> bool {
        self.raw_code.is_none() && self.extra.is_empty()
    }

    /// The fault as the struct [`Value`] the encoder writes: `faultCode` and
    /// `faultString` only (the same as `Value::from(fault)`).
    pub fn to_value(&self) -> Value {
        Value::from(Fault::new(self.code, self.string.clone()))
    }
}

impl From<Fault> for Value {
    /// `faultCode` and `faultString`, as [`Fault::to_value`].
    fn from(fault: Fault) -> Self {
        let mut members = Struct::with_capacity(2);
        members.insert("faultCode", Value::Int(i64::from(fault.code)));
        members.insert("faultString", Value::String(fault.string));
        Value::Struct(members)
    }
}

/// A value that is not a fault struct, even read liberally: see [`Fault`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a fault: {0}")]
pub struct InvalidFault(pub(crate) &'static str);

impl TryFrom<Value> for Fault {
    type Error = InvalidFault;

    /// Reads a fault struct as the decoder does: liberally, with the oddities kept
    /// (see [`Fault`]).
    ///
    /// ```
    /// use xmlrpc_codec::{Fault, Struct, Value};
    ///
    /// let odoo = Value::Struct(Struct::from_iter([
    ///     ("faultCode", Value::String("warning -- Access Denied".into())),
    ///     ("faultString", Value::String("Traceback …".into())),
    /// ]));
    /// let fault = Fault::try_from(odoo)?;
    /// assert_eq!(fault.code, 0);
    /// assert_eq!(fault.raw_code, Some(Value::String("warning -- Access Denied".into())));
    /// assert!(!fault.is_conforming());
    /// assert_eq!(Fault::try_from(Fault::new(4, "x").to_value())?, Fault::new(4, "x"));
    /// # Ok::<(), xmlrpc_codec::InvalidFault>(())
    /// ```
    fn try_from(value: Value) -> Result<Self, InvalidFault> {
        let Value::Struct(members) = value else {
            return Err(InvalidFault("a fault value must be a struct"));
        };
        let (mut code, mut string) = (None, None);
        let mut extra = Struct::new();
        for (name, value) in members {
            match name.as_str() {
                "faultCode" => code = Some(value),
                "faultString" => match value {
                    Value::String(s) => string = Some(s),
                    _ => return Err(InvalidFault("faultString must be a string")),
                },
                _ => {
                    extra.insert(name, value);
                }
            }
        }
        let (Some(code), Some(string)) = (code, string) else {
            return Err(InvalidFault(
                "a fault struct must have the members faultCode and faultString",
            ));
        };
        let (code, raw_code) = match code {
            Value::Int(n) => match i32::try_from(n) {
                Ok(n) => (n, None),
                Err(_) => (0, Some(Value::Int(n))),
            },
            Value::String(text) => (text.trim().parse().unwrap_or(0), Some(Value::String(text))),
            other => (0, Some(other)),
        };
        Ok(Fault {
            code,
            string,
            raw_code,
            extra,
        })
    }
}

impl std::fmt::Display for Fault {
    /// `fault 4: Too many parameters`; a code sent as a string shows as sent
    /// (`fault "warning -- Access Denied": …`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.raw_code {
            Some(Value::String(code)) => write!(f, "fault {code:?}: {}", self.string),
            Some(Value::Int(code)) => write!(f, "fault {code}: {}", self.string),
            _ => write!(f, "fault {}: {}", self.code, self.string),
        }
    }
}

impl std::error::Error for Fault {}
