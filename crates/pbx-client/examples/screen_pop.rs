//! A CRM screen pop: prints the caller of every call that rings at one extension,
//! as it starts ringing, from the server's live events (no polling).
//!
//! ```text
//! screen_pop EXTENSION [URL [USER [PASSWORD]]]
//! ```
//!
//! The URL and credentials come from the arguments or from `SWITCHBOARD_URL`,
//! `SWITCHBOARD_USER` and `SWITCHBOARD_PASSWORD` (credentials may also be in the
//! URL: `http://203:secret@localhost:3339/RPC2`). It follows `Client::events`,
//! pops each ringing call up once (also one found ringing in a snapshot after a
//! reconnection), says when the connection is lost and back, and exits on
//! Ctrl-C or on an error that reconnecting cannot cure.
//!
//! Try it against the reference server's demo PBX:
//!
//! ```text
//! switchboard serve &
//! cargo run -p pbx-client --example screen_pop -- 203 http://203:203@localhost:3339/RPC2
//! # elsewhere: make a call ring at 203
//! switchboard sim call +15550100 203
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Duration;

use futures_util::StreamExt as _;
use pbx_client::{Client, ClientError, EventData, EventKind, EventUpdate};
use pbx_model::{Call, CallId, CallState};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(extension) = args.next().filter(|a| !a.starts_with('-')) else {
        eprintln!("usage: screen_pop EXTENSION [URL [USER [PASSWORD]]]");
        eprintln!("       (or SWITCHBOARD_URL, SWITCHBOARD_USER, SWITCHBOARD_PASSWORD)");
        return ExitCode::from(2);
    };
    let arg_or_env = |arg: Option<String>, var: &str| arg.or_else(|| std::env::var(var).ok());
    let url = arg_or_env(args.next(), "SWITCHBOARD_URL")
        .unwrap_or_else(|| "http://localhost:3339/RPC2".to_string());
    let user = arg_or_env(args.next(), "SWITCHBOARD_USER");
    let password = arg_or_env(args.next(), "SWITCHBOARD_PASSWORD");

    let mut builder = Client::builder(&url).timeout(Duration::from_secs(5));
    if let Some(user) = user {
        builder = builder.credentials(user, password.unwrap_or_default());
    }
    let client = match builder.build() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("screen_pop: {e}");
            return ExitCode::from(2);
        }
    };

    println!("Watching {extension} on {} (Ctrl-C to stop)", client.url());
    tokio::select! {
        outcome = screen_pop(&client, &extension, pop_up) => match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(ClientError::EventsNotOffered) => {
                eprintln!("screen_pop: this server offers no events; poll get_calls instead");
                ExitCode::FAILURE
            }
            Err(e) => {
                eprintln!("screen_pop: {e}");
                ExitCode::FAILURE
            }
        },
        _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
    }
}

/// Follows the events and calls `pop` once for each call that rings at
/// `extension`, until the stream ends with an error reconnecting cannot cure.
pub async fn screen_pop(
    client: &Client,
    extension: &str,
    mut pop: impl FnMut(&Call),
) -> Result<(), ClientError> {
    let rings_here = |call: &Call| call.state == CallState::Ringing && call.to.number == extension;
    // The calls already popped up, forgotten once they stop ringing here.
    let mut shown: HashSet<CallId> = HashSet::new();
    let mut events = client.events();
    while let Some(update) = events.next().await {
        match update? {
            // The resync rule: a snapshot replaces what we knew.
            EventUpdate::Snapshot(snapshot) => {
                let ringing: Vec<&Call> = snapshot.calls.iter().filter(|c| rings_here(c)).collect();
                shown.retain(|id| ringing.iter().any(|c| &c.id == id));
                for call in ringing {
                    if shown.insert(call.id.clone()) {
                        pop(call);
                    }
                }
            }
            EventUpdate::Event(event) => {
                let EventData::Call(call) = &event.data else {
                    continue;
                };
                if event.kind != EventKind::CallEnded && rings_here(call) {
                    // Events are upserts: the same record twice pops once.
                    if shown.insert(call.id.clone()) {
                        pop(call);
                    }
                } else {
                    shown.remove(&call.id);
                }
            }
            EventUpdate::Reconnecting { cause, delay, .. } => {
                eprintln!("screen_pop: {cause} (reconnecting in {delay:?})");
            }
            EventUpdate::Connected => eprintln!("screen_pop: connected"),
            _ => {}
        }
    }
    Ok(())
}

fn pop_up(call: &Call) {
    let caller = &call.from;
    let name = if caller.name.is_empty() {
        "unknown caller"
    } else {
        caller.name.as_str()
    };
    let via = if call.via.is_empty() {
        String::new()
    } else {
        format!(" via {}", call.via)
    };
    let queue = if call.qcall { " (queue call)" } else { "" };
    println!(
        "☎ {name} <{}> is calling {}{via}{queue}",
        caller.number, call.to.number
    );
}
