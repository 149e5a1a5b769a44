//! The one place each method is said: [`pbx_methods!`](crate::pbx_methods).
//!
//! Every API method is one entry of the table in
//! [`pbx_methods!`](crate::pbx_methods): its name,
//! group, parameters (with their Rust types, the client's argument types and the
//! reader and writer of each), its result (type and reader), help, faults, the
//! name of its client function and how a server serves it. Everything that is
//! per method is generated from it:
//!
//! - here (`methods.rs`): [`Method`](crate::Method), the [`methods()`](crate::methods()) table
//!   that introspection, `docs/api.md`, JSON-RPC's `rpc.discover` and the fault
//!   mapping read, [`Request`](crate::Request) with
//!   [`Request::from_call`](crate::Request::from_call),
//!   [`Request::to_call`](crate::Request::to_call) and
//!   [`Request::method`](crate::Request::method), and
//!   [`Reply::from_value`](crate::Reply::from_value);
//! - in `pbx-handler`: the dispatch of each request to the backend, the
//!   simulator or the handler's own code;
//! - in `pbx-client`: each typed request (`pbx_client::requests`) and each
//!   method of `pbx_client::Client`.
//!
//! Adding a method is an entry here, its method in `pbx_backend::PbxBackend`
//! (or `Simulator`) and its implementation in the backends. A new *kind* of
//! parameter also needs its reader and writer (the `wire` module of this
//! crate's `request.rs`; `absent` too when it may be optional), how the
//! client takes it (`IntoParam` in `pbx-client`) and how the handler passes it
//! to a backend (`Pass` in `pbx-handler`); a new kind of result its `Reply`
//! variant with its `From` and its `parse_*` reader.
//!
//! # Using the table
//!
//! `pbx_methods!(callback)` expands to `callback! { entries }`, and
//! `pbx_methods!(callback, tokens…)` to `callback! { tokens… ; entries }`:
//! a crate generates its own code per method with a `macro_rules!` that
//! matches the entries. Names in the entries (types such as `Vec<Call>`,
//! readers such as `parse_calls`, fault codes) resolve where `callback`
//! expands: `use pbx_xmlrpc::table::prelude::*;` there brings them all.
//!
//! Each entry reads:
//!
//! ```text
//! Variant = "wire.name" {
//!     group: Pbx | Simulation | System,
//!     client: client_function_name,
//!     serve: backend fn | simulator fn | handler fn | router,
//!     large_result: true | false,
//!     params: [field: Type as ClientArgType = "wire_name" [XmlRpcType | …] via kind DOC, …],
//!     optional: [the same, each an Option<Type> in the request],
//!     result: Type = reader [XmlRpcType | …] "result doc",
//!     help: "what it does",
//!     faults: [(FaultCode, "when"), …],
//! }
//! ```
//!
//! `serve` says what a server calls: `backend f` is `PbxBackend::f` with the
//! caller then the fields in order, `simulator f` the same on the simulator,
//! `handler f` code of the server's own (a method that is more than one
//! backend call), `router` a method the generic XML-RPC router answers itself
//! (introspection, `system.multicall`). `via kind` names the module of `wire`
//! that reads (`read`), writes (`write`) and, for a kind used as an optional
//! parameter, stands in for it when a later one is present (`absent`).
//!
//! The entries' grammar may gain keys between minor versions: a
//! `macro_rules!` of your own that matches them is tied to this crate's
//! version (pin it).
//!
//! ```
//! // One line per method, from the table:
//! macro_rules! names {
//!     ($($variant:ident = $name:literal { $($entry:tt)* })*) => {
//!         [$($name),*]
//!     };
//! }
//! let names = pbx_xmlrpc::pbx_methods!(names);
//! assert_eq!(names.len(), pbx_xmlrpc::methods().len());
//! assert_eq!(names[0], "get_calls");
//! ```

