//! The hosted-PBX scale: a PBX of 2,000 admin groups of 50 extensions with
//! 10,000 live calls (5 per group), written and set up at run time, against the
//! same group in a PBX of 2 groups. Start-up time and memory of the large PBX;
//! per request, what one group's `get_calls`, `get_extensions` and `transfer`
//! cost in each, and `transfer` again with a live event stream open on the
//! group (the events' fan-out). Both PBXs run at once and are measured in
//! alternation, so that other load on the machine weighs on both alike.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;

use crate::client::KeepAlive;
use crate::fixtures::*;
use crate::processes::*;

/// Groups of the hosted PBX, and of the small one.
pub(crate) const GROUPS: u32 = 2_000;
pub(crate) const SMALL_GROUPS: u32 = 2;
/// Extensions per group.
pub(crate) const EXTENSIONS: u32 = 50;
/// Live calls per group: 4 between extensions, 1 from outside, answered (the
/// one the measured group transfers).
pub(crate) const CALLS_PER_GROUP: u32 = 5;
/// Alternation rounds, and requests per operation and round.
pub(crate) const ROUNDS: usize = 3;
pub(crate) const REQUESTS: usize = 300;

/// The operations measured on one group.
pub(crate) const OPERATIONS: [&str; 4] = [
    "get_calls",
    "get_extensions",
    "transfer",
    "transfer, 1 event stream open",
];

/// What the hosted run measured.
#[derive(Debug, Clone)]
pub(crate) struct Hosted {
    /// From the start of the process to its address on stdout.
    pub(crate) startup: Duration,
    pub(crate) startup_small: Duration,
    /// Resident memory once the calls are placed, KiB.
    pub(crate) rss_kib: u64,
    pub(crate) rss_small_kib: u64,
    pub(crate) live_calls: u32,
    /// Per operation: median µs per request in the small PBX, in the hosted one.
    pub(crate) costs: Vec<(&'static str, f64, f64)>,
}

impl Hosted {
    /// The hosted PBX's cost over the small one's, per operation.
    pub(crate) fn worst_ratio(&self) -> Option<(&'static str, f64)> {
        self.costs
            .iter()
            .map(|&(op, small, large)| (op, large / small))
            .filter(|(_, r)| r.is_finite())
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

fn first(group: u32) -> u32 {
    100_000 + group * 100
}

fn user(group: u32) -> String {
    first(group).to_string()
}

fn authorization(group: u32) -> String {
    let credentials = format!("{}:{PASSWORD}", user(group));
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(credentials)
    )
}

/// A PBX of `groups` groups of [`EXTENSIONS`] extensions.
pub(crate) fn hosted_toml(groups: u32) -> String {
    let mut toml = String::from(
        "# Written by `cargo xtask bench-server`: the hosted-PBX scale.\nallow_plain_passwords = true\ntime_zone = \"UTC\"\n",
    );
    for g in 0..groups {
        let _ = writeln!(
            toml,
            "\n[[group]]\nname = \"Tenant {g:04}\"\n\n[[group.connection]]\nname = \"PSTN\"\noutbound = true"
        );
        for i in 0..EXTENSIONS {
            let number = first(g) + i;
            let _ = writeln!(
                toml,
                "[[group.extension]]\nnumber = \"{number}\"\nname = \"Tenant {g} user {i}\"\nphone = \"+1604{number:07}\"\nemail = \"user{i}@tenant{g}.example\"\nvoicemail = {}",
                i % 2 == 0
            );
            if i == 0 {
                let _ = writeln!(toml, "password = \"{PASSWORD}\"");
            }
        }
    }
    toml
}

/// Places a group's calls; the inbound one's id.
fn place_calls(client: &mut KeepAlive, group: u32) -> Result<String> {
    let auth = authorization(group);
    let base = first(group);
    for i in 0..CALLS_PER_GROUP - 1 {
        let (from, to) = (base + 2 * i + 1, base + 2 * i + 2);
        let answer = rpc(
            client,
            &auth,
            &method_call("sim.call", &[&from.to_string(), &to.to_string()]),
        )?;
        expect_ok(answer, "sim.call")?;
    }
    let answer = rpc(
        client,
        &auth,
        &method_call("sim.call", &["+15550100", &(base + 20).to_string()]),
    )?;
    expect_ok(answer.clone(), "sim.call from outside")?;
    let text = String::from_utf8_lossy(&answer);
    let id = text
        .split_once("<string>")
        .and_then(|(_, rest)| rest.split_once("</string>"))
        .map(|(id, _)| id.to_owned())
        .with_context(|| format!("no call id in {text}"))?;
    expect_ok(
        rpc(client, &auth, &method_call("sim.answer", &[&id]))?,
        "sim.answer",
    )?;
    Ok(id)
}

/// A PBX of `groups` groups, started, with its calls placed.
struct Pbx {
    server: Server,
    startup: Duration,
    rss_kib: u64,
    /// The measured group and its inbound call.
    group: u32,
    call: String,
    /// Transfers so far: each goes to the other of two extensions.
    transfers: usize,
}

impl Pbx {
    fn start(switchboard: &Path, work: &Path, name: &'static str, groups: u32) -> Result<Pbx> {
        let config = work.join(format!("{name}.toml"));
        std::fs::write(&config, hosted_toml(groups))?;
        let mut command = serve(switchboard, &config, Storage::Durable)?;
        let began = Instant::now();
        let server = Server::start(name, &mut command, work)?;
        let startup = began.elapsed();
        let mut client = KeepAlive::new(server.addr);
        let group = groups / 2;
        let mut call = String::new();
        for g in 0..groups {
            let id = place_calls(&mut client, g)?;
            if g == group {
                call = id;
            }
        }
        std::thread::sleep(Duration::from_millis(300));
        let rss_kib = server.memory()?.0;
        println!(
            "{name}: {groups} groups, started in {:.0} ms, {} after placing {} calls",
            startup.as_secs_f64() * 1000.0,
            crate::report::mib(rss_kib),
            groups * CALLS_PER_GROUP
        );
        Ok(Pbx {
            server,
            startup,
            rss_kib,
            group,
            call,
            transfers: 0,
        })
    }

