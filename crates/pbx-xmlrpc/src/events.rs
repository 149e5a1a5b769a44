//! Live events on the wire: the `get_events` answer and each event as a struct
//! (SPEC.md, "Events"): `{id, type, time, data}` with `data` the record exactly
//! as the methods return it, `time` RFC 3339 UTC.

use std::time::SystemTime;

use pbx_model::{Call, Entity, Event, EventData, EventId, EventKind};
use xmlrpc_codec::{Struct, Value};

use crate::ResultError;
use crate::json::{Notation, to_json as json_in};
use crate::records::{Record, records_to_value};

/// A wire value as JSON ([`crate::json`], plain notation).
fn to_json(value: &Value) -> serde_json::Value {
    json_in(value, Notation::Plain)
}

/// The most events one `get_events` answer carries; the rest come with the
/// next call (the answer's cursor stands after the last one given).
pub const MAX_EVENTS_PER_ANSWER: usize = 500;

/// The longest `get_events` wait a client may ask for, in seconds.
pub const MAX_EVENTS_TIMEOUT: u32 = 60;

/// The `get_events` wait when the client names none, in seconds.
pub const DEFAULT_EVENTS_TIMEOUT: u32 = 25;

/// `time` as RFC 3339 UTC with seconds (`2026-12-07T04:40:00Z`).
pub fn rfc3339(time: SystemTime) -> String {
    match jiff::Timestamp::try_from(time) {
        Ok(ts) => ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        // Beyond jiff's range (years past 9999): the epoch says "unknown".
        Err(_) => "1970-01-01T00:00:00Z".to_owned(),
    }
}

/// An event's record as the methods return it.
pub fn event_data_to_value(data: &EventData) -> Value {
    match data {
        EventData::Call(call) => call.to_value(),
        EventData::Entity(entity) => entity.to_value(),
        EventData::Parking(info) => info.to_value(),
        EventData::Favorites(list) => records_to_value(list),
        // Whatever the domain grows into has no wire form yet.
        _ => Value::Struct(Struct::new()),
    }
}

/// One event: `{id, type, time, data}`.
pub fn event_to_value(event: &Event) -> Value {
    let mut s = Struct::with_capacity(4);
    s.insert("id", Value::String(event.id.as_str().to_owned()));
    s.insert("type", Value::String(event.kind.as_str().to_owned()));
    s.insert("time", Value::String(rfc3339(event.time)));
    s.insert("data", event_data_to_value(&event.data));
    Value::Struct(s)
}

/// The `get_events` answer: `{cursor, reset, events}`.
pub fn events_answer(cursor: &str, reset: bool, events: &[Event]) -> Value {
    let mut s = Struct::with_capacity(3);
    s.insert("cursor", Value::String(cursor.to_owned()));
    s.insert("reset", Value::Bool(reset));
    s.insert(
        "events",
        Value::Array(events.iter().map(event_to_value).collect()),
    );
    Value::Struct(s)
}

/// The SSE snapshot: `{"calls": [...], "extensions": [...], "parking": [...],
/// "favorites": [...]}`, each as its method returns it.
pub fn snapshot_json(
    calls: &[pbx_model::Call],
    extensions: &[pbx_model::Entity],
    parking: &pbx_model::ParkingInfo,
    favorites: &[pbx_model::Favorite],
) -> serde_json::Value {
    let mut s = serde_json::Map::new();
    s.insert("calls".into(), to_json(&records_to_value(calls)));
    s.insert("extensions".into(), to_json(&records_to_value(extensions)));
    s.insert("parking".into(), to_json(&parking.to_value()));
    s.insert("favorites".into(), to_json(&records_to_value(favorites)));
    serde_json::Value::Object(s)
}

/// An event's record as JSON (the `data:` of an SSE message).
pub fn event_data_json(data: &EventData) -> serde_json::Value {
    to_json(&event_data_to_value(data))
}

/// A record's JSON (SPEC.md's plain notation, as [`event_data_json`] and
/// [`snapshot_json`] write it) back as a wire value, through the one mapping
/// (`crate::json`); the records' readers (`parse_*`) then read it as they read
/// an XML-RPC answer, so a JSON transport needs no member names of its own.
/// Read with the tagged notation, a superset of the plain one that refuses
/// nothing a server may send (control characters in a name are the reader's
/// to escape when it shows them, not a reason to lose the event).
fn record_value(json: &serde_json::Value) -> Result<Value, ResultError> {
    crate::json::from_json(json, Notation::Tagged).map_err(|e| ResultError::other(e.to_string()))
}

/// The [`EventKind`] of a wire name (`"call.created"`), `None` for a name
/// this version does not know.
pub fn parse_event_kind(name: &str) -> Option<EventKind> {
    EventKind::ALL
        .into_iter()
        .find(|kind| kind.as_str() == name)
}

/// An event's record from its wire value, as the kind says it is (the
/// inverse of [`event_data_to_value`]).
pub fn parse_event_data(kind: EventKind, value: &Value) -> Result<EventData, ResultError> {
    Ok(match kind {
        EventKind::CallCreated | EventKind::CallUpdated | EventKind::CallEnded => {
            EventData::Call(Call::from_value(value)?)
        }
        EventKind::EntityUpdated => EventData::Entity(Entity::from_value(value)?),
        EventKind::ParkingUpdated => EventData::Parking(crate::parse_parking_info(value)?),
        EventKind::FavoritesUpdated => EventData::Favorites(crate::parse_favorites(value)?),
        other => {
            return Err(ResultError::other(format!(
                "no wire form for events of type {other}"
            )));
        }
    })
}

