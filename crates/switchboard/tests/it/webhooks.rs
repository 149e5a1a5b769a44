//! Webhooks end to end: `switchboard serve` with a configuration whose group
//! names two endpoints, the Python example receiver (`examples/webhook_receiver.py`,
//! which verifies every signature) and a dead endpoint that never answers.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use base64::Engine as _;
use xmlrpc_codec::{MethodCall, MethodResponse, Value, decode_method_response, encode_method_call};

use crate::{PATIENCE, Server, fails, root};

const SECRET: &str = "the secret of the end-to-end webhook";

/// The Python receiver, its URL, and its stdout's lines as they come.
struct PythonReceiver {
    child: Child,
    url: String,
    lines: mpsc::Receiver<String>,
}

impl PythonReceiver {
    fn start(secret_file: &std::path::Path) -> Self {
        let mut child = Command::new("python3")
            .arg(root().join("examples/webhook_receiver.py"))
            .args(["--port", "0", "--secret-file"])
            .arg(secret_file)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs (it is needed by this test)");
        let (send, lines) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines.recv_timeout(PATIENCE).expect("the receiver starts");
        let url = first
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("expected `listening on URL`, got {first:?}"))
            .to_owned();
        Self { child, url, lines }
    }

    /// The next event the receiver verified and printed.
    fn next_event(&self) -> serde_json::Value {
        let line = self
            .lines
            .recv_timeout(PATIENCE)
            .expect("the receiver prints the next event");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }
}

impl Drop for PythonReceiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One XML-RPC call as `user` (whose password is its number).
fn rpc(url: &str, user: &str, method: &str, params: Vec<Value>) -> MethodResponse {
    let authority = url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix("/RPC2"))
        .expect("an http://HOST:PORT/RPC2 url");
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{user}"));
    let body = encode_method_call(&MethodCall::new(method, params)).unwrap();
    let mut stream = TcpStream::connect(authority).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "POST /RPC2 HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Basic {auth}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
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
    decode_method_response(&response[split + 4..]).expect("a methodResponse")
}

fn ok(response: MethodResponse) -> Value {
    match response {
        MethodResponse::Success(value) => value,
        other => panic!("expected a result, got {other:?}"),
    }
}

fn text(s: &str) -> Value {
    Value::String(s.into())
}

/// A POST to the receiver with a signature of another secret: its status line.
fn forged_post(url: &str) -> String {
    let authority = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .unwrap();
    let body = r#"{"id":"forged-1","type":"call.created","group":"Acme","time":"2026-12-07T04:20:00Z","data":{}}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let signature = pbx_webhooks::sign(b"not the secret of the webhook", now, body.as_bytes());
    let mut stream = TcpStream::connect(authority).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "POST /hooks/pbx HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\nSwitchboard-Signature: {signature}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn the_python_receiver_verifies_events_of_a_live_server_while_a_dead_endpoint_hangs() {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("webhook.secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let receiver = PythonReceiver::start(&secret_file);
    // Accepts connections (the kernel's backlog) and never answers one.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let config = dir.path().join("pbx.toml");
    std::fs::write(
        &config,
        format!(
            r#"allow_plain_passwords = true

[[group]]
name = "Acme"

[[group.extension]]
number = "203"
name = "Carol Chen"
password = "203"

[[group.connection]]
name = "PSTN"

[[group.webhook]]
url = "http://{dead}/hook"
secret_file = "webhook.secret"

[[group.webhook]]
url = "{url}hooks/pbx"
secret_file = "webhook.secret"
events = ["call.created", "call.ended"]

[[group]]
name = "Globex"

[[group.extension]]
number = "301"
name = "Hank Scorpio"
password = "301"

[[group.connection]]
name = "PSTN"
"#,
            dead = dead.local_addr().unwrap(),
            url = receiver.url,
        ),
    )
    .unwrap();
    // A short drain: the dead endpoint's held POST waits for nothing longer.
    let server = Server::start(&[
        "--config",
        config.to_str().unwrap(),
        "--ephemeral",
        "--webhook-drain",
        "0.5",
    ]);

    // Globex's call comes first: were it delivered, it would be the first line.
    ok(rpc(
        &server.url,
        "301",
        "sim.call",
        vec![text("+15550199"), text("301")],
    ));
    let call = ok(rpc(
        &server.url,
        "203",
        "sim.call",
        vec![text("+15550100"), text("203")],
    ));
    let event = receiver.next_event();
    assert_eq!(event["type"], "call.created", "{event}");
    assert_eq!(event["group"], "Acme", "{event}");
    assert_eq!(event["data"]["from"]["number"], "+15550100", "{event}");
    assert_eq!(
        Value::String(event["data"]["id"].as_str().unwrap().into()),
        call
    );

    // The dead endpoint holds a POST; the API answers all the same.
    let Value::Array(calls) = ok(rpc(&server.url, "203", "get_calls", vec![])) else {
        panic!("get_calls answers an array");
    };
    assert_eq!(calls.len(), 1);

    // A forged request is refused and not printed: the next line is the hang-up.
    assert!(forged_post(&receiver.url).contains(" 401 "));
    ok(rpc(&server.url, "203", "sim.hangup", vec![call.clone()]));
    let event = receiver.next_event();
    assert_eq!(event["type"], "call.ended", "{event}");
    assert_eq!(
        Value::String(event["data"]["id"].as_str().unwrap().into()),
        call
    );

    // Stops cleanly with a POST in flight to the dead endpoint, counted as left.
    let log = server.stop();
    assert!(log.contains("webhook delivery started"), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("left undelivered at shutdown") && l.contains("endpoint=0")),
        "{log}"
    );
    assert!(!log.contains(SECRET), "the secret is never logged: {log}");
    assert!(!log.contains("hooks/pbx"), "nor a URL's path: {log}");
    drop(dead);
}

