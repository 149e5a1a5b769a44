//! `bench-server --events [--subscribers N] [--changes N]`: live events under
//! fan-out. N SSE subscribers (1,000 by default) of one admin group hold
//! `GET /events` open while one driver makes calls in that group; for each
//! call (`sim.call`, a state change) the time from sending the request to the
//! *last* subscriber's receipt of its `call.created` is one sample (median and
//! p99 over the changes). Also: the server's RSS with and without the
//! subscribers (memory per idle subscriber), and the API's request rate
//! (`get_calls`) with and without them attached. Rewrites its own section of
//! `docs/benchmarks.md`.
//!
//! The latency mixes the server's work with the driver's (its own `sim.call`
//! round trip, one thread reading every socket) on shared cores, so the run
//! also splits the cost by CPU time, which other load on the machine does not
//! inflate as it does wall-clock time: the server's CPU time (utime + stime
//! of `/proc/<pid>/stat`) while the calls are made, less what the same calls
//! cost it with no subscriber (measured first), over the events delivered
//! (every SSE message the subscribers read, snapshots and heartbeats
//! excluded), beside the driver's own CPU time over the same deliveries.
//! `--switchboard PATH` measures a given build (an older one, for a
//! before/after pair on the same machine) instead of building one.
//!
//! `--instructions` counts instead, with the server under callgrind (few
//! subscribers, 10 by default, as valgrind is slow): the instructions the
//! same calls cost with no subscriber, with one and with all of them, hence
//! the cost of an event's first delivery (its encoding included) and of each
//! further subscriber's. These repeat from run to run, whatever else the
//! machine does. They have their own section of the doc.
//!
//! The subscribers are raw HTTP/1.1 connections on one current-thread runtime
//! (a subscriber is a socket and a byte scan, so the generator stays light);
//! a call's id is read from the first member of its record, `data: {"id":"N"`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use hyper::body::Bytes;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::client::KeepAlive;
use crate::fixtures::*;
use crate::load::{Target, drive};
use crate::processes::*;
use crate::report::{DOC, Section, mib, write_section};

/// The subscribers by default: the 1,000.
pub(crate) const SUBSCRIBERS: usize = 1_000;
/// The state changes measured by default.
pub(crate) const CHANGES: usize = 200;
/// The aims: p99 of the time to the last subscriber, and memory per idle one.
const AIM_P99: Duration = Duration::from_millis(50);
const AIM_BYTES_PER_SUBSCRIBER: u64 = 32 * 1024;
/// The longest wait for every subscriber to see one change.
const PATIENCE: Duration = Duration::from_secs(30);
/// Calls made with no subscriber, for the server's cost of the calls alone.
const BASE_CHANGES: usize = 100;
/// Clock ticks per second of `/proc/<pid>/stat` (Linux's `USER_HZ`).
const TICKS_PER_SECOND: f64 = 100.0;

const START: &str = "<!-- bench-events:start -->";
const END: &str = "<!-- bench-events:end -->";
/// This benchmark's section of `docs/benchmarks.md`.
pub(crate) const EVENTS_SECTION: Section = Section {
    start: START,
    end: END,
    heading: "## Live events (SSE fan-out)",
};

/// What one run measured.
struct Measured {
    subscribers: usize,
    changes: usize,
    rss_without: u64,
    rss_with: u64,
    rate_without: f64,
    rate_with: f64,
    /// Switchboard's fan-out.
    ours: FanOut,
    /// The same driving of `events_stub`, which writes pre-encoded frames.
    floor: FanOut,
}

/// The calls' phase of a run: latencies and CPU times.
struct FanOut {
    /// Per change: request sent → last subscriber's receipt.
    to_last: Vec<Duration>,
    /// Per change: request sent → first subscriber's receipt.
    to_first: Vec<Duration>,
    /// The server's CPU time for `BASE_CHANGES` calls with no subscriber.
    server_cpu_base: Duration,
    /// The server's and the driver's CPU time while the `changes` were made.
    server_cpu: Duration,
    /// Of `server_cpu`, the time in the kernel (on loopback, the sockets'
    /// TCP work for both ends of each write).
    server_system: Duration,
    driver_cpu: Duration,
    /// Events the subscribers read while the `changes` were made.
    deliveries: u64,
}

