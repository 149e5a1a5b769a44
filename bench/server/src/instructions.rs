//! `bench-server --instructions [--requests N]`: instructions per request, counted by
//! callgrind, for switchboard, dxr and the two floors on the peer table's calls.
//!
//! Wall-clock rates on a shared machine move by tens of percent between runs; the
//! instructions a server executes for a request repeat. Each server runs under
//! `valgrind --tool=callgrind`; per call, a warm-up on one keep-alive connection, then
//! `callgrind_control --zero`, N requests on the same connection, `callgrind_control
//! --dump`, and the dump's total over N. The Python servers and `scaling` are
//! wall-clock rows only.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::client::KeepAlive;
use crate::fixtures::{CALLS, Call};
use crate::load;
use crate::load::Target;
use crate::options::Options;
use crate::processes::{Server, Storage, build, peers, serve_command, start_switchboard, version};
use crate::report::{DOC, NONE, Section, ratio, write_section};

/// The servers this mode measures, in table order.
pub(crate) const SERVERS: [&str; 4] = ["switchboard", "dxr", "floor", "xml-rs-floor"];
/// Requests counted per row unless `--requests` says otherwise.
pub(crate) const REQUESTS: usize = 200;
/// Requests sent before the counters are zeroed.
const WARMUP: usize = 50;

const SECTION: Section = Section {
    start: "<!-- bench-instructions:start -->",
    end: "<!-- bench-instructions:end -->",
    heading: "### Instructions per request",
};

/// The servers of `options` this mode measures, and those it skips (wall-clock only).
pub(crate) fn servers(options: &Options) -> (Vec<&'static str>, Vec<&'static str>) {
    let measured = SERVERS
        .into_iter()
        .filter(|s| options.measures_server(s))
        .collect();
    let skipped = options
        .servers
        .iter()
        .flatten()
        .copied()
        .filter(|s| !SERVERS.contains(s))
        .collect();
    (measured, skipped)
}

/// One server's instructions per request, by call.
#[derive(Debug)]
struct Counted {
    server: &'static str,
    per_request: Vec<(&'static str, f64)>,
}

pub(crate) fn run(
    root: &Path,
    target: &Path,
    work: &Path,
    options: &Options,
    requests: usize,
) -> Result<()> {
    let valgrind = valgrind_version()?;
    let binaries = &build(root, target, options)?;
    let (servers, skipped) = servers(options);
    if !skipped.is_empty() {
        println!(
            "--instructions: skipping {} (wall-clock rows only)",
            skipped.join(", ")
        );
    }
    let calls: Vec<Call> = CALLS
        .into_iter()
        .filter(|c| options.measures_call(c.name))
        .collect();

    // The peers serve switchboard's captured answers: when switchboard is not counted
    // it still runs, natively, to capture them.
    let mut results = Vec::new();
    // In memory, as the counts of earlier runs were taken.
    let ours = serve_command(&binaries.switchboard, work, Storage::Ephemeral)?;
    let bodies = if servers.contains(&"switchboard") {
        let (server, bodies) =
            start_switchboard(under_callgrind(&ours, "switchboard", work)?, work)?;
        results.push(count(server, &calls, true, false, requests, work)?);
        bodies
    } else {
        start_switchboard(ours, work)?.1
    };
    for peer in peers(root, binaries, &bodies) {
        if servers.contains(&peer.name) {
            let mut command = under_callgrind(&peer.command, peer.name, work)?;
            let server = Server::start(peer.name, &mut command, work)?;
            results.push(count(
                server, &calls, peer.auth, peer.floor, requests, work,
            )?);
        }
    }

    let rustc = version("rustc", "-V");
    let before = std::fs::read_to_string(root.join(DOC))
        .map(|doc| previous_counts(&doc))
        .unwrap_or_default();
    let mut section = render(&results, &options.arguments(), requests, &valgrind, &rustc);
    let compared = before_and_after(&results, &before);
    if let Some(at) = section.rfind(SECTION.end) {
        section.insert_str(at, &compared);
    }
    print!("{section}");
    if options.partial() {
        println!("a partial run (--only or --servers): {DOC} was not rewritten");
    } else {
        write_section(&root.join(DOC), SECTION, &section)?;
        println!("rewrote the instructions section of {DOC}");
    }
    Ok(())
}

/// `valgrind --version`, or what to install.
pub(crate) fn valgrind_version() -> Result<String> {
    let missing = |program: &str| {
        format!(
            "`{program}` not found: --instructions runs the servers under callgrind; install the Debian package `valgrind` (apt-get install valgrind)"
        )
    };
    let output = Command::new("valgrind")
        .arg("--version")
        .output()
        .with_context(|| missing("valgrind"))?;
    Command::new("callgrind_control")
        .arg("-h")
        .output()
        .with_context(|| missing("callgrind_control"))?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// `command` under callgrind, dumping to `<work>/callgrind.<server>.<pid>.<part>`; the
/// dumps of earlier runs are removed first.
pub(crate) fn under_callgrind(command: &Command, server: &str, work: &Path) -> Result<Command> {
    let prefix = format!("callgrind.{server}.");
    for entry in std::fs::read_dir(work)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            std::fs::remove_file(entry.path())?;
        }
    }
    let mut out = OsString::from("--callgrind-out-file=");
    out.push(work.join(format!("{prefix}%p")));
    Ok(valgrind(command, out))
}

