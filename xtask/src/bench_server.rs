//! `cargo xtask bench-server [--seconds N]`: switchboard under load, side by side
//! with its peers (Python's SimpleXMLRPCServer, dxr, a bare-HTTP floor) on the same
//! payloads, plus the scaling tables; rewrites the server section of `docs/benchmarks.md`.
//!
//! Everything runs on this machine: release builds of `switchboard` and of
//! `fixtures/bench/peers` (its own Cargo project), the fixture PBX written at run
//! time under `<target>/bench-server/`, and the load generator (`load`) on one thread.

#![allow(clippy::print_stdout)] // a report: it prints its table

mod load;

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use hyper::body::Bytes;

use load::{Measured, Target};

const START: &str = "<!-- bench-server:start -->";
const END: &str = "<!-- bench-server:end -->";
const DOC: &str = "docs/benchmarks.md";

/// The bench user's password; every group's user is its first extension.
const PASSWORD: &str = "bench";
/// The key `dict_get` reads, and what it holds (a typical CRM URL template).
const KEY: &str = "crm.url";
const VALUE: &str = "https://crm.example/lookup?phone={number}";
const CONNECTIONS: [usize; 2] = [1, 16];

/// A row of the peer table: what is called.
#[derive(Debug, Clone, Copy)]
struct Call {
    /// Also the file name of its captured answer and the floor's path.
    name: &'static str,
    label: &'static str,
}

const CALLS: [Call; 4] = [
    Call {
        name: "dict_get",
        label: "`dict_get`",
    },
    Call {
        name: "get_calls",
        label: "`get_calls` (50 calls)",
    },
    Call {
        name: "get_extensions",
        label: "`get_extensions` (200 entities)",
    },
    Call {
        name: "system.multicall",
        label: "`system.multicall` of 10 `dict_get`",
    },
];

/// A group of a fixture PBX: `entities` entities (95% extensions, 5% queues of 10
/// members) numbered from `first`, and `calls` calls between its extensions.
#[derive(Debug, Clone, Copy)]
struct Group {
    name: &'static str,
    first: u32,
    entities: u32,
    calls: u32,
}

impl Group {
    fn queues(self) -> u32 {
        self.entities / 20
    }
    fn extensions(self) -> u32 {
        self.entities - self.queues()
    }
    fn user(self) -> String {
        self.first.to_string()
    }
    fn authorization(self) -> String {
        format!(
            "Basic {}",
            base64(format!("{}:{PASSWORD}", self.user()).as_bytes())
        )
    }
}

const BENCH: Group = Group {
    name: "Bench",
    first: 1000,
    entities: 200,
    calls: 50,
};
const SMALL: Group = Group {
    name: "Small",
    first: 20_000,
    entities: 100,
    calls: 10,
};
const MEDIUM: Group = Group {
    name: "Medium",
    first: 30_000,
    entities: 1_000,
    calls: 100,
};
const LARGE: Group = Group {
    name: "Large",
    first: 100_000,
    entities: 10_000,
    calls: 1_000,
};

#[derive(Debug)]
struct Options {
    seconds: f64,
}

fn options(args: &[String]) -> Result<Options> {
    let mut options = Options { seconds: 5.0 };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                options.seconds = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .filter(|s: &f64| *s > 0.0)
                    .context("--seconds takes a positive number")?;
            }
            other => bail!(
                "bench-server: unknown argument {other:?} (usage: bench-server [--seconds N])"
            ),
        }
    }
    Ok(options)
}

pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    let options = options(args)?;
    let target = target_dir(root);
    // `cargo xtask` is a debug build: the generator must not be the bottleneck.
    if cfg!(debug_assertions) {
        crate::run(Command::new("cargo").current_dir(root).args([
            "build",
            "--release",
            "--package",
            "xtask",
        ]))?;
        return crate::run(
            Command::new(target.join("release/xtask"))
                .arg("bench-server")
                .args(args),
        );
    }
    let window = Duration::from_secs_f64(options.seconds);
    let warmup = Duration::from_millis(500);
    let work = target.join("bench-server");
    std::fs::create_dir_all(&work)?;

    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    crate::run(Command::new("cargo").current_dir(root).args([
        "build",
        "--release",
        "--package",
        "switchboard",
    ]))?;
    let peers_target = target.join("bench-peers");
    crate::run(
        Command::new("cargo")
            .current_dir(root.join("fixtures/bench/peers"))
            .env("CARGO_TARGET_DIR", &peers_target)
            .args(["build", "--release"]),
    )?;
    let switchboard = target.join("release/switchboard");
    let peer = |name: &str| peers_target.join("release").join(name);

    // Our server on the peer fixture: set up, capture the answers, measure.
    let config = work.join("bench.toml");
    std::fs::write(&config, pbx_toml(&[BENCH]))?;
    let ours = Server::start(
        "switchboard",
        Command::new(&switchboard)
            .args([
                "serve",
                "--ephemeral",
                "--listen",
                "127.0.0.1:0",
                "--config",
            ])
            .arg(&config),
        &work,
    )?;
    set_up(ours.addr, BENCH)?;
    let bodies = work.join("bodies");
    std::fs::create_dir_all(&bodies)?;
    for call in CALLS {
        let answer = rpc(ours.addr, &BENCH.authorization(), &request_body(call.name))?;
        if !load::is_success(hyper::StatusCode::OK, &answer) {
            bail!(
                "{}: switchboard answered a fault:\n{}",
                call.name,
                String::from_utf8_lossy(&answer)
            );
        }
        std::fs::write(bodies.join(format!("{}.xml", call.name)), &answer)?;
    }

    let mut results = Vec::new();
    results.push(measure_peer(ours, true, false, warmup, window)?);
    let python = root.join("fixtures/bench/python_server.py");
    let mut plain = Command::new("python3");
    plain.arg(&python).arg("--bodies").arg(&bodies);
    results.push(measure_peer(
        Server::start("python", &mut plain, &work)?,
        false,
        false,
        warmup,
        window,
    )?);
    let mut threaded = Command::new("python3");
    threaded
        .arg(&python)
        .arg("--threaded")
        .arg("--bodies")
        .arg(&bodies);
    results.push(measure_peer(
        Server::start("python-threaded", &mut threaded, &work)?,
        false,
        false,
        warmup,
        window,
    )?);
    results.push(measure_peer(
        Server::start(
            "dxr",
            Command::new(peer("dxr-server"))
                .arg("--bodies")
                .arg(&bodies),
            &work,
        )?,
        true,
        false,
        warmup,
        window,
    )?);
    results.push(measure_peer(
        Server::start(
            "floor",
            Command::new(peer("floor-server"))
                .arg("--bodies")
                .arg(&bodies),
            &work,
        )?,
        false,
        true,
        warmup,
        window,
    )?);

    let scaling = measure_scaling(&switchboard, &work, warmup, window / 2)?;
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();

    let section = render(
        &results,
        &scaling,
        options.seconds,
        load_before.trim(),
        load_after.trim(),
    );
    print!("{section}");
    write_section(&root.join(DOC), &section)?;
    println!("rewrote the server section of {DOC}");
    Ok(())
}

/// Where cargo puts builds: `CARGO_TARGET_DIR` or `<root>/target`.
fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"))
}

