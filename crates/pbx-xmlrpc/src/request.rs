//! What [`Request`](crate::Request)'s generated conversions (`crate::methods`)
//! use: the checked reading of a call's parameters ([`Params`]), the reader and
//! writer of each kind of parameter ([`wire`]), multicall entries and the
//! faults of a call that names no method.

use xmlrpc_codec::{Fault, MethodCall, Struct, Value};

use crate::convert::ResultError;
use crate::fault::FaultCode;
use crate::methods::MethodSpec;

/// An optional parameter as written: its value when present, and its stand-in.
pub(crate) type Optional = (Option<Value>, fn() -> Value);

/// Appends the optional parameters up to the last one present, each absent one
/// before it as its stand-in.
pub(crate) fn push_optional<const N: usize>(params: &mut Vec<Value>, optional: [Optional; N]) {
    let used = optional
        .iter()
        .rposition(|(value, _)| value.is_some())
        .map_or(0, |last| last + 1);
    params.extend(
        optional
            .into_iter()
            .take(used)
            .map(|(value, absent)| value.unwrap_or_else(absent)),
    );
}

/// The fault for a method name that is not offered (-32601): the name quoted,
/// shortened to 80 characters, since it is the client's text.
pub fn no_such_method(name: &str) -> Fault {
    const MAX: usize = 80;
    let shown: String = name.chars().take(MAX).collect();
    let more = if name.chars().count() > MAX {
        "…"
    } else {
        ""
    };
    FaultCode::MethodNotFound.fault(format!("no such method: {shown:?}{more}"))
}

/// The struct `{methodName, params}` for one entry of `system.multicall`.
pub fn multicall_entry_to_value(call: &MethodCall) -> Value {
    Value::Struct(Struct::from_iter([
        ("methodName", Value::String(call.method_name.clone())),
        ("params", Value::Array(call.params.clone())),
    ]))
}

/// Whether `value` holds XML-RPC core types only (no nil, no int beyond 32 bits):
/// what `dict_set_serialized` stores, and what a stored text must decode to for
/// `dict_get_serialized` to answer it.
pub fn core_types_only(value: &Value) -> Result<(), ResultError> {
    match value {
        Value::Nil => Err(ResultError::other(
            "nil cannot be stored: it is no XML-RPC core type",
        )),
        Value::Int(i) if i32::try_from(*i).is_err() => Err(ResultError::other(format!(
            "{i} cannot be stored: XML-RPC's <int> has 32 bits"
        ))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| core_types_only(v).map_err(|e| e.in_element(i))),
        Value::Struct(s) => s
            .iter()
            .try_for_each(|(k, v)| core_types_only(v).map_err(|e| e.in_member(k))),
        _ => Ok(()),
    }
}

/// A call's parameters, checked against the method's entry in the table, read
/// in order.
pub(crate) struct Params<'a> {
    spec: &'static MethodSpec,
    values: &'a [Value],
    /// The position of the next parameter to read.
    next: usize,
}

impl<'a> Params<'a> {
    pub(crate) fn new(spec: &'static MethodSpec, values: &'a [Value]) -> Result<Self, Fault> {
        let arity = spec.arity();
        if arity.contains(&values.len()) {
            return Ok(Params {
                spec,
                values,
                next: 0,
            });
        }
        let names: Vec<String> = spec
            .params
            .iter()
            .map(|p| format!("{}{}", p.name, if p.optional { "?" } else { "" }))
            .collect();
        let expected = match (arity.start(), arity.end()) {
            (0, 0) => "no parameters".to_string(),
            (a, b) if a == b => format!("{a} parameter{} ({})", plural(*a), names.join(", ")),
            (a, b) => format!("{a} to {b} parameters ({})", names.join(", ")),
        };
        Err(FaultCode::InvalidParams.fault(format!(
            "{}: expected {expected}, got {}",
            spec.name,
            values.len()
        )))
    }

    /// The fault for parameter `i` (0-based) being wrong.
    fn fault(&self, i: usize, error: ResultError) -> Fault {
        let name = self.spec.params.get(i).map_or("?", |p| p.name);
        FaultCode::InvalidParams.fault(format!(
            "{}: parameter {} ({name}): {error}",
            self.spec.name,
            i + 1
        ))
    }