/// An event as an SSE message carries it (`id:`, `event:`, `data:` the
/// record's JSON; SSE has no `time`, so the caller gives it, e.g. when the
/// event arrived). A type this version does not know is an error.
pub fn event_from_sse(
    id: &str,
    kind: &str,
    data: &serde_json::Value,
    time: SystemTime,
) -> Result<Event, ResultError> {
    let kind = parse_event_kind(kind)
        .ok_or_else(|| ResultError::other(format!("unknown event type {kind:?}")))?;
    let data = parse_event_data(kind, &record_value(data)?)?;
    Ok(Event::new(EventId::new(id), kind, time, data))
}

/// What an SSE `snapshot` holds, read back (the inverse of [`snapshot_json`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SnapshotRecords {
    /// As `get_calls` returns them.
    pub calls: Vec<pbx_model::Call>,
    /// As `get_extensions` returns them.
    pub extensions: Vec<pbx_model::Entity>,
    /// As `get_parking_info` returns it.
    pub parking: pbx_model::ParkingInfo,
    /// As `get_favorites` returns them.
    pub favorites: Vec<pbx_model::Favorite>,
}

/// Reads an SSE `snapshot`'s data; an error names the member and the place
/// inside it (`calls[2].from.id: expected int, got string`).
pub fn snapshot_from_json(json: &serde_json::Value) -> Result<SnapshotRecords, ResultError> {
    let serde_json::Value::Object(members) = json else {
        return Err(ResultError::mismatch("struct", &record_value(json)?));
    };
    let member = |name: &str| {
        members
            .get(name)
            .ok_or_else(|| ResultError::missing(name))
            .and_then(record_value)
    };
    let calls =
        member("calls").and_then(|v| crate::parse_calls(&v).map_err(|e| e.in_member("calls")))?;
    let extensions = member("extensions")
        .and_then(|v| crate::parse_extensions(&v).map_err(|e| e.in_member("extensions")))?;
    let parking = member("parking")
        .and_then(|v| crate::parse_parking_info(&v).map_err(|e| e.in_member("parking")))?;
    let favorites = member("favorites")
        .and_then(|v| crate::parse_favorites(&v).map_err(|e| e.in_member("favorites")))?;
    Ok(SnapshotRecords {
        calls,
        extensions,
        parking,
        favorites,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn json_keeps_wire_types_and_escapes_text() {
        let mut s = Struct::new();
        s.insert("qcall", Value::Int(1));
        s.insert("name", Value::String("A \"b\"\n\u{1}".into()));
        s.insert("ok", Value::Bool(true));
        s.insert("list", Value::Array(vec![Value::Int(-2)]));
        let out = to_json(&Value::Struct(s)).to_string();
        assert_eq!(
            out,
            r#"{"qcall":1,"name":"A \"b\"\n\u0001","ok":true,"list":[-2]}"#
        );
    }

    #[test]
    fn times_are_rfc3339_utc_to_the_second() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_796_617_200_250);
        assert_eq!(rfc3339(t), "2026-12-07T04:20:00Z");
    }

    const CALL: &str = r#"{"id":"7","state":"ringing","from":{"id":0,"number":"+15550100","name":"","type":"unknown"},"to":{"id":3,"number":"203","name":"Bob","type":"extension"},"duration":0,"via":"PSTN","qcall":0}"#;

    #[test]
    fn an_sse_event_reads_back_into_the_record_it_was_written_from() {
        let json: serde_json::Value = serde_json::from_str(CALL).unwrap();
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(7);
        let event = event_from_sse("g-1", "call.created", &json, time).unwrap();
        assert_eq!(event.id.as_str(), "g-1");
        assert_eq!(event.kind, EventKind::CallCreated);
        assert_eq!(event.time, time);
        let EventData::Call(call) = &event.data else {
            panic!("{event:?}")
        };
        assert_eq!(call.id.as_str(), "7");
        assert_eq!(call.to.name, "Bob");
        // Written again, it is what came: the binding's member names, once.
        assert_eq!(event_data_json(&event.data), json);
    }

    #[test]
    fn an_sse_event_of_an_unknown_type_or_shape_is_an_error_naming_it() {
        let json: serde_json::Value = serde_json::from_str(CALL).unwrap();
        let now = SystemTime::UNIX_EPOCH;
        let err = event_from_sse("g-1", "call.teleported", &json, now).unwrap_err();
        assert!(err.to_string().contains("call.teleported"), "{err}");
        let bad = serde_json::json!({"id": "7", "state": "ringing"});
        let err = event_from_sse("g-1", "call.updated", &bad, now).unwrap_err();
        assert_eq!(err.to_string(), "missing member `from`");
    }

    #[test]
    fn a_snapshot_reads_back_and_says_where_it_is_wrong() {
        let json = serde_json::json!({
            "calls": [serde_json::from_str::<serde_json::Value>(CALL).unwrap()],
            "extensions": [],
            "parking": ["700", 10, {"1": "7"}],
            "favorites": [],
        });
        let records = snapshot_from_json(&json).unwrap();
        assert_eq!(records.calls.len(), 1);
        assert_eq!(records.parking.parked_calls.len(), 1);
        assert_eq!(
            snapshot_json(
                &records.calls,
                &records.extensions,
                &records.parking,
                &records.favorites
            ),
            json
        );
        let mut bad = json.clone();
        bad["calls"][0]["from"]["id"] = serde_json::json!("x");
        let err = snapshot_from_json(&bad).unwrap_err();
        assert_eq!(err.path(), "calls[0].from.id", "{err}");
        let err = snapshot_from_json(&serde_json::json!({"calls": []})).unwrap_err();
        assert_eq!(err.to_string(), "missing member `extensions`");
    }
}