/// One server's rows and memory.
#[derive(Debug)]
struct PeerResult {
    server: &'static str,
    /// `(call, connections, measurement)`.
    rows: Vec<(&'static str, usize, Measured)>,
    idle_rss_kib: u64,
    peak_rss_kib: u64,
}

fn measure_peer(
    server: Server,
    auth: bool,
    floor: bool,
    warmup: Duration,
    window: Duration,
) -> Result<PeerResult> {
    std::thread::sleep(Duration::from_millis(300));
    let idle_rss_kib = server.memory()?.0;
    let mut rows = Vec::new();
    for call in CALLS {
        let target = Target {
            addr: server.addr,
            path: if floor {
                format!("/RPC2/{}", call.name)
            } else {
                "/RPC2".to_owned()
            },
            authorization: auth.then(|| BENCH.authorization()),
            body: Bytes::from(request_body(call.name)),
        };
        for connections in CONNECTIONS {
            let measured = load::drive(&target, connections, warmup, window)?;
            println!(
                "{:16} {:18} c={connections:2}: {:9.0} req/s  p50 {:6} µs  p99 {:6} µs  max {:7} µs  errors {}  reconnects {}",
                server.name,
                call.name,
                measured.per_second(),
                measured.latency.p50,
                measured.latency.p99,
                measured.latency.max,
                measured.errors,
                measured.reconnects,
            );
            rows.push((call.name, connections, measured));
        }
    }
    let peak_rss_kib = server.memory()?.1;
    Ok(PeerResult {
        server: server.name,
        rows,
        idle_rss_kib,
        peak_rss_kib,
    })
}

/// The scaling measurements: `(label, method, result bytes, measurement)`.
type Scaling = Vec<(String, &'static str, usize, Measured)>;

/// `get_calls` and `get_extensions` as the caller's group grows, and the small
/// group alone, among idle neighbours and among busy ones. One connection.
fn measure_scaling(
    switchboard: &Path,
    work: &Path,
    warmup: Duration,
    window: Duration,
) -> Result<Scaling> {
    let mut rows = Vec::new();
    let methods = ["get_extensions", "get_calls"];
    let measure = |server: &Server, group: Group, label: String, rows: &mut Scaling| {
        for method in methods {
            let body = rpc(server.addr, &group.authorization(), &request_body(method))?;
            let target = Target {
                addr: server.addr,
                path: "/RPC2".to_owned(),
                authorization: Some(group.authorization()),
                body: Bytes::from(request_body(method)),
            };
            let measured = load::drive(&target, 1, warmup, window)?;
            println!(
                "scaling {label:40} {method:15}: p50 {:6} µs  p99 {:6} µs  {:7.0} req/s",
                measured.latency.p50,
                measured.latency.p99,
                measured.per_second()
            );
            rows.push((label.clone(), method, body.len(), measured));
        }
        anyhow::Ok(())
    };

    let alone = work.join("small-alone.toml");
    std::fs::write(&alone, pbx_toml(&[SMALL]))?;
    let server = Server::start(
        "switchboard (small group alone)",
        Command::new(switchboard)
            .args([
                "serve",
                "--ephemeral",
                "--listen",
                "127.0.0.1:0",
                "--config",
            ])
            .arg(&alone),
        work,
    )?;
    set_up(server.addr, SMALL)?;
    measure(&server, SMALL, "small, alone in its PBX".into(), &mut rows)?;
    drop(server);

    let shared = work.join("scaling.toml");
    std::fs::write(&shared, pbx_toml(&[SMALL, MEDIUM, LARGE]))?;
    let server = Server::start(
        "switchboard (scaling)",
        Command::new(switchboard)
            .args([
                "serve",
                "--ephemeral",
                "--listen",
                "127.0.0.1:0",
                "--config",
            ])
            .arg(&shared),
        work,
    )?;
    for group in [SMALL, MEDIUM, LARGE] {
        set_up(server.addr, group)?;
    }
    for group in [SMALL, MEDIUM, LARGE] {
        let label = format!(
            "{}: {} entities, {} calls",
            group.name.to_lowercase(),
            group.entities,
            group.calls
        );
        measure(&server, group, label, &mut rows)?;
    }
    // Neighbours busy: two connections read the large group's calls the whole time.
    let busy = Target {
        addr: server.addr,
        path: "/RPC2".to_owned(),
        authorization: Some(LARGE.authorization()),
        body: Bytes::from(request_body("get_calls")),
    };
    let neighbours = std::thread::spawn(move || {
        load::drive(&busy, 2, Duration::ZERO, (warmup + window) * 2 + warmup)
    });
    measure(
        &server,
        SMALL,
        "small, large group busy (2 conns of its get_calls)".into(),
        &mut rows,
    )?;
    let neighbours = neighbours
        .join()
        .map_err(|_| anyhow::anyhow!("the neighbour load panicked"))??;
    println!(
        "neighbour load: {:.0} req/s of the large group's get_calls",
        neighbours.per_second()
    );
    Ok(rows)
}

/// Every group's user stores the `dict_get` key, and places its group's calls.
fn set_up(addr: SocketAddr, group: Group) -> Result<()> {
    let auth = group.authorization();
    expect_ok(
        rpc(addr, &auth, &method_call("dict_set", &[KEY, VALUE]))?,
        "dict_set",
    )?;
    for i in 0..group.calls {
        let from = (group.first + 2 * i).to_string();
        let to = (group.first + 2 * i + 1).to_string();
        expect_ok(
            rpc(addr, &auth, &method_call("sim.call", &[&from, &to]))?,
            "sim.call",
        )?;
    }
    Ok(())
}

fn expect_ok(answer: Vec<u8>, what: &str) -> Result<()> {
    if load::is_success(hyper::StatusCode::OK, &answer) {
        Ok(())
    } else {
        bail!("{what} failed: {}", String::from_utf8_lossy(&answer))
    }
}

/// The request of a peer-table row.
fn request_body(call: &str) -> String {
    match call {
        "dict_get" => method_call("dict_get", &[KEY]),
        "system.multicall" => {
            let one = format!(
                "<value><struct><member><name>methodName</name><value><string>dict_get</string></value></member><member><name>params</name><value><array><data><value><string>{KEY}</string></value></data></array></value></member></struct></value>"
            );
            format!(
                "<?xml version=\"1.0\"?><methodCall><methodName>system.multicall</methodName><params><param><value><array><data>{}</data></array></value></param></params></methodCall>",
                one.repeat(10)
            )
        }
        other => method_call(other, &[]),
    }
}

/// A methodCall with string parameters (as Python's xmlrpc.client writes it).
fn method_call(name: &str, params: &[&str]) -> String {
    let mut xml =
        format!("<?xml version='1.0'?>\n<methodCall>\n<methodName>{name}</methodName>\n<params>\n");
    for p in params {
        let escaped = p
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        let _ = write!(
            xml,
            "<param>\n<value><string>{escaped}</string></value>\n</param>\n"
        );
    }
    xml.push_str("</params>\n</methodCall>\n");
    xml
}

/// One request on its own connection, for set-up and capture: the body of a 200.
fn rpc(addr: SocketAddr, authorization: &str, body: &str) -> Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    write!(
        stream,
        "POST /RPC2 HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {authorization}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let (status, body) = split_response(&answer)?;
    if status != 200 {
        bail!(
            "HTTP {status} from {addr}: {}",
            String::from_utf8_lossy(body)
        );
    }
    Ok(body.to_vec())
}

/// The status and body of a complete `Content-Length` HTTP/1.1 response.
fn split_response(answer: &[u8]) -> Result<(u16, &[u8])> {
    let end = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of headers in the answer")?;
    let head = std::str::from_utf8(&answer[..end]).context("headers not UTF-8")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status in the answer")?;
    Ok((status, &answer[end + 4..]))
}

/// A PBX configuration holding `groups`.
fn pbx_toml(groups: &[Group]) -> String {
    let mut toml = String::from(
        "# Written by `cargo xtask bench-server`.\n# The fixture's users log in with a known password.\nallow_plain_passwords = true\ntime_zone = \"UTC\"\nsimulation = true\n\n[storage]\nmax_keys = 10000\n",
    );
    for g in groups {
        let _ = writeln!(toml, "\n[[group]]\nname = \"{}\"", g.name);
        for i in 0..g.extensions() {
            let number = g.first + i;
            let _ = writeln!(
                toml,
                "[[group.extension]]\nnumber = \"{number}\"\nname = \"{} user {i} & Söhne\"\nphone = \"+1604555{number:04}\"\nemail = \"user{i}@{}.example\"\nvoicemail = {}",
                g.name,
                g.name.to_lowercase(),
                i % 2 == 0
            );
            if i == 0 {
                let _ = writeln!(toml, "password = \"{PASSWORD}\"");
            }
        }
        for q in 0..g.queues() {
            let members: Vec<String> = (0..10)
                .map(|m| format!("\"{}\"", g.first + (q * 10 + m) % g.extensions()))
                .collect();
            let _ = writeln!(
                toml,
                "[[group.queue]]\nnumber = \"{}\"\nname = \"{} queue {q}\"\nmembers = [{}]",
                g.first + g.extensions() + q,
                g.name,
                members.join(", ")
            );
        }
    }
    toml
}

/// Standard base64 with padding (for the Basic credentials).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A server process of ours, killed when dropped.
struct Server {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts `command` (stderr to `<work>/<name>.log`) and reads its address from
    /// its first line, `listening on http://ADDR/RPC2`.
    fn start(name: &'static str, command: &mut Command, work: &Path) -> Result<Server> {
        let log = std::fs::File::create(work.join(format!("{}.log", name.replace(' ', "_"))))?;
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {name}: {command:?}"))?;
        let mut stdout = BufReader::new(child.stdout.take().context("stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        // The rest of the banner must not fill the pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        let addr = match listening_address(&line) {
            Some(addr) => addr,
            None => {
                let _ = child.kill();
                bail!("{name} did not announce its address; its first line: {line:?}");
            }
        };
        Ok(Server { name, child, addr })
    }

    /// `(VmRSS, VmHWM)` in KiB.
    fn memory(&self) -> Result<(u64, u64)> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        Ok((
            status_kib(&status, "VmRSS:").context("no VmRSS")?,
            status_kib(&status, "VmHWM:").context("no VmHWM")?,
        ))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The address in `listening on http://ADDR/RPC2`.
fn listening_address(line: &str) -> Option<SocketAddr> {
    line.trim()
        .strip_prefix("listening on http://")?
        .strip_suffix("/RPC2")?
        .parse()
        .ok()
}

/// A `Key:   1234 kB` line of /proc/PID/status.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn find<'a>(
    results: &'a [PeerResult],
    server: &str,
    call: &str,
    connections: usize,
) -> Option<&'a Measured> {
    results
        .iter()
        .find(|r| r.server == server)?
        .rows
        .iter()
        .find(|(c, n, _)| *c == call && *n == connections)
        .map(|(_, _, m)| m)
}

/// A ratio row: call, connections, × Python, × dxr, share of the floor.
type Check<'a> = (&'a str, usize, f64, f64, f64);

fn render(
    results: &[PeerResult],
    scaling: &Scaling,
    seconds: f64,
    load_before: &str,
    load_after: &str,
) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let rustc = Command::new("rustc")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let python = Command::new("python3")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let mut s = String::new();
    let _ = writeln!(s, "{START}");
    let _ = writeln!(
        s,
        "Generated by `cargo xtask bench-server --seconds {seconds}`; do not edit by hand.\n"
    );
    let _ = writeln!(
        s,
        "Machine: {cores} cores ({cpu}); {rustc}; {python}. Load average before the run `{load_before}`, after `{load_after}` (the machine was shared with other builds: figures are noisy, ratios within one run are what to read).\n"
    );
    let _ = writeln!(
        s,
        "Each row: {seconds} s measured after 0.5 s of warm-up, the generator (one thread, keep-alive HTTP/1.1) and the server on the same machine. Latency in µs, as the generator sees it.\n"
    );
    let _ = writeln!(
        s,
        "| call | conns | server | req/s | p50 | p99 | max | errors | reconnects |\n|---|---|---|---|---|---|---|---|---|"
    );
    for call in CALLS {
        for connections in CONNECTIONS {
            for r in results {
                if let Some(m) = find(results, r.server, call.name, connections) {
                    let _ = writeln!(
                        s,
                        "| {} | {connections} | {} | {:.0} | {} | {} | {} | {} | {} |",
                        call.label,
                        r.server,
                        m.per_second(),
                        m.latency.p50,
                        m.latency.p99,
                        m.latency.max,
                        m.errors,
                        m.reconnects
                    );
                }
            }
        }
    }
    let _ = writeln!(s, "\n| server | idle RSS | peak RSS |\n|---|---|---|");
    for r in results {
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            r.server,
            mib(r.idle_rss_kib),
            mib(r.peak_rss_kib)
        );
    }

    // Ratios of switchboard's req/s to each peer's (Python: the faster variant).
    let _ = writeln!(
        s,
        "\nswitchboard's requests/s divided by each peer's (Python: the faster of its two variants; floor: switchboard as a share of it).\n\n| call | conns | × Python | × dxr | % of floor |\n|---|---|---|---|---|"
    );
    let rate = |server: &str, call: &str, n: usize| {
        find(results, server, call, n).map_or(0.0, Measured::per_second)
    };
    let mut checks = Vec::new();
    for call in CALLS {
        for n in CONNECTIONS {
            let ours = rate("switchboard", call.name, n);
            let py = rate("python", call.name, n).max(rate("python-threaded", call.name, n));
            let dxr = rate("dxr", call.name, n);
            let floor = rate("floor", call.name, n);
            let _ = writeln!(
                s,
                "| {} | {n} | {:.1}× | {:.2}× | {:.0}% |",
                call.label,
                ours / py,
                ours / dxr,
                100.0 * ours / floor
            );
            checks.push((call.name, n, ours / py, ours / dxr, ours / floor));
        }
    }
    let min = |f: &dyn Fn(&Check<'_>) -> Option<f64>| {
        checks.iter().filter_map(f).fold(f64::INFINITY, f64::min)
    };
    let ext_py = min(&|c| (c.0 == "get_extensions").then_some(c.2));
    let dict_py = min(&|c| (c.0 == "dict_get").then_some(c.2));
    let dxr = min(&|c| Some(c.3));
    let dict_floor = min(&|c| (c.0 == "dict_get").then_some(c.4));
    let p99 = find(results, "switchboard", "dict_get", 16).map_or(0, |m| m.latency.p99);
    let idle = results
        .iter()
        .find(|r| r.server == "switchboard")
        .map_or(0, |r| r.idle_rss_kib);
    let mark = |ok: bool| if ok { "met" } else { "**missed**" };
    let _ = writeln!(s, "\n| target | measured (worst row) | |\n|---|---|---|");
    let _ = writeln!(
        s,
        "| ≥ 10× Python on `get_extensions` | {ext_py:.1}× | {} |",
        mark(ext_py >= 10.0)
    );
    let _ = writeln!(
        s,
        "| ≥ 5× Python on `dict_get` | {dict_py:.1}× | {} |",
        mark(dict_py >= 5.0)
    );
    let _ = writeln!(
        s,
        "| ahead of dxr on every row | {dxr:.2}× | {} |",
        mark(dxr > 1.0)
    );
    let _ = writeln!(
        s,
        "| `dict_get` ≥ 60% of the floor | {:.0}% | {} |",
        dict_floor * 100.0,
        mark(dict_floor >= 0.6)
    );
    let _ = writeln!(
        s,
        "| `dict_get` p99 < 5 ms at 16 connections | {p99} µs | {} |",
        mark(p99 < 5_000)
    );
    let _ = writeln!(
        s,
        "| idle RSS < 20 MB | {} | {} |",
        mib(idle),
        mark(idle * 1024 < 20_000_000)
    );

    let _ = writeln!(
        s,
        "\n### Scaling\n\nOne connection, {:.1} s per row. The small, medium and large groups share one PBX (11,100 entities, 1,110 calls); the first row is the small group in a PBX of its own; the last while two other connections read the large group's 1,000 calls without pause (on 2 cores they also compete for CPU).\n\n| caller's group | method | result bytes | p50 µs | p99 µs | req/s |\n|---|---|---|---|---|---|",
        seconds / 2.0
    );
    for (label, method, bytes, m) in scaling {
        let _ = writeln!(
            s,
            "| {label} | `{method}` | {bytes} | {} | {} | {:.0} |",
            m.latency.p50,
            m.latency.p99,
            m.per_second()
        );
    }
    let _ = writeln!(s, "{END}");
    s
}

