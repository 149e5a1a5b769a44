//! A client of a supervisord-style process-control API: shows the daemon's state
//! and every process, starts the stopped ones, and shows the fault a process that
//! does not exist gets.
//!
//! ```text
//! supervisord_style URL
//! cargo run -p xmlrpc-client --example supervisord_style -- http://user:pass@localhost:9001/RPC2
//! ```
//!
//! The crate's tests run [`run`] against the Python fixture server
//! (`tests/fixtures/server.py`), which speaks this API.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::process::ExitCode;

use serde::Deserialize;
use xmlrpc_client::{Client, Error, Fault};

/// supervisord's fault code for a process name it does not know.
pub const BAD_NAME: i32 = 10;

/// `supervisor.getState`.
#[derive(Debug, Deserialize)]
pub struct State {
    /// 2 fatal, 1 running, 0 restarting, -1 shutdown.
    pub statecode: i32,
    /// The code's name.
    pub statename: String,
}

/// One process of `supervisor.getAllProcessInfo` (the members this client uses;
/// the others are ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct ProcessInfo {
    /// The process name.
    pub name: String,
    /// Its group.
    pub group: String,
    /// `RUNNING`, `STOPPED`, ...
    pub statename: String,
    /// The pid, 0 when not running.
    pub pid: i32,
}

/// What one run saw and did.
#[derive(Debug)]
pub struct Summary {
    /// The daemon's state.
    pub state: State,
    /// The processes after starting the stopped ones.
    pub processes: Vec<ProcessInfo>,
    /// The processes this run started.
    pub started: Vec<String>,
    /// The fault for a process that does not exist.
    pub missing: Fault,
}

/// Talks to the server behind `client`, printing what it does.
pub async fn run(client: &Client) -> Result<Summary, Error> {
    let state: State = client.call("supervisor.getState", ()).await?;
    println!("supervisord is {} ({})", state.statename, state.statecode);

    let mut started = Vec::new();
    let before: Vec<ProcessInfo> = client.call("supervisor.getAllProcessInfo", ()).await?;
    for process in before.iter().filter(|p| p.statename == "STOPPED") {
        // The second parameter is `wait`: answer once the process runs.
        let ok: bool = client
            .call("supervisor.startProcess", (&process.name, true))
            .await?;
        if ok {
            started.push(process.name.clone());
        }
    }

    let processes: Vec<ProcessInfo> = client.call("supervisor.getAllProcessInfo", ()).await?;
    for p in &processes {
        println!(
            "{:<10} {:<8} {:<8} pid {}",
            p.name, p.group, p.statename, p.pid
        );
    }

    // A fault is an error like any other, with the server's code and string.
    let missing = match client
        .call::<_, bool>("supervisor.startProcess", ("no-such-process", true))
        .await
    {
        Err(Error::Fault(fault)) if fault.code == BAD_NAME => fault,
        Err(other) => return Err(other),
        Ok(_) => return Err(Error::InvalidResponse("a missing process started".into())),
    };
    println!("starting no-such-process: {missing}");
    Ok(Summary {
        state,
        processes,
        started,
        missing,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: supervisord_style URL");
        return ExitCode::from(2);
    };
    let result = async { run(&Client::new(&url)?).await }.await;
    match result {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
