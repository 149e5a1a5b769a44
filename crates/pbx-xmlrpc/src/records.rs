//! SPEC.md's records on the wire, each mapping written once with both directions
//! side by side ([`Record`]), and the result readers a client uses (`parse_*`).
//!
//! Writing is strict and exact: the member names and types of SPEC.md "Records",
//! ints 0/1 for `voicemail` and `qcall`, members in SPEC order. Reading is liberal
//! (see the `convert` rules in the crate docs): flags as boolean or int, ids as int
//! or digits, and a few members an older server might leave out default to
//! empty: `email`, party and caller-id `name`, `via` (`""`), `qcall` (0), `size`
//! (`single`).

use std::collections::BTreeMap;

use pbx_model::{
    Call, CallId, CallState, CallerId, Entity, EntityId, EntityKind, EntityRef, Favorite,
    FavoriteSize, ParkingInfo, Party, PartyKind, Presence,
};
use xmlrpc_codec::{
    EncodeError, Fault, MemberName, Struct, StructWriter, Value, ValueWriter, Written,
};

use crate::convert::{self, Members, ResultError};

/// A type with one XML-RPC representation: [`Record::to_value`] writes it exactly as
/// SPEC.md says, [`Record::from_value`] reads it back liberally.
///
/// For every record `r`, `R::from_value(&r.to_value()) == Ok(r)`, and
/// [`Record::write`] writes the bytes of `r.to_value()`.
pub trait Record: Sized {
    /// The value on the wire.
    fn to_value(&self) -> Value;
    /// Writes the value on the wire straight into a document, with no [`Value`] in
    /// between where the record supports it (the records of list results do).
    fn write(&self, w: ValueWriter<'_>) -> Result<Written, EncodeError> {
        w.value(&self.to_value())
    }
    /// Reads a value written by any PBXpress server (or client, for favorites).
    fn from_value(value: &Value) -> Result<Self, ResultError>;
}

/// An array of records.
pub fn records_to_value<R: Record>(records: &[R]) -> Value {
    Value::Array(records.iter().map(Record::to_value).collect())
}

/// Writes an array of records straight into a document: the bytes of
/// [`records_to_value`].
pub(crate) fn write_records<R: Record>(
    records: &[R],
    w: ValueWriter<'_>,
) -> Result<Written, EncodeError> {
    w.array(|a| records.iter().try_for_each(|r| a.item(|w| r.write(w))))
}

/// Where a struct record's members go: a [`Struct`] (for `to_value`) or the
/// document (for `write`). Each such record lists its members once, in
/// [`StructRecord::members`], for both.
trait MemberSink {
    fn int(&mut self, name: MemberName, n: i64) -> Result<(), EncodeError>;
    fn text(&mut self, name: MemberName, s: &str) -> Result<(), EncodeError>;
    fn record(&mut self, name: MemberName, r: &impl StructRecord) -> Result<(), EncodeError>;
}

/// A member name, checked once, when the crate is compiled: written as it is.
macro_rules! name {
    ($name:literal) => {
        const { MemberName::new($name).expect("a member name that needs no escaping") }
    };
}

/// A record written as a struct, member by member: see [`MemberSink`].
trait StructRecord {
    fn members(&self, m: &mut impl MemberSink) -> Result<(), EncodeError>;

    /// The members as a [`Struct`] (infallible: checks happen when it is encoded).
    fn struct_value(&self) -> Value {
        let mut tree = Struct::new();
        let _ = self.members(&mut tree);
        Value::Struct(tree)
    }

    fn write_struct(&self, w: ValueWriter<'_>) -> Result<Written, EncodeError> {
        w.structure(|s| self.members(s))
    }
}

impl MemberSink for Struct {
    fn int(&mut self, name: MemberName, n: i64) -> Result<(), EncodeError> {
        self.insert(name.as_str(), Value::Int(n));
        Ok(())
    }
    fn text(&mut self, name: MemberName, s: &str) -> Result<(), EncodeError> {
        self.insert(name.as_str(), text(s));
        Ok(())
    }
    fn record(&mut self, name: MemberName, r: &impl StructRecord) -> Result<(), EncodeError> {
        self.insert(name.as_str(), r.struct_value());
        Ok(())
    }
}

impl MemberSink for StructWriter<'_> {
    fn int(&mut self, name: MemberName, n: i64) -> Result<(), EncodeError> {
        self.member_named(name, |w| w.int(n))
    }
    fn text(&mut self, name: MemberName, s: &str) -> Result<(), EncodeError> {
        self.member_named(name, |w| w.string(s))
    }
    fn record(&mut self, name: MemberName, r: &impl StructRecord) -> Result<(), EncodeError> {
        self.member_named(name, |w| r.write_struct(w))
    }
}

