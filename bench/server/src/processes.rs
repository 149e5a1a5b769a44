//! The processes a run starts: release builds, switchboard and its peers, their
//! addresses and memory.

use std::ffi::OsStr;
use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

use crate::client::KeepAlive;
use crate::fixtures::*;
use crate::options::*;

/// Where cargo puts builds: `CARGO_TARGET_DIR` or `<root>/target`.
pub(crate) fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { root.join(p) })
        .unwrap_or_else(|| root.join("target"))
}

/// The release builds a run starts.
pub(crate) struct Binaries {
    pub(crate) switchboard: PathBuf,
    /// `release/` of `fixtures/bench/peers`.
    pub(crate) peers: PathBuf,
}

/// Builds switchboard, and the peers when one of them is measured.
pub(crate) fn build(root: &Path, target: &Path, options: &Options) -> Result<Binaries> {
    crate::run_command(Command::new("cargo").current_dir(root).args([
        "build",
        "--release",
        "--package",
        "switchboard",
    ]))?;
    let peers_target = target.join("bench-peers");
    if ["dxr", "floor", "xml-rs-floor"]
        .iter()
        .any(|s| options.measures_server(s))
    {
        crate::run_command(
            Command::new("cargo")
                .current_dir(root.join("fixtures/bench/peers"))
                .env("CARGO_TARGET_DIR", &peers_target)
                .args(["build", "--release", "--locked"]),
        )?;
    }
    Ok(Binaries {
        switchboard: target.join("release/switchboard"),
        peers: peers_target.join("release"),
    })
}

/// Where a switchboard of the bench keeps its user data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Storage {
    /// `--data-dir`: SQLite in a fresh directory under the work directory, as
    /// `serve` runs out of the box.
    Durable,
    /// `--ephemeral`: in memory.
    Ephemeral,
}

/// `switchboard serve` on the peer fixture (`<work>/bench.toml`, written now).
pub(crate) fn serve_command(switchboard: &Path, work: &Path, storage: Storage) -> Result<Command> {
    let config = work.join("bench.toml");
    std::fs::write(&config, pbx_toml(&[BENCH]))?;
    serve(switchboard, &config, storage)
}

/// `switchboard serve` on `config` with `storage` (a durable one in a fresh data
/// directory named after the configuration), on a port of the system's choosing,
/// with its default logging whatever the shell's `RUST_LOG`.
pub(crate) fn serve(switchboard: &Path, config: &Path, storage: Storage) -> Result<Command> {
    let mut command = Command::new(switchboard);
    command.args(["serve", "--listen", "127.0.0.1:0", "--config"]);
    command.arg(config).env_remove("RUST_LOG");
    match storage {
        Storage::Ephemeral => {
            command.arg("--ephemeral");
        }
        Storage::Durable => {
            let dir = config.with_extension("data");
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
            command.arg("--data-dir").arg(dir);
        }
    }
    Ok(command)
}

/// Starts switchboard (`command`, from [`serve_command`]), sets up the fixture and
/// captures its answer to every call into `<work>/bodies`: what the peers serve.
pub(crate) fn start_switchboard(mut command: Command, work: &Path) -> Result<(Server, PathBuf)> {
    let ours = Server::start("switchboard", &mut command, work)?;
    set_up(ours.addr, BENCH)?;
    let bodies = work.join("bodies");
    std::fs::create_dir_all(&bodies)?;
    let mut client = KeepAlive::new(ours.addr);
    for call in CALLS {
        let answer = rpc(
            &mut client,
            &BENCH.authorization(),
            &request_body(call.name),
        )?;
        if !crate::load::is_success(hyper::StatusCode::OK, &answer) {
            bail!(
                "{}: switchboard answered a fault:\n{}",
                call.name,
                String::from_utf8_lossy(&answer)
            );
        }
        std::fs::write(bodies.join(format!("{}.xml", call.name)), &answer)?;
    }
    Ok((ours, bodies))
}

/// A server of the peer table other than switchboard.
pub(crate) struct Peer {
    pub(crate) name: &'static str,
    pub(crate) command: Command,
    /// Sends the bench user's credentials.
    pub(crate) auth: bool,
    /// Called on `/RPC2/<call>`: a floor serves the answer the path names.
    pub(crate) floor: bool,
}

/// The peers, in table order, serving the answers captured in `bodies`.
pub(crate) fn peers(root: &Path, binaries: &Binaries, bodies: &Path) -> Vec<Peer> {
    let python = root.join("fixtures/bench/python_server.py");
    let peer = |name, program: &Path, args: &[&OsStr], auth, floor| {
        let mut command = Command::new(program);
        command.args(args).arg("--bodies").arg(bodies);
        Peer {
            name,
            command,
            auth,
            floor,
        }
    };
    let python3 = Path::new("python3");
    vec![
        peer("python", python3, &[python.as_os_str()], false, false),
        peer(
            "python-threaded",
            python3,
            &[python.as_os_str(), "--threaded".as_ref()],
            false,
            false,
        ),
        peer("dxr", &binaries.peers.join("dxr-server"), &[], true, false),
        peer(
            "floor",
            &binaries.peers.join("floor-server"),
            &[],
            false,
            true,
        ),
        peer(
            "xml-rs-floor",
            &binaries.peers.join("xml-rs-floor"),
            &[],
            false,
            true,
        ),
    ]
}

/// How long a server has to announce its address: generous, for valgrind's start-up.
pub(crate) const STARTUP: Duration = Duration::from_secs(120);

/// A server process of ours, killed when dropped.
pub(crate) struct Server {
    pub(crate) name: &'static str,
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
}

impl Server {
    /// Starts `command` (stderr to `<work>/<name>.log`) and reads its address from
    /// its first line, `listening on http://ADDR/RPC2`, within [`STARTUP`].
    pub(crate) fn start(name: &'static str, command: &mut Command, work: &Path) -> Result<Server> {
        let log_path = work.join(format!("{}.log", name.replace(' ', "_")));
        let log = std::fs::File::create(&log_path)?;
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(log)
            .stdin(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {name}: {command:?}"))?;
        let mut stdout = BufReader::new(child.stdout.take().context("stdout")?);
        let (first_line, line) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = stdout.read_line(&mut line);
            let _ = first_line.send(line);
            // The rest of the banner must not fill the pipe.
            std::io::copy(&mut stdout, &mut std::io::sink())
        });
        let line = line.recv_timeout(STARTUP).unwrap_or_default();
        let Some(addr) = listening_address(&line) else {
            let _ = child.kill();
            let _ = child.wait();
            bail!(
                "{name} did not announce its address within {} s; its first line: {line:?} (its log: {})",
                STARTUP.as_secs(),
                log_path.display()
            );
        };
        Ok(Server { name, child, addr })
    }

    /// `(VmRSS, VmHWM)` in KiB.
    pub(crate) fn memory(&self) -> Result<(u64, u64)> {
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
pub(crate) fn listening_address(line: &str) -> Option<SocketAddr> {
    line.trim()
        .strip_prefix("listening on http://")?
        .strip_suffix("/RPC2")?
        .parse()
        .ok()
}

/// A `Key:   1234 kB` line of /proc/PID/status.
pub(crate) fn status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()
}

/// What `program flag` prints, e.g. `rustc 1.95.0 (…)`; empty when it does not run.
pub(crate) fn version(program: &str, flag: &str) -> String {
    Command::new(program)
        .arg(flag)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
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
}
