//! The one table of methods ([`methods`]): names, parameters, result, help,
//! faults. Introspection, request decoding, the docs and the client all read it.

use crate::FaultCode;

/// An XML-RPC type, as `system.methodSignature` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum XmlRpcType {
    /// `int` (also `i4`).
    Int,
    /// `boolean`.
    Boolean,
    /// `string`.
    String,
    /// `double`.
    Double,
    /// `dateTime.iso8601`.
    DateTime,
    /// `base64`.
    Base64,
    /// `struct`.
    Struct,
    /// `array`.
    Array,
}

impl XmlRpcType {
    /// The type's name in signatures: `int`, `boolean`, `string`, `double`,
    /// `dateTime.iso8601`, `base64`, `struct`, `array`.
    pub const fn name(self) -> &'static str {
        match self {
            XmlRpcType::Int => "int",
            XmlRpcType::Boolean => "boolean",
            XmlRpcType::String => "string",
            XmlRpcType::Double => "double",
            XmlRpcType::DateTime => "dateTime.iso8601",
            XmlRpcType::Base64 => "base64",
            XmlRpcType::Struct => "struct",
            XmlRpcType::Array => "array",
        }
    }
}

impl std::fmt::Display for XmlRpcType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a method comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Group {
    /// The PBXpress guide's methods (SPEC.md "Methods").
    Pbx,
    /// The simulated PBX's controls (`sim.*`), offered only with a simulator.
    Simulation,
    /// Introspection and batching (`system.*`).
    System,
}

impl Group {
    /// A title for docs.
    pub const fn title(self) -> &'static str {
        match self {
            Group::Pbx => "PBX methods",
            Group::Simulation => "Simulation methods (`sim.*`)",
            Group::System => "Introspection and batching (`system.*`)",
        }
    }
}

/// One positional parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParamSpec {
    /// Its name, used in fault messages and docs (`callid`).
    pub name: &'static str,
    /// The types it may have on the wire, as signatures advertise them (several
    /// give one signature each). Readers are more liberal, see the crate docs.
    pub types: &'static [XmlRpcType],
    /// Whether it may be left out. Optional parameters come last.
    pub optional: bool,
    /// What it is.
    pub doc: &'static str,
}

/// Everything about one method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MethodSpec {
    /// The method this entry describes.
    pub method: Method,
    /// The name on the wire (`get_calls`, `sim.call`, `system.multicall`).
    pub name: &'static str,
    /// Where it comes from.
    pub group: Group,
    /// Its positional parameters.
    pub params: &'static [ParamSpec],
    /// The types its result may have (several give one signature each).
    pub result: &'static [XmlRpcType],
    /// What the result is.
    pub result_doc: &'static str,
    /// What the method does (`system.methodHelp`).
    pub help: &'static str,
    /// The faults particular to it, with when they happen. Every method may also
    /// answer -32602 for wrong parameters and 1 for an internal error.
    pub faults: &'static [(FaultCode, &'static str)],
    /// Whether its result carries data of any size (a list, a stored value):
    /// in a `system.multicall` whose answer is already full, it is not run.
    pub large_result: bool,
}

impl MethodSpec {
    /// How many parameters it takes: from the required ones to all.
    pub fn arity(&self) -> std::ops::RangeInclusive<usize> {
        let required = self.params.iter().filter(|p| !p.optional).count();
        required..=self.params.len()
    }

    /// Its signatures for `system.methodSignature`: type names, result first; one
    /// signature per arity (optional parameters) and per alternative type.
    pub fn signatures(&self) -> Vec<Vec<&'static str>> {
        let mut out = Vec::new();
        for n in self.arity() {
            let mut sigs: Vec<Vec<&'static str>> =
                self.result.iter().map(|t| vec![t.name()]).collect();
            for param in self.params.iter().take(n) {
                sigs = sigs
                    .into_iter()
                    .flat_map(|sig| {
                        param.types.iter().map(move |t| {
                            let mut sig = sig.clone();
                            sig.push(t.name());
                            sig
                        })
                    })
                    .collect();
            }
            out.extend(sigs);
        }
        out
    }

    /// A one-line synopsis: `park(callid: string, slot?: int) → int`.
    pub fn synopsis(&self) -> String {
        let types = |ts: &[XmlRpcType]| ts.iter().map(|t| t.name()).collect::<Vec<_>>().join(" | ");
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| {
                let mark = if p.optional { "?" } else { "" };
                format!("{}{mark}: {}", p.name, types(p.types))
            })
            .collect();
        format!(
            "{}({}) → {}",
            self.name,
            params.join(", "),
            types(self.result)
        )
    }

    /// The text of `system.methodHelp`: the synopsis, then the help.
    pub fn help_text(&self) -> String {
        format!("{}\n\n{}", self.synopsis(), self.help)
    }
}

