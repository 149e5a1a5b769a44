//! Typed requests: [`Request::from_call`] (server side, with faults that name the
//! parameter) and [`Request::to_call`] (client side).

use pbx_model::{CallId, Favorite};
use xmlrpc_codec::{Fault, MethodCall, Struct, Value};

use crate::convert::{self, ResultError};
use crate::fault::FaultCode;
use crate::methods::{Method, MethodSpec, method};
use crate::records::{Record, records_to_value};

/// One call of an API method, with its parameters decoded.
///
/// Every method of the table ([`methods()`](crate::methods())) has a variant; the wire name comes
/// from the table through [`Request::method`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Request {
    /// `get_calls()`.
    GetCalls,
    /// `get_extensions()`.
    GetExtensions,
    /// `get_favorites()`.
    GetFavorites,
    /// `set_favorites(favorites)`.
    SetFavorites(Vec<Favorite>),
    /// `transfer(callid, destination)`.
    Transfer {
        /// The call.
        call: CallId,
        /// Where it goes: a number of the group, `vm-<number>`, or an outside number.
        destination: String,
    },
    /// `drop(callid)`.
    Drop {
        /// The call.
        call: CallId,
    },
    /// `get_parking_info()`.
    GetParkingInfo,
    /// `get_events(cursor?, timeout?)`.
    GetEvents {
        /// Where to resume: `""` for "from now".
        cursor: String,
        /// Seconds to wait when nothing is pending (0-60), or the default (25).
        timeout: Option<u32>,
    },
    /// `park(callid, slot?)`.
    Park {
        /// The call.
        call: CallId,
        /// The slot (from 1), or the lowest free one.
        slot: Option<u32>,
    },
    /// `dict_set(key, value)`.
    DictSet {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// `dict_set_many(pairs)`: the pairs in the order given (a repeated key keeps the last).
    DictSetMany(Vec<(String, String)>),
    /// `dict_get(key)`.
    DictGet {
        /// The key.
        key: String,
    },
    /// `dict_set_serialized(key, obj)`.
    DictSetSerialized {
        /// The key.
        key: String,
        /// The array or struct to store (decoded requests hold only core types).
        value: Value,
    },
    /// `dict_get_serialized(key)`.
    DictGetSerialized {
        /// The key.
        key: String,
    },
    /// `dict_delete(key)`.
    DictDelete {
        /// The key.
        key: String,
    },
    /// `get_all()`.
    GetAll,
    /// A `sim.*` method.
    Sim(SimRequest),
    /// `system.listMethods()`.
    ListMethods,
    /// `system.methodHelp(method)`.
    MethodHelp {
        /// The method asked about.
        method: String,
    },
    /// `system.methodSignature(method)`.
    MethodSignature {
        /// The method asked about.
        method: String,
    },
    /// `system.multicall(calls)`.
    Multicall(Vec<MethodCall>),
    /// `system.getCapabilities()`.
    GetCapabilities,
}

/// A control of the simulated PBX (`sim.*`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum SimRequest {
    /// `sim.call(from, to, via?)`.
    Call {
        /// An extension of the group or an outside number.
        from: String,
        /// An extension, queue, attendant or `vm-<number>` of the group.
        to: String,
        /// The connection carrying an inbound call.
        via: Option<String>,
    },
    /// `sim.answer(callid, extension?)`.
    Answer {
        /// The call.
        call: CallId,
        /// For a queue call, the member who answers.
        extension: Option<String>,
    },
    /// `sim.hold(callid)`.
    Hold {
        /// The call.
        call: CallId,
    },
    /// `sim.resume(callid)`.
    Resume {
        /// The call.
        call: CallId,
    },
    /// `sim.hangup(callid)`.
    Hangup {
        /// The call.
        call: CallId,
    },
    /// `sim.register(number)`.
    Register {
        /// The extension.
        number: String,
    },
    /// `sim.unregister(number)`.
    Unregister {
        /// The extension.
        number: String,
    },
    /// `sim.reset()`.
    Reset,
    /// `sim.play(scenario, speed?, loop?)`.
    Play {
        /// A built-in scenario's name, or a scenario's TOML text.
        scenario: String,
        /// How fast scenario time runs (default 1).
        speed: Option<f64>,
        /// Whether to start over when it ends (default no).
        repeat: Option<bool>,
    },
    /// `sim.stop()`.
    Stop,
}

