//! Typed requests: each API method as a [`TypedRequest`], the binding's [`Request`]
//! paired with the binding's reader of its result.
//!
//! Every method of [`Client`](crate::Client) is one of these sent on its own;
//! [`Batch`](crate::Batch) sends several in one `system.multicall`. Method names,
//! parameters and result readers all come from `pbx-xmlrpc`: nothing about a
//! method is written here except which reader its result needs.
//!
//! ```
//! use pbx_client::requests;
//! use pbx_model::CallId;
//!
//! let park = requests::park(&CallId::new("c1"), Some(3));
//! assert_eq!(park.method().name(), "park");
//! assert_eq!(park.to_call().params.len(), 2);
//! ```

use std::fmt;

use pbx_model::{Call, CallId, Entity, Favorite, ParkingInfo};
use pbx_xmlrpc::{
    Capability, Method, Request, ResultError, SimRequest, parse_call_id, parse_calls,
    parse_capabilities, parse_done, parse_entries, parse_extensions, parse_favorites,
    parse_method_names, parse_multicall, parse_object, parse_parking_info, parse_signatures,
    parse_slot, parse_string,
};
use xmlrpc_codec::{Fault, MethodCall, Value};

use crate::ClientError;

/// A call of one API method whose result reads as a `T`.
///
/// Build one with the functions of this module; send it with
/// [`Client::send`](crate::Client::send) or add it to a [`Batch`](crate::Batch).
pub struct TypedRequest<T> {
    request: Request,
    read: fn(&Value) -> Result<T, ResultError>,
}

impl<T> TypedRequest<T> {
    /// A request whose result `read` turns into a `T` (one of the binding's
    /// `parse_*` readers, or your own for a method this module lacks).
    pub fn new(request: Request, read: fn(&Value) -> Result<T, ResultError>) -> Self {
        Self { request, read }
    }

    /// The binding's request.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// The method called.
    pub fn method(&self) -> Method {
        self.request.method()
    }

    /// The XML-RPC call, as the binding writes it.
    pub fn to_call(&self) -> MethodCall {
        self.request.to_call()
    }

    /// Reads the method's result; a result of the wrong shape is
    /// [`ClientError::InvalidResponse`] naming the method and the place in the value.
    pub fn read(&self, value: &Value) -> Result<T, ClientError> {
        read_as(self.method(), self.read, value)
    }

    pub(crate) fn reader(&self) -> fn(&Value) -> Result<T, ResultError> {
        self.read
    }
}

pub(crate) fn read_as<T>(
    method: Method,
    read: fn(&Value) -> Result<T, ResultError>,
    value: &Value,
) -> Result<T, ClientError> {
    read(value).map_err(|e| {
        ClientError::InvalidResponse(match e.path() {
            "" => format!("{method}: {}", e.problem()),
            path => format!("{method}: result{}: {}", at(path), e.problem()),
        })
    })
}

/// `[2].id` stays `[2].id`, `from.id` becomes `.from.id`: a path under `result`.
fn at(path: &str) -> String {
    if path.starts_with('[') {
        path.to_string()
    } else {
        format!(".{path}")
    }
}

impl<T> Clone for TypedRequest<T> {
    fn clone(&self) -> Self {
        Self {
            request: self.request.clone(),
            read: self.read,
        }
    }
}

impl<T> fmt::Debug for TypedRequest<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TypedRequest").field(&self.request).finish()
    }
}

fn sim<T>(request: SimRequest, read: fn(&Value) -> Result<T, ResultError>) -> TypedRequest<T> {
    TypedRequest::new(Request::Sim(request), read)
}

fn done(request: Request) -> TypedRequest<()> {
    TypedRequest::new(request, parse_done)
}

fn sim_done(request: SimRequest) -> TypedRequest<()> {
    sim(request, parse_done)
}

// ---- the PBX -------------------------------------------------------------------

/// `get_calls`: the calls with a party in the user's admin group.
pub fn get_calls() -> TypedRequest<Vec<Call>> {
    TypedRequest::new(Request::GetCalls, parse_calls)
}