/// Every method, one variant each; [`Method::spec`] is its entry in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Method {
    /// `get_calls`.
    GetCalls,
    /// `get_extensions`.
    GetExtensions,
    /// `get_favorites`.
    GetFavorites,
    /// `set_favorites`.
    SetFavorites,
    /// `transfer`.
    Transfer,
    /// `drop`.
    Drop,
    /// `get_parking_info`.
    GetParkingInfo,
    /// `park`.
    Park,
    /// `dict_set`.
    DictSet,
    /// `dict_set_many`.
    DictSetMany,
    /// `dict_get`.
    DictGet,
    /// `dict_set_serialized`.
    DictSetSerialized,
    /// `dict_get_serialized`.
    DictGetSerialized,
    /// `dict_delete`.
    DictDelete,
    /// `get_all`.
    GetAll,
    /// `get_events`.
    GetEvents,
    /// `sim.call`.
    SimCall,
    /// `sim.answer`.
    SimAnswer,
    /// `sim.hold`.
    SimHold,
    /// `sim.resume`.
    SimResume,
    /// `sim.hangup`.
    SimHangup,
    /// `sim.register`.
    SimRegister,
    /// `sim.unregister`.
    SimUnregister,
    /// `sim.reset`.
    SimReset,
    /// `sim.play`.
    SimPlay,
    /// `sim.stop`.
    SimStop,
    /// `system.listMethods`.
    ListMethods,
    /// `system.methodHelp`.
    MethodHelp,
    /// `system.methodSignature`.
    MethodSignature,
    /// `system.multicall`.
    Multicall,
    /// `system.getCapabilities`.
    GetCapabilities,
}

impl Method {
    /// The method's entry in the table.
    pub fn spec(self) -> &'static MethodSpec {
        // In bounds and in order: checked at compile time below.
        &METHODS[self as usize]
    }

    /// The name on the wire.
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// The method named `name`, if any.
    pub fn from_name(name: &str) -> Option<Method> {
        method(name).map(|spec| spec.method)
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every method in the table, in docs order (PBX, simulation, system).
pub fn methods() -> &'static [MethodSpec] {
    &METHODS
}

/// The method named `name` (exact, case-sensitive), if any.
pub fn method(name: &str) -> Option<&'static MethodSpec> {
    METHODS.iter().find(|m| m.name == name)
}

use FaultCode::{Conflict, InvalidParams, LimitReached, MethodNotFound, NotFound};
use XmlRpcType::{Array, Boolean, Double, Int, String as Str, Struct};

const fn param(name: &'static str, types: &'static [XmlRpcType], doc: &'static str) -> ParamSpec {
    ParamSpec {
        name,
        types,
        optional: false,
        doc,
    }
}

const fn optional(
    name: &'static str,
    types: &'static [XmlRpcType],
    doc: &'static str,
) -> ParamSpec {
    ParamSpec {
        name,
        types,
        optional: true,
        doc,
    }
}

const CALLID: ParamSpec = param(
    "callid",
    &[Str],
    "The call's id, as `get_calls` gives it (an `<int>` is read as its decimal text).",
);
const KEY: ParamSpec = param(
    "key",
    &[Str],
    "The storage key (by default at most 256 bytes).",
);
const NO_CALL: (FaultCode, &str) = (NotFound, "no such call in your admin group");
const SIM_OFF: (FaultCode, &str) = (
    FaultCode::PermissionDenied,
    "simulation is switched off on this server",
);
const DONE: &str = "`true`";

const COUNT: usize = 31;