/// Replaces the text between the markers of `doc` (re-read now: others edit the
/// file's other sections), or appends a `## Server` section holding them.
fn write_section(doc: &Path, section: &str) -> Result<()> {
    let text =
        std::fs::read_to_string(doc).with_context(|| format!("reading {}", doc.display()))?;
    let updated = match (text.find(START), text.find(END)) {
        (Some(start), Some(end)) if start < end => {
            format!(
                "{}{}{}",
                &text[..start],
                section.trim_end(),
                &text[end + END.len()..]
            )
        }
        _ => format!("{}\n\n## Server\n\n{section}", text.trim_end()),
    };
    std::fs::write(doc, updated)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_banner_and_proc_status() {
        assert_eq!(
            listening_address("listening on http://127.0.0.1:4242/RPC2\n"),
            Some("127.0.0.1:4242".parse().unwrap())
        );
        assert_eq!(listening_address("PBX: demo"), None);
        let status = "Name:\tswitchboard\nVmHWM:\t   12345 kB\nVmRSS:\t    6789 kB\n";
        assert_eq!(status_kib(status, "VmHWM:"), Some(12345));
        assert_eq!(status_kib(status, "VmRSS:"), Some(6789));
        assert_eq!(status_kib(status, "VmSwap:"), None);
    }

    #[test]
    fn base64_matches_the_rfc_examples() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
        assert_eq!(BENCH.authorization(), "Basic MTAwMDpiZW5jaA==");
    }

    #[test]
    fn splits_a_response() {
        let (status, body) =
            split_response(b"HTTP/1.1 401 Unauthorized\r\ncontent-length: 2\r\n\r\nno").unwrap();
        assert_eq!((status, body), (401, &b"no"[..]));
        assert!(split_response(b"HTTP/1.1 200 OK\r\n").is_err());
    }

    #[test]
    fn rewrites_only_its_section() {
        let dir = std::env::temp_dir().join(format!("bench-server-doc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let doc = dir.join("b.md");
        std::fs::write(&doc, "# B\n\nkept\n").unwrap();
        write_section(&doc, &format!("{START}\none\n{END}\n")).unwrap();
        write_section(&doc, &format!("{START}\ntwo\n{END}\n")).unwrap();
        let text = std::fs::read_to_string(&doc).unwrap();
        assert_eq!(
            text,
            format!("# B\n\nkept\n\n## Server\n\n{START}\ntwo\n{END}\n")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