impl SimRequest {
    /// The method this is a call of.
    pub fn method(&self) -> Method {
        match self {
            SimRequest::Call { .. } => Method::SimCall,
            SimRequest::Answer { .. } => Method::SimAnswer,
            SimRequest::Hold { .. } => Method::SimHold,
            SimRequest::Resume { .. } => Method::SimResume,
            SimRequest::Hangup { .. } => Method::SimHangup,
            SimRequest::Register { .. } => Method::SimRegister,
            SimRequest::Unregister { .. } => Method::SimUnregister,
            SimRequest::Reset => Method::SimReset,
            SimRequest::Play { .. } => Method::SimPlay,
            SimRequest::Stop => Method::SimStop,
        }
    }
}

impl Request {
    /// The method this is a call of.
    pub fn method(&self) -> Method {
        match self {
            Request::GetCalls => Method::GetCalls,
            Request::GetExtensions => Method::GetExtensions,
            Request::GetFavorites => Method::GetFavorites,
            Request::SetFavorites(_) => Method::SetFavorites,
            Request::Transfer { .. } => Method::Transfer,
            Request::Drop { .. } => Method::Drop,
            Request::GetParkingInfo => Method::GetParkingInfo,
            Request::GetEvents { .. } => Method::GetEvents,
            Request::Park { .. } => Method::Park,
            Request::DictSet { .. } => Method::DictSet,
            Request::DictSetMany(_) => Method::DictSetMany,
            Request::DictGet { .. } => Method::DictGet,
            Request::DictSetSerialized { .. } => Method::DictSetSerialized,
            Request::DictGetSerialized { .. } => Method::DictGetSerialized,
            Request::DictDelete { .. } => Method::DictDelete,
            Request::GetAll => Method::GetAll,
            Request::Sim(sim) => sim.method(),
            Request::ListMethods => Method::ListMethods,
            Request::MethodHelp { .. } => Method::MethodHelp,
            Request::MethodSignature { .. } => Method::MethodSignature,
            Request::Multicall(_) => Method::Multicall,
            Request::GetCapabilities => Method::GetCapabilities,
        }
    }