static METHODS: [MethodSpec; COUNT] = [
    // ---- PBX (SPEC.md "Methods") ----
    MethodSpec {
        method: Method::GetCalls,
        name: "get_calls",
        group: Group::Pbx,
        large_result: true,
        params: &[],
        result: &[Array],
        result_doc: "An array of call records: every call with at least one party in your admin group.",
        help: "Lists the current calls with at least one party in your admin group. A call to a queue is several records with `qcall` 1: the incoming one (caller → queue) and one per ringing member.",
        faults: &[],
    },
    MethodSpec {
        method: Method::GetExtensions,
        name: "get_extensions",
        group: Group::Pbx,
        large_result: true,
        params: &[],
        result: &[Array],
        result_doc: "An array of extension records (extensions, queues and attendants) of your admin group.",
        help: "Lists the extensions, queues and attendants of your admin group with their presence (`state`).",
        faults: &[],
    },
    MethodSpec {
        method: Method::GetFavorites,
        name: "get_favorites",
        group: Group::Pbx,
        large_result: true,
        params: &[],
        result: &[Array],
        result_doc: "An array of favorites `{id, type, slot, size}`, by slot.",
        help: "Lists the operator-console favorites of your admin group, by slot.",
        faults: &[],
    },
    MethodSpec {
        method: Method::SetFavorites,
        name: "set_favorites",
        group: Group::Pbx,
        large_result: false,
        params: &[param(
            "favorites",
            &[Array],
            "An array of favorites `{id: int, type: string, slot: int ≥ 1, size: single|double}`; slots unique.",
        )],
        result: &[Boolean],
        result_doc: DONE,
        help: "Replaces the whole favorites list of your admin group, atomically: on any fault nothing changes.",
        faults: &[
            (
                NotFound,
                "a favorite names an entity that is not in your admin group",
            ),
            (
                InvalidParams,
                "a malformed favorite, slot 0, or a slot used twice",
            ),
        ],
    },
    MethodSpec {
        method: Method::Transfer,
        name: "transfer",
        group: Group::Pbx,
        large_result: false,
        params: &[
            CALLID,
            param(
                "destination",
                &[Str],
                "An extension, queue or attendant number of your group, `vm-<number>` for a voicemail box, or an outside number.",
            ),
        ],
        result: &[Boolean],
        result_doc: DONE,
        help: "Blind transfer. Your own extension is released when it is a party of the call, otherwise the `to` party; the other party goes on to `destination`, which rings. The call keeps its id.",
        faults: &[
            (
                NotFound,
                "no such call, or no such destination, in your admin group",
            ),
            (Conflict, "the call's state does not allow a transfer"),
        ],
    },
    MethodSpec {
        method: Method::Drop,
        name: "drop",
        group: Group::Pbx,
        large_result: false,
        params: &[CALLID],
        result: &[Boolean],
        result_doc: DONE,
        help: "Ends a call. Dropping a queue call's incoming record ends all its records.",
        faults: &[NO_CALL],
    },
    MethodSpec {
        method: Method::GetParkingInfo,
        name: "get_parking_info",
        group: Group::Pbx,
        large_result: true,
        params: &[],
        result: &[Array],
        result_doc: "The array `[parking_extension (string), slots (int), parked_calls (struct: slot number as string → callid)]`.",
        help: "Describes your admin group's parking lot: slot `k` (from 1) is reached by dialling `parking_extension + k - 1`.",
        faults: &[],
    },
    MethodSpec {
        method: Method::Park,
        name: "park",
        group: Group::Pbx,
        large_result: false,
        params: &[
            CALLID,
            optional(
                "slot",
                &[Int],
                "The slot to park in, from 1; the lowest free slot when left out (nil or an empty string count as left out).",
            ),
        ],
        result: &[Int],
        result_doc: "The slot taken (int).",
        help: "Parks a call, in the given slot or the lowest free one. The call's state becomes `parked`.",
        faults: &[
            NO_CALL,
            (
                Conflict,
                "the slot is taken, or the call's state does not allow parking",
            ),
            (LimitReached, "no free slot"),
            (InvalidParams, "slot 0 or beyond the lot"),
        ],
    },
    MethodSpec {
        method: Method::DictSet,
        name: "dict_set",
        group: Group::Pbx,
        large_result: false,
        params: &[
            KEY,
            param("value", &[Str], "The value (by default at most 64 KiB)."),
        ],
        result: &[Boolean],
        result_doc: DONE,
        help: "Stores a value under one of your personal keys.",
        faults: &[(
            LimitReached,
            "key or value too long, or too many keys; nothing is written",
        )],
    },
    MethodSpec {
        method: Method::DictSetMany,
        name: "dict_set_many",
        group: Group::Pbx,
        large_result: false,
        params: &[param("pairs", &[Struct], "A struct of key → string value.")],
        result: &[Boolean],
        result_doc: DONE,
        help: "Stores several values at once, all or nothing.",
        faults: &[(
            LimitReached,
            "a key or value too long, or too many keys; nothing is written",
        )],
    },
    MethodSpec {
        method: Method::DictGet,
        name: "dict_get",
        group: Group::Pbx,
        large_result: true,
        params: &[KEY],
        result: &[Str],
        result_doc: "The stored string (for a key written by `dict_set_serialized`, its XML-RPC `<value>` text).",
        help: "Reads one of your personal keys.",
        faults: &[(NotFound, "no such key")],
    },
    MethodSpec {
        method: Method::DictSetSerialized,
        name: "dict_set_serialized",
        group: Group::Pbx,
        large_result: false,
        params: &[
            KEY,
            param(
                "obj",
                &[Array, Struct],
                "The array or struct to store; any XML-RPC core types inside.",
            ),
        ],
        result: &[Boolean],
        result_doc: DONE,
        help: "Stores an array or struct under one of your personal keys, as its canonical XML-RPC `<value>` text (lossless for every core type); `dict_get` returns that text.",
        faults: &[
            (
                InvalidParams,
                "`obj` is not an array or struct, or holds a value XML-RPC's core types cannot carry (nil, an int beyond 32 bits)",
            ),
            (
                LimitReached,
                "key or text too long, or too many keys; nothing is written",
            ),
        ],
    },
    MethodSpec {
        method: Method::DictGetSerialized,
        name: "dict_get_serialized",
        group: Group::Pbx,
        large_result: true,
        params: &[KEY],
        result: &[Array, Struct],
        result_doc: "The stored array or struct.",
        help: "Reads an array or struct stored by `dict_set_serialized`.",
        faults: &[
            (NotFound, "no such key"),
            (
                Conflict,
                "the key's text is not a serialized array or struct",
            ),
        ],
    },
    MethodSpec {
        method: Method::DictDelete,
        name: "dict_delete",
        group: Group::Pbx,
        large_result: false,
        params: &[KEY],
        result: &[Boolean],
        result_doc: "`true`, also when the key did not exist.",
        help: "Deletes one of your personal keys.",
        faults: &[],
    },
    MethodSpec {
        method: Method::GetAll,
        name: "get_all",
        group: Group::Pbx,
        large_result: true,
        params: &[],
        result: &[Struct],
        result_doc: "A struct of all your keys → their string values.",
        help: "Reads all your personal keys and values.",
        faults: &[],
    },
    MethodSpec {
        method: Method::GetEvents,
        name: "get_events",
        group: Group::Pbx,
        large_result: true,
        params: &[
            optional(
                "cursor",
                &[Str],
                "`\"\"` (or left out) for \"from now\", else the `cursor` of the previous answer.",
            ),
            optional(
                "timeout",
                &[Int],
                "Seconds to wait when no event is pending: 0 to 60, default 25.",
            ),
        ],
        result: &[Struct],
        result_doc: "A struct `{cursor: string, reset: boolean, events: array}`; each event is `{id, type, time, data}` (`type`: `call.created`, `call.updated`, `call.ended`, `entity.updated`, `parking.updated` or `favorites.updated`; `time`: RFC 3339 UTC; `data`: the whole record as `get_calls`, `get_extensions`, `get_parking_info` or `get_favorites` return it).",
        help: "Long poll for what changes in your admin group: answers as soon as at least one event is pending (at most 500 per answer), else after `timeout` seconds with none. Call it again with the answer's `cursor`. When `reset` is true (no cursor, or one the server no longer holds) re-read what you show with the `get_*` methods and go on from the new cursor. Events are idempotent: each carries the object's whole current record.",
        faults: &[
            (InvalidParams, "`timeout` outside 0-60"),
            (MethodNotFound, "this PBX offers no live events"),
        ],
    },
    // ---- simulation (SPEC.md "Simulation") ----
    MethodSpec {
        method: Method::SimCall,
        name: "sim.call",
        group: Group::Simulation,
        large_result: false,
        params: &[
            param(
                "from",
                &[Str],
                "An extension number of your group (an internal call) or an outside number (an inbound call).",
            ),
            param(
                "to",
                &[Str],
                "An extension, queue or attendant number of your group, or `vm-<number>`.",
            ),
            optional(
                "via",
                &[Str],
                "For an inbound call, the connection carrying it; default your group's first.",
            ),
        ],
        result: &[Str],
        result_doc: "The new call's id (string).",
        help: "Places a simulated call that starts ringing its destination (for a queue: every online, idle member). An offline destination sends the call to its voicemail when it has one.",
        faults: &[
            (NotFound, "`from`, `to` or `via` is not in your admin group"),
            (Conflict, "the destination is offline and has no voicemail"),
            (
                LimitReached,
                "your admin group holds as many live call records as the server allows (the in-memory PBX: `max_live_calls`, default 500)",
            ),
            SIM_OFF,
        ],
    },
    MethodSpec {
        method: Method::SimAnswer,
        name: "sim.answer",
        group: Group::Simulation,
        large_result: false,
        params: &[
            CALLID,
            optional(
                "extension",
                &[Str],
                "For a queue call, the ringing member who answers; default the first.",
            ),
        ],
        result: &[Boolean],
        result_doc: DONE,
        help: "The called party answers: the call becomes `connected`.",
        faults: &[
            NO_CALL,
            (
                Conflict,
                "the call is not ringing, or the extension is not ringing for it",
            ),
            SIM_OFF,
        ],
    },
    MethodSpec {
        method: Method::SimHold,
        name: "sim.hold",
        group: Group::Simulation,
        large_result: false,
        params: &[CALLID],
        result: &[Boolean],
        result_doc: DONE,
        help: "Puts a connected call on hold.",
        faults: &[NO_CALL, (Conflict, "the call is not connected"), SIM_OFF],
    },
    MethodSpec {
        method: Method::SimResume,
        name: "sim.resume",
        group: Group::Simulation,
        large_result: false,
        params: &[CALLID],
        result: &[Boolean],
        result_doc: DONE,
        help: "Resumes a held call.",
        faults: &[NO_CALL, (Conflict, "the call is not on hold"), SIM_OFF],
    },
    MethodSpec {
        method: Method::SimHangup,
        name: "sim.hangup",
        group: Group::Simulation,
        large_result: false,
        params: &[CALLID],
        result: &[Boolean],
        result_doc: DONE,
        help: "Ends a call, whatever its state.",
        faults: &[NO_CALL, SIM_OFF],
    },
    MethodSpec {
        method: Method::SimRegister,
        name: "sim.register",
        group: Group::Simulation,
        large_result: false,
        params: &[param(
            "number",
            &[Str],
            "An extension number of your group.",
        )],
        result: &[Boolean],
        result_doc: DONE,
        help: "The extension's phone comes online.",
        faults: &[(NotFound, "no such extension in your admin group"), SIM_OFF],
    },
    MethodSpec {
        method: Method::SimUnregister,
        name: "sim.unregister",
        group: Group::Simulation,
        large_result: false,
        params: &[param(
            "number",
            &[Str],
            "An extension number of your group.",
        )],
        result: &[Boolean],
        result_doc: DONE,
        help: "The extension's phone goes offline.",
        faults: &[(NotFound, "no such extension in your admin group"), SIM_OFF],
    },
    MethodSpec {
        method: Method::SimReset,
        name: "sim.reset",
        group: Group::Simulation,
        large_result: false,
        params: &[],
        result: &[Boolean],
        result_doc: DONE,
        help: "Your admin group goes back to its configured state: no calls, configured presence. Storage and favorites are user data and stay.",
        faults: &[SIM_OFF],
    },
    MethodSpec {
        method: Method::SimPlay,
        name: "sim.play",
        group: Group::Simulation,
        large_result: false,
        params: &[
            param(
                "scenario",
                &[Str],
                "The name of a scenario shipped with the server (`office-day`), or a scenario's TOML text (docs/scenarios.md). The server reads no files for clients.",
            ),
            optional(
                "speed",
                &[Double, Int],
                "How fast scenario time runs: 2 plays a minute in 30 seconds; default 1, at most 1000000. The server bounds the steps a group's scenario applies per second (the in-memory PBX: `max_events_per_second`, default 200): a scenario that asks for more (speed × traffic) is played slower than asked.",
            ),
            optional(
                "loop",
                &[Boolean],
                "Whether to start over, from a reset group, when the scenario ends; default false.",
            ),
        ],
        result: &[Boolean],
        result_doc: DONE,
        help: "Starts playing a scenario (scripted steps and random traffic) in your admin group, replacing the one playing there; steps due at once are applied before the answer (within the group's budget of steps per second). The scenario acts only in your group: a scenario naming another group, or a number outside yours, is refused before anything runs.",
        faults: &[
            (
                NotFound,
                "no such built-in scenario, or the scenario names a group, number or connection not in your admin group (the message gives the line)",
            ),
            (
                InvalidParams,
                "the scenario is malformed (the message gives line and problem), or the speed is not above 0",
            ),
            SIM_OFF,
        ],
    },
    MethodSpec {
        method: Method::SimStop,
        name: "sim.stop",
        group: Group::Simulation,
        large_result: false,
        params: &[],
        result: &[Boolean],
        result_doc: "`true`, also when no scenario was playing.",
        help: "Stops the scenario playing in your admin group. Its calls stay as they are (`sim.reset` clears them).",
        faults: &[SIM_OFF],
    },
    // ---- system ----
    MethodSpec {
        method: Method::ListMethods,
        name: "system.listMethods",
        group: Group::System,
        large_result: false,
        params: &[],
        result: &[Array],
        result_doc: "An array of method names (strings).",
        help: "Lists the methods this server offers.",
        faults: &[],
    },
    MethodSpec {
        method: Method::MethodHelp,
        name: "system.methodHelp",
        group: Group::System,
        large_result: false,
        params: &[param("method", &[Str], "A method name.")],
        result: &[Str],
        result_doc: "The method's synopsis and description (string).",
        help: "Describes a method.",
        faults: &[(MethodNotFound, "no such method")],
    },
    MethodSpec {
        method: Method::MethodSignature,
        name: "system.methodSignature",
        group: Group::System,
        large_result: false,
        params: &[param("method", &[Str], "A method name.")],
        result: &[Array],
        result_doc: "An array of signatures, each an array of type names with the result type first; one per number of parameters and per alternative type.",
        help: "Gives a method's signatures.",
        faults: &[(MethodNotFound, "no such method")],
    },
    MethodSpec {
        method: Method::Multicall,
        name: "system.multicall",
        group: Group::System,
        large_result: false,
        params: &[param(
            "calls",
            &[Array],
            "An array of structs `{methodName: string, params: array}`.",
        )],
        result: &[Array],
        result_doc: "An array with one element per call, in order: a one-element array holding the result, or a fault struct `{faultCode, faultString}`.",
        help: "Runs several calls in one request, in order. A call's fault is returned in its place and does not stop the others; a malformed entry gets -32602 and a nested `system.multicall` gets -32600, in place.",
        faults: &[(
            InvalidParams,
            "`calls` is not an array, or holds more calls than the server allows",
        )],
    },
    MethodSpec {
        method: Method::GetCapabilities,
        name: "system.getCapabilities",
        group: Group::System,
        large_result: false,
        params: &[],
        result: &[Struct],
        result_doc: "A struct of capability name → `{specUrl, specVersion}`: `faults_interop`, `introspection`, `multicall`.",
        help: "Lists the XML-RPC conventions this server follows.",
        faults: &[],
    },
];