/// `serve --check --config` on `text`: its stderr, and the file's path.
fn check(text: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pbx.toml");
    std::fs::write(&config, text).unwrap();
    let path = config.to_str().unwrap().to_owned();
    (fails(&["serve", "--check", "--config", &path]), path)
}

const GROUP: &str = r#"[[group]]
name = "Acme"

[[group.extension]]
number = "201"
name = "Alice"
"#;

#[test]
fn serve_check_reports_a_bad_webhook_with_file_line_and_column() {
    let (stderr, path) = check(&format!(
        r#"{GROUP}
[[group.webhook]]
url = "http://crm.example.com/hook"
secret = "short"
"#
    ));
    for expected in [
        format!(
            "{path}:9:7: group \"Acme\": webhook url \"http://crm.example.com\" must use https"
        ),
        format!("{path}:10:10: group \"Acme\": webhook secret must be at least 16 bytes, not 5"),
    ] {
        assert!(stderr.contains(&expected), "{expected}\nin:\n{stderr}");
    }
    assert!(
        !stderr.contains("short"),
        "the secret is not shown: {stderr}"
    );

    let (stderr, path) = check(&format!(
        r#"{GROUP}
[[group.webhook]]
url = "https://crm.example.com/hook"
secret = "0123456789abcdef"
events = ["call.creatd"]
"#
    ));
    let expected =
        format!("{path}:11:11: group \"Acme\": webhook events: unknown event type \"call.creatd\"");
    assert!(stderr.contains(&expected), "{expected}\nin:\n{stderr}");
    assert!(
        stderr.contains("did you mean \"call.created\"?"),
        "{stderr}"
    );
}

/// A `secret_file` its group or others may read is reported by `serve
/// --check` and at start (named, with its mode and the fix, never the
/// secret) but does not stop the server; an owner-only one is not reported.
#[cfg(unix)]
#[test]
fn a_webhook_secret_file_readable_by_others_is_warned_about_at_check_and_start() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("webhook.secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let config = dir.path().join("pbx.toml");
    std::fs::write(
        &config,
        r#"allow_plain_passwords = true

[[group]]
name = "Acme"

[[group.extension]]
number = "201"
name = "Alice"
password = "201"

[[group.webhook]]
url = "https://crm.example.com/hook"
secret_file = "webhook.secret"
"#,
    )
    .unwrap();
    let path = config.to_str().unwrap();
    let shown = secret_file.display();
    let chmod = |mode| {
        std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(mode)).unwrap();
    };

    chmod(0o644);
    let (code, stdout, stderr) = crate::ops::check(&["--config", path]);
    assert_eq!(code, Some(0), "a warning, not a refusal: {stdout}{stderr}");
    let warning = stdout
        .lines()
        .find(|line| line.starts_with("warning: ") && line.contains("secret_file"))
        .unwrap_or_else(|| panic!("a warning line in:\n{stdout}"));
    for part in [
        format!("{path}:13:15: group \"Acme\": webhook secret_file {shown}"),
        "(mode 644)".to_owned(),
        format!("chmod 600 {shown}"),
    ] {
        assert!(warning.contains(&part), "{part} in {warning}");
    }
    assert!(!stdout.contains(SECRET), "{stdout}");

    let server = Server::start(&["--config", path, "--ephemeral"]);
    let log = server.stop();
    let line = log
        .lines()
        .find(|line| line.contains("WARN") && line.contains("secret_file"))
        .unwrap_or_else(|| panic!("a warning at start in:\n{log}"));
    assert!(
        line.contains("(mode 644)") && line.contains(&format!("chmod 600 {shown}")),
        "{line}"
    );
    assert!(!log.contains(SECRET), "{log}");

    chmod(0o600);
    let (code, stdout, stderr) = crate::ops::check(&["--config", path]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(stdout.contains(": OK"), "{stdout}");
    assert!(
        !stdout.contains("secret_file") && !stdout.contains("chmod"),
        "{stdout}"
    );
}