/// `get_extensions`: the extensions, queues and attendants of the user's group.
pub fn get_extensions() -> TypedRequest<Vec<Entity>> {
    TypedRequest::new(Request::GetExtensions, parse_extensions)
}

/// `get_favorites`: the group's favorites.
pub fn get_favorites() -> TypedRequest<Vec<Favorite>> {
    TypedRequest::new(Request::GetFavorites, parse_favorites)
}

/// `set_favorites`: replaces the whole list, or changes nothing.
pub fn set_favorites(favorites: &[Favorite]) -> TypedRequest<()> {
    done(Request::SetFavorites(favorites.to_vec()))
}

/// `transfer`: a blind transfer of `call` to `destination` (a number of the group,
/// `vm-<number>`, or an outside number).
pub fn transfer(call: &CallId, destination: &str) -> TypedRequest<()> {
    done(Request::Transfer {
        call: call.clone(),
        destination: destination.to_string(),
    })
}

/// `drop`: ends `call`.
pub fn drop_call(call: &CallId) -> TypedRequest<()> {
    done(Request::Drop { call: call.clone() })
}

/// `get_parking_info`: the group's parking lot.
pub fn get_parking_info() -> TypedRequest<ParkingInfo> {
    TypedRequest::new(Request::GetParkingInfo, parse_parking_info)
}

/// `park`: parks `call` in `slot` (from 1), or the lowest free one; the result is
/// the slot taken.
pub fn park(call: &CallId, slot: Option<u32>) -> TypedRequest<u32> {
    TypedRequest::new(
        Request::Park {
            call: call.clone(),
            slot,
        },
        parse_slot,
    )
}

// ---- storage -------------------------------------------------------------------

/// `dict_set`: stores `value` under `key`.
pub fn dict_set(key: &str, value: &str) -> TypedRequest<()> {
    done(Request::DictSet {
        key: key.to_string(),
        value: value.to_string(),
    })
}

/// `dict_set_many`: stores every pair, or none.
pub fn dict_set_many(pairs: &[(String, String)]) -> TypedRequest<()> {
    done(Request::DictSetMany(pairs.to_vec()))
}

/// `dict_get`: the value under `key` (fault -1 when there is none).
pub fn dict_get(key: &str) -> TypedRequest<String> {
    TypedRequest::new(
        Request::DictGet {
            key: key.to_string(),
        },
        parse_string,
    )
}

/// `dict_set_serialized`: stores an array or struct under `key`.
pub fn dict_set_serialized(key: &str, value: &Value) -> TypedRequest<()> {
    done(Request::DictSetSerialized {
        key: key.to_string(),
        value: value.clone(),
    })
}

/// `dict_get_serialized`: the array or struct stored under `key`.
pub fn dict_get_serialized(key: &str) -> TypedRequest<Value> {
    TypedRequest::new(
        Request::DictGetSerialized {
            key: key.to_string(),
        },
        parse_object,
    )
}

/// `dict_delete`: removes `key` (also fine when it does not exist).
pub fn dict_delete(key: &str) -> TypedRequest<()> {
    done(Request::DictDelete {
        key: key.to_string(),
    })
}

/// `get_all`: every key of the user and its value, in the order received.
pub fn get_all() -> TypedRequest<Vec<(String, String)>> {
    TypedRequest::new(Request::GetAll, parse_entries)
}

// ---- simulation ----------------------------------------------------------------

/// `sim.call`: a new call from `from` to `to`, inbound over `via` when given; the
/// result is the new call's id.
pub fn sim_call(from: &str, to: &str, via: Option<&str>) -> TypedRequest<CallId> {
    sim(
        SimRequest::Call {
            from: from.to_string(),
            to: to.to_string(),
            via: via.map(str::to_string),
        },
        parse_call_id,
    )
}

/// `sim.answer`: the called party (for a queue call, `extension`) answers.
pub fn sim_answer(call: &CallId, extension: Option<&str>) -> TypedRequest<()> {
    sim_done(SimRequest::Answer {
        call: call.clone(),
        extension: extension.map(str::to_string),
    })
}

