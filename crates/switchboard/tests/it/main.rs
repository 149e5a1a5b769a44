//! End-to-end tests of the `switchboard` binary: it is started on `127.0.0.1:0`,
//! its bound address read from the first line of its stdout, and real clients
//! (Python's standard library, in `fixtures/interop/`, and the binary's own
//! client subcommands, in `cli`) run against it.

mod cli;
mod cli_edges;
mod durability;
mod events;
mod ops;
mod output;
mod scenario;
mod security;
mod webhooks;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use xmlrpc_codec::{MethodCall, MethodResponse, decode_method_response, encode_method_call};

/// A guard against a hung test; never reached when things work.
const PATIENCE: Duration = Duration::from_secs(60);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn switchboard() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    // The tests read the default (`info`) log, whatever the shell asks for.
    command.env_remove("RUST_LOG");
    // Nor does the user's client configuration file (or profile) count: a
    // configuration folder that does not exist.
    command.env_remove("SWITCHBOARD_PROFILE").env(
        "XDG_CONFIG_HOME",
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-config-home"),
    );
    command
}

/// A data directory of its own for a `serve` that names none (nor `--ephemeral`),
/// so that tests never share one, nor touch the user's: the arguments to add,
/// and the directory to keep until the server is gone.
fn own_data_dir(args: &[&str]) -> (Vec<String>, Option<tempfile::TempDir>) {
    let serve = args.first().is_none_or(|a| *a == "serve");
    if !serve
        || args
            .iter()
            .any(|a| *a == "--data-dir" || *a == "--ephemeral")
    {
        return (Vec::new(), None);
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data").display().to_string();
    (vec!["--data-dir".to_owned(), data], Some(dir))
}

/// A running `switchboard serve`, killed if a test ends without stopping it.
struct Server {
    child: Child,
    url: String,
    stderr: Option<JoinHandle<String>>,
    /// The data directory [`own_data_dir`] made, removed after the server ends.
    data: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts `switchboard serve --listen 127.0.0.1:0 ARGS` and waits for its address.
    fn start(args: &[&str]) -> Server {
        // ARGS are serve's: never the user's data directory, with or without them.
        let serve_args: Vec<&str> = ["serve"].into_iter().chain(args.iter().copied()).collect();
        let (data_args, data) = own_data_dir(&serve_args);
        let mut child = switchboard()
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .args(data_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the switchboard binary starts");
        let stderr = collect(child.stderr.take().expect("piped stderr"));
        let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut first = String::new();
        stdout.read_line(&mut first).expect("reading stdout");
        let Some(url) = first.trim_end().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "expected `listening on URL`, got {first:?}; stderr:\n{}",
                stderr.join().unwrap()
            );
        };
        let url = url.to_owned();
        // Keep draining stdout so that the server never blocks on a full pipe.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Server {
            child,
            url,
            stderr: Some(stderr),
            data,
        }
    }

    /// Sends SIGTERM and expects a clean exit; returns the server's stderr.
    fn stop(mut self) -> String {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = wait(&mut self.child);
        let stderr = self.stderr.take().expect("collected once").join().unwrap();
        assert!(
            exit.success(),
            "switchboard exited with {exit}; stderr:\n{stderr}"
        );
        stderr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `stream` to its end on a thread (a child's pipe, so that it never fills up).
fn collect(mut stream: impl std::io::Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    })
}

/// Waits for `child` to exit, at most [`PATIENCE`].
fn wait(child: &mut Child) -> ExitStatus {
    let (done, exited) = mpsc::channel();
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        if exited.recv_timeout(PATIENCE).is_err() {
            // Still running: unblock the wait below, the assertion then fails.
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    });
    let status = child.wait().expect("waiting for switchboard");
    let _ = done.send(());
    watchdog.join().unwrap();
    status
}

