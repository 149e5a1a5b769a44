//! Output that cannot be written and signals: a stderr whose reader has gone
//! and a full stdout cost neither a request nor the server; SIGHUP stops the
//! server as SIGTERM does, finishing the request in flight.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use xmlrpc_codec::{MethodCall, MethodResponse, decode_method_response, encode_method_call};

use super::{PATIENCE, call, collect, switchboard, wait};

/// Sends `signal` (`TERM`, `HUP`) to `child`.
fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// The lines of `stream` as they come.
fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (send, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if send.send(line).is_err() {
                return;
            }
        }
    });
    lines
}

/// Waits for the first line containing `needle`; returns it and the lines before.
fn until(lines: &mpsc::Receiver<String>, needle: &str) -> (String, Vec<String>) {
    let mut before = Vec::new();
    loop {
        match lines.recv_timeout(PATIENCE) {
            Ok(line) if line.contains(needle) => return (line, before),
            Ok(line) => before.push(line),
            Err(e) => panic!("no line with {needle:?} ({e}); got:\n{}", before.join("\n")),
        }
    }
}

/// `switchboard serve --listen 127.0.0.1:0 --ephemeral`, stdin closed.
fn serve() -> Command {
    let mut command = switchboard();
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--ephemeral"])
        .stdin(Stdio::null());
    command
}

/// Reads the `listening on URL` line and keeps draining stdout.
fn url_from_stdout(child: &mut Child) -> String {
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("reading stdout");
    let url = first
        .trim_end()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("expected `listening on URL`, got {first:?}"))
        .to_owned();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    url
}

#[test]
fn logging_to_a_closed_pipe_does_not_break_requests() {
    let mut child = serve()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchboard binary starts");
    // The log's reader goes away: every log line from now on meets EPIPE.
    drop(child.stderr.take());
    let url = url_from_stdout(&mut child);
    // Each answer is logged; each must still come, whole.
    for _ in 0..5 {
        assert!(matches!(
            call(&url, "get_calls"),
            MethodResponse::Success(_)
        ));
    }
    match call(&url, "no.such.method") {
        MethodResponse::Fault(fault) => assert_eq!(fault.code, -32601, "{fault}"),
        other => panic!("expected a fault, got {other:?}"),
    }
    signal(&child, "TERM");
    let status = wait(&mut child);
    assert!(
        status.success(),
        "exits cleanly with its log gone: {status}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_stdout_does_not_stop_the_server() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full (Linux)");
    let mut child = serve()
        .stdout(full)
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchboard binary starts");
    let log = lines(child.stderr.take().expect("piped stderr"));
    // The banner's first line cannot reach anyone: the log says where it serves.
    let (line, _) = until(&log, "cannot write the banner to stdout; serving on");
    assert!(line.contains(" WARN "), "{line}");
    assert!(line.contains("No space left on device"), "{line}");
    let url = line
        .split(' ')
        .find_map(|field| field.strip_prefix("url="))
        .unwrap_or_else(|| panic!("the URL in {line:?}"))
        .to_owned();
    assert!(matches!(
        call(&url, "get_calls"),
        MethodResponse::Success(_)
    ));
    assert!(matches!(
        call(&url, "get_calls"),
        MethodResponse::Success(_)
    ));
    signal(&child, "TERM");
    let status = wait(&mut child);
    assert!(status.success(), "{status}");
}

#[test]
fn sighup_stops_gracefully() {
    let mut child = serve()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchboard binary starts");
    let url = url_from_stdout(&mut child);
    let log = lines(child.stderr.take().expect("piped stderr"));
    let authority = url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix("/RPC2"))
        .expect("an http://HOST:PORT/RPC2 url");

    // A request in flight: its headers are in, and the server asks for the
    // body (100 Continue) only once it is handling the request.
    let body = encode_method_call(&MethodCall::new("get_calls", vec![])).unwrap();
    let mut stream = TcpStream::connect(authority).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "POST /RPC2 HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Basic MjAzOjIwMw==\r\n\
         Content-Type: text/xml\r\nExpect: 100-continue\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");

    signal(&child, "HUP");
    let (stopping, _) = until(&log, "stopping");
    assert!(stopping.contains("signal=\"SIGHUP\""), "{stopping}");
    until(&log, "shutting down: finishing requests in flight");

    // The server is shutting down; the request it was handling still gets its answer.
    stream.write_all(&body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response);
    assert!(response.starts_with(b"HTTP/1.1 200 "), "{text}");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete HTTP response");
    assert!(matches!(
        decode_method_response(&response[split + 4..]),
        Ok(MethodResponse::Success(_))
    ));

    let status = wait(&mut child);
    assert!(status.success(), "SIGHUP is a clean stop: {status}");
    let rest = collect_rest(log);
    assert!(rest.contains("stopped"), "{rest}");
}

/// What is left of the log once the server has exited.
fn collect_rest(log: mpsc::Receiver<String>) -> String {
    log.iter().collect::<Vec<_>>().join("\n")
}

#[test]
fn the_banner_names_every_stop_signal() {
    let mut child = serve()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchboard binary starts");
    let stderr = collect(child.stderr.take().expect("piped stderr"));
    let stdout = lines(child.stdout.take().expect("piped stdout"));
    let (line, _) = until(&stdout, "Stop with");
    assert_eq!(line, "Stop with Ctrl-C (or SIGTERM, SIGHUP).");
    signal(&child, "TERM");
    assert!(wait(&mut child).success(), "{}", stderr.join().unwrap());
}