    /// Decodes a call's parameters (the server side).
    ///
    /// Faults: -32601 for a name not in the table; -32602 for a wrong number of
    /// parameters or a parameter of the wrong shape, with a message naming the
    /// method, the parameter's position and name and what was expected, e.g.
    /// `transfer: parameter 2 (destination): expected string, got array`.
    ///
    /// Reading is liberal (see the crate docs): a string may arrive as `<int>`, an
    /// int as digits; an optional parameter given as nil or `""` counts as absent.
    /// Whether a method is *offered* (`sim.*` needs a simulator) is the
    /// server's business (`pbx_handler::Handler`), not this function's.
    pub fn from_call(call: &MethodCall) -> Result<Request, Fault> {
        let spec = method(&call.method_name).ok_or_else(|| no_such_method(&call.method_name))?;
        let p = Params::new(spec, &call.params)?;
        let string = |v: &Value| convert::string(v).map(|s| s.into_owned());
        let call_id = |v: &Value| convert::string(v).map(|s| CallId::new(s.into_owned()));
        let sim = Request::Sim;
        Ok(match spec.method {
            Method::GetCalls => Request::GetCalls,
            Method::GetExtensions => Request::GetExtensions,
            Method::GetFavorites => Request::GetFavorites,
            Method::SetFavorites => {
                Request::SetFavorites(p.at(0, |v| convert::list(v, Favorite::from_value))?)
            }
            Method::Transfer => Request::Transfer {
                call: p.at(0, call_id)?,
                destination: p.at(1, string)?,
            },
            Method::Drop => Request::Drop {
                call: p.at(0, call_id)?,
            },
            Method::GetParkingInfo => Request::GetParkingInfo,
            Method::Park => Request::Park {
                call: p.at(0, call_id)?,
                slot: p.optional(1, convert::u32)?,
            },
            Method::DictSet => Request::DictSet {
                key: p.at(0, string)?,
                value: p.at(1, string)?,
            },
            Method::DictSetMany => Request::DictSetMany(p.at(0, pairs)?),
            Method::DictGet => Request::DictGet {
                key: p.at(0, string)?,
            },
            Method::DictSetSerialized => Request::DictSetSerialized {
                key: p.at(0, string)?,
                value: p.at(1, storable)?,
            },
            Method::DictGetSerialized => Request::DictGetSerialized {
                key: p.at(0, string)?,
            },
            Method::DictDelete => Request::DictDelete {
                key: p.at(0, string)?,
            },
            Method::GetAll => Request::GetAll,
            Method::GetEvents => Request::GetEvents {
                cursor: p.optional(0, string)?.unwrap_or_default(),
                timeout: p.optional(1, events_timeout)?,
            },
            Method::SimCall => sim(SimRequest::Call {
                from: p.at(0, string)?,
                to: p.at(1, string)?,
                via: p.optional(2, string)?,
            }),
            Method::SimAnswer => sim(SimRequest::Answer {
                call: p.at(0, call_id)?,
                extension: p.optional(1, string)?,
            }),
            Method::SimHold => sim(SimRequest::Hold {
                call: p.at(0, call_id)?,
            }),
            Method::SimResume => sim(SimRequest::Resume {
                call: p.at(0, call_id)?,
            }),
            Method::SimHangup => sim(SimRequest::Hangup {
                call: p.at(0, call_id)?,
            }),
            Method::SimRegister => sim(SimRequest::Register {
                number: p.at(0, string)?,
            }),
            Method::SimUnregister => sim(SimRequest::Unregister {
                number: p.at(0, string)?,
            }),
            Method::SimReset => sim(SimRequest::Reset),
            Method::SimPlay => sim(SimRequest::Play {
                scenario: p.at(0, string)?,
                speed: p.optional(1, speed)?,
                repeat: p.optional(2, convert::flag)?,
            }),
            Method::SimStop => sim(SimRequest::Stop),
            Method::ListMethods => Request::ListMethods,
            Method::MethodHelp => Request::MethodHelp {
                method: p.at(0, string)?,
            },
            Method::MethodSignature => Request::MethodSignature {
                method: p.at(0, string)?,
            },
            Method::Multicall => {
                // The workspace's one reader of multicall entries is the codec's.
                let calls = xmlrpc_codec::multicall::calls(call.params.clone())?;
                Request::Multicall(calls.into_iter().collect::<Result<_, _>>()?)
            }
            Method::GetCapabilities => Request::GetCapabilities,
        })
    }