/// What the calls cost `server` with nobody to tell (nobody ever
/// subscribed, so switchboard builds no event either).
fn base_cpu(runtime: &tokio::runtime::Runtime, server: &Server, seen: &Seen) -> Result<Duration> {
    let pid = server.child.id().to_string();
    let before = cpu_time(&pid)?;
    runtime.block_on(make_changes(server.addr, BASE_CHANGES, 0, seen))?;
    Ok(cpu_time(&pid)?.saturating_sub(before))
}

/// Makes the `changes` with the `subscribers` open, timed and counted.
fn fan_out(
    runtime: &tokio::runtime::Runtime,
    server: &Server,
    seen: &Seen,
    subscribers: usize,
    changes: usize,
    server_cpu_base: Duration,
) -> Result<FanOut> {
    let pid = server.child.id().to_string();
    let delivered_before = seen.delivered.load(Ordering::Relaxed);
    let (server_before, driver_before) = (cpu_times(&pid)?, cpu_time("self")?);
    let (to_first, to_last) =
        runtime.block_on(make_changes(server.addr, changes, subscribers, seen))?;
    let server_after = cpu_times(&pid)?;
    Ok(FanOut {
        to_first,
        to_last,
        server_cpu_base,
        server_cpu: (server_after.0 + server_after.1)
            .saturating_sub(server_before.0 + server_before.1),
        server_system: server_after.1.saturating_sub(server_before.1),
        driver_cpu: cpu_time("self")?.saturating_sub(driver_before),
        deliveries: seen.delivered.load(Ordering::Relaxed) - delivered_before,
    })
}

/// The stub's run: the same driving, on pre-encoded frames.
fn floor(work: &Path, subscribers: usize, changes: usize) -> Result<FanOut> {
    let mut command = crate::events_stub::command()?;
    let server = Server::start("events stub", &mut command, work)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the subscribers' runtime")?;
    let seen = Seen::default();
    let base = base_cpu(&runtime, &server, &seen)?;
    let _open = runtime.block_on(subscribe(server.addr, subscribers, seen.clone()))?;
    fan_out(&runtime, &server, &seen, subscribers, changes, base)
}

/// `--instructions`: subscribers and calls by default (under valgrind).
const INSTRUCTION_SUBSCRIBERS: usize = 10;
const INSTRUCTION_CHANGES: usize = 20;
/// Calls made before each count, so that what is counted is the steady state.
const INSTRUCTION_WARMUP: usize = 3;

const INSTRUCTIONS_SECTION: Section = Section {
    start: "<!-- bench-events-instructions:start -->",
    end: "<!-- bench-events-instructions:end -->",
    heading: "### Instructions per event delivered",
};

/// One counted phase: the instructions the server executed for the calls
/// and the events the subscribers read meanwhile.
struct Counted {
    instructions: u64,
    deliveries: u64,
}