/// A webhook receiver on `127.0.0.1:0` that holds its first request until
/// released and answers every other at once; each body is sent on `bodies`
/// as it arrives.
struct HeldReceiver {
    url: String,
    bodies: mpsc::Receiver<serde_json::Value>,
    release: mpsc::Sender<()>,
}

impl HeldReceiver {
    fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (send, bodies) = mpsc::channel();
        let (release, released) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            let mut held = Some(released);
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(body) = read_post(&mut stream) else {
                    continue;
                };
                if send.send(body).is_err() {
                    return;
                }
                if let Some(released) = held.take() {
                    let _ = released.recv_timeout(PATIENCE);
                }
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Self {
            url,
            bodies,
            release,
        }
    }

    fn next(&self) -> serde_json::Value {
        self.bodies
            .recv_timeout(PATIENCE)
            .expect("the receiver gets the next event")
    }
}

/// The JSON body of one HTTP request on `stream`.
fn read_post(stream: &mut TcpStream) -> Option<serde_json::Value> {
    stream.set_read_timeout(Some(PATIENCE)).ok()?;
    let mut reader = BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

/// A child process killed if the test ends early.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What broke: a graceful stop dropped every event still queued for an
/// endpoint. Here the receiver holds the first event's POST until the server,
/// stopped by SIGTERM, says it is draining; the queued event then still comes,
/// and the server exits cleanly with nothing left undelivered.
#[cfg(unix)]
#[test]
fn sigterm_lets_a_queued_webhook_event_reach_its_receiver_before_exit() {
    use std::os::unix::fs::PermissionsExt as _;
    let receiver = HeldReceiver::start();
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("webhook.secret");
    std::fs::write(&secret_file, SECRET).unwrap();
    std::fs::set_permissions(&secret_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let config = dir.path().join("pbx.toml");
    std::fs::write(
        &config,
        format!(
            r#"allow_plain_passwords = true

[[group]]
name = "Acme"

[[group.extension]]
number = "201"
name = "Alice"
password = "201"

[[group.extension]]
number = "203"
name = "Carol Chen"
password = "203"

[[group.connection]]
name = "PSTN"

[[group.webhook]]
url = "{url}"
secret_file = "webhook.secret"
events = ["call.created"]
"#,
            url = receiver.url
        ),
    )
    .unwrap();
    let mut guard = KillOnDrop(
        crate::switchboard()
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--ephemeral",
                "--config",
            ])
            .arg(&config)
            // Long enough that the held POST is not retried while the test waits.
            .args(["--webhook-timeout", "60", "--webhook-drain", "60"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the switchboard binary starts"),
    );
    let child = &mut guard.0;
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let url = first
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("expected `listening on URL`, got {first:?}"))
        .to_owned();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let (send, log) = mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });

    ok(rpc(
        &url,
        "203",
        "sim.call",
        vec![text("+15550100"), text("203")],
    ));
    ok(rpc(
        &url,
        "201",
        "sim.call",
        vec![text("+15550101"), text("201")],
    ));
    let held = receiver.next();
    assert_eq!(held["data"]["from"]["number"], "+15550100", "{held}");

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut seen = Vec::new();
    loop {
        let line = log
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("no drain in the log:\n{}", seen.join("\n")));
        let draining = line.contains("draining its queue");
        seen.push(line);
        if draining {
            break;
        }
    }
    receiver.release.send(()).unwrap();
    let queued = receiver.next();
    assert_eq!(queued["type"], "call.created", "{queued}");
    assert_eq!(queued["data"]["from"]["number"], "+15550101", "{queued}");

    let exit = crate::wait(child);
    seen.extend(log.iter());
    let seen = seen.join("\n");
    assert!(exit.success(), "{exit}:\n{seen}");
    assert!(!seen.contains("left undelivered"), "{seen}");
    assert!(seen.contains("stopped"), "{seen}");
}
