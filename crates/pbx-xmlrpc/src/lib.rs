//! The PBXpress API on XML-RPC: the wire vocabulary shared by the server
//! (`pbx-handler`) and the client (`pbx-client`).
//!
//! - [`pbx_methods!`]: **the** table of methods, one entry per method (name,
//!   parameters, result, help, faults, client function, how a server serves it;
//!   [`table`] explains it). [`Method`], [`methods()`], [`Request`], the
//!   server's dispatch (`pbx-handler`) and the client's methods (`pbx-client`)
//!   are generated from it; introspection, `docs/api.md` and JSON-RPC's
//!   `rpc.discover` read [`methods()`].
//! - [`Request`]: a typed call. [`Request::from_call`] decodes a call's parameters
//!   with faults that name the parameter (server side); [`Request::to_call`] builds
//!   the call (client side).
//! - [`Record`] and the `parse_*` functions: SPEC.md's records written exactly,
//!   read liberally; [`Reply`] for every kind of result.
//! - [`FaultCode`] and the code constants: SPEC.md's fault table.
//! - [`events`]: live events and the `get_events` answer on the wire, and their
//!   JSON form.
//! - [`json`]: the one JSON ⇄ XML-RPC value mapping (JSON-RPC, `/events`, the
//!   command line's `call`).
//!
//! What this crate must not know: HTTP (authentication, status codes, gzip: the
//! server's job) and any backend: it depends on no `pbx-backend`, so a client
//! that links it links no server code. The server side (dispatch to a
//! `PbxBackend`, the mapping of its errors to faults) is `pbx-handler`.
//!
//! # Reading liberally
//!
//! Real clients type values loosely, so parameters and results are read with a few
//! harmless allowances; writing is always strict (explicit `<string>`, `<int>`,
//! core types only, `true` for methods without output):
//! - a string parameter may arrive as `<int>` (Perl's and PHP's clients type
//!   numeric-looking strings as ints), read as its decimal text: a `callid` of
//!   `<int>17</int>` is call `"17"`;
//! - an int (slot, id) may arrive as a string of digits;
//! - a 0/1 flag (`voicemail`, `qcall`) may be a boolean, an int 0/1 or `"0"`/`"1"`;
//! - entity types and favorite sizes are case-insensitive; a favorite without `size`
//!   is `single`;
//! - an optional parameter given as nil or as an empty string counts as absent
//!   (Perl's Frontier sends undef as an empty string);
//! - a `system.multicall` entry without `params` has none (the codec's
//!   `xmlrpc_codec::multicall`, the one reader of entries).
//!
//! Anything else is fault -32602 with a message naming the method, the parameter's
//! position and name, and what was expected:
//! `transfer: parameter 2 (destination): expected string, got array`.
//!
//! # Example
//!
//! The client side builds a call and reads the result; the server side decodes the
//! same call into the same request:
//!
//! ```
//! use pbx_model::CallId;
//! use pbx_xmlrpc::{Request, parse_slot};
//! use xmlrpc_codec::Value;
//!
//! let request = Request::Park { call: CallId::new("7"), slot: None };
//! let call = request.to_call();
//! assert_eq!(call.method_name, "park");
//! assert_eq!(Request::from_call(&call), Ok(request));
//!
//! // What the server answered:
//! assert_eq!(parse_slot(&Value::Int(3)), Ok(3));
//! ```

mod convert;
pub mod events;
mod fault;
pub mod json;
mod methods;
mod records;
mod reply;
mod request;
pub mod table;

pub use convert::ResultError;
pub use fault::{
    FaultCode, INTERNAL_MESSAGE, INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR,
};
pub use methods::{Group, Method, MethodSpec, ParamSpec, Request, XmlRpcType, method, methods};
pub use records::{
    Capability, Record, entries_to_value, fault_to_value, multicall_to_value, parse_call_id,
    parse_calls, parse_capabilities, parse_done, parse_entries, parse_extensions, parse_favorites,
    parse_method_names, parse_multicall, parse_object, parse_parking_info, parse_signatures,
    parse_slot, parse_string, records_from_value, records_to_value,
};
pub use reply::Reply;
pub use request::{core_types_only, multicall_entry_to_value, no_such_method};

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