/// `--instructions`: the server under callgrind, the same calls counted
/// with no subscriber, with one, and with `subscribers`.
fn count_instructions(
    root: &Path,
    switchboard: &Path,
    work: &Path,
    subscribers: usize,
    changes: usize,
) -> Result<()> {
    use crate::instructions::{callgrind_control, dump_total, newest_dump, under_callgrind};
    let valgrind = crate::instructions::valgrind_version()?;
    let config = work.join("events.toml");
    std::fs::write(&config, pbx_toml(&[BENCH]))?;
    let mut plain = serve(switchboard, &config, Storage::Ephemeral)?;
    let cap = (subscribers + 16).to_string();
    plain.args([
        "--max-event-streams",
        &cap,
        "--max-event-streams-per-user",
        &cap,
    ]);
    let mut command = under_callgrind(&plain, "events", work)?;
    let server = Server::start("switchboard events", &mut command, work)?;
    let (addr, pid) = (server.addr, server.child.id());
    set_up(addr, BENCH)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the subscribers' runtime")?;
    let seen = Seen::default();
    let phase = |open: usize| -> Result<Counted> {
        runtime.block_on(make_changes(addr, INSTRUCTION_WARMUP, open, &seen))?;
        let delivered = seen.delivered.load(Ordering::Relaxed);
        callgrind_control("--zero", pid)?;
        runtime.block_on(make_changes(addr, changes, open, &seen))?;
        callgrind_control("--dump", pid)?;
        let dump = newest_dump(work, "events", pid)?;
        let text = std::fs::read_to_string(&dump)
            .with_context(|| format!("reading {}", dump.display()))?;
        Ok(Counted {
            instructions: dump_total(&text)
                .with_context(|| format!("no total in {}", dump.display()))?,
            deliveries: seen.delivered.load(Ordering::Relaxed) - delivered,
        })
    };
    let none = phase(0)?;
    // One by one: under valgrind, a burst of first password checks would be
    // turned away as too many at once.
    let mut open = Vec::new();
    open.push(runtime.block_on(subscribe(addr, 1, seen.clone()))?);
    let one = phase(1)?;
    for _ in 1..subscribers {
        open.push(runtime.block_on(subscribe(addr, 1, seen.clone()))?);
    }
    let all = phase(subscribers)?;
    drop(runtime);
    drop(server);

    let per_call = |c: &Counted| c.instructions as f64 / changes as f64;
    let first =
        (one.instructions.saturating_sub(none.instructions)) as f64 / one.deliveries.max(1) as f64;
    let further = (all.instructions.saturating_sub(one.instructions)) as f64
        / (all.deliveries.saturating_sub(one.deliveries)).max(1) as f64;
    let events_per_call = one.deliveries as f64 / changes as f64;
    let mut out = String::new();
    let _ = writeln!(out, "{}", INSTRUCTIONS_SECTION.start);
    let _ = writeln!(
        out,
        "`cargo xtask bench-server --events --instructions` (the server under callgrind, {valgrind}; \
         {changes} calls made and hung up, each publishing {events_per_call:.1} events, counted with 0, 1 and {subscribers} subscribers):\n"
    );
    let _ = writeln!(out, "| measure | instructions |");
    let _ = writeln!(out, "|---|---|");
    for (label, counted) in [("no subscriber", &none), ("1 subscriber", &one)] {
        let _ = writeln!(out, "| per call, {label} | {:.0} |", per_call(counted));
    }
    let _ = writeln!(
        out,
        "| per call, {subscribers} subscribers | {:.0} |",
        per_call(&all)
    );
    let _ = writeln!(
        out,
        "| per event, its first subscriber (publishing and encoding included) | {first:.0} |"
    );
    let _ = writeln!(
        out,
        "| **per event, each further subscriber** | **{further:.0}** |"
    );
    let _ = writeln!(out, "{}", INSTRUCTIONS_SECTION.end);
    print!("{out}");
    write_section(&root.join(DOC), INSTRUCTIONS_SECTION, &out)?;
    println!("rewrote the events' instructions section of {DOC}");
    Ok(())
}

/// Utime + stime of process `pid` (`self` for this one), all threads.
fn cpu_time(pid: &str) -> Result<Duration> {
    let (user, system) = cpu_times(pid)?;
    Ok(user + system)
}

/// `(utime, stime)` of process `pid`: in its own code, in the kernel for it.
fn cpu_times(pid: &str) -> Result<(Duration, Duration)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which may hold spaces: state is field 3,
    // utime 14 and stime 15.
    let rest = stat
        .rsplit_once(')')
        .context("no command name in /proc/PID/stat")?
        .1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let time = |i: usize| -> Result<Duration> {
        let ticks: u64 = fields
            .get(i - 3)
            .and_then(|f| f.parse().ok())
            .context("no utime/stime in /proc/PID/stat")?;
        Ok(Duration::from_secs_f64(ticks as f64 / TICKS_PER_SECOND))
    };
    Ok((time(14)?, time(15)?))
}

