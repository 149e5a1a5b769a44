//! `switchboard events`: the live events of the user's admin group as they
//! happen, one line each: an aligned line for people, or with `--json` one
//! `{id, type, time, data}` object per line (SPEC.md's event; `time` is when
//! the event arrived, SSE carrying none).
//!
//! The stream is `pbx_client::EventStream`: it reconnects by itself and
//! resumes where it was; each reconnection is said on stderr, and a fresh
//! `snapshot` (after a gap the server could not replay) is a line of its own,
//! so a consumer knows to re-read. The first connection's failure is the
//! command's error; a closed stdout (`| head -1`) and Ctrl-C end it with 0.

use std::io::Write as _;
use std::time::SystemTime;

use anyhow::Result;
use futures_util::StreamExt as _;
use pbx_client::{Client, ClientError, Event, EventData, EventUpdate, Snapshot};
use pbx_xmlrpc::events as wire;

use crate::cli::EventsArgs;
use crate::escape::escaped;
use crate::failure::client_message;
use crate::remote;

/// The name `--types` and the JSON lines give a snapshot.
pub(crate) const SNAPSHOT: &str = "snapshot";

/// Runs `switchboard events`.
pub(crate) fn run(args: EventsArgs) -> Result<()> {
    let client = remote::client(&args.remote)?;
    remote::block_on(&client, follow(&client, &args))
}

async fn follow(client: &Client, args: &EventsArgs) -> Result<()> {
    let mut stream = client.events();
    let mut connected = false;
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let update = tokio::select! {
            update = stream.next() => update,
            _ = &mut interrupted => return Ok(()),
        };
        let line = match update {
            None => return Ok(()),
            Some(Err(error)) => return Err(error.into()),
            Some(Ok(EventUpdate::Connected)) => {
                connected = true;
                continue;
            }
            Some(Ok(EventUpdate::Reconnecting { cause, .. })) if !connected => {
                // Never connected: a wrong URL or a server that is down is
                // the command's error, not a wait.
                return Err(cause.into());
            }
            Some(Ok(EventUpdate::Reconnecting { delay, cause, .. })) => {
                say_reconnecting(&cause, delay, args.remote.json);
                continue;
            }
            Some(Ok(EventUpdate::Snapshot(snapshot))) if wanted(args, SNAPSHOT) => {
                snapshot_line(&snapshot, args.remote.json)
            }
            Some(Ok(EventUpdate::Event(event))) if wanted(args, event.kind.as_str()) => {
                event_line(&event, args.remote.json)
            }
            Some(Ok(_)) => continue,
        };
        if !write_line(&line)? {
            // stdout is closed: nobody reads any more.
            return Ok(());
        }
    }
}

fn wanted(args: &EventsArgs, kind: &str) -> bool {
    args.types.is_empty() || args.types.iter().any(|t| t == kind)
}

/// Writes one line and flushes it (a pipe reader sees each event at once);
/// `false` when stdout is closed.
fn write_line(line: &str) -> Result<bool> {
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{line}").and_then(|()| stdout.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e.into()),
    }
}

fn say_reconnecting(cause: &ClientError, delay: std::time::Duration, json: bool) {
    let mut stderr = std::io::stderr().lock();
    if json {
        let report = crate::failure::json(&anyhow::Error::new(cause.clone()));
        let _ = writeln!(stderr, "{report}");
    } else {
        let _ = writeln!(
            stderr,
            "switchboard: {} (reconnecting in {:.1}s)",
            escaped(&client_message(cause)),
            delay.as_secs_f64()
        );
    }
}

/// `2026-12-07T04:20:00Z` as `04:20:00`: UTC, as every time the client shows.
fn clock(time: SystemTime) -> String {
    jiff::Timestamp::try_from(time)
        .map(|t| t.strftime("%H:%M:%S").to_string())
        .unwrap_or_else(|_| "--:--:--".to_owned())
}

/// The type column is as wide as the longest type, so the facts align.
const TYPE_WIDTH: usize = 17;