/// What the table's entries name, for a crate that expands them.
pub mod prelude {
    pub use crate::FaultCode::{
        Conflict, InvalidParams, LimitReached, MethodNotFound, NotFound, PermissionDenied,
    };
    pub use crate::records::{
        Capability, parse_call_id, parse_calls, parse_capabilities, parse_done, parse_entries,
        parse_extensions, parse_favorites, parse_method_names, parse_multicall, parse_object,
        parse_parking_info, parse_signatures, parse_slot, parse_string,
    };
    pub use crate::table::{CALLID_DOC, KEY_DOC, NO_CALL, NUMBER_DOC, SIM_OFF};
    pub use pbx_model::{Call, CallId, Entity, Favorite, ParkingInfo};
    pub use xmlrpc_codec::{Fault, MethodCall, Value};
}

use crate::FaultCode;

/// The `callid` parameter.
pub const CALLID_DOC: &str =
    "The call's id, as `get_calls` gives it (an `<int>` is read as its decimal text).";
/// The `key` parameter of storage methods.
pub const KEY_DOC: &str = "The storage key (by default at most 256 bytes).";
/// The `number` parameter of `sim.register` and `sim.unregister`.
pub const NUMBER_DOC: &str = "An extension number of your group.";
/// The fault of a call that is not the caller's group's.
pub const NO_CALL: (FaultCode, &str) = (FaultCode::NotFound, "no such call in your admin group");
/// The fault of `sim.*` when simulation is switched off.
pub const SIM_OFF: (FaultCode, &str) = (
    FaultCode::PermissionDenied,
    "simulation is switched off on this server",
);