/// `valgrind --tool=callgrind <out> <command>`, with `command`'s changes to the
/// environment (removals too: `RUST_LOG`) and its working directory.
fn valgrind(command: &Command, out: OsString) -> Command {
    let mut wrapped = Command::new("valgrind");
    wrapped
        .arg("--tool=callgrind")
        .arg(out)
        .arg(command.get_program())
        .args(command.get_args());
    for (name, value) in command.get_envs() {
        match value {
            Some(value) => wrapped.env(name, value),
            None => wrapped.env_remove(name),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    wrapped
}

/// Counts `requests` requests of each call on `server`, which runs under callgrind.
fn count(
    server: Server,
    calls: &[Call],
    auth: bool,
    floor: bool,
    requests: usize,
    work: &Path,
) -> Result<Counted> {
    let pid = server.child.id();
    let mut per_request = Vec::new();
    for call in calls {
        let target = Target::for_call(server.addr, *call, auth, floor);
        let mut client = KeepAlive::new(server.addr);
        let mut send = |n| -> Result<()> {
            for _ in 0..n {
                let (status, answer) =
                    client.post(&target.path, target.authorization.as_deref(), &target.body)?;
                let status = hyper::StatusCode::from_u16(status)?;
                if !load::is_success(status, &answer) {
                    bail!(
                        "{} answered {} with HTTP {status}:\n{}",
                        server.name,
                        call.name,
                        String::from_utf8_lossy(&answer)
                    );
                }
            }
            Ok(())
        };
        send(WARMUP)?;
        callgrind_control("--zero", pid)?;
        send(requests)?;
        callgrind_control("--dump", pid)?;
        let dump = newest_dump(work, server.name, pid)?;
        let text = std::fs::read_to_string(&dump)
            .with_context(|| format!("reading {}", dump.display()))?;
        let total = dump_total(&text)
            .with_context(|| format!("no `totals:` or `summary:` line in {}", dump.display()))?;
        let each = total as f64 / requests as f64;
        println!(
            "{:13} {:17}: {:>8} instructions per request ({total} for {requests}; {} reconnects)",
            server.name,
            call.name,
            short_count(each),
            client.reconnects,
        );
        per_request.push((call.name, each));
    }
    Ok(Counted {
        server: server.name,
        per_request,
    })
}

/// Runs `callgrind_control <command> <pid>`, which exits 0 even when it failed.
pub(crate) fn callgrind_control(command: &str, pid: u32) -> Result<()> {
    let output = Command::new("callgrind_control")
        .arg(command)
        .arg(pid.to_string())
        .output()
        .context("running callgrind_control")?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if !output.status.success() || said.contains("Error") || !said.contains("OK") {
        bail!("callgrind_control {command} {pid} failed:\n{said}");
    }
    Ok(())
}

/// The dump with the highest part number of `<work>/callgrind.<server>.<pid>.<part>`.
pub(crate) fn newest_dump(work: &Path, server: &str, pid: u32) -> Result<PathBuf> {
    let prefix = format!("callgrind.{server}.{pid}.");
    let mut newest: Option<(u32, PathBuf)> = None;
    for entry in std::fs::read_dir(work)? {
        let entry = entry?;
        let name = entry.file_name();
        let part = name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(part) = part
            && newest.as_ref().is_none_or(|(n, _)| part > *n)
        {
            newest = Some((part, entry.path()));
        }
    }
    newest
        .map(|(_, path)| path)
        .with_context(|| format!("callgrind wrote no dump {}*", work.join(prefix).display()))
}

/// The instruction total of a callgrind dump: its `totals:` line (the sum of the
/// dump's costs), else its `summary:` line. The event is `Ir` alone, callgrind's default.
pub(crate) fn dump_total(dump: &str) -> Option<u64> {
    let line = |key: &str| {
        dump.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
    };
    line("totals:").or_else(|| line("summary:"))
}

/// A count with three significant digits: `850`, `12.3 k`, `1.12 M`.
fn short_count(value: f64) -> String {
    if !value.is_finite() {
        return NONE.to_owned();
    }
    if value < 0.0 {
        return format!("-{}", short_count(-value));
    }
    if value < 0.5 {
        return "0".to_owned();
    }
    // Round to three significant digits first, so that 999,600 reads `1.00 M`.
    let scale = 10f64.powi(value.log10().floor() as i32 - 2);
    let rounded = (value / scale).round() * scale;
    let (unit, suffix) = match rounded {
        r if r >= 1e9 => (1e9, " G"),
        r if r >= 1e6 => (1e6, " M"),
        r if r >= 1e3 => (1e3, " k"),
        _ => (1.0, ""),
    };
    let shown = rounded / unit;
    let decimals = (2 - shown.log10().floor() as i32).max(0) as usize;
    format!("{shown:.decimals$}{suffix}")
}

/// The table: a row per call counted, a column per server (`–` where not counted).
fn table(results: &[Counted]) -> String {
    let of = |server: &str, call: &str| {
        results
            .iter()
            .find(|r| r.server == server)?
            .per_request
            .iter()
            .find(|(c, _)| *c == call)
            .map(|(_, v)| *v)
    };
    let mut s = String::from(
        "| call | switchboard | dxr | floor | xml-rs-floor | switchboard − xml-rs-floor | dxr / switchboard |\n|---|---:|---:|---:|---:|---:|---:|\n",
    );
    for call in CALLS {
        let counts = SERVERS.map(|server| of(server, call.name));
        if counts.iter().all(Option::is_none) {
            continue;
        }
        let [ours, dxr, _, xml_rs] = counts;
        let mut cells: Vec<String> = counts
            .iter()
            .map(|c| c.map_or_else(|| NONE.to_owned(), short_count))
            .collect();
        cells.push(match (ours, xml_rs) {
            (Some(ours), Some(xml_rs)) => short_count(ours - xml_rs),
            _ => NONE.to_owned(),
        });
        cells.push(ratio(dxr, ours).map_or_else(|| NONE.to_owned(), |r| format!("{r:.2}×")));
        let _ = writeln!(s, "| {} | {} |", call.label, cells.join(" | "));
    }
    s
}

/// The generated section: how it was made, and the table.
fn render(
    results: &[Counted],
    arguments: &str,
    requests: usize,
    valgrind: &str,
    rustc: &str,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", SECTION.start);
    let _ = writeln!(
        s,
        "Generated by `cargo xtask bench-server {arguments}`; do not edit by hand.\n"
    );
    let _ = writeln!(
        s,
        "{valgrind} (`--tool=callgrind`), {rustc}. Each server runs under callgrind on the fixture above (switchboard with its default `info` logging). Per row: {WARMUP} requests of warm-up on one keep-alive HTTP/1.1 connection, `callgrind_control --zero`, {requests} requests on the same connection, `callgrind_control --dump`; the figure is the dump's instruction total over {requests}. It counts the user-space instructions of every thread of the server process: the kernel's work (syscalls, TCP) and the load generator are not counted. Instruction counts do not depend on other load on the machine the way the rates above do; but an instruction is not a unit of time (a cache miss or a syscall costs much more).\n"
    );
    s.push_str(&table(results));
    let _ = writeln!(
        s,
        "\nswitchboard − xml-rs-floor is what switchboard adds to HTTP and xml-rs (credentials, decoding into XML-RPC values, the backend call, writing the answer, the log event); dxr / switchboard above 1 means dxr executes more instructions for the row."
    );
    s.push_str(&targets(results));
    let _ = writeln!(s, "{}", SECTION.end);
    s
}

/// switchboard's count per call label in the section the doc holds now (the
/// run this one replaces), as shown there.
fn previous_counts(doc: &str) -> Vec<(String, String)> {
    let Some(section) = doc
        .split_once(SECTION.start)
        .and_then(|(_, rest)| rest.split_once(SECTION.end))
        .map(|(section, _)| section)
    else {
        return Vec::new();
    };
    section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .filter_map(|line| {
            let mut cells = line.trim_matches('|').split(" | ").map(str::trim);
            Some((cells.next()?.to_owned(), cells.next()?.to_owned()))
        })
        .collect()
}

/// switchboard's counts before (the section replaced) and now.
fn before_and_after(results: &[Counted], before: &[(String, String)]) -> String {
    let Some(ours) = results.iter().find(|r| r.server == "switchboard") else {
        return String::new();
    };
    let mut rows = String::new();
    for call in CALLS {
        let Some((_, now)) = ours.per_request.iter().find(|(c, _)| *c == call.name) else {
            continue;
        };
        let Some((_, was)) = before.iter().find(|(label, _)| *label == call.label) else {
            continue;
        };
        let _ = writeln!(rows, "| {} | {was} | {} |", call.label, short_count(*now));
    }
    if rows.is_empty() {
        return rows;
    }
    format!(
        "\nswitchboard before (the section this run replaced) and now:\n\n| call | before | now |\n|---|---:|---:|\n{rows}"
    )
}

/// The instruction targets: switchboard against the xml-rs floor.
fn targets(results: &[Counted]) -> String {
    let count = |server: &str, call: &str| {
        results
            .iter()
            .find(|r| r.server == server)
            .and_then(|r| r.per_request.iter().find(|(c, _)| *c == call))
            .map(|(_, n)| *n)
    };
    let mut rows = String::new();
    for (call, at_most) in crate::goals::XML_RS_FLOOR_INSTRUCTIONS {
        let Some(r) = ratio(count("switchboard", call), count("xml-rs-floor", call)) else {
            continue;
        };
        let status = if r <= at_most { "met" } else { "**missed**" };
        let _ = writeln!(
            rows,
            "| `{call}`: switchboard ≤ {at_most}× the xml-rs floor's instructions per request | {r:.2}× | {status} |"
        );
    }
    if rows.is_empty() {
        return rows;
    }
    format!("\n| target | measured | |\n|---|---|---|\n{rows}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head and tail of a dump `callgrind_control --dump` wrote with valgrind 3.19.
    const DUMP: &str = "# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\npid: 9310\ncmd:  /work/target-xtask/bench-peers/release/floor-server --bodies /work/bodies\npart: 1\n\n\ndesc: I1 cache: \ndesc: D1 cache: \ndesc: LL cache: \n\ndesc: Timerange: Basic block 0 - 319422\ndesc: Trigger: dump\n\npositions: line\nevents: Ir\nsummary: 548666\n\n\nob=(3) /usr/lib/x86_64-linux-gnu/libc.so.6\nfl=(589) ./misc/../sysdeps/unix/sysv/linux/writev.c\nfn=(4560) writev\n26 20\n-1 40\n\ntotals: 548680\n";

    #[test]
    fn the_previous_run_is_read_from_the_section_it_wrote() {
        let doc = format!(
            "intro\n{}\nGenerated.\n\n| call | switchboard | dxr |\n|---|---:|---:|\n| `dict_get` | 102 k | 56.1 k |\n| `get_calls` (50 calls) | 337 k | 5.84 M |\n{}\nafter\n",
            SECTION.start, SECTION.end
        );
        let before = previous_counts(&doc);
        assert_eq!(
            before,
            [
                ("`dict_get`".to_owned(), "102 k".to_owned()),
                ("`get_calls` (50 calls)".to_owned(), "337 k".to_owned())
            ]
        );
        let now = [Counted {
            server: "switchboard",
            per_request: vec![("dict_get", 105_000.0), ("get_extensions", 689_000.0)],
        }];
        let table = before_and_after(&now, &before);
        assert!(table.contains("| `dict_get` | 102 k | 105 k |"), "{table}");
        assert!(!table.contains("get_extensions"), "{table}");
        assert_eq!(previous_counts("no section"), Vec::new());
    }

    #[test]
    fn reads_a_dumps_total() {
        assert_eq!(dump_total(DUMP), Some(548_680));
        let without_totals = DUMP.replace("totals: 548680\n", "");
        assert_eq!(dump_total(&without_totals), Some(548_666));
        assert_eq!(dump_total("events: Ir\nfn=(1) main\n16 3\n"), None);
        assert_eq!(dump_total("totals: many\n"), None);
    }

    #[test]
    fn counts_have_three_significant_digits() {
        for (value, shown) in [
            (0.2, "0"),
            (850.0, "850"),
            (999.4, "999"),
            (999.6, "1.00 k"),
            (1_234.0, "1.23 k"),
            (12_345.0, "12.3 k"),
            (123_456.0, "123 k"),
            (999_600.0, "1.00 M"),
            (1_120_000.0, "1.12 M"),
            (31_400_000.0, "31.4 M"),
            (-68_240.0, "-68.2 k"),
            (f64::NAN, "–"),
        ] {
            assert_eq!(short_count(value), shown, "{value}");
        }
    }

    #[test]
    fn the_table_leaves_out_what_was_not_counted() {
        let results = [
            Counted {
                server: "switchboard",
                per_request: vec![("dict_get", 124_000.0), ("get_extensions", 1_120_000.0)],
            },
            Counted {
                server: "dxr",
                per_request: vec![("dict_get", 62_000.0), ("get_extensions", 4_480_000.0)],
            },
            Counted {
                server: "floor",
                per_request: vec![("dict_get", 20_100.0), ("get_extensions", 31_000.0)],
            },
        ];
        let table = table(&results);
        assert_eq!(
            table,
            "| call | switchboard | dxr | floor | xml-rs-floor | switchboard − xml-rs-floor | dxr / switchboard |\n\
             |---|---:|---:|---:|---:|---:|---:|\n\
             | `dict_get` | 124 k | 62.0 k | 20.1 k | – | – | 0.50× |\n\
             | `get_extensions` (200 entities) | 1.12 M | 4.48 M | 31.0 k | – | – | 4.00× |\n"
        );
        let with_floor = [
            Counted {
                server: "xml-rs-floor",
                per_request: vec![("dict_get", 55_800.0)],
            },
            Counted {
                server: "switchboard",
                per_request: vec![("dict_get", 124_000.0)],
            },
        ];
        let table = super::table(&with_floor);
        assert!(
            table.contains("| `dict_get` | 124 k | – | – | 55.8 k | 68.2 k | – |"),
            "{table}"
        );
    }

    #[test]
    fn the_section_says_how_it_was_made() {
        let results = [Counted {
            server: "floor",
            per_request: vec![("system.multicall", 21_000.0)],
        }];
        let s = render(
            &results,
            "--instructions --requests 200",
            200,
            "valgrind-3.19.0",
            "rustc 1.95.0",
        );
        assert!(s.starts_with(SECTION.start) && s.trim_end().ends_with(SECTION.end));
        assert!(s.contains("`cargo xtask bench-server --instructions --requests 200`"));
        assert!(s.contains("valgrind-3.19.0") && s.contains("rustc 1.95.0"));
        assert!(s.contains("not counted"));
        assert!(s.contains("| `system.multicall` of 10 `dict_get` | – | – | 21.0 k | – | – | – |"));
    }

    #[test]
    fn callgrind_runs_the_command_with_its_environment_and_directory() {
        let mut command = Command::new("/bin/switchboard");
        command
            .args(["serve", "--ephemeral"])
            .env("BENCH", "1")
            .env_remove("RUST_LOG")
            .current_dir("/srv/bench");
        let wrapped = valgrind(&command, "--callgrind-out-file=/w/c.%p".into());
        assert_eq!(wrapped.get_program(), "valgrind");
        assert_eq!(
            wrapped.get_args().collect::<Vec<_>>(),
            [
                "--tool=callgrind",
                "--callgrind-out-file=/w/c.%p",
                "/bin/switchboard",
                "serve",
                "--ephemeral"
            ]
        );
        let mut envs: Vec<_> = wrapped.get_envs().collect();
        envs.sort();
        assert_eq!(
            envs,
            [
                ("BENCH".as_ref(), Some("1".as_ref())),
                ("RUST_LOG".as_ref(), None)
            ]
        );
        assert_eq!(wrapped.get_current_dir(), Some(Path::new("/srv/bench")));
        let bare = valgrind(&Command::new("x"), OsString::new());
        assert_eq!((bare.get_envs().count(), bare.get_current_dir()), (0, None));
    }

    #[test]
    fn filters_keep_the_servers_this_mode_counts() {
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let all = crate::options::options(&args(&["--instructions"])).unwrap();
        assert_eq!(all.instructions, Some(REQUESTS));
        assert!(!all.partial());
        assert_eq!(servers(&all), (SERVERS.to_vec(), vec![]));
        assert_eq!(all.arguments(), "--instructions --requests 200");
        let some = crate::options::options(&args(&[
            "--instructions",
            "--requests",
            "100",
            "--servers",
            "python,floor,scaling",
            "--only",
            "dict_get",
        ]))
        .unwrap();
        assert_eq!(some.instructions, Some(100));
        assert_eq!(servers(&some), (vec!["floor"], vec!["python", "scaling"]));
        assert_eq!(
            some.arguments(),
            "--instructions --requests 100 --only dict_get --servers python,floor,scaling"
        );
        for (list, error) in [
            (
                &["--instructions", "--servers", "python,scaling"][..],
                "nothing to measure with --instructions",
            ),
            (&["--instructions", "--seconds", "2"], "--seconds is for"),
            (&["--requests", "10"], "--requests needs --instructions"),
            (
                &["--instructions", "--requests", "0"],
                "positive whole number",
            ),
        ] {
            let e = format!("{:#}", crate::options::options(&args(list)).unwrap_err());
            assert!(e.contains(error), "{list:?}: {e}");
        }
    }

    #[test]
    fn rewrites_its_own_markers_and_leaves_the_servers_alone() {
        let dir =
            std::env::temp_dir().join(format!("bench-instructions-doc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let doc = dir.join("b.md");
        let server = format!("{}\nrates\n{}", crate::report::START, crate::report::END);
        std::fs::write(&doc, format!("# B\n\n{server}\n\nprose\n")).unwrap();
        // Missing markers: appended under the section's heading.
        let one = format!("{}\none\n{}\n", SECTION.start, SECTION.end);
        write_section(&doc, SECTION, &one).unwrap();
        assert_eq!(
            std::fs::read_to_string(&doc).unwrap(),
            format!("# B\n\n{server}\n\nprose\n\n### Instructions per request\n\n{one}")
        );
        // Present: replaced in place, the server section untouched.
        std::fs::write(&doc, format!("# B\n\n{server}\n\n{one}\nafter\n")).unwrap();
        let two = format!("{}\ntwo\n{}\n", SECTION.start, SECTION.end);
        write_section(&doc, SECTION, &two).unwrap();
        assert_eq!(
            std::fs::read_to_string(&doc).unwrap(),
            format!("# B\n\n{server}\n\n{two}\nafter\n")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
