//! A CRM screen pop: prints the caller of every call that rings at one extension.
//!
//! ```text
//! screen_pop EXTENSION [URL [USER [PASSWORD]]]
//! ```
//!
//! The URL and credentials come from the arguments or from `SWITCHBOARD_URL`,
//! `SWITCHBOARD_USER` and `SWITCHBOARD_PASSWORD` (credentials may also be in the
//! URL: `http://203:secret@localhost:3339/RPC2`). It polls `get_calls` every
//! second, pops each ringing call up once, and exits on Ctrl-C.
//!
//! Try it against the reference server's demo PBX:
//!
//! ```text
//! switchboard serve &
//! cargo run -p pbx-client --example screen_pop -- 203 http://203:203@localhost:3339/RPC2
//! # elsewhere: make a call ring at 203
//! switchboard call sim.call '"+15550100"' '"203"'
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Duration;

use pbx_client::{Client, ClientError, ErrorKind};
use pbx_model::{Call, CallId, CallState};

const POLL_EVERY: Duration = Duration::from_secs(1);

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
        code = watch(&client, &extension) => code,
        _ = tokio::signal::ctrl_c() => ExitCode::SUCCESS,
    }
}

/// Polls until an error that waiting will not fix.
async fn watch(client: &Client, extension: &str) -> ExitCode {
    // The calls already popped up, forgotten once they stop ringing here.
    let mut shown: HashSet<CallId> = HashSet::new();
    let mut ticks = tokio::time::interval(POLL_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticks.tick().await;
        match client.get_calls().await {
            Ok(calls) => {
                if failing {
                    eprintln!("screen_pop: connected again");
                    failing = false;
                }
                let ringing: Vec<&Call> = calls
                    .iter()
                    .filter(|c| c.state == CallState::Ringing && c.to.number == extension)
                    .collect();
                for call in &ringing {
                    if shown.insert(call.id.clone()) {
                        pop_up(call);
                    }
                }
                shown.retain(|id| ringing.iter().any(|c| &c.id == id));
            }
            Err(e) if gives_up(&e) => {
                eprintln!("screen_pop: {e}");
                return ExitCode::FAILURE;
            }
            Err(e) => {
                // The server may be restarting: say so once and keep polling.
                if !failing {
                    eprintln!("screen_pop: {e} (retrying)");
                    failing = true;
                }
            }
        }
    }
}

/// Errors that polling again will not cure.
fn gives_up(error: &ClientError) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Unauthorized | ErrorKind::InvalidInput | ErrorKind::HttpStatus
    ) || (error.kind() == ErrorKind::Fault && !error.is_internal())
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
