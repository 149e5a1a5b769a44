//! Live events on the wire: the `get_events` answer and each event as a struct
//! (SPEC.md, "Events"): `{id, type, time, data}` with `data` the record exactly
//! as the methods return it, `time` RFC 3339 UTC.

use std::time::SystemTime;

use pbx_model::{Event, EventData};
use xmlrpc_codec::{Struct, Value};

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
}
