//! `cargo xtask bench`: runs the criterion benchmarks, then rewrites the generated part
//! of `docs/benchmarks.md` from the results criterion left in `<target>/criterion`.
//!
//! Only the text between the two markers is generated, so the hand-written analysis
//! around it stays; every figure inside comes from the run.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

const START: &str = "<!-- bench-results:start -->";
const END: &str = "<!-- bench-results:end -->";

/// Our codec's benchmark id, and the others in the order the tables show them.
const OURS: &str = "xmlrpc-codec";
const FLOOR: &str = "xml-rs-events";
const PEERS: [&str; 3] = ["xmlrpc", "dxr", "serde_xmlrpc"];

/// (criterion group, what the table calls it)
const GROUPS: [(&str, &str); 4] = [
    ("decode_response", "decode methodResponse"),
    ("decode_call", "decode methodCall"),
    ("encode_response", "encode methodResponse"),
    ("encode_call", "encode methodCall"),
];

/// Runs `cargo bench` for the codec (extra arguments go to it), then updates the doc;
/// `--doc-only` skips the run and rewrites the doc from the last results.
pub(crate) fn run(root: &Path, args: &[String]) -> Result<()> {
    if args == ["--doc-only"] {
        return update_doc(root);
    }
    let status = Command::new("cargo")
        .current_dir(root)
        .args(["bench", "--package", "xmlrpc-codec", "--bench", "codec"])
        .args(args)
        .status()
        .context("running cargo bench")?;
    if !status.success() {
        bail!("cargo bench failed: {status}");
    }
    update_doc(root)
}

/// Rewrites the generated section of docs/benchmarks.md from criterion's output.
#[expect(clippy::print_stderr, reason = "xtask reports what it did on stderr")]
fn update_doc(root: &Path) -> Result<()> {
    let criterion = target_dir(root)?.join("criterion");
    let results = Results::read(&criterion)?;
    let doc_path = root.join("docs/benchmarks.md");
    let doc = fs::read_to_string(&doc_path).with_context(|| format!("reading {doc_path:?}"))?;
    let (Some(start), Some(end)) = (doc.find(START), doc.find(END)) else {
        bail!("docs/benchmarks.md lacks the {START} / {END} markers");
    };
    let generated = results.render(&environment());
    let updated = format!("{}{START}\n{generated}{}", &doc[..start], &doc[end..]);
    fs::write(&doc_path, updated)?;
    eprintln!("updated docs/benchmarks.md from {}", criterion.display());
    Ok(())
}

/// One measurement: median time per iteration and the bytes it processed.
#[derive(Clone, Copy)]
struct Measure {
    nanos: f64,
    bytes: u64,
}

impl Measure {
    fn mb_per_s(self) -> f64 {
        self.bytes as f64 / self.nanos * 1e3
    }
}

struct Results {
    dir: PathBuf,
}

impl Results {
    fn read(dir: &Path) -> Result<Self> {
        if !dir.join(GROUPS[0].0).exists() {
            bail!(
                "no criterion results in {}: run `cargo xtask bench` first",
                dir.display()
            );
        }
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    fn get(&self, group: &str, id: &str) -> Option<Measure> {
        let base = self.dir.join(group).join(id);
        let estimates = fs::read_to_string(base.join("new/estimates.json")).ok()?;
        let benchmark = fs::read_to_string(base.join("new/benchmark.json")).ok()?;
        let median = &estimates[estimates.find("\"median\":")?..];
        let nanos = json_number(median, "\"point_estimate\":")?;
        let bytes = json_number(&benchmark, "\"Bytes\":")? as u64;
        Some(Measure { nanos, bytes })
    }

    fn render(&self, environment: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "\n{environment}\n");
        let _ = writeln!(
            out,
            "| operation | implementation | median CPU time | MB/s | `xmlrpc-codec` is |"
        );
        let _ = writeln!(out, "|---|---|---:|---:|---:|");
        for (group, title) in GROUPS {
            let Some(ours) = self.get(group, OURS) else {
                continue;
            };
            let title = format!("{title} ({} bytes)", thousands(ours.bytes));
            for (i, id) in [OURS, FLOOR].into_iter().chain(PEERS).enumerate() {
                let Some(m) = self.get(group, id) else {
                    continue;
                };
                let name = if id == FLOOR {
                    "xml-rs events only (floor)".to_owned()
                } else {
                    format!("`{id}`")
                };
                let ratio = if id == OURS {
                    "—".to_owned()
                } else if id == FLOOR {
                    match (ours.nanos / m.nanos - 1.0) * 100.0 {
                        over if over >= 0.0 => format!("{over:.0}% over the floor"),
                        under => format!("{:.0}% under the floor", -under),
                    }
                } else {
                    match m.nanos / ours.nanos {
                        x if x >= 1.0 => format!("{x:.2}× faster"),
                        x => format!("{:.2}× slower", 1.0 / x),
                    }
                };
                let operation = if i == 0 { title.as_str() } else { "" };
                let _ = writeln!(
                    out,
                    "| {operation} | {name} | {} | {:.1} | {ratio} |",
                    duration(m.nanos),
                    m.mb_per_s()
                );
            }
        }
        let _ = writeln!(out, "\n| target | measured | status |");
        let _ = writeln!(out, "|---|---|---|");
        for row in self.targets() {
            let _ = writeln!(out, "{row}");
        }
        out.push('\n');
        out
    }

