//! Project automation, run as `cargo xtask <task>`.
//!
//! Tasks:
//! - `ci`: exactly what CI runs (`.ci/run`: fmt check, clippy `-D warnings`, the test suite).
//! - `tidy`: the repository checks (also run by `cargo test` as the tidy tests).
//! - `bench [ARGS]`: the codec's criterion benchmark (ARGS go to `cargo bench`), then the
//!   results table in `docs/benchmarks.md` is regenerated from criterion's output
//!   (`bench --doc-only` regenerates it from the last run without running).
//! - `bench-server [--seconds N] [--only CALL,...] [--servers NAME,...]`: switchboard
//!   under load beside Python's SimpleXMLRPCServer, a dxr server, a bare-HTTP floor and
//!   an xml-rs floor, plus the scaling tables; rewrites the server section of
//!   `docs/benchmarks.md`. It is the package `bench/server`, run here in release.
//!   `--only` and `--servers` measure a part and only print it. `bench-server
//!   --instructions [--requests N]` counts instructions per request under callgrind
//!   instead (needs `valgrind`) and rewrites its own section.
//! - `codegen`: regenerates `docs/api.md` from the method table of `pbx-xmlrpc` and the
//!   example scripts in `fixtures/api` (a test in `pbx-handler` fails when it is stale).
//! - `fuzz [SECONDS]`: every cargo-fuzz target for SECONDS each (default 60), seeded
//!   from its fixtures (`fixtures/xmlrpc`, `fixtures/api` and `fixtures/hostile`;
//!   `fixtures/scenarios` for `scenario`, `fixtures/config` for `config`), with `fuzz/<target>.dict` when present; needs
//!   `cargo install cargo-fuzz` and uses `RUSTC_BOOTSTRAP=1` so that the stable
//!   toolchain accepts cargo-fuzz's nightly flags.

mod bench;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

const USAGE: &str = "usage: cargo xtask <ci|tidy|codegen|bench [ARGS|--doc-only]|bench-server [--seconds N | --instructions [--requests N]] [--only CALL[,CALL...]] [--servers NAME[,NAME...]]|fuzz [SECONDS]>";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = project_root();
    match args.first().map(String::as_str) {
        Some("ci") => run(Command::new("bash").arg(root.join(".ci/run"))),
        Some("tidy") => {
            let problems = tidy::check(&root)?;
            if problems.is_empty() {
                Ok(())
            } else {
                bail!("tidy found problems:\n{}", problems.join("\n"))
            }
        }
        Some("bench") => bench::run(&root, &args[1..]),
        // Its own package (`bench/server`), built in release: a debug load
        // generator would be the bottleneck.
        Some("bench-server") => run(Command::new("cargo")
            .current_dir(&root)
            .args([
                "run",
                "--quiet",
                "--release",
                "--package",
                "bench-server",
                "--",
            ])
            .args(&args[1..])),
        Some("codegen") => run(Command::new("cargo")
            .current_dir(&root)
            .env("UPDATE_EXPECT", "1")
            .args(["test", "--package", "pbx-handler", "--test", "it"])
            .args(["--", "docs::"])),
        Some("fuzz") => fuzz(&root, args.get(1).map(String::as_str)),
        _ => bail!("{USAGE}"),
    }
}

fn fuzz(root: &Path, seconds: Option<&str>) -> Result<()> {
    let seconds: u64 = seconds
        .unwrap_or("60")
        .parse()
        .with_context(|| format!("SECONDS must be a whole number\n{USAGE}"))?;
    let fuzz_dir = root.join("fuzz");
    let list = Command::new("cargo")
        .env("RUSTC_BOOTSTRAP", "1")
        .current_dir(&fuzz_dir)
        .args(["fuzz", "list"])
        .output()
        .context("running `cargo fuzz list` (install it with `cargo install cargo-fuzz`)")?;
    if !list.status.success() {
        bail!(
            "`cargo fuzz list` failed (install it with `cargo install cargo-fuzz`):\n{}",
            String::from_utf8_lossy(&list.stderr)
        );
    }
    for target in String::from_utf8(list.stdout)?
        .lines()
        .filter(|l| !l.is_empty())
    {
        let corpus = fuzz_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        let mut cmd = Command::new("cargo");
        cmd.env("RUSTC_BOOTSTRAP", "1")
            .current_dir(&fuzz_dir)
            .args(["fuzz", "run", target])
            .arg(&corpus)
            .args(fuzz_seeds(root, target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"));
        let dict = fuzz_dir.join(format!("{target}.dict"));
        if dict.exists() {
            cmd.arg(format!("-dict={}", dict.display()));
        }
        run(&mut cmd)?;
    }
    Ok(())
}

/// The seed directories of fuzz target `target` (libFuzzer reads them recursively).
fn fuzz_seeds(root: &Path, target: &str) -> Vec<PathBuf> {
    let dirs: &[&str] = match target {
        // The shipped scenarios and the bad ones (bad/).
        "scenario" => &["fixtures/scenarios"],
        // The bad configurations (bad/).
        "config" => &["fixtures/config"],
        // XML-RPC documents: good/, bad/, encode/, validator/; the API samples
        // (`request` bodies) and the hostile corpus's documents.
        _ => &["fixtures/xmlrpc", "fixtures/api", "fixtures/hostile"],
    };
    dirs.iter().map(|d| root.join(d)).collect()
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().with_context(|| format!("starting {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

/// The workspace root: xtask lives one level below it.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every target in fuzz/Cargo.toml starts from seeds that exist: a target
    /// seeded with another's documents (XML for scenario text) wastes its time.
    #[test]
    fn every_fuzz_target_is_seeded_with_fixtures_that_exist() {
        let root = project_root();
        let manifest = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap();
        let targets: Vec<&str> = manifest
            .split("[[bin]]")
            .skip(1)
            .filter_map(|bin| {
                bin.lines()
                    .find_map(|l| l.trim().strip_prefix("name = "))
                    .map(|n| n.trim_matches('"'))
            })
            .collect();
        for target in ["decode", "request", "scenario", "config"] {
            assert!(targets.contains(&target), "{target} in {targets:?}");
        }
        for target in targets {
            let seeds = fuzz_seeds(&root, target);
            assert!(!seeds.is_empty(), "{target}");
            for dir in seeds {
                let entries = std::fs::read_dir(&dir)
                    .unwrap_or_else(|e| panic!("{target}: {}: {e}", dir.display()));
                assert!(entries.count() > 0, "{target}: {} is empty", dir.display());
            }
        }
        assert_eq!(
            fuzz_seeds(&root, "scenario"),
            [root.join("fixtures/scenarios")]
        );
    }
}