fn event_line(event: &Event, json: bool) -> String {
    if json {
        return pbx_xmlrpc::json::to_json(
            &wire::event_to_value(event),
            pbx_xmlrpc::json::Notation::Plain,
        )
        .to_string();
    }
    let facts = match &event.data {
        EventData::Call(call) => {
            let party = |p: &pbx_model::Party| {
                if p.name.is_empty() {
                    p.number.clone()
                } else {
                    format!("{} {:?}", p.number, p.name)
                }
            };
            let via = if call.via.is_empty() {
                String::new()
            } else {
                format!("  via {}", call.via)
            };
            format!(
                "call {}  {}  {} -> {}{via}",
                call.id.as_str(),
                call.state.as_str(),
                party(&call.from),
                party(&call.to),
            )
        }
        EventData::Entity(entity) => format!(
            "{} {}  {:?}  {}",
            entity.kind.as_str(),
            entity.abbreviated,
            entity.caller_id.name,
            entity.presence.as_str()
        ),
        EventData::Parking(info) => format!(
            "parking {}  {} of {} slots taken",
            info.parking_extension,
            info.parked_calls.len(),
            info.slots
        ),
        EventData::Favorites(list) => format!("favorites  {} entries", list.len()),
        _ => String::new(),
    };
    format!(
        "{}  {:<TYPE_WIDTH$}  {}",
        clock(event.time),
        event.kind.as_str(),
        escaped(&facts)
    )
}

fn snapshot_line(snapshot: &Snapshot, json: bool) -> String {
    let now = SystemTime::now();
    if json {
        let mut line = serde_json::Map::new();
        line.insert("id".into(), snapshot.id.as_str().into());
        line.insert("type".into(), SNAPSHOT.into());
        line.insert("time".into(), wire::rfc3339(now).into());
        line.insert(
            "data".into(),
            wire::snapshot_json(
                &snapshot.calls,
                &snapshot.extensions,
                &snapshot.parking,
                &snapshot.favorites,
            ),
        );
        return serde_json::Value::Object(line).to_string();
    }
    format!(
        "{}  {:<TYPE_WIDTH$}  {} calls, {} extensions, {} parked, {} favorites",
        clock(now),
        SNAPSHOT,
        snapshot.calls.len(),
        snapshot.extensions.len(),
        snapshot.parking.parked_calls.len(),
        snapshot.favorites.len(),
    )
}

/// `--types`: the names it takes (the event types and `snapshot`).
pub(crate) fn parse_type(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text == SNAPSHOT || wire::parse_event_kind(text).is_some() {
        return Ok(text.to_owned());
    }
    let known: Vec<&str> = pbx_client::EventKind::ALL
        .iter()
        .map(|k| k.as_str())
        .chain([SNAPSHOT])
        .collect();
    Err(format!(
        "unknown event type {text:?}; known: {}",
        known.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbx_client::{EventId, EventKind};
    use std::time::Duration;

    fn ringing() -> Event {
        let json: serde_json::Value = serde_json::from_str(
            r#"{"id":"7","state":"ringing","from":{"id":0,"number":"+15550100","name":"Eve\u001b[2J","type":"unknown"},"to":{"id":3,"number":"203","name":"","type":"extension"},"duration":0,"via":"PSTN","qcall":0}"#,
        )
        .unwrap();
        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_617_200);
        wire::event_from_sse("g-5", "call.created", &json, time).unwrap()
    }

    #[test]
    fn a_line_for_people_has_the_key_facts_aligned_and_escaped() {
        let line = event_line(&ringing(), false);
        let (clock, rest) = line.split_once("  ").unwrap();
        assert_eq!(clock, "04:20:00");
        assert_eq!(
            rest,
            r#"call.created       call 7  ringing  +15550100 "Eve\u{1b}[2J" -> 203  via PSTN"#
        );
        assert!(!line.contains('\u{1b}'));
    }

    #[test]
    fn a_json_line_is_the_specs_event() {
        let line: serde_json::Value = serde_json::from_str(&event_line(&ringing(), true)).unwrap();
        assert_eq!(line["id"], "g-5");
        assert_eq!(line["type"], "call.created");
        assert_eq!(line["time"], "2026-12-07T04:20:00Z");
        assert_eq!(line["data"]["from"]["name"], "Eve\u{1b}[2J");
        assert_eq!(line["data"]["qcall"], 0);
        let keys: Vec<_> = line.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["id", "type", "time", "data"]);
        let _ = (EventId::new("x"), EventKind::CallCreated);
    }

    #[test]
    fn types_are_checked() {
        assert_eq!(parse_type("call.created").unwrap(), "call.created");
        assert_eq!(parse_type(" snapshot ").unwrap(), "snapshot");
        let err = parse_type("call.exploded").unwrap_err();
        assert!(err.contains("known: call.created, "), "{err}");
    }
}