    /// `REQUESTS` of `operation` on one connection: each request's µs.
    fn measure(&mut self, operation: &str) -> Result<Vec<u64>> {
        let auth = authorization(self.group);
        let mut client = KeepAlive::new(self.server.addr);
        let _stream = if operation.contains("event stream") {
            Some(EventStream::open(self.server.addr, &auth)?)
        } else {
            None
        };
        let mut times = Vec::with_capacity(REQUESTS);
        for _ in 0..REQUESTS {
            let body = match operation {
                "get_calls" | "get_extensions" => method_call(operation, &[]),
                _ => {
                    self.transfers += 1;
                    let to = first(self.group) + 30 + (self.transfers % 2) as u32;
                    method_call("transfer", &[&self.call, &to.to_string()])
                }
            };
            let began = Instant::now();
            let answer = rpc(&mut client, &auth, &body)?;
            times.push(began.elapsed().as_micros() as u64);
            expect_ok(answer, operation)?;
            if operation.starts_with("transfer") {
                // Not timed: the next transfer needs an answered call.
                let answer = rpc(
                    &mut client,
                    &auth,
                    &method_call("sim.answer", &[&self.call]),
                )?;
                expect_ok(answer, "sim.answer")?;
            }
        }
        Ok(times)
    }
}

/// `GET /events` held open on a thread that reads and drops what comes.
struct EventStream {
    stream: TcpStream,
}

impl EventStream {
    fn open(addr: SocketAddr, authorization: &str) -> Result<EventStream> {
        let mut stream = TcpStream::connect(addr)?;
        write!(
            stream,
            "GET /events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\nAuthorization: {authorization}\r\n\r\n"
        )?;
        let mut reader = BufReader::new(stream.try_clone()?);
        let mut status = String::new();
        reader.read_line(&mut status)?;
        if !status.contains(" 200 ") {
            bail!("GET /events: {status:?}");
        }
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        Ok(EventStream { stream })
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

fn median(mut times: Vec<u64>) -> f64 {
    times.sort_unstable();
    times.get(times.len() / 2).copied().unwrap_or(0) as f64
}

pub(crate) fn measure_hosted(switchboard: &Path, work: &Path) -> Result<Hosted> {
    let mut small = Pbx::start(switchboard, work, "small-pbx", SMALL_GROUPS)?;
    let mut hosted = Pbx::start(switchboard, work, "hosted-pbx", GROUPS)?;
    let mut costs = Vec::new();
    for operation in OPERATIONS {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            a.extend(small.measure(operation)?);
            b.extend(hosted.measure(operation)?);
        }
        let (a, b) = (median(a), median(b));
        println!("hosted {operation:32}: 2 groups {a:6.0} µs, {GROUPS} groups {b:6.0} µs");
        costs.push((operation, a, b));
    }
    Ok(Hosted {
        startup: hosted.startup,
        startup_small: small.startup,
        rss_kib: hosted.rss_kib,
        rss_small_kib: small.rss_kib,
        live_calls: GROUPS * CALLS_PER_GROUP,
        costs,
    })
}
