//! The `system.multicall` convention's request, read on the server's side: the
//! one reader of a multicall's entries, for any server on the codec.
//!
//! A multicall takes one parameter, an array of structs `{methodName, params}`;
//! each entry is decoded on its own, so that a malformed one can be answered in
//! its place while the others run.
//!
//! ```
//! use xmlrpc_codec::{Struct, Value, multicall};
//!
//! let entry = Value::Struct(Struct::from_iter([
//!     ("methodName", Value::from("add")),
//!     ("params", Value::Array(vec![Value::Int(1), Value::Int(2)])),
//! ]));
//! let calls = multicall::calls(vec![Value::Array(vec![entry, Value::Int(42)])]).unwrap();
//! assert_eq!(calls[0].as_ref().unwrap().method_name, "add");
//! let fault = calls[1].as_ref().unwrap_err();
//! assert_eq!(fault.code, -32602);
//! assert_eq!(
//!     fault.string,
//!     "system.multicall: call 2: expected struct {methodName, params}, got int 42"
//! );
//! ```

use crate::{Fault, MethodCall, Value};

/// The method's name.
pub const NAME: &str = "system.multicall";

/// `-32602`: a parameter of the wrong shape (the fault code interoperability
/// convention's "invalid method parameters").
const INVALID_PARAMS: i32 = -32602;
/// `-32600`: a `system.multicall` inside a `system.multicall`.
const INVALID_REQUEST: i32 = -32600;

/// The calls of a `system.multicall` whose parameters are `params`: each one
/// decoded, or the fault it answers in its place (-32602 for a malformed entry,
/// -32600 for a nested `system.multicall`); or the fault of the whole call
/// (-32602) when its parameters are not one array.
///
/// An entry without `params` has none; members other than `methodName` and
/// `params` are ignored. Bounding the number of calls is the server's business.
pub fn calls(mut params: Vec<Value>) -> Result<Vec<Result<MethodCall, Fault>>, Fault> {
    if params.len() != 1 {
        return Err(Fault::new(
            INVALID_PARAMS,
            format!("{NAME}: expected 1 parameter (calls), got {}", params.len()),
        ));
    }
    let entries = match params.pop() {
        Some(Value::Array(entries)) => entries,
        Some(other) => {
            return Err(Fault::new(
                INVALID_PARAMS,
                format!(
                    "{NAME}: parameter 1 (calls): expected array, got {}",
                    describe(&other)
                ),
            ));
        }
        None => unreachable!("one parameter, checked above"),
    };
    Ok(entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            entry_call(entry).map_err(|(code, problem)| {
                Fault::new(code, format!("{NAME}: call {}: {problem}", i + 1))
            })
        })
        .collect())
}

/// One entry: the call, or the fault code and what is wrong.
fn entry_call(entry: Value) -> Result<MethodCall, (i32, String)> {
    let invalid = |problem: String| (INVALID_PARAMS, problem);
    let Value::Struct(members) = entry else {
        return Err(invalid(format!(
            "expected struct {{methodName, params}}, got {}",
            describe(&entry)
        )));
    };
    let mut members = members;
    let name = match members.remove("methodName") {
        None => return Err(invalid("missing member `methodName`".to_owned())),
        Some(Value::String(s)) => s,
        Some(other) => {
            return Err(invalid(format!(
                "methodName: expected string, got {}",
                describe(&other)
            )));
        }
    };
    let params = match members.remove("params") {
        None => Vec::new(),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(invalid(format!(
                "params: expected array, got {}",
                describe(&other)
            )));
        }
    };
    if name == NAME {
        return Err((INVALID_REQUEST, format!("{NAME} cannot be nested")));
    }
    Ok(MethodCall::new(name, params))
}

/// A short description of a value for a fault: its type, and for scalars
/// their text (shortened), so that `got int -1` says what was wrong.
fn describe(value: &Value) -> String {
    const MAX: usize = 40;
    match value {
        Value::Int(i) => format!("int {i}"),
        Value::Bool(b) => format!("boolean {}", u8::from(*b)),
        Value::String(s) if s.chars().count() > MAX => {
            let head: String = s.chars().take(MAX).collect();
            format!("string {head:?}…")
        }
        Value::String(s) => format!("string {s:?}"),
        other => other.type_name().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Struct;

    fn entry(members: &[(&str, Value)]) -> Value {
        Value::Struct(members.iter().cloned().collect())
    }

    #[test]
    fn a_malformed_entry_is_a_fault_in_its_place_naming_what_is_wrong() {
        let calls = calls(vec![Value::Array(vec![
            entry(&[("params", Value::Array(vec![]))]),
            entry(&[("methodName", Value::Int(1))]),
            entry(&[("methodName", Value::from("a")), ("params", Value::Int(2))]),
            entry(&[("methodName", Value::from(NAME))]),
            entry(&[("methodName", Value::from("b"))]),
        ])])
        .unwrap();
        let faults: Vec<_> = calls
            .iter()
            .filter_map(|c| c.as_ref().err())
            .map(|f| (f.code, f.string.as_str()))
            .collect();
        assert_eq!(
            faults,
            [
                (
                    -32602,
                    "system.multicall: call 1: missing member `methodName`"
                ),
                (
                    -32602,
                    "system.multicall: call 2: methodName: expected string, got int 1"
                ),
                (
                    -32602,
                    "system.multicall: call 3: params: expected array, got int 2"
                ),
                (
                    -32600,
                    "system.multicall: call 4: system.multicall cannot be nested"
                ),
            ]
        );
        assert_eq!(calls[4], Ok(MethodCall::new("b", vec![])));
    }

    #[test]
    fn parameters_that_are_not_one_array_fail_the_whole_call() {
        let fault = calls(vec![]).unwrap_err();
        assert_eq!(
            (fault.code, fault.string.as_str()),
            (
                -32602,
                "system.multicall: expected 1 parameter (calls), got 0"
            )
        );
        let fault = calls(vec![Value::Struct(Struct::new())]).unwrap_err();
        assert_eq!(
            fault.string,
            "system.multicall: parameter 1 (calls): expected array, got struct"
        );
    }
}
