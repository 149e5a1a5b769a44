//! Typed results: [`Reply`], one variant per kind of result, to and from the wire.

use pbx_model::{Call, CallId, Entity, Favorite, ParkingInfo};
use xmlrpc_codec::{EncodeError, Fault, Value, ValueWriter, Written};

use crate::records::{self, Capability, Record, records_to_value, write_records};

/// The successful result of a method, typed.
///
/// The server builds one and writes it with [`Reply::into_value`]; a client reads one
/// with [`Reply::from_value`] (or directly with the `parse_*` function of its method).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Reply {
    /// `get_calls`.
    Calls(Vec<Call>),
    /// `get_extensions`.
    Extensions(Vec<Entity>),
    /// `get_favorites`.
    Favorites(Vec<Favorite>),
    /// A method whose guide output is "none": written as `true`.
    Done,
    /// `get_parking_info`.
    ParkingInfo(ParkingInfo),
    /// `park`: the slot taken.
    Slot(u32),
    /// `dict_get`, `system.methodHelp`.
    Text(String),
    /// `get_all`: key → value pairs.
    Entries(Vec<(String, String)>),
    /// `dict_get_serialized`: the stored array or struct.
    Object(Value),
    /// `sim.call`: the new call's id.
    CallId(CallId),
    /// `system.listMethods`.
    MethodNames(Vec<String>),
    /// `system.methodSignature`: type names, result first.
    Signatures(Vec<Vec<String>>),
    /// `system.getCapabilities`.
    Capabilities(Vec<Capability>),
    /// `system.multicall`: each sub-call's result or fault, in order.
    Multicall(Vec<Result<Value, Fault>>),
}

impl Reply {
    /// The value on the wire, per SPEC.md.
    pub fn into_value(self) -> Value {
        match self {
            Reply::Calls(calls) => records_to_value(&calls),
            Reply::Extensions(entities) => records_to_value(&entities),
            Reply::Favorites(favorites) => records_to_value(&favorites),
            Reply::Done => Value::Bool(true),
            Reply::ParkingInfo(info) => info.to_value(),
            Reply::Slot(slot) => Value::Int(i64::from(slot)),
            Reply::Text(text) => Value::String(text),
            Reply::Entries(entries) => records::entries_to_value(&entries),
            Reply::Object(value) => value,
            Reply::CallId(id) => Value::String(id.as_str().to_string()),
            Reply::MethodNames(names) => {
                Value::Array(names.into_iter().map(Value::String).collect())
            }
            Reply::Signatures(sigs) => Value::Array(
                sigs.into_iter()
                    .map(|sig| Value::Array(sig.into_iter().map(Value::String).collect()))
                    .collect(),
            ),
            Reply::Capabilities(caps) => Capability::list_to_value(&caps),
            Reply::Multicall(results) => records::multicall_to_value(results),
        }
    }

    /// Writes the value on the wire straight into a document: the bytes of
    /// [`Reply::into_value`], without building the list results' [`Value`] tree.
    pub fn write(self, w: ValueWriter<'_>) -> Result<Written, EncodeError> {
        match self {
            Reply::Calls(calls) => write_records(&calls, w),
            Reply::Extensions(entities) => write_records(&entities, w),
            Reply::Favorites(favorites) => write_records(&favorites, w),
            Reply::Text(text) => w.string(&text),
            other => w.value(&other.into_value()),
        }
    }

    /// About how many bytes the whole `methodResponse` takes: a starting capacity
    /// for [`Encoder::method_response_with_capacity`](xmlrpc_codec::Encoder::method_response_with_capacity),
    /// so that a long list is written without regrowing its buffer. Generous per
    /// record (the bench fixture's records run about 700 bytes per entity and 1,100
    /// per call); only an estimate: the bytes written do not depend on it.
    ///
    /// At most [`Reply::MAX_SIZE_HINT`]: past that, regrowing costs little next to
    /// writing the answer, and a huge list cannot reserve far ahead of the bytes
    /// actually written.
    pub fn size_hint(&self) -> usize {
        const DOCUMENT: usize = 256;
        let (records, each) = match self {
            Reply::Calls(calls) => (calls.len(), 1_280),
            Reply::Extensions(entities) => (entities.len(), 896),
            Reply::Favorites(favorites) => (favorites.len(), 320),
            Reply::Entries(entries) => (entries.len(), 128),
            Reply::Multicall(results) => (results.len(), 256),
            _ => (0, 0),
        };
        records
            .saturating_mul(each)
            .saturating_add(DOCUMENT)
            .min(Self::MAX_SIZE_HINT)
    }