/// `--events [--subscribers N] [--changes N] [--seconds N]` (`args` with
/// `--events` first): builds what it needs in release and runs [`run`].
pub(crate) fn main(root: &Path, args: &[String]) -> Result<()> {
    const USAGE: &str = "usage: bench-server --events [--instructions] [--subscribers N] [--changes N] [--seconds N] [--switchboard PATH]";
    let target = target_dir(root);
    // A debug build of the subscribers would be the bottleneck (as for `load`).
    if cfg!(debug_assertions) {
        crate::run_command(std::process::Command::new("cargo").current_dir(root).args([
            "build",
            "--release",
            "--package",
            "bench-server",
        ]))?;
        return crate::run_command(
            std::process::Command::new(target.join("release/bench-server")).args(args),
        );
    }
    let (mut subscribers, mut changes, mut seconds) = (SUBSCRIBERS, CHANGES, 3.0_f64);
    let mut switchboard = None;
    let instructions = args.iter().any(|a| a == "--instructions");
    if instructions {
        (subscribers, changes) = (INSTRUCTION_SUBSCRIBERS, INSTRUCTION_CHANGES);
    }
    let mut rest = args.iter().skip(1).filter(|a| *a != "--instructions");
    while let Some(arg) = rest.next() {
        let value = rest
            .next()
            .with_context(|| format!("{arg} takes a value ({USAGE})"))?;
        let number = || value.parse::<usize>().ok().filter(|n| *n > 0);
        match arg.as_str() {
            "--subscribers" => subscribers = number().context(USAGE)?,
            "--changes" => changes = number().context(USAGE)?,
            "--seconds" => {
                seconds = value
                    .parse()
                    .ok()
                    .filter(|s: &f64| s.is_finite() && *s > 0.0)
                    .context(USAGE)?;
            }
            "--switchboard" => switchboard = Some(std::path::PathBuf::from(value)),
            other => bail!("bench-server: unknown argument {other:?} ({USAGE})"),
        }
    }
    let switchboard = match switchboard {
        Some(path) => path,
        None => {
            crate::run_command(std::process::Command::new("cargo").current_dir(root).args([
                "build",
                "--release",
                "--package",
                "switchboard",
            ]))?;
            target.join("release/switchboard")
        }
    };
    let work = target.join("bench-server");
    std::fs::create_dir_all(&work)?;
    if instructions {
        return count_instructions(root, &switchboard, &work, subscribers, changes);
    }
    run(
        root,
        &switchboard,
        &work,
        subscribers,
        changes,
        Duration::from_secs_f64(seconds),
    )
}

/// Runs the benchmark and rewrites its section of the doc.
pub(crate) fn run(
    root: &Path,
    switchboard: &Path,
    work: &Path,
    subscribers: usize,
    changes: usize,
    window: Duration,
) -> Result<()> {
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let config = work.join("events.toml");
    std::fs::write(&config, pbx_toml(&[BENCH]))?;
    let mut command = serve(switchboard, &config, Storage::Ephemeral)?;
    let cap = (subscribers + 16).to_string();
    command.args([
        "--max-event-streams",
        &cap,
        "--max-event-streams-per-user",
        &cap,
        "--max-connections",
        &(subscribers + 256).to_string(),
        "--max-connections-per-address",
        &(subscribers + 256).to_string(),
    ]);
    let server = Server::start("switchboard events", &mut command, work)?;
    let addr = server.addr;
    set_up(addr, BENCH)?;
    let warmup = Duration::from_millis(500);
    let api = Target {
        addr,
        path: "/RPC2".to_owned(),
        authorization: Some(BENCH.authorization()),
        body: Bytes::from(request_body("get_calls")),
    };
    // Without subscribers: the API's rate, then the memory at rest.
    let rate_without = drive(&api, 4, warmup, window)?.per_second();
    let rss_without = settled_rss(&server)?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the subscribers' runtime")?;
    let seen = Seen::default();
    let base = base_cpu(&runtime, &server, &seen)?;
    let ready = runtime.block_on(subscribe(addr, subscribers, seen.clone()))?;
    // The subscribers stay open (their tasks live in `runtime`) while the
    // memory and the API's rate are measured from this thread.
    let rss_with = settled_rss(&server)?;
    let rate_with = drive(&api, 4, warmup, window)?.per_second();
    let ours = fan_out(&runtime, &server, &seen, subscribers, changes, base)?;
    drop(ready);
    drop(runtime);
    drop(server);
    let floor = floor(work, subscribers, changes)?;
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let measured = Measured {
        subscribers,
        changes,
        rss_without,
        rss_with,
        rate_without,
        rate_with,
        ours,
        floor,
    };
    let section = render(&measured, load_before.trim(), load_after.trim());
    print!("{section}");
    write_section(&root.join(DOC), EVENTS_SECTION, &section)?;
    println!("rewrote the events section of {DOC}");
    Ok(())
}

