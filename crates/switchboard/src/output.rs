//! What the commands print: plain tables for people, JSON for scripts.
//!
//! Tables have no borders, a header in capitals and columns two spaces apart, so
//! that they read well and still cut well with `awk`. JSON is the model types'
//! serde form (the guide's field names), pretty-printed.

use std::io::Write as _;

use anyhow::Result;
use comfy_table::{Table, presets};
use pbx_model::{Call, CallState, Entity, EntityKind, Favorite, ParkingInfo, Party, PartyKind};
use serde::Serialize;

use crate::escape::escaped;

/// Writes `value` as pretty JSON and a newline to stdout.
pub(crate) fn print_json(value: &impl Serialize) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    print(&text)
}

/// Writes `text` to stdout; a closed pipe (`| head`) is not worth a message.
pub(crate) fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// A borderless table, every line ending in a newline and no trailing spaces.
///
/// The cells come from the server: their control characters are escaped, so
/// that a name cannot break a row or drive the terminal.
pub(crate) fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut table = Table::new();
    table.load_style(presets::NOTHING);
    table.set_header(header.to_vec());
    for row in rows {
        table.add_row(
            row.into_iter()
                .map(|cell| escaped(&cell).into_owned())
                .collect::<Vec<_>>(),
        );
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 2));
    }
    let mut out = String::new();
    for line in table.lines() {
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `0:07`, `12:34`, `1:02:03`.
pub(crate) fn duration(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// `201 Alice Adams`, or the bare number when the party has no name.
fn party(party: &Party) -> String {
    if party.name.is_empty() {
        party.number.clone()
    } else {
        format!("{} {}", party.number, party.name)
    }
}

/// The calls: ID, STATE, FROM, TO, DURATION, VIA, QCALL.
pub(crate) fn calls_table(calls: &[Call]) -> String {
    if calls.is_empty() {
        return "no calls\n".to_owned();
    }
    table(
        &["ID", "STATE", "FROM", "TO", "DURATION", "VIA", "QCALL"],
        calls.iter().map(|call| {
            vec![
                call.id.to_string(),
                call.state.to_string(),
                party(&call.from),
                party(&call.to),
                duration(call.duration),
                call.via.clone(),
                yes(call.qcall),
            ]
        }),
    )
}

fn yes(flag: bool) -> String {
    if flag { "yes" } else { "" }.to_owned()
}

/// The extensions, queues and attendants: NUMBER, TYPE, NAME, STATE, VOICEMAIL,
/// PHONE, EMAIL, ID.
pub(crate) fn extensions_table(entities: &[Entity]) -> String {
    if entities.is_empty() {
        return "no extensions\n".to_owned();
    }
    table(
        &[
            "NUMBER",
            "TYPE",
            "NAME",
            "STATE",
            "VOICEMAIL",
            "PHONE",
            "EMAIL",
            "ID",
        ],
        entities.iter().map(|e| {
            vec![
                e.abbreviated.clone(),
                e.kind.to_string(),
                e.caller_id.name.clone(),
                e.presence.to_string(),
                yes(e.voicemail),
                e.caller_id.phone.clone(),
                e.email.clone(),
                e.id.to_string(),
            ]
        }),
    )
}

/// Presence, as `watch` shows it: NUMBER, NAME, TYPE, STATE, and what the entity
/// is doing according to the calls (`ringing`, `on call`, ...).
pub(crate) fn presence_table(entities: &[Entity], calls: &[Call]) -> String {
    if entities.is_empty() {
        return "no extensions\n".to_owned();
    }
    table(
        &["NUMBER", "NAME", "TYPE", "STATE", "ACTIVITY"],
        entities.iter().map(|e| {
            vec![
                e.abbreviated.clone(),
                e.caller_id.name.clone(),
                e.kind.to_string(),
                e.presence.to_string(),
                activity(e, calls),
            ]
        }),
    )
}

/// The state of the entity's most advanced call, in words.
fn activity(entity: &Entity, calls: &[Call]) -> String {
    let is_party = |p: &Party| p.id == entity.id && same_kind(p.kind, entity.kind);
    let rank = |state: CallState| match state {
        CallState::Connected => 5,
        CallState::OnHold => 4,
        CallState::Ringing => 3,
        CallState::Setup => 2,
        CallState::Parked => 1,
        _ => 0,
    };
    calls
        .iter()
        .filter(|c| is_party(&c.from) || is_party(&c.to))
        .max_by_key(|c| rank(c.state))
        .map(|c| match c.state {
            CallState::Connected => "on call".to_owned(),
            CallState::OnHold => "on hold".to_owned(),
            other => other.to_string(),
        })
        .unwrap_or_default()
}

fn same_kind(party: PartyKind, entity: EntityKind) -> bool {
    matches!(
        (party, entity),
        (PartyKind::Extension, EntityKind::Extension)
            | (PartyKind::Queue, EntityKind::Queue)
            | (PartyKind::Attendant, EntityKind::Attendant)
    )
}

/// The favorites by slot: SLOT, SIZE, TYPE, ID, NUMBER, NAME (number and name
/// from `entities`, empty for an entity not among them).
pub(crate) fn favorites_table(favorites: &[Favorite], entities: &[Entity]) -> String {
    if favorites.is_empty() {
        return "no favorites\n".to_owned();
    }
    let mut favorites: Vec<&Favorite> = favorites.iter().collect();
    favorites.sort_by_key(|f| f.slot);
    table(
        &["SLOT", "SIZE", "TYPE", "ID", "NUMBER", "NAME"],
        favorites.into_iter().map(|f| {
            let entity = entities.iter().find(|e| e.entity_ref() == f.entity);
            vec![
                f.slot.to_string(),
                f.size.to_string(),
                f.entity.kind.to_string(),
                f.entity.id.to_string(),
                entity.map(|e| e.abbreviated.clone()).unwrap_or_default(),
                entity.map(|e| e.caller_id.name.clone()).unwrap_or_default(),
            ]
        }),
    )
}

/// `parking 700-709 (10 slots): 1 parked`, then SLOT, DIAL, CALL for each parked call.
pub(crate) fn parking(info: &ParkingInfo) -> String {
    let first: Option<u64> = info.parking_extension.parse().ok();
    let dial = |slot: u32| dial_number(&info.parking_extension, slot).unwrap_or_default();
    let range = match (first, info.slots) {
        (Some(_), slots) if slots > 0 => format!("{}-{}", info.parking_extension, dial(slots)),
        _ => escaped(&info.parking_extension).into_owned(),
    };
    let mut out = format!(
        "parking {range} ({} slots): {} parked\n",
        info.slots,
        info.parked_calls.len()
    );
    if !info.parked_calls.is_empty() {
        out.push_str(&table(
            &["SLOT", "DIAL", "CALL"],
            info.parked_calls
                .iter()
                .map(|(slot, call)| vec![slot.to_string(), dial(*slot), call.to_string()]),
        ));
    }
    out
}

/// The number to dial for `slot` of a lot whose first number is `first` (slot 1
/// is `first`); none when `first` is no number. Whatever the server sends (a
/// slot 0, a huge number), no arithmetic panics.
pub(crate) fn dial_number(first: &str, slot: u32) -> Option<String> {
    let first: u64 = first.parse().ok()?;
    first
        .checked_add(u64::from(slot))?
        .checked_sub(1)
        .map(|number| number.to_string())
}

/// The storage entries: KEY, VALUE.
pub(crate) fn entries_table(entries: &[(String, String)]) -> String {
    if entries.is_empty() {
        return "no keys\n".to_owned();
    }
    table(
        &["KEY", "VALUE"],
        entries.iter().map(|(k, v)| vec![k.clone(), v.clone()]),
    )
}

/// The storage entries as one JSON object, in the order received.
pub(crate) fn entries_json(entries: &[(String, String)]) -> serde_json::Value {
    serde_json::Value::Object(
        entries
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbx_model::{CallId, EntityId};

    #[test]
    fn durations_read_like_a_clock() {
        assert_eq!(duration(0), "0:00");
        assert_eq!(duration(65), "1:05");
        assert_eq!(duration(3723), "1:02:03");
    }

    #[test]
    fn tables_are_borderless_and_trimmed() {
        let text = table(&["A", "LONGER"], [vec!["x".into(), "y".into()]]);
        assert_eq!(text, "A  LONGER\nx  y\n");
    }

    #[test]
    fn control_characters_from_the_server_are_escaped_in_tables() {
        let text = table(
            &["NAME", "X"],
            [vec!["Eve\n201  Forged\u{1b}[2J".into(), "y".into()]],
        );
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(text.contains("Eve\\n201  Forged\\u{1b}[2J"), "{text}");
        assert!(!text.contains('\u{1b}'));
    }

    #[test]
    fn the_parking_lot_names_the_numbers_to_dial() {
        let info = ParkingInfo {
            parking_extension: "700".into(),
            slots: 10,
            parked_calls: [(2, CallId::new("9"))].into_iter().collect(),
        };
        assert_eq!(
            parking(&info),
            "parking 700-709 (10 slots): 1 parked\nSLOT  DIAL  CALL\n2     701   9\n"
        );
        let odd = ParkingInfo {
            parking_extension: "0".into(),
            slots: 1,
            parked_calls: [(0, CallId::new("1"))].into_iter().collect(),
        };
        assert!(
            parking(&odd).ends_with("0           1\n"),
            "{}",
            parking(&odd)
        );
    }

    #[test]
    fn activity_follows_the_calls() {
        let entity = Entity {
            id: EntityId(3),
            kind: EntityKind::Extension,
            abbreviated: "203".into(),
            caller_id: Default::default(),
            voicemail: false,
            email: String::new(),
            presence: pbx_model::Presence::Online,
        };
        let me = Party {
            id: EntityId(3),
            number: "203".into(),
            name: String::new(),
            kind: PartyKind::Extension,
        };
        let call = |state, to: Party| Call {
            id: CallId::new("1"),
            state,
            from: Party::outside("+1555"),
            to,
            duration: 0,
            via: String::new(),
            qcall: false,
        };
        let queue_3 = Party {
            kind: PartyKind::Queue,
            ..me.clone()
        };
        assert_eq!(activity(&entity, &[call(CallState::Ringing, queue_3)]), "");
        let calls = [
            call(CallState::Ringing, me.clone()),
            call(CallState::Connected, me),
        ];
        assert_eq!(activity(&entity, &calls), "on call");
    }
}