    fn targets(&self) -> Vec<String> {
        let mut rows = Vec::new();
        let speedup = |group: &str, peer: &str| {
            Some(self.get(group, peer)?.nanos / self.get(group, OURS)?.nanos)
        };
        for (group, what) in [
            ("decode_response", "methodResponse"),
            ("decode_call", "methodCall"),
        ] {
            if let (Some(ours), Some(floor)) = (self.get(group, OURS), self.get(group, FLOOR)) {
                let over = (ours.nanos / floor.nanos - 1.0) * 100.0;
                let status = if over <= 30.0 {
                    "met".to_owned()
                } else {
                    format!("missed by {:.0} points", over - 30.0)
                };
                rows.push(format!("| decoding a {what} adds at most 30% over xml-rs events | {over:+.0}% | {status} |"));
            }
        }
        for group in ["decode_response", "encode_response", "encode_call"] {
            if let Some(x) = speedup(group, "xmlrpc") {
                let status = if x > 1.0 { "met" } else { "missed" };
                let what = group
                    .replace('_', " ")
                    .replace("response", "methodResponse")
                    .replace("call", "methodCall");
                rows.push(format!(
                    "| faster than `xmlrpc` at {what} | {x:.2}× | {status} |"
                ));
            }
        }
        for group in ["encode_response", "encode_call"] {
            let slowest_gap = PEERS
                .iter()
                .filter_map(|peer| Some((*peer, speedup(group, peer)?)))
                .min_by(|a, b| a.1.total_cmp(&b.1));
            if let Some((peer, x)) = slowest_gap {
                let status = match x {
                    x if x >= 3.0 => "met, and the 3× aim",
                    x if x > 1.0 => "met; 3× aim not reached",
                    _ => "missed",
                };
                let what = group
                    .replace("encode_", "")
                    .replace("response", "methodResponse")
                    .replace("call", "methodCall");
                rows.push(format!("| encoding a {what} faster than every peer (aim 3×) | {x:.2}× vs `{peer}` (closest) | {status} |"));
            }
        }
        rows
    }
}

/// The number after `key` in a JSON text (enough for criterion's flat files).
fn json_number(text: &str, key: &str) -> Option<f64> {
    let rest = text[text.find(key)? + key.len()..].trim_start();
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

fn duration(nanos: f64) -> String {
    match nanos {
        n if n >= 1e6 => format!("{:.2} ms", n / 1e6),
        n if n >= 1e3 => format!("{:.2} µs", n / 1e3),
        n => format!("{n:.0} ns"),
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Where cargo puts build output (honours `CARGO_TARGET_DIR` and `.cargo/config.toml`).
fn target_dir(root: &Path) -> Result<PathBuf> {
    let out = Command::new("cargo")
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .context("running cargo metadata")?;
    let text = String::from_utf8(out.stdout)?;
    let key = "\"target_directory\":\"";
    let start = text
        .find(key)
        .context("cargo metadata gave no target_directory")?
        + key.len();
    let end = start
        + text[start..]
            .find('"')
            .context("unterminated target_directory")?;
    Ok(PathBuf::from(text[start..end].replace("\\\\", "\\")))
}

/// When and where the numbers were taken: date, compiler, CPU, core count.
fn environment() -> String {
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map_or_else(|| "rustc (unknown)".to_owned(), |s| s.trim().to_owned());
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "Measured on {} with {rustc}, {cpu}, {cores} cores; times are the median of \
         criterion's samples of the benchmark thread's CPU time.",
        today()
    )
}

/// Today's UTC date as `YYYY-MM-DD` (civil-from-days, to keep xtask dependency-free).
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_criterion_numbers() {
        let estimates = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":2.5,"standard_error":0.1},"median":{"confidence_interval":{"confidence_level":0.95,"lower_bound":1.0,"upper_bound":3.0},"point_estimate":1.5e3,"standard_error":0.1},"median_abs_dev":{}}"#;
        let median = &estimates[estimates.find("\"median\":").unwrap()..];
        assert_eq!(json_number(median, "\"point_estimate\":"), Some(1500.0));
        assert_eq!(
            json_number(r#"{"throughput":{"Bytes":1048576},"x":1}"#, "\"Bytes\":"),
            Some(1_048_576.0)
        );
        assert_eq!(thousands(1_048_576), "1,048,576");
        assert_eq!(thousands(350), "350");
        assert_eq!(
            Measure {
                nanos: 1e6,
                bytes: 1_000_000
            }
            .mb_per_s(),
            1000.0
        );
    }
}