/// The server's RSS in KiB once it has been still for a moment (freed memory
/// returned, the subscribers' snapshots written).
fn settled_rss(server: &Server) -> Result<u64> {
    std::thread::sleep(Duration::from_millis(500));
    Ok(server.memory()?.0)
}

/// How many subscribers read a call's creation, the first and the last
/// receipt.
type Receipts = (usize, Instant, Instant);

/// What the subscribers read.
#[derive(Clone, Default)]
struct Seen {
    /// Per `call.created ID` and `call.ended ID`: how many subscribers saw
    /// it, the first and the last receipt.
    calls: Arc<Mutex<HashMap<String, Receipts>>>,
    /// Events read, by every subscriber together (snapshots and heartbeats
    /// not counted).
    delivered: Arc<AtomicU64>,
}

/// Opens `n` streams and waits until each has its snapshot; the tasks go on
/// reading (and recording) until the runtime is dropped.
async fn subscribe(addr: SocketAddr, n: usize, seen: Seen) -> Result<Vec<()>> {
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<Result<()>>(n.max(1));
    for _ in 0..n {
        let ready = ready_tx.clone();
        let seen = seen.clone();
        tokio::spawn(async move {
            if let Err(e) = subscriber(addr, seen, ready.clone()).await {
                let _ = ready.send(Err(e)).await;
            }
        });
        // Connections opened one by one: a burst of 1,000 handshakes is
        // another benchmark.
        tokio::task::yield_now().await;
    }
    let mut up = Vec::with_capacity(n);
    while up.len() < n {
        match tokio::time::timeout(PATIENCE, ready_rx.recv()).await {
            Ok(Some(Ok(()))) => up.push(()),
            Ok(Some(Err(e))) => return Err(e),
            Ok(None) | Err(_) => bail!("only {} of {n} subscribers got their snapshot", up.len()),
        }
    }
    Ok(up)
}