/// The table of methods: see [the module](crate::table) for how to read and use it.
#[macro_export]
macro_rules! pbx_methods {
    ($callback:ident $(, $($extra:tt)*)?) => {
        $callback! {
        $($($extra)* ;)?

        // ---- PBX (SPEC.md "Methods") ----

        GetCalls = "get_calls" {
            group: Pbx,
            client: get_calls,
            serve: backend get_calls,
            large_result: true,
            params: [],
            optional: [],
            result: Vec<Call> = parse_calls [Array]
                "An array of call records: every call with at least one party in your admin group.",
            help: "Lists the current calls with at least one party in your admin group. A call to a queue is several records with `qcall` 1: the incoming one (caller → queue) and one per ringing member.",
            faults: [],
        }

        GetExtensions = "get_extensions" {
            group: Pbx,
            client: get_extensions,
            serve: backend get_extensions,
            large_result: true,
            params: [],
            optional: [],
            result: Vec<Entity> = parse_extensions [Array]
                "An array of extension records (extensions, queues and attendants) of your admin group.",
            help: "Lists the extensions, queues and attendants of your admin group with their presence (`state`).",
            faults: [],
        }

        GetFavorites = "get_favorites" {
            group: Pbx,
            client: get_favorites,
            serve: backend get_favorites,
            large_result: true,
            params: [],
            optional: [],
            result: Vec<Favorite> = parse_favorites [Array]
                "An array of favorites `{id, type, slot, size}`, by slot.",
            help: "Lists the operator-console favorites of your admin group, by slot.",
            faults: [],
        }

        SetFavorites = "set_favorites" {
            group: Pbx,
            client: set_favorites,
            serve: backend set_favorites,
            large_result: false,
            params: [
                favorites: Vec<Favorite> as &[Favorite] = "favorites" [Array] via favorites
                    "An array of favorites `{id: int, type: string, slot: int ≥ 1, size: single|double}`; slots unique.",
            ],
            optional: [],
            result: () = parse_done [Boolean] "`true`",
            help: "Replaces the whole favorites list of your admin group, atomically: on any fault nothing changes.",
            faults: [
                (NotFound, "a favorite names an entity that is not in your admin group"),
                (InvalidParams, "a malformed favorite, slot 0, or a slot used twice"),
            ],
        }

        Transfer = "transfer" {
            group: Pbx,
            client: transfer,
            serve: backend transfer,
            large_result: false,
            params: [
                call: CallId as &CallId = "callid" [String] via call_id CALLID_DOC,
                destination: String as &str = "destination" [String] via string
                    "An extension, queue or attendant number of your group, `vm-<number>` for a voicemail box, or an outside number.",
            ],
            optional: [],
            result: () = parse_done [Boolean] "`true`",
            help: "Blind transfer. Your own extension is released when it is a party of the call, otherwise the `to` party; the other party goes on to `destination`, which rings. The call keeps its id.",
            faults: [
                (NotFound, "no such call, or no such destination, in your admin group"),
                (Conflict, "the call's state does not allow a transfer"),
            ],
        }

        Drop = "drop" {
            group: Pbx,
            client: drop_call,
            serve: backend drop_call,
            large_result: false,
            params: [call: CallId as &CallId = "callid" [String] via call_id CALLID_DOC],
            optional: [],
            result: () = parse_done [Boolean] "`true`",
            help: "Ends a call. Dropping a queue call's incoming record ends all its records.",
            faults: [NO_CALL],
        }

        GetParkingInfo = "get_parking_info" {
            group: Pbx,
            client: get_parking_info,
            serve: backend get_parking_info,
            large_result: true,
            params: [],
            optional: [],
            result: ParkingInfo = parse_parking_info [Array]
                "The array `[parking_extension (string), slots (int), parked_calls (struct: slot number as string → callid)]`.",
            help: "Describes your admin group's parking lot: slot `k` (from 1) is reached by dialling `parking_extension + k - 1`.",
            faults: [],
        }

        Park = "park" {
            group: Pbx,
            client: park,
            serve: backend park,
            large_result: false,
            params: [call: CallId as &CallId = "callid" [String] via call_id CALLID_DOC],
            optional: [
                slot: u32 as u32 = "slot" [Int] via slot
                    "The slot to park in, from 1; the lowest free slot when left out (nil or an empty string count as left out).",
            ],
            result: u32 = parse_slot [Int] "The slot taken (int).",
            help: "Parks a call, in the given slot or the lowest free one. The call's state becomes `parked`.",
            faults: [
                NO_CALL,
                (Conflict, "the slot is taken, or the call's state does not allow parking"),
                (LimitReached, "no free slot"),
                (InvalidParams, "slot 0 or beyond the lot"),
            ],
        }

        DictSet = "dict_set" {
            group: Pbx,
            client: dict_set,
            serve: backend dict_set,
            large_result: false,
            params: [
                key: String as &str = "key" [String] via string KEY_DOC,
                value: String as &str = "value" [String] via string
                    "The value (by default at most 64 KiB).",
            ],
            optional: [],
            result: () = parse_done [Boolean] "`true`",
            help: "Stores a value under one of your personal keys.",
            faults: [(LimitReached, "key or value too long, or too many keys; nothing is written")],
        }

        DictSetMany = "dict_set_many" {
            group: Pbx,
            client: dict_set_many,
            serve: backend dict_set_many,
            large_result: false,
            params: [
                pairs: Vec<(String, String)> as &[(String, String)] = "pairs" [Struct] via pairs
                    "A struct of key → string value (in the order given; a repeated key keeps the last).",
            ],
            optional: [],
            result: () = parse_done [Boolean] "`true`",
            help: "Stores several values at once, all or nothing.",
            faults: [(LimitReached, "a key or value too long, or too many keys; nothing is written")],
        }

        DictGet = "dict_get" {
            group: Pbx,
            client: dict_get,
            serve: backend dict_get,
            large_result: true,
            params: [key: String as &str = "key" [String] via string KEY_DOC],
            optional: [],
            result: String = parse_string [String]
                "The stored string (for a key written by `dict_set_serialized`, its XML-RPC `<value>` text).",
            help: "Reads one of your personal keys.",
            faults: [(NotFound, "no such key")],
        }

        DictSetSerialized = "dict_set_serialized" {
            group: Pbx,
            client: dict_set_serialized,
            serve: handler dict_set_serialized,
            large_result: false,
            params: [
                key: String as &str = "key" [String] via string KEY_DOC,
                value: Value as &Value = "obj" [Array | Struct] via storable
                    "The array or struct to store; any XML-RPC core types inside.",
            ],
            optional: [],
            result: () = parse_done [Boolean] "`true`",
            help: "Stores an array or struct under one of your personal keys, as its canonical XML-RPC `<value>` text (lossless for every core type); `dict_get` returns that text.",
            faults: [
                (InvalidParams, "`obj` is not an array or struct, or holds a value XML-RPC's core types cannot carry (nil, an int beyond 32 bits)"),
                (LimitReached, "key or text too long, or too many keys; nothing is written"),
            ],
        }

        DictGetSerialized = "dict_get_serialized" {
            group: Pbx,
            client: dict_get_serialized,
            serve: handler dict_get_serialized,
            large_result: true,
            params: [key: String as &str = "key" [String] via string KEY_DOC],
            optional: [],
            result: Value = parse_object [Array | Struct] "The stored array or struct.",
            help: "Reads an array or struct stored by `dict_set_serialized`.",
            faults: [
                (NotFound, "no such key"),
                (Conflict, "the key's text is not a serialized array or struct"),
            ],
        }

        DictDelete = "dict_delete" {
            group: Pbx,
            client: dict_delete,
            serve: backend dict_delete,
            large_result: false,
            params: [key: String as &str = "key" [String] via string KEY_DOC],
            optional: [],
            result: () = parse_done [Boolean] "`true`, also when the key did not exist.",
            help: "Deletes one of your personal keys.",
            faults: [],
        }

        GetAll = "get_all" {
            group: Pbx,
            client: get_all,
            serve: handler get_all,
            large_result: true,
            params: [],
            optional: [],
            result: Vec<(String, String)> = parse_entries [Struct]
                "A struct of all your keys → their string values.",
            help: "Reads all your personal keys and values.",
            faults: [],
        }

        GetEvents = "get_events" {
            group: Pbx,
            client: get_events,
            serve: handler get_events,
            large_result: true,
            params: [],
            optional: [
                cursor: String as &str = "cursor" [String] via string
                    "`\"\"` (or left out) for \"from now\", else the `cursor` of the previous answer.",
                timeout: u32 as u32 = "timeout" [Int] via events_timeout
                    "Seconds to wait when no event is pending: 0 to 60, default 25.",
            ],
            result: Value = parse_object [Struct]
                "A struct `{cursor: string, reset: boolean, events: array}`; each event is `{id, type, time, data}` (`type`: `call.created`, `call.updated`, `call.ended`, `entity.updated`, `parking.updated` or `favorites.updated`; `time`: RFC 3339 UTC; `data`: the whole record as `get_calls`, `get_extensions`, `get_parking_info` or `get_favorites` return it).",
            help: "Long poll for what changes in your admin group: answers as soon as at least one event is pending (at most 500 per answer), else after `timeout` seconds with none. Call it again with the answer's `cursor`. When `reset` is true (no cursor, or one the server no longer holds) re-read what you show with the `get_*` methods and go on from the new cursor. Events are idempotent: each carries the object's whole current record.",
            faults: [
                (InvalidParams, "`timeout` outside 0-60"),
                (MethodNotFound, "this PBX offers no live events"),
            ],
        }

        // ---- simulation (SPEC.md "Simulation") ----

        SimCall = "sim.call" {
            group: Simulation,
            client: sim_call,
            serve: simulator call,
            large_result: false,
            params: [
                from: String as &str = "from" [String] via string
                    "An extension number of your group (an internal call) or an outside number (an inbound call).",
                to: String as &str = "to" [String] via string
                    "An extension, queue or attendant number of your group, or `vm-<number>`.",
            ],
            optional: [
                via: String as &str = "via" [String] via string
                    "For an inbound call, the connection carrying it; default your group's first.",
            ],
            result: CallId = parse_call_id [String] "The new call's id (string).",
            help: "Places a simulated call that starts ringing its destination (for a queue: every online, idle member). An offline destination sends the call to its voicemail when it has one.",
            faults: [
                (NotFound, "`from`, `to` or `via` is not in your admin group"),
                (Conflict, "the destination is offline and has no voicemail"),
                (LimitReached, "your admin group holds as many live call records as the server allows (the in-memory PBX: `max_live_calls`, default 500)"),
                SIM_OFF,
            ],
        }

        SimAnswer = "sim.answer" {
            group: Simulation,
            client: sim_answer,
            serve: simulator answer,
            large_result: false,
            params: [call: CallId as &CallId = "callid" [String] via call_id CALLID_DOC],
            optional: [
                extension: String as &str = "extension" [String] via string
                    "For a queue call, the ringing member who answers; default the first.",
            ],
            result: () = parse_done [Boolean] "`true`",
            help: "The called party answers: the call becomes `connected`.",
            faults: [
                NO_CALL,
                (Conflict, "the call is not ringing, or the extension is not ringing for it"),
                SIM_OFF,
            ],
        }

        SimHold = "sim.hold" {
            group: Simulation,
            client: sim_hold,
            serve: simulator hold,
            large_result: false,
            params: [call: CallId as &CallId = "callid" [String] via call_id CALLID_DOC],
            optional: [],
            result: () = parse_done [Boolean] "`true`",
            help: "Puts a connected call on hold.",
            faults: [NO_CALL, (Conflict, "the call is not connected"), SIM_OFF],
        }

        SimResume = "sim.resume" {
            group: Simulation,
            client: sim_resume,
            serve: simulator resume,
            large_result: false,
            params: [call: CallId as &CallId = "callid" [String] via call_id CALLID_DOC],
            optional: [],
            result: () = parse_done [Boolean] "`true`",
            help: "Resumes a held call.",
            faults: [NO_CALL, (Conflict, "the call is not on hold"), SIM_OFF],
        }

        SimHangup = "sim.hangup" {
            group: Simulation,
            client: sim_hangup,
            serve: simulator hangup,
            large_result: false,
            params: [call: CallId as &CallId = "callid" [String] via call_id CALLID_DOC],
            optional: [],
            result: () = parse_done [Boolean] "`true`",
            help: "Ends a call, whatever its state.",
            faults: [NO_CALL, SIM_OFF],
        }

        SimRegister = "sim.register" {
            group: Simulation,
            client: sim_register,
            serve: simulator register,
            large_result: false,
            params: [number: String as &str = "number" [String] via string NUMBER_DOC],
            optional: [],
            result: () = parse_done [Boolean] "`true`",
            help: "The extension's phone comes online.",
            faults: [(NotFound, "no such extension in your admin group"), SIM_OFF],
        }

        SimUnregister = "sim.unregister" {
            group: Simulation,
            client: sim_unregister,
            serve: simulator unregister,
            large_result: false,
            params: [number: String as &str = "number" [String] via string NUMBER_DOC],
            optional: [],
            result: () = parse_done [Boolean] "`true`",
            help: "The extension's phone goes offline.",
            faults: [(NotFound, "no such extension in your admin group"), SIM_OFF],
        }

        SimReset = "sim.reset" {
            group: Simulation,
            client: sim_reset,
            serve: simulator reset,
            large_result: false,
            params: [],
            optional: [],
            result: () = parse_done [Boolean] "`true`",
            help: "Your admin group goes back to its configured state: no calls, configured presence. Storage and favorites are user data and stay.",
            faults: [SIM_OFF],
        }

        SimPlay = "sim.play" {
            group: Simulation,
            client: sim_play,
            serve: handler sim_play,
            large_result: false,
            params: [
                scenario: String as &str = "scenario" [String] via string
                    "The name of a scenario shipped with the server (`office-day`), or a scenario's TOML text (docs/scenarios.md). The server reads no files for clients.",
            ],
            optional: [
                speed: f64 as f64 = "speed" [Double | Int] via speed
                    "How fast scenario time runs: 2 plays a minute in 30 seconds; default 1, at most 1000000. The server bounds the steps a group's scenario applies per second (the in-memory PBX: `max_events_per_second`, default 200): a scenario that asks for more (speed × traffic) is played slower than asked.",
                repeat: bool as bool = "loop" [Boolean] via flag
                    "Whether to start over, from a reset group, when the scenario ends; default false.",
            ],
            result: () = parse_done [Boolean] "`true`",
            help: "Starts playing a scenario (scripted steps and random traffic) in your admin group, replacing the one playing there; steps due at once are applied before the answer (within the group's budget of steps per second). The scenario acts only in your group: a scenario naming another group, or a number outside yours, is refused before anything runs.",
            faults: [
                (NotFound, "no such built-in scenario, or the scenario names a group, number or connection not in your admin group (the message gives the line)"),
                (InvalidParams, "the scenario is malformed (the message gives line and problem), or the speed is not above 0"),
                SIM_OFF,
            ],
        }

        SimStop = "sim.stop" {
            group: Simulation,
            client: sim_stop,
            serve: simulator stop,
            large_result: false,
            params: [],
            optional: [],
            result: () = parse_done [Boolean] "`true`, also when no scenario was playing.",
            help: "Stops the scenario playing in your admin group. Its calls stay as they are (`sim.reset` clears them).",
            faults: [SIM_OFF],
        }

        // ---- system: answered by the generic router, described here ----

        ListMethods = "system.listMethods" {
            group: System,
            client: list_methods,
            serve: router,
            large_result: false,
            params: [],
            optional: [],
            result: Vec<String> = parse_method_names [Array] "An array of method names (strings).",
            help: "Lists the methods this server offers.",
            faults: [],
        }

        MethodHelp = "system.methodHelp" {
            group: System,
            client: method_help,
            serve: router,
            large_result: false,
            params: [method: String as &str = "method" [String] via string "A method name."],
            optional: [],
            result: String = parse_string [String] "The method's synopsis and description (string).",
            help: "Describes a method.",
            faults: [(MethodNotFound, "no such method")],
        }

        MethodSignature = "system.methodSignature" {
            group: System,
            client: method_signature,
            serve: router,
            large_result: false,
            params: [method: String as &str = "method" [String] via string "A method name."],
            optional: [],
            result: Vec<Vec<String>> = parse_signatures [Array]
                "An array of signatures, each an array of type names with the result type first; one per number of parameters and per alternative type.",
            help: "Gives a method's signatures.",
            faults: [(MethodNotFound, "no such method")],
        }

        Multicall = "system.multicall" {
            group: System,
            client: multicall,
            serve: router,
            large_result: false,
            params: [
                calls: Vec<MethodCall> as Vec<MethodCall> = "calls" [Array] via calls
                    "An array of structs `{methodName: string, params: array}`.",
            ],
            optional: [],
            result: Vec<Result<Value, Fault>> = parse_multicall [Array]
                "An array with one element per call, in order: a one-element array holding the result, or a fault struct `{faultCode, faultString}`.",
            help: "Runs several calls in one request, in order. A call's fault is returned in its place and does not stop the others; a malformed entry gets -32602 and a nested `system.multicall` gets -32600, in place.",
            faults: [(InvalidParams, "`calls` is not an array, or holds more calls than the server allows")],
        }

        GetCapabilities = "system.getCapabilities" {
            group: System,
            client: get_capabilities,
            serve: router,
            large_result: false,
            params: [],
            optional: [],
            result: Vec<Capability> = parse_capabilities [Struct]
                "A struct of capability name → `{specUrl, specVersion}`: `faults_interop`, `introspection`, `multicall`.",
            help: "Lists the XML-RPC conventions this server follows.",
            faults: [],
        }
        }
    };
}