    /// The next parameter, required, read by `read`.
    pub(crate) fn required<T>(
        &mut self,
        read: impl FnOnce(&'a Value) -> Result<T, ResultError>,
    ) -> Result<T, Fault> {
        let i = self.next;
        self.next += 1;
        let value = self
            .values
            .get(i)
            .ok_or_else(|| self.fault(i, ResultError::other("missing")))?;
        read(value).map_err(|e| self.fault(i, e))
    }

    /// The next parameter, optional, read by `read`: absent, nil and `""` are `None`.
    pub(crate) fn optional<T>(
        &mut self,
        read: impl FnOnce(&'a Value) -> Result<T, ResultError>,
    ) -> Result<Option<T>, Fault> {
        let i = self.next;
        self.next += 1;
        match self.values.get(i) {
            None | Some(Value::Nil) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(value) => read(value).map(Some).map_err(|e| self.fault(i, e)),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Each kind of parameter the table names (`via kind`): how it is read
/// (liberally, see the crate docs), written (strictly) and, for an optional
/// one that a later one follows, stood in for when absent.
///
/// Writers take `&T` of the request's field type (`&String`, `&Vec<_>`): they
/// are passed as `fn(&T) -> Value` over the fields.
#[allow(clippy::ptr_arg)]
pub(crate) mod wire {
    use pbx_model::{CallId, Favorite};
    use xmlrpc_codec::{MethodCall, Value};

    use crate::convert::{self, ResultError};
    use crate::records::{Record, entries_to_value, records_to_value};

    /// A string; an `<int>` is read as its decimal text.
    pub(crate) mod string {
        use super::*;

        pub(crate) fn read(value: &Value) -> Result<String, ResultError> {
            convert::string(value).map(|s| s.into_owned())
        }

        pub(crate) fn write(text: &String) -> Value {
            Value::String(text.clone())
        }

        /// `""` counts as absent (SPEC.md).
        pub(crate) fn absent() -> Value {
            Value::String(String::new())
        }
    }

    /// A call's id: a string, or an `<int>` read as its decimal text.
    pub(crate) mod call_id {
        use super::*;

        pub(crate) fn read(value: &Value) -> Result<CallId, ResultError> {
            convert::string(value).map(|s| CallId::new(s.into_owned()))
        }

        pub(crate) fn write(call: &CallId) -> Value {
            Value::String(call.as_str().to_string())
        }
    }

    /// `set_favorites`' array of favorite records.
    pub(crate) mod favorites {
        use super::*;

        pub(crate) fn read(value: &Value) -> Result<Vec<Favorite>, ResultError> {
            convert::list(value, Favorite::from_value)
        }

        pub(crate) fn write(favorites: &Vec<Favorite>) -> Value {
            records_to_value(favorites)
        }
    }

    /// `dict_set_many`'s struct of key → string, in the order given.
    pub(crate) mod pairs {
        use super::*;

        pub(crate) fn read(value: &Value) -> Result<Vec<(String, String)>, ResultError> {
            convert::structure(value)?
                .iter()
                .map(|(k, v)| {
                    let v = convert::string(v).map_err(|e| e.in_member(k))?;
                    Ok((k.to_string(), v.into_owned()))
                })
                .collect()
        }

        pub(crate) fn write(pairs: &Vec<(String, String)>) -> Value {
            entries_to_value(pairs)
        }
    }

    /// `dict_set_serialized`'s object: an array or struct of XML-RPC core types
    /// only, so that what is stored can always be written back to any client.
    pub(crate) mod storable {
        use super::*;

        pub(crate) fn read(value: &Value) -> Result<Value, ResultError> {
            match value {
                Value::Array(_) | Value::Struct(_) => {
                    crate::request::core_types_only(value)?;
                    Ok(value.clone())
                }
                other => Err(ResultError::mismatch("array or struct", other)),
            }
        }

        pub(crate) fn write(value: &Value) -> Value {
            value.clone()
        }
    }

    /// A parking slot: an int from 0 (refused by the backend) up.
    pub(crate) mod slot {
        use super::*;

        pub(crate) fn read(value: &Value) -> Result<u32, ResultError> {
            convert::u32(value)
        }

        pub(crate) fn write(slot: &u32) -> Value {
            Value::Int(i64::from(*slot))
        }

        /// Never needed (the last parameter); the empty string reads as absent.
        #[allow(dead_code)]
        pub(crate) fn absent() -> Value {
            super::string::absent()
        }
    }

    /// A `get_events` timeout: an int of seconds from 0 to 60.
    pub(crate) mod events_timeout {
        use super::*;

        pub(crate) fn read(value: &Value) -> Result<u32, ResultError> {
            let max = crate::events::MAX_EVENTS_TIMEOUT;
            match convert::u32(value) {
                Ok(t) if t <= max => Ok(t),
                _ => Err(ResultError::other(format!(
                    "expected seconds from 0 to {max}, got {}",
                    match value {
                        Value::Int(i) => i.to_string(),
                        other => other.type_name().to_owned(),
                    }
                ))),
            }
        }

        pub(crate) fn write(seconds: &u32) -> Value {
            Value::Int(i64::from(*seconds))
        }

        /// The default timeout.
        pub(crate) fn absent() -> Value {
            Value::Int(i64::from(crate::events::DEFAULT_EVENTS_TIMEOUT))
        }
    }

    /// A `sim.play` speed: a double, or an int (`2` for double speed).
    pub(crate) mod speed {
        use super::*;

        pub(crate) fn read(value: &Value) -> Result<f64, ResultError> {
            match value {
                Value::Double(d) => Ok(*d),
                Value::Int(i) => Ok(*i as f64),
                Value::String(t) => t
                    .trim()
                    .parse()
                    .map_err(|_| ResultError::mismatch("a number", value)),
                other => Err(ResultError::mismatch("a number", other)),
            }
        }

        pub(crate) fn write(speed: &f64) -> Value {
            Value::Double(*speed)
        }

        /// The default speed: a double where a server might not take `""`.
        pub(crate) fn absent() -> Value {
            Value::Double(1.0)
        }
    }

    /// A boolean flag: a boolean, an int 0/1 or `"0"`/`"1"`.
    pub(crate) mod flag {
        use super::*;

        pub(crate) fn read(value: &Value) -> Result<bool, ResultError> {
            convert::flag(value)
        }

        pub(crate) fn write(flag: &bool) -> Value {
            Value::Bool(*flag)
        }

        /// Never needed (the last parameter); the empty string reads as absent.
        #[allow(dead_code)]
        pub(crate) fn absent() -> Value {
            super::string::absent()
        }
    }

    /// `system.multicall`'s calls, read by the codec's one reader of entries.
    pub(crate) mod calls {
        use super::*;

        pub(crate) fn read(value: &Value) -> Result<Vec<MethodCall>, ResultError> {
            if !matches!(value, Value::Array(_)) {
                return Err(ResultError::mismatch("array", value));
            }
            // The codec names the method; the fault built from this names it too.
            let prefix = format!("{}: ", xmlrpc_codec::multicall::NAME);
            xmlrpc_codec::multicall::calls(vec![value.clone()])
                .and_then(|calls| calls.into_iter().collect())
                .map_err(|fault| {
                    let problem = fault
                        .string
                        .strip_prefix(prefix.as_str())
                        .unwrap_or(&fault.string);
                    ResultError::other(problem.to_owned())
                })
        }

        pub(crate) fn write(calls: &Vec<MethodCall>) -> Value {
            Value::Array(
                calls
                    .iter()
                    .map(crate::request::multicall_entry_to_value)
                    .collect(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Request;
    use pbx_model::CallId;

    fn call(name: &str, params: Vec<Value>) -> Result<Request, Fault> {
        Request::from_call(&MethodCall::new(name, params))
    }

    #[test]
    fn faults_name_the_parameter() {
        let f = call(
            "transfer",
            vec![Value::String("1".into()), Value::Array(vec![])],
        )
        .unwrap_err();
        assert_eq!(f.code, -32602);
        assert_eq!(
            f.string,
            "transfer: parameter 2 (destination): expected string, got array"
        );
        let f = call("transfer", vec![Value::String("1".into())]).unwrap_err();
        assert_eq!(
            f.string,
            "transfer: expected 2 parameters (callid, destination), got 1"
        );
        let f = call("park", vec![]).unwrap_err();
        assert_eq!(
            f.string,
            "park: expected 1 to 2 parameters (callid, slot?), got 0"
        );
        let f = call("get_calls", vec![Value::Int(1)]).unwrap_err();
        assert_eq!(f.string, "get_calls: expected no parameters, got 1");
        let f = call("nope", vec![]).unwrap_err();
        assert_eq!(
            (f.code, f.string.as_str()),
            (-32601, "no such method: \"nope\"")
        );
    }

    #[test]
    fn liberal_where_harmless() {
        assert_eq!(
            call("park", vec![Value::Int(17), Value::String("".into())]),
            Ok(Request::Park {
                call: CallId::new("17"),
                slot: None
            })
        );
        assert_eq!(
            call(
                "park",
                vec![Value::String("c".into()), Value::String("3".into())]
            ),
            Ok(Request::Park {
                call: CallId::new("c"),
                slot: Some(3)
            })
        );
        let f = call("park", vec![Value::String("c".into()), Value::Int(-1)]).unwrap_err();
        assert_eq!(
            f.string,
            "park: parameter 2 (slot): expected int from 0 to 2147483647, got int -1"
        );
    }

    #[test]
    fn an_absent_optional_parameter_before_a_present_one_is_written_as_its_stand_in() {
        let play = Request::SimPlay {
            scenario: "office-day".into(),
            speed: None,
            repeat: Some(true),
        };
        // The default speed, as a double: a server may not take `""` for a number.
        assert_eq!(
            play.to_call().params,
            vec![
                Value::String("office-day".into()),
                Value::Double(1.0),
                Value::Bool(true)
            ]
        );
        let poll = Request::GetEvents {
            cursor: None,
            timeout: Some(5),
        };
        assert_eq!(
            poll.to_call().params,
            vec![Value::String(String::new()), Value::Int(5)]
        );
        assert_eq!(call("get_events", poll.to_call().params), Ok(poll));
        // Trailing absent ones are left out.
        let park = Request::Park {
            call: CallId::new("c"),
            slot: None,
        };
        assert_eq!(park.to_call().params, vec![Value::String("c".into())]);
    }

    #[test]
    fn a_multicall_is_read_by_the_codecs_reader_of_entries() {
        let entry = |name: &str| {
            Value::Struct(Struct::from_iter([(
                "methodName",
                Value::String(name.into()),
            )]))
        };
        assert_eq!(
            call(
                "system.multicall",
                vec![Value::Array(vec![entry("get_calls")])]
            ),
            Ok(Request::Multicall {
                calls: vec![MethodCall::new("get_calls", vec![])]
            })
        );
        let f = call(
            "system.multicall",
            vec![Value::Array(vec![entry("get_calls"), Value::Int(3)])],
        )
        .unwrap_err();
        assert_eq!(
            f.string,
            "system.multicall: parameter 1 (calls): call 2: expected struct {methodName, params}, got int 3"
        );
    }

    #[test]
    fn serialized_objects_hold_core_types_only() {
        let nested = Value::Struct(Struct::from_iter([(
            "a",
            Value::Array(vec![Value::Int(1), Value::Nil]),
        )]));
        let f = call(
            "dict_set_serialized",
            vec![Value::String("k".into()), nested],
        )
        .unwrap_err();
        assert_eq!(
            f.string,
            "dict_set_serialized: parameter 2 (obj): a[1]: nil cannot be stored: it is no XML-RPC core type"
        );
        let f = call(
            "dict_set_serialized",
            vec![Value::String("k".into()), Value::Int(1)],
        )
        .unwrap_err();
        assert_eq!(
            f.string,
            "dict_set_serialized: parameter 2 (obj): expected array or struct, got int 1"
        );
    }
}