async fn subscriber(
    addr: SocketAddr,
    seen: Seen,
    ready: tokio::sync::mpsc::Sender<Result<()>>,
) -> Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let request = format!(
        "GET /events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nAuthorization: {}\r\n\r\n",
        BENCH.authorization()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut pending: Vec<u8> = Vec::with_capacity(4096);
    let mut buffer = vec![0u8; 16 * 1024];
    let mut snapshot = false;
    loop {
        let n = stream.read(&mut buffer).await?;
        if n == 0 {
            bail!("the server closed an event stream");
        }
        let now = Instant::now();
        pending.extend_from_slice(&buffer[..n]);
        if !snapshot {
            if pending.starts_with(b"HTTP/1.1 ") && !pending.starts_with(b"HTTP/1.1 200") {
                bail!(
                    "GET /events: {}",
                    String::from_utf8_lossy(&pending[..pending.len().min(200)])
                );
            }
            if contains(&pending, b"event: snapshot") {
                snapshot = true;
                let _ = ready.send(Ok(())).await;
            }
        }
        // Whole messages only: keep what follows the last blank line.
        let Some(end) = rfind(&pending, b"\n\n") else {
            continue;
        };
        let events =
            count(&pending[..end], b"\nevent: ") - count(&pending[..end], b"\nevent: snapshot\n");
        seen.delivered.fetch_add(events as u64, Ordering::Relaxed);
        for kind in ["call.created", "call.ended"] {
            for id in ids_of(&pending[..end], kind) {
                let mut seen = seen.calls.lock().unwrap_or_else(|e| e.into_inner());
                let entry = seen.entry(format!("{kind} {id}")).or_insert((0, now, now));
                entry.0 += 1;
                entry.2 = now;
            }
        }
        pending.drain(..end + 2);
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count()
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// The ids of the `kind` messages (`call.created`) in `text`.
fn ids_of(text: &[u8], kind: &str) -> Vec<String> {
    let mark = format!("event: {kind}\ndata: {{\"id\":\"");
    let mark = mark.as_bytes();
    let mut ids = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.windows(mark.len()).position(|w| w == mark) {
        rest = &rest[at + mark.len()..];
        let end = rest.iter().position(|&b| b == b'"').unwrap_or(rest.len());
        ids.push(String::from_utf8_lossy(&rest[..end]).into_owned());
        rest = &rest[end..];
    }
    ids
}

/// Makes `changes` calls one after another (each hung up once every
/// subscriber saw it, the next made once every subscriber saw the hang-up):
/// per call, the time to the first and to the last
/// subscriber's receipt (none with no subscriber).
async fn make_changes(
    addr: SocketAddr,
    changes: usize,
    subscribers: usize,
    seen: &Seen,
) -> Result<(Vec<Duration>, Vec<Duration>)> {
    let (mut to_first, mut to_last) = (Vec::new(), Vec::new());
    let auth = BENCH.authorization();
    for i in 0..changes {
        // Internal calls between extensions the fixture's standing calls
        // leave free (1100-1149 ring, 1150-1179 call).
        let free = BENCH.first + 2 * BENCH.calls;
        let from = (free + 50 + (i as u32 % 30)).to_string();
        let to = (free + (i as u32 % 50)).to_string();
        let body = method_call("sim.call", &[&from, &to]);
        let sent = Instant::now();
        let answer = driver_rpc(addr, auth.clone(), body).await?;
        if !crate::load::is_success(hyper::StatusCode::OK, &answer) {
            bail!("sim.call failed: {}", String::from_utf8_lossy(&answer));
        }
        let id = call_id(&answer).context("sim.call answered no call id")?;
        if subscribers > 0 {
            let (first, last) = all_saw(seen, &format!("call.created {id}"), subscribers).await?;
            to_first.push(first.saturating_duration_since(sent));
            to_last.push(last.saturating_duration_since(sent));
        }
        let hangup = method_call("sim.hangup", &[&id]);
        driver_rpc(addr, auth.clone(), hangup).await?;
        // The next sample starts once this hang-up reached everyone, not
        // while its 1,000 frames are still being written and read.
        if subscribers > 0 {
            all_saw(seen, &format!("call.ended {id}"), subscribers).await?;
        }
    }
    Ok((to_first, to_last))
}

/// When the first and the last of `subscribers` read `id` (`call.created
/// ID`).
async fn all_saw(seen: &Seen, id: &str, subscribers: usize) -> Result<(Instant, Instant)> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let done = {
            let seen = seen.calls.lock().unwrap_or_else(|e| e.into_inner());
            seen.get(id)
                .filter(|e| e.0 >= subscribers)
                .map(|e| (e.1, e.2))
        };
        if let Some(done) = done {
            return Ok(done);
        }
        if Instant::now() > deadline {
            bail!("call {id}: not every subscriber saw it within {PATIENCE:?}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The string of the first `<string>` in an answer (`sim.call`'s call id).
fn call_id(answer: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(answer);
    let start = text.find("<string>")? + "<string>".len();
    let end = start + text[start..].find("</string>")?;
    Some(text[start..end].to_owned())
}

/// A request of the driver on the blocking set-up client, off the runtime's
/// thread so that the subscribers keep reading while it waits.
async fn driver_rpc(addr: SocketAddr, auth: String, body: String) -> Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        let mut client = KeepAlive::new(addr);
        rpc(&mut client, &auth, &body)
    })
    .await
    .context("the driver's request panicked")?
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    let mut sorted = samples.to_vec();
    sorted.sort();
    let rank = ((p / 100.0) * (sorted.len() as f64)).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

impl FanOut {
    /// The CPU time of the fan-out alone: the calls' own cost taken away.
    fn server_fan_out(&self, changes: usize) -> Duration {
        let base = self
            .server_cpu_base
            .mul_f64(changes as f64 / BASE_CHANGES as f64);
        self.server_cpu.saturating_sub(base)
    }

    /// `cpu` per event delivered, in µs.
    fn per_delivery(&self, cpu: Duration) -> f64 {
        cpu.as_secs_f64() * 1e6 / (self.deliveries.max(1) as f64)
    }
}

fn render(m: &Measured, load_before: &str, load_after: &str) -> String {
    let (ours, floor) = (&m.ours, &m.floor);
    let p99 = percentile(&ours.to_last, 99.0);
    let per_subscriber =
        (m.rss_with.saturating_sub(m.rss_without) * 1024) / (m.subscribers.max(1) as u64);
    let met = |ok: bool| if ok { "met" } else { "missed" };
    let both = |f: &dyn Fn(&FanOut) -> String| format!("{} | {}", f(ours), f(floor));
    let mut out = String::new();
    let _ = writeln!(out, "{START}");
    let _ = writeln!(
        out,
        "`cargo xtask bench-server --events` ({} subscribers of one group, {} calls made one after another, each hung up once every subscriber saw it and the next made once every subscriber saw the hang-up; \
         a sample is the time from sending `sim.call` to the last subscriber's receipt of its `call.created`, the request's own time included). \
         The floor is a stub server driven the same way that writes one pre-encoded frame to every socket from one task (`events_stub`): \
         what delivering costs with no PBX, no encoding and no task per subscriber.\n",
        m.subscribers, m.changes
    );
    let _ = writeln!(out, "| measure | switchboard | floor (stub) | aim |");
    let _ = writeln!(out, "|---|---|---|---|");
    let _ = writeln!(
        out,
        "| to the last subscriber, median | {} | |",
        both(&|f| ms(percentile(&f.to_last, 50.0)))
    );
    let _ = writeln!(
        out,
        "| to the last subscriber, p99 | {} | under {} ms: {} |",
        both(&|f| ms(percentile(&f.to_last, 99.0))),
        AIM_P99.as_millis(),
        met(p99 < AIM_P99)
    );
    let _ = writeln!(
        out,
        "| to the first subscriber, median | {} | |",
        both(&|f| ms(percentile(&f.to_first, 50.0)))
    );
    let _ = writeln!(
        out,
        "| events delivered ({:.1} per call per subscriber) | {} | |",
        ours.deliveries as f64 / (m.changes.max(1) * m.subscribers.max(1)) as f64,
        both(&|f| f.deliveries.to_string())
    );
    let _ = writeln!(
        out,
        "| server CPU time while the calls were made (in the kernel) | {} | |",
        both(&|f| format!(
            "{:.2} s ({:.0}%)",
            f.server_cpu.as_secs_f64(),
            f.server_system.as_secs_f64() * 100.0 / f.server_cpu.as_secs_f64().max(1e-9)
        ))
    );
    let _ = writeln!(
        out,
        "| server CPU time of the same calls with no subscriber | {} | |",
        both(&|f| format!(
            "{:.2} s",
            f.server_cpu_base
                .mul_f64(m.changes as f64 / BASE_CHANGES as f64)
                .as_secs_f64()
        ))
    );
    let _ = writeln!(
        out,
        "| **server CPU per event delivered** (the difference, over the deliveries) | {} | |",
        both(&|f| format!("{:.1} µs", f.per_delivery(f.server_fan_out(m.changes))))
    );
    let _ = writeln!(
        out,
        "| one event to every subscriber: that × {} subscribers / 2 cores | {} | |",
        m.subscribers,
        both(&|f| ms(Duration::from_secs_f64(
            f.per_delivery(f.server_fan_out(m.changes)) * m.subscribers as f64 / 2.0 / 1e6
        )))
    );
    let _ = writeln!(
        out,
        "| **driver CPU per event delivered** (reading the sockets, making the calls) | {} | |",
        both(&|f| format!("{:.1} µs", f.per_delivery(f.driver_cpu)))
    );
    let _ = writeln!(
        out,
        "| server RSS without / with the subscribers | {} / {} | | |",
        mib(m.rss_without),
        mib(m.rss_with)
    );
    let _ = writeln!(
        out,
        "| memory per idle subscriber | {:.1} KiB | | under {} KiB: {} |",
        per_subscriber as f64 / 1024.0,
        AIM_BYTES_PER_SUBSCRIBER / 1024,
        met(per_subscriber < AIM_BYTES_PER_SUBSCRIBER)
    );
    let _ = writeln!(
        out,
        "| `get_calls` per second (4 connections), without / with the subscribers | {:.0} / {:.0} ({:+.0}%) | | |",
        m.rate_without,
        m.rate_with,
        (m.rate_with / m.rate_without.max(1.0) - 1.0) * 100.0
    );
    let _ = writeln!(
        out,
        "\nOn this 2-core machine, shared with other builds while it ran (load average before: `{load_before}`; after: `{load_after}`): \
         the subscribers, the driver and the server share the two cores, so the times are upper bounds; \
         CPU times (utime + stime of `/proc/<pid>/stat`, in 10 ms ticks) are not inflated by other load as times are."
    );
    let _ = writeln!(out, "{END}");
    out
}
