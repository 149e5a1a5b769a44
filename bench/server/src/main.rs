//! `cargo xtask bench-server [--seconds N | --instructions [--requests N]] [--only CALL,...]
//! [--servers NAME,...]`: switchboard under load, side by side with its peers (Python's SimpleXMLRPCServer,
//! dxr, a bare-HTTP floor, an xml-rs floor) on the same payloads, plus the scaling
//! tables; rewrites the server section of `docs/benchmarks.md`.
//!
//! Everything runs on this machine: release builds of `switchboard` and of
//! `fixtures/bench/peers` (its own Cargo project), the fixture PBX written at run
//! time under `<target>/bench-server/`, and the load generator (`load`) on one thread.
//!
//! `--only` (calls: `dict_get`, `get_calls`, `get_extensions`, `system.multicall`) and
//! `--servers` (`switchboard`, `python`, `python-threaded`, `dxr`, `floor`,
//! `xml-rs-floor`, `scaling`, `durability`, `hosted`) measure a part, for quick
//! iteration: the tables are printed with what could be computed, and the doc is
//! left alone. `durability` is durable against `--ephemeral` storage on
//! `dict_get` (`durability`), `hosted` the PBX of 2,000 groups (`hosted`).
//!
//! `--instructions [--requests N]` counts instructions per request under callgrind
//! instead of measuring rates (see `instructions`), and rewrites its own section.
//!
//! `--events [--subscribers N] [--changes N] [--seconds N]` measures live events
//! under fan-out instead (see `events`), and rewrites its own section;
//! `--events-stub` is the stub server that run measures as its floor.

#![allow(clippy::print_stdout)] // a report: it prints its table

mod client;
mod durability;
mod events;
mod events_stub;
mod fixtures;
mod goals;
mod hosted;
mod instructions;
mod load;
mod measurement;
mod options;
mod processes;
mod report;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::fixtures::*;
use crate::measurement::*;
use crate::options::*;
use crate::processes::*;
use crate::report::*;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    run(&project_root(), &args)
}

fn run(root: &Path, args: &[String]) -> Result<()> {
    if args.first().is_some_and(|a| a == "--events") {
        return crate::events::main(root, args);
    }
    if args.first().is_some_and(|a| a == "--events-stub") {
        return crate::events_stub::main();
    }
    let options = options(args)?;
    let target = target_dir(root);
    // A debug build of the load generator would be the bottleneck: rebuild in
    // release and run that (`cargo xtask bench-server` starts the release build).
    if cfg!(debug_assertions) {
        crate::run_command(Command::new("cargo").current_dir(root).args([
            "build",
            "--release",
            "--package",
            "bench-server",
        ]))?;
        return crate::run_command(Command::new(target.join("release/bench-server")).args(args));
    }
    let window = Duration::from_secs_f64(options.seconds);
    let warmup = Duration::from_millis(500);
    let work = target.join("bench-server");
    std::fs::create_dir_all(&work)?;
    if let Some(requests) = options.instructions {
        return crate::instructions::run(root, &target, &work, &options, requests);
    }
    let calls: Vec<Call> = CALLS
        .into_iter()
        .filter(|c| options.measures_call(c.name))
        .collect();

    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let binaries = build(root, &target, &options)?;
    let switchboard = &binaries.switchboard;

    let mut results = Vec::new();
    if options.measures_peer_table() {
        // Our server on the peer fixture: set up, capture the answers, measure.
        // As `serve` runs out of the box: durable storage, the default log level.
        let command = serve_command(switchboard, &work, Storage::Durable)?;
        let (ours, bodies) = start_switchboard(command, &work)?;
        if options.measures_server("switchboard") {
            results.push(measure_peer(ours, &calls, true, false, warmup, window)?);
        } else {
            drop(ours);
        }
        for mut peer in peers(root, &binaries, &bodies) {
            if options.measures_server(peer.name) {
                let server = Server::start(peer.name, &mut peer.command, &work)?;
                results.push(measure_peer(
                    server, &calls, peer.auth, peer.floor, warmup, window,
                )?);
            }
        }
    }

    let scaling = if options.measures_scaling() {
        let methods: Vec<&str> = SCALING_CALLS
            .into_iter()
            .filter(|c| options.measures_call(c))
            .collect();
        measure_scaling(switchboard, &methods, &work, warmup, window / 2)?
    } else {
        Vec::new()
    };
    let mut extras = crate::goals::Extras::default();
    if options.measures_server("durability") && options.measures_call("dict_get") {
        extras.durability =
            crate::durability::measure_durability(switchboard, &work, warmup, window)?;
    }
    if options.measures_server("hosted") {
        // The longest set-up of the run: a failure there costs its table and
        // targets ("not measured"), not the rest of the run.
        match crate::hosted::measure_hosted(switchboard, &work) {
            Ok(hosted) => extras.hosted = Some(hosted),
            Err(e) => println!("hosted-PBX scale not measured: {e:#}"),
        }
    }
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let section = render(
        &results,
        &scaling,
        &extras,
        &options,
        load_before.trim(),
        load_after.trim(),
    );
    print!("{section}");
    if options.partial() {
        println!("a partial run (--only or --servers): {DOC} was not rewritten");
    } else {
        write_section(&root.join(DOC), SERVER_SECTION, &section)?;
        println!("rewrote the server section of {DOC}");
    }
    Ok(())
}

/// Runs `cmd`, failing unless it succeeds.
pub(crate) fn run_command(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

/// The workspace root: this package lives two levels below it.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("bench/server sits inside the workspace")
        .to_path_buf()
}