/// Reads an array of records; an error names the element.
pub fn records_from_value<R: Record>(value: &Value) -> Result<Vec<R>, ResultError> {
    convert::list(value, R::from_value)
}

fn int(n: u32) -> Value {
    Value::Int(i64::from(n))
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

fn owned(value: &Value) -> Result<String, ResultError> {
    convert::string(value).map(|s| s.into_owned())
}

fn entity_id(value: &Value) -> Result<EntityId, ResultError> {
    convert::u32(value).map(EntityId)
}

fn call_id(value: &Value) -> Result<CallId, ResultError> {
    convert::string(value).map(|s| CallId::new(s.into_owned()))
}

fn entity_kind(value: &Value) -> Result<EntityKind, ResultError> {
    convert::name(value)
}

// ---- extension record ----------------------------------------------------------

impl StructRecord for CallerId {
    fn members(&self, m: &mut impl MemberSink) -> Result<(), EncodeError> {
        m.text(name!("phone"), &self.phone)?;
        m.text(name!("name"), &self.name)
    }
}

impl Record for CallerId {
    fn to_value(&self) -> Value {
        self.struct_value()
    }

    fn write(&self, w: ValueWriter<'_>) -> Result<Written, EncodeError> {
        self.write_struct(w)
    }

    fn from_value(value: &Value) -> Result<Self, ResultError> {
        let m = Members::of(value)?;
        Ok(CallerId {
            phone: m.get("phone", owned)?,
            name: m.get_or("name", String::new(), owned)?,
        })
    }
}

impl StructRecord for Entity {
    fn members(&self, m: &mut impl MemberSink) -> Result<(), EncodeError> {
        m.int(name!("id"), i64::from(self.id.0))?;
        m.text(name!("type"), self.kind.as_str())?;
        m.text(name!("abbreviated"), &self.abbreviated)?;
        m.record(name!("callerid"), &self.caller_id)?;
        m.int(name!("voicemail"), i64::from(self.voicemail))?;
        m.text(name!("email"), &self.email)?;
        m.text(name!("state"), self.presence.as_str())
    }
}

impl Record for Entity {
    fn to_value(&self) -> Value {
        self.struct_value()
    }

    fn write(&self, w: ValueWriter<'_>) -> Result<Written, EncodeError> {
        self.write_struct(w)
    }

    fn from_value(value: &Value) -> Result<Self, ResultError> {
        let m = Members::of(value)?;
        Ok(Entity {
            id: m.get("id", entity_id)?,
            kind: m.get("type", entity_kind)?,
            abbreviated: m.get("abbreviated", owned)?,
            caller_id: m.get("callerid", CallerId::from_value)?,
            voicemail: m.get("voicemail", convert::flag)?,
            email: m.get_or("email", String::new(), owned)?,
            presence: m.get("state", convert::name::<Presence>)?,
        })
    }
}

// ---- call record ---------------------------------------------------------------

impl StructRecord for Party {
    fn members(&self, m: &mut impl MemberSink) -> Result<(), EncodeError> {
        m.int(name!("id"), i64::from(self.id.0))?;
        m.text(name!("number"), &self.number)?;
        m.text(name!("name"), &self.name)?;
        m.text(name!("type"), self.kind.as_str())
    }
}

impl Record for Party {
    fn to_value(&self) -> Value {
        self.struct_value()
    }

    fn write(&self, w: ValueWriter<'_>) -> Result<Written, EncodeError> {
        self.write_struct(w)
    }

    fn from_value(value: &Value) -> Result<Self, ResultError> {
        let m = Members::of(value)?;
        Ok(Party {
            id: m.get("id", entity_id)?,
            number: m.get("number", owned)?,
            name: m.get_or("name", String::new(), owned)?,
            kind: m.get("type", convert::name::<PartyKind>)?,
        })
    }
}

impl StructRecord for Call {
    fn members(&self, m: &mut impl MemberSink) -> Result<(), EncodeError> {
        m.text(name!("id"), self.id.as_str())?;
        m.text(name!("state"), self.state.as_str())?;
        m.record(name!("from"), &self.from)?;
        m.record(name!("to"), &self.to)?;
        // Clamped so that a call older than 68 years still fits a 32-bit <int>.
        m.int(
            name!("duration"),
            i64::from(self.duration.min(i32::MAX as u32)),
        )?;
        m.text(name!("via"), &self.via)?;
        m.int(name!("qcall"), i64::from(self.qcall))
    }
}

impl Record for Call {
    fn to_value(&self) -> Value {
        self.struct_value()
    }

    fn write(&self, w: ValueWriter<'_>) -> Result<Written, EncodeError> {
        self.write_struct(w)
    }

    fn from_value(value: &Value) -> Result<Self, ResultError> {
        let m = Members::of(value)?;
        Ok(Call {
            id: m.get("id", call_id)?,
            state: m.get("state", convert::name::<CallState>)?,
            from: m.get("from", Party::from_value)?,
            to: m.get("to", Party::from_value)?,
            duration: m.get("duration", convert::u32)?,
            via: m.get_or("via", String::new(), owned)?,
            qcall: m.get_or("qcall", false, convert::flag)?,
        })
    }
}

// ---- favorite ------------------------------------------------------------------

impl Record for Favorite {
    fn to_value(&self) -> Value {
        Value::Struct(Struct::from_iter([
            ("id", int(self.entity.id.0)),
            ("type", text(self.entity.kind.as_str())),
            ("slot", int(self.slot)),
            ("size", text(self.size.as_str())),
        ]))
    }

    fn from_value(value: &Value) -> Result<Self, ResultError> {
        let m = Members::of(value)?;
        Ok(Favorite {
            entity: EntityRef {
                kind: m.get("type", entity_kind)?,
                id: m.get("id", entity_id)?,
            },
            slot: m.get("slot", convert::u32)?,
            size: m.get_or("size", FavoriteSize::Single, convert::name)?,
        })
    }
}

// ---- parking info --------------------------------------------------------------

impl Record for ParkingInfo {
    /// The guide's 3-element array `[parking_extension, slots, parked_calls]`, with
    /// `parked_calls` a struct from the slot number (as a string) to the call id.
    fn to_value(&self) -> Value {
        let parked: Struct = self
            .parked_calls
            .iter()
            .map(|(slot, call)| (slot.to_string(), text(call.as_str())))
            .collect();
        Value::Array(vec![
            text(&self.parking_extension),
            int(self.slots),
            Value::Struct(parked),
        ])
    }

    /// Also reads a struct with members `parking_extension`, `slots`, `parked_calls`.
    fn from_value(value: &Value) -> Result<Self, ResultError> {
        let (extension, slots, parked) = match value {
            Value::Array(items) => match items.as_slice() {
                [e, s, p] => (
                    owned(e).map_err(|e| e.in_element(0))?,
                    convert::u32(s).map_err(|e| e.in_element(1))?,
                    parked_calls(p).map_err(|e| e.in_element(2))?,
                ),
                _ => {
                    return Err(ResultError::other(format!(
                        "expected 3 elements [parking_extension, slots, parked_calls], got {}",
                        items.len()
                    )));
                }
            },
            Value::Struct(_) => {
                let m = Members::of(value)?;
                (
                    m.get("parking_extension", owned)?,
                    m.get("slots", convert::u32)?,
                    m.get("parked_calls", parked_calls)?,
                )
            }
            other => {
                return Err(ResultError::mismatch(
                    "array [parking_extension, slots, parked_calls]",
                    other,
                ));
            }
        };
        Ok(ParkingInfo {
            parking_extension: extension,
            slots,
            parked_calls: parked,
        })
    }
}

fn parked_calls(value: &Value) -> Result<BTreeMap<u32, CallId>, ResultError> {
    let mut parked = BTreeMap::new();
    for (key, call) in convert::structure(value)?.iter() {
        let slot = key.trim().parse::<u32>().map_err(|_| {
            ResultError::other(format!(
                "expected a slot number as member name, got {key:?}"
            ))
        })?;
        parked.insert(slot, call_id(call).map_err(|e| e.in_member(key))?);
    }
    Ok(parked)
}

// ---- results of single methods -------------------------------------------------

/// `get_calls`: an array of call records.
pub fn parse_calls(value: &Value) -> Result<Vec<Call>, ResultError> {
    records_from_value(value)
}

/// `get_extensions`: an array of extension records.
pub fn parse_extensions(value: &Value) -> Result<Vec<Entity>, ResultError> {
    records_from_value(value)
}

/// `get_favorites`: an array of favorites.
pub fn parse_favorites(value: &Value) -> Result<Vec<Favorite>, ResultError> {
    records_from_value(value)
}

/// `get_parking_info`: the 3-element array.
pub fn parse_parking_info(value: &Value) -> Result<ParkingInfo, ResultError> {
    ParkingInfo::from_value(value)
}

/// `park`: the slot taken.
pub fn parse_slot(value: &Value) -> Result<u32, ResultError> {
    convert::u32(value)
}

/// The result of a method whose guide output is "none". This server answers
/// `true`; any value is accepted, since older servers answer other things.
pub fn parse_done(value: &Value) -> Result<(), ResultError> {
    let _ = value;
    Ok(())
}

/// `dict_get` (and `system.methodHelp`): a string.
pub fn parse_string(value: &Value) -> Result<String, ResultError> {
    owned(value)
}

/// `get_all`: a struct of key → string value, as pairs in the order received.
pub fn parse_entries(value: &Value) -> Result<Vec<(String, String)>, ResultError> {
    convert::structure(value)?
        .iter()
        .map(|(k, v)| Ok((k.to_string(), owned(v).map_err(|e| e.in_member(k))?)))
        .collect()
}

/// The struct `get_all` answers: key → string value.
pub fn entries_to_value(entries: &[(String, String)]) -> Value {
    Value::Struct(entries.iter().map(|(k, v)| (k.as_str(), text(v))).collect())
}

/// `dict_get_serialized`: the stored array or struct.
pub fn parse_object(value: &Value) -> Result<Value, ResultError> {
    match value {
        Value::Array(_) | Value::Struct(_) => Ok(value.clone()),
        other => Err(ResultError::mismatch("array or struct", other)),
    }
}

/// `sim.call`: the new call's id.
pub fn parse_call_id(value: &Value) -> Result<CallId, ResultError> {
    call_id(value)
}

/// `system.listMethods`: method names.
pub fn parse_method_names(value: &Value) -> Result<Vec<String>, ResultError> {
    convert::list(value, owned)
}

/// `system.methodSignature`: signatures, each a list of type names with the result
/// type first. The introspection convention's `"undef"` (no signature known) reads
/// as no signatures.
pub fn parse_signatures(value: &Value) -> Result<Vec<Vec<String>>, ResultError> {
    if matches!(value, Value::String(s) if s == "undef") {
        return Ok(Vec::new());
    }
    convert::list(value, |sig| convert::list(sig, owned))
}

/// One entry of `system.getCapabilities`: a capability and the spec it follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capability {
    /// The capability's name, e.g. `multicall`.
    pub name: String,
    /// `specUrl`.
    pub spec_url: String,
    /// `specVersion`.
    pub spec_version: i64,
}