/// `sim.hold`: connected → onhold.
pub fn sim_hold(call: &CallId) -> TypedRequest<()> {
    sim_done(SimRequest::Hold { call: call.clone() })
}

/// `sim.resume`: onhold → connected.
pub fn sim_resume(call: &CallId) -> TypedRequest<()> {
    sim_done(SimRequest::Resume { call: call.clone() })
}

/// `sim.hangup`: the call ends, whatever its state.
pub fn sim_hangup(call: &CallId) -> TypedRequest<()> {
    sim_done(SimRequest::Hangup { call: call.clone() })
}

/// `sim.register`: the extension's phone comes online.
pub fn sim_register(number: &str) -> TypedRequest<()> {
    sim_done(SimRequest::Register {
        number: number.to_string(),
    })
}

/// `sim.unregister`: the extension's phone goes offline.
pub fn sim_unregister(number: &str) -> TypedRequest<()> {
    sim_done(SimRequest::Unregister {
        number: number.to_string(),
    })
}

/// `sim.reset`: the group goes back to its configured state.
pub fn sim_reset() -> TypedRequest<()> {
    sim_done(SimRequest::Reset)
}

/// `sim.play`: starts a scenario (a built-in name or a scenario's TOML text) in
/// the user's group, at `speed` (default 1), starting over when it ends if `repeat`.
pub fn sim_play(scenario: &str, speed: Option<f64>, repeat: Option<bool>) -> TypedRequest<()> {
    sim_done(SimRequest::Play {
        scenario: scenario.to_string(),
        speed,
        repeat,
    })
}

/// `sim.stop`: stops the scenario playing in the user's group; its calls stay.
pub fn sim_stop() -> TypedRequest<()> {
    sim_done(SimRequest::Stop)
}

// ---- introspection -------------------------------------------------------------

/// `system.listMethods`: the methods the server offers.
pub fn list_methods() -> TypedRequest<Vec<String>> {
    TypedRequest::new(Request::ListMethods, parse_method_names)
}

/// `system.methodHelp`: the help text of `method`.
pub fn method_help(method: &str) -> TypedRequest<String> {
    TypedRequest::new(
        Request::MethodHelp {
            method: method.to_string(),
        },
        parse_string,
    )
}

/// `system.methodSignature`: the signatures of `method`, each a list of type names
/// with the result type first (none when the server does not know them).
pub fn method_signature(method: &str) -> TypedRequest<Vec<Vec<String>>> {
    TypedRequest::new(
        Request::MethodSignature {
            method: method.to_string(),
        },
        parse_signatures,
    )
}

/// `system.getCapabilities`: the specifications the server follows.
pub fn get_capabilities() -> TypedRequest<Vec<Capability>> {
    TypedRequest::new(Request::GetCapabilities, parse_capabilities)
}

/// `system.multicall`: every call's result or fault, in order.
pub fn multicall(calls: Vec<MethodCall>) -> TypedRequest<Vec<Result<Value, Fault>>> {
    TypedRequest::new(Request::Multicall(calls), parse_multicall)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_shapes_name_the_method_and_the_place() {
        let err = get_calls()
            .read(&Value::Array(vec![Value::Int(1)]))
            .unwrap_err();
        assert_eq!(
            err,
            ClientError::InvalidResponse("get_calls: result[0]: expected struct, got int 1".into())
        );
        let err = park(&CallId::new("c"), None)
            .read(&Value::String("x".into()))
            .unwrap_err();
        assert_eq!(
            err,
            ClientError::InvalidResponse("park: expected int, got string \"x\"".into())
        );
    }

    #[test]
    fn requests_are_the_bindings() {
        let call = sim_call("+15550100", "203", None).to_call();
        assert_eq!(call.method_name, "sim.call");
        assert_eq!(call.params.len(), 2);
        assert_eq!(drop_call(&CallId::new("c")).method(), Method::Drop);
    }
}