// `Method::spec` indexes the table by discriminant: every entry must sit at its
// method's position. Checked when compiling, so the indexing cannot panic.
const _: () = {
    let mut i = 0;
    while i < COUNT {
        assert!(METHODS[i].method as usize == i, "METHODS is out of order");
        i += 1;
    }
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_found() {
        for spec in methods() {
            assert_eq!(method(spec.name).map(|m| m.method), Some(spec.method));
            assert_eq!(Method::from_name(spec.name), Some(spec.method));
        }
        assert!(method("no_such").is_none());
    }

    #[test]
    fn only_reads_of_the_pbx_are_large_results() {
        for spec in methods().iter().filter(|m| m.large_result) {
            assert_eq!(spec.group, Group::Pbx, "{}", spec.name);
            assert!(!spec.result.contains(&XmlRpcType::Boolean), "{}", spec.name);
            assert!(spec.name.starts_with("get_") || spec.name.starts_with("dict_get"));
        }
        assert!(Method::GetAll.spec().large_result);
        assert!(!Method::Park.spec().large_result);
    }

    #[test]
    fn optional_params_come_last() {
        for spec in methods() {
            let first_optional = spec.params.iter().position(|p| p.optional);
            if let Some(i) = first_optional {
                assert!(spec.params[i..].iter().all(|p| p.optional), "{}", spec.name);
            }
        }
    }

    #[test]
    fn signatures_expand_optional_params_and_alternatives() {
        let park = Method::Park.spec();
        assert_eq!(
            park.signatures(),
            vec![vec!["int", "string"], vec!["int", "string", "int"]]
        );
        let set = Method::DictSetSerialized.spec();
        assert_eq!(
            set.signatures(),
            vec![
                vec!["boolean", "string", "array"],
                vec!["boolean", "string", "struct"]
            ]
        );
        assert_eq!(Method::GetCalls.spec().signatures(), vec![vec!["array"]]);
        assert_eq!(park.synopsis(), "park(callid: string, slot?: int) → int");
    }
}