    /// No more bytes than the value takes on the wire (its `<value>`, without the
    /// document around it): the text it carries, which escaping only lengthens,
    /// plus the least markup each record takes. Cheap (lengths only, no
    /// allocation), so that an answer too large for its bound is refused before
    /// it is written.
    pub fn min_len(&self) -> usize {
        // `<value><string></string></value>`
        const STRING: usize = 32;
        // `<member><name></name><value><string></string></value></member>`
        const ENTRY: usize = 62;
        // Below what the fewest members of each record take (names and markup).
        let records = |count: usize, each: usize| count.saturating_mul(each);
        match self {
            Reply::Calls(calls) => records(calls.len(), 256),
            Reply::Extensions(entities) => records(entities.len(), 192),
            Reply::Favorites(favorites) => records(favorites.len(), 96),
            Reply::Text(text) => STRING + text.len(),
            Reply::Entries(entries) => entries.iter().fold(STRING, |total, (key, value)| {
                total
                    .saturating_add(ENTRY)
                    .saturating_add(key.len())
                    .saturating_add(value.len())
            }),
            Reply::Object(value) => value_min_len(value),
            Reply::Multicall(results) => results.iter().fold(STRING, |total, result| {
                total.saturating_add(match result {
                    Ok(value) => value_min_len(value),
                    Err(fault) => fault.string.len(),
                })
            }),
            Reply::Done
            | Reply::ParkingInfo(_)
            | Reply::Slot(_)
            | Reply::CallId(_)
            | Reply::MethodNames(_)
            | Reply::Signatures(_)
            | Reply::Capabilities(_) => 0,
        }
    }

    /// The largest [`Reply::size_hint`]: 16 MiB.
    pub const MAX_SIZE_HINT: usize = 16 << 20;
}

/// Each kind of result as its reply: what the table's readers give and what
/// a backend returns.
macro_rules! reply_from {
    ($($ty:ty => $variant:ident),* $(,)?) => {
        $(
            impl From<$ty> for Reply {
                fn from(result: $ty) -> Reply {
                    Reply::$variant(result)
                }
            }
        )*
    };
}

reply_from! {
    Vec<Call> => Calls,
    Vec<Entity> => Extensions,
    Vec<Favorite> => Favorites,
    ParkingInfo => ParkingInfo,
    u32 => Slot,
    String => Text,
    Vec<(String, String)> => Entries,
    Value => Object,
    CallId => CallId,
    Vec<String> => MethodNames,
    Vec<Vec<String>> => Signatures,
    Vec<Capability> => Capabilities,
    Vec<Result<Value, Fault>> => Multicall,
}

impl From<()> for Reply {
    fn from((): ()) -> Reply {
        Reply::Done
    }
}

/// [`Reply::min_len`] of a value tree: its text and the least markup around it.
fn value_min_len(value: &Value) -> usize {
    const MARKUP: usize = 16;
    match value {
        Value::String(text) => MARKUP + text.len(),
        Value::Base64(bytes) => MARKUP + bytes.len() / 3 * 4,
        Value::Array(items) => items.iter().fold(MARKUP, |total, item| {
            total.saturating_add(value_min_len(item))
        }),
        Value::Struct(members) => members.iter().fold(MARKUP, |total, (name, value)| {
            total
                .saturating_add(MARKUP + name.len())
                .saturating_add(value_min_len(value))
        }),
        _ => MARKUP,
    }
}