impl Capability {
    /// The capabilities struct: name → `{specUrl, specVersion}`.
    pub fn list_to_value(capabilities: &[Capability]) -> Value {
        Value::Struct(
            capabilities
                .iter()
                .map(|c| {
                    let spec = Struct::from_iter([
                        ("specUrl", text(&c.spec_url)),
                        ("specVersion", Value::Int(c.spec_version)),
                    ]);
                    (c.name.as_str(), Value::Struct(spec))
                })
                .collect(),
        )
    }
}

/// `system.getCapabilities`: the capabilities, in the order received.
pub fn parse_capabilities(value: &Value) -> Result<Vec<Capability>, ResultError> {
    convert::structure(value)?
        .iter()
        .map(|(name, spec)| {
            let m = Members::of(spec).map_err(|e| e.in_member(name))?;
            let read = || -> Result<Capability, ResultError> {
                Ok(Capability {
                    name: name.to_string(),
                    spec_url: m.get("specUrl", owned)?,
                    spec_version: m.get("specVersion", convert::int)?,
                })
            };
            read().map_err(|e| e.in_member(name))
        })
        .collect()
}

/// `system.multicall`: one entry per sub-call, its result or its fault.
///
/// Each element is either a one-element array holding the result, or a fault
/// struct (`faultCode`, `faultString`), per the multicall convention.
pub fn parse_multicall(value: &Value) -> Result<Vec<Result<Value, Fault>>, ResultError> {
    convert::list(value, |entry| match entry {
        Value::Array(items) => match items.as_slice() {
            [result] => Ok(Ok(result.clone())),
            _ => Err(ResultError::other(format!(
                "expected a one-element array or a fault struct, got an array of {}",
                items.len()
            ))),
        },
        Value::Struct(_) => {
            let m = Members::of(entry)?;
            let code = m.get("faultCode", convert::int)?;
            let code = i32::try_from(code).map_err(|_| {
                ResultError::other(format!("faultCode {code} does not fit 32 bits"))
                    .in_member("faultCode")
            })?;
            Ok(Err(Fault::new(code, m.get("faultString", owned)?)))
        }
        other => Err(ResultError::mismatch(
            "a one-element array or a fault struct",
            other,
        )),
    })
}

/// The array `system.multicall` answers: a one-element array per result, a fault
/// struct per fault.
pub fn multicall_to_value(results: Vec<Result<Value, Fault>>) -> Value {
    Value::Array(
        results
            .into_iter()
            .map(|r| match r {
                Ok(v) => Value::Array(vec![v]),
                Err(f) => fault_to_value(&f),
            })
            .collect(),
    )
}

/// A fault as a struct value (`faultCode`, `faultString`), as multicall nests it.
pub fn fault_to_value(fault: &Fault) -> Value {
    Value::Struct(Struct::from_iter([
        ("faultCode", Value::Int(i64::from(fault.code))),
        ("faultString", text(&fault.string)),
    ]))
}