    /// The XML-RPC call for this request (the client side), written strictly: ints
    /// as `<int>`, strings as `<string>`, optional parameters left out when absent.
    pub fn to_call(&self) -> MethodCall {
        let s = |t: &str| Value::String(t.to_string());
        let id = |c: &CallId| Value::String(c.as_str().to_string());
        let params = match self {
            Request::GetCalls
            | Request::GetExtensions
            | Request::GetFavorites
            | Request::GetParkingInfo
            | Request::GetAll
            | Request::Sim(SimRequest::Reset | SimRequest::Stop)
            | Request::ListMethods
            | Request::GetCapabilities => vec![],
            Request::SetFavorites(favorites) => vec![records_to_value(favorites)],
            Request::GetEvents { cursor, timeout } => {
                let mut params = vec![s(cursor)];
                params.extend(timeout.map(|t| Value::Int(i64::from(t))));
                params
            }
            Request::Transfer { call, destination } => vec![id(call), s(destination)],
            Request::Drop { call }
            | Request::Sim(
                SimRequest::Hold { call }
                | SimRequest::Resume { call }
                | SimRequest::Hangup { call },
            ) => vec![id(call)],
            Request::Park { call, slot } => {
                let mut params = vec![id(call)];
                params.extend(slot.map(|n| Value::Int(i64::from(n))));
                params
            }
            Request::DictSet { key, value } => vec![s(key), s(value)],
            Request::DictSetMany(pairs) => vec![crate::records::entries_to_value(pairs)],
            Request::DictGet { key }
            | Request::DictGetSerialized { key }
            | Request::DictDelete { key } => vec![s(key)],
            Request::DictSetSerialized { key, value } => vec![s(key), value.clone()],
            Request::Sim(SimRequest::Call { from, to, via }) => {
                let mut params = vec![s(from), s(to)];
                params.extend(via.as_deref().map(s));
                params
            }
            Request::Sim(SimRequest::Answer { call, extension }) => {
                let mut params = vec![id(call)];
                params.extend(extension.as_deref().map(s));
                params
            }
            Request::Sim(SimRequest::Register { number } | SimRequest::Unregister { number }) => {
                vec![s(number)]
            }
            Request::Sim(SimRequest::Play {
                scenario,
                speed,
                repeat,
            }) => {
                // `loop` without `speed` needs a placeholder: the default speed.
                let mut params = vec![s(scenario)];
                if speed.is_some() || repeat.is_some() {
                    params.push(Value::Double(speed.unwrap_or(1.0)));
                }
                params.extend(repeat.map(Value::Bool));
                params
            }
            Request::MethodHelp { method } | Request::MethodSignature { method } => {
                vec![s(method)]
            }
            Request::Multicall(calls) => vec![Value::Array(
                calls.iter().map(multicall_entry_to_value).collect(),
            )],
        };
        MethodCall::new(self.method().name(), params)
    }
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

/// `dict_set_many`'s struct of key → string.
fn pairs(value: &Value) -> Result<Vec<(String, String)>, ResultError> {
    convert::structure(value)?
        .iter()
        .map(|(k, v)| {
            let v = convert::string(v).map_err(|e| e.in_member(k))?;
            Ok((k.to_string(), v.into_owned()))
        })
        .collect()
}

/// `dict_set_serialized`'s object: an array or struct of XML-RPC core types only,
/// so that what is stored can always be written back to any client.
fn storable(value: &Value) -> Result<Value, ResultError> {
    match value {
        Value::Array(_) | Value::Struct(_) => {
            core_types_only(value)?;
            Ok(value.clone())
        }
        other => Err(ResultError::mismatch("array or struct", other)),
    }
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

/// A call's parameters, checked against the method's entry in the table.
struct Params<'a> {
    spec: &'static MethodSpec,
    values: &'a [Value],
}

impl<'a> Params<'a> {
    fn new(spec: &'static MethodSpec, values: &'a [Value]) -> Result<Self, Fault> {
        let arity = spec.arity();
        if arity.contains(&values.len()) {
            return Ok(Params { spec, values });
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

    /// Required parameter `i` read by `read`.
    fn at<T>(
        &self,
        i: usize,
        read: impl FnOnce(&'a Value) -> Result<T, ResultError>,
    ) -> Result<T, Fault> {
        let value = self
            .values
            .get(i)
            .ok_or_else(|| self.fault(i, ResultError::other("missing")))?;
        read(value).map_err(|e| self.fault(i, e))
    }

    /// Optional parameter `i` read by `read`: absent, nil and `""` are `None`.
    fn optional<T>(
        &self,
        i: usize,
        read: impl FnOnce(&'a Value) -> Result<T, ResultError>,
    ) -> Result<Option<T>, Fault> {
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

/// A `get_events` timeout: an int of seconds from 0 to 60.
fn events_timeout(value: &Value) -> Result<u32, ResultError> {
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

/// A `sim.play` speed: a double, or an int (`2` for double speed).
fn speed(value: &Value) -> Result<f64, ResultError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