/// Runs a Python script from `fixtures/interop/` and expects it to succeed.
fn python(script: &str, args: &[&str]) -> String {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new("python3")
        .arg(root().join("fixtures/interop").join(script))
        .args(args)
        .output()
        .expect("python3 runs (it is needed by this test)");
    let stdout = String::from_utf8_lossy(&stdout).into_owned();
    let stderr = String::from_utf8_lossy(&stderr);
    assert!(
        status.success(),
        "{script} failed ({status})\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    stdout
}

/// Runs `switchboard ARGS`, which must fail before it starts serving; returns
/// its stderr.
fn fails(args: &[&str]) -> String {
    let (data_args, _data) = own_data_dir(args);
    let mut child = switchboard()
        .args(args)
        .args(data_args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchboard binary starts");
    let stderr = collect(child.stderr.take().expect("piped stderr"));
    let mut stdout = String::new();
    // Ends when the process exits: it must not get as far as listening.
    child
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_string(&mut stdout)
        .unwrap();
    let status = wait(&mut child);
    let stderr = stderr.join().unwrap();
    assert!(!status.success(), "expected a failure; stdout:\n{stdout}");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stdout.is_empty(), "nothing on stdout: {stdout}");
    stderr
}

/// One XML-RPC call over a fresh connection, as user 203.
fn call(url: &str, method: &str) -> MethodResponse {
    let authority = url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix("/RPC2"))
        .expect("an http://HOST:PORT/RPC2 url");
    let body = encode_method_call(&MethodCall::new(method, vec![])).unwrap();
    let mut stream = TcpStream::connect(authority).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "POST /RPC2 HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Basic MjAzOjIwMw==\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(&body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP response");
    assert!(
        response.starts_with(b"HTTP/1.1 200 "),
        "{}",
        String::from_utf8_lossy(&response)
    );
    decode_method_response(&response[split + 4..]).expect("a methodResponse")
}

#[test]
fn the_python_client_passes_every_check() {
    let server = Server::start(&[]);
    let output = python("client.py", &[&server.url]);
    assert!(output.contains("all checks passed"), "{output}");
    server.stop();
}

#[test]
fn the_guides_sample_program_runs_with_only_its_url_changed() {
    let server = Server::start(&[]);
    let output = python("sample.py", &[&server.url]);
    for heading in ["Extensions:", "Calls:", "Favorites:", "keys/values:"] {
        assert!(output.contains(heading), "{output}");
    }
    assert!(output.contains("'abbreviated': '203'"), "{output}");
    server.stop();
}

#[test]
fn sigterm_stops_the_server_cleanly_and_credentials_stay_out_of_the_log() {
    let server = Server::start(&[]);
    assert!(matches!(
        call(&server.url, "get_calls"),
        MethodResponse::Success(_)
    ));
    let log = server.stop();
    let line = log
        .lines()
        .find(|l| l.contains(" INFO pbx_server::log: answered status=200 "))
        .unwrap_or_else(|| panic!("a request log line in the server's layout: {log}"));
    for part in ["user=\"203\"", "method=\"get_calls\"", "duration_us="] {
        assert!(line.contains(part), "{part} missing from {line:?}");
    }
    assert!(log.contains("shutting down"), "{log}");
    assert!(!log.contains("MjAzOjIwMw=="), "{log}");
}

#[test]
fn a_configuration_file_can_replace_the_demo() {
    let demo = root().join("fixtures/demo.toml");
    let server = Server::start(&["--config", demo.to_str().unwrap()]);
    python("sample.py", &[&server.url]);
    server.stop();
}

#[test]
fn no_simulation_switches_the_sim_methods_off() {
    let server = Server::start(&["--no-simulation"]);
    match call(&server.url, "sim.reset") {
        MethodResponse::Fault(fault) => assert_eq!(fault.code, -2, "{fault}"),
        other => panic!("expected fault -2, got {other:?}"),
    }
    assert!(matches!(
        call(&server.url, "get_calls"),
        MethodResponse::Success(_)
    ));
    server.stop();
}

#[test]
fn a_port_in_use_is_one_line_and_a_failure() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let stderr = fails(&["serve", "--listen", &addr]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("switchboard: cannot listen on "),
        "{stderr}"
    );
    assert!(stderr.contains(&addr), "{stderr}");
}

#[test]
fn a_bad_configuration_is_one_line_naming_the_file_and_line() {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bad-switchboard.toml");
    std::fs::write(&path, "time_zone = \"UTC\"\n\n[[group]]\nname = 3\n").unwrap();
    let stderr = fails(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--config",
        path.to_str().unwrap(),
    ]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let location = format!("switchboard: {}:4:", path.display());
    assert!(
        stderr.starts_with(&location),
        "expected {location:?} in {stderr:?}"
    );

    let missing = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-such-file.toml");
    let stderr = fails(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--config",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("no-such-file.toml"), "{stderr}");
}
