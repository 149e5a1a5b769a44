//! `switchboard events` and the live `watch` against `switchboard serve`: the
//! events arrive as lines, and `watch` follows them without polling (the
//! server's request log says so).

use std::io::{BufRead as _, BufReader};
use std::process::{Child, ChildStdout, Stdio};
use std::sync::mpsc;

use serde_json::Value as Json;

use super::cli::{as_203, sb};
use super::{PATIENCE, Server, collect, switchboard, wait};

/// `switchboard ARGS` as user 203 of `server`, running, stdout piped.
fn spawn(server: &Server, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut command = switchboard();
    for name in [
        "SWITCHBOARD_URL",
        "SWITCHBOARD_USER",
        "SWITCHBOARD_PASSWORD",
    ] {
        command.env_remove(name);
    }
    let mut child = command
        .envs(as_203(server))
        .env("NO_PROXY", "*")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchboard binary starts");
    let _ = collect(child.stderr.take().expect("piped stderr"));
    let lines = lines(child.stdout.take().expect("piped stdout"));
    (child, lines)
}

/// The lines of `stdout` as they come, on a thread.
fn lines(stdout: ChildStdout) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Reads lines until one satisfies `done`; all of them.
fn until(lines: &mpsc::Receiver<String>, done: impl Fn(&str) -> bool) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(PATIENCE) {
            Ok(line) => {
                let last = done(&line);
                seen.push(line);
                if last {
                    return seen;
                }
            }
            Err(e) => panic!("{e}; so far: {seen:#?}"),
        }
    }
}

#[test]
fn events_prints_a_snapshot_then_each_event_as_json_lines() {
    let server = Server::start(&[]);
    let (mut child, lines) = spawn(&server, &["events", "--json"]);
    let first: Json = serde_json::from_str(&until(&lines, |_| true)[0]).unwrap();
    assert_eq!(first["type"], "snapshot");
    assert_eq!(first["data"]["extensions"].as_array().unwrap().len(), 14);
    let id = sb(&server, &["sim", "call", "+15550100", "201"])
        .ok()
        .trim()
        .to_owned();
    let seen = until(&lines, |l| l.contains("\"call.created\""));
    let created: Json = serde_json::from_str(seen.last().unwrap()).unwrap();
    assert_eq!(created["data"]["id"], id.as_str());
    assert_eq!(created["data"]["state"], "ringing");
    assert!(created["id"].as_str().is_some_and(|i| !i.is_empty()));
    assert!(
        created["time"].as_str().unwrap().ends_with('Z'),
        "{created}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn events_filters_types_and_ends_cleanly_when_stdout_closes() {
    let server = Server::start(&[]);
    let mut command = switchboard();
    for name in [
        "SWITCHBOARD_URL",
        "SWITCHBOARD_USER",
        "SWITCHBOARD_PASSWORD",
    ] {
        command.env_remove(name);
    }
    let mut child = command
        .envs(as_203(&server))
        .env("NO_PROXY", "*")
        .args(["events", "--types", "call.created"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchboard binary starts");
    let stderr = collect(child.stderr.take().expect("piped stderr"));
    // `| head -1`: one line read, then the pipe closed.
    let stdout = child.stdout.take().expect("piped stdout");
    let (first, line) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = first.send(line);
    });
    // The stream is open once the snapshot (filtered out) has come: a call
    // made before could be in it rather than in an event, so call until one
    // is printed.
    let line = loop {
        sb(&server, &["sim", "call", "+15550100", "201"]).ok();
        match line.recv_timeout(std::time::Duration::from_millis(500)) {
            Ok(line) => break line,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(e) => panic!("{e}"),
        }
    };
    assert!(line.contains("  call.created  "), "{line}");
    assert!(line.contains("ringing  +15550100 -> 201"), "{line}");
    // The next event finds stdout closed: the command ends, and says nothing.
    sb(&server, &["sim", "call", "+15550101", "202"]).ok();
    let status = wait(&mut child);
    assert!(status.success(), "{status}");
    let stderr = stderr.join().unwrap();
    assert!(stderr.is_empty(), "{stderr}");
}

#[cfg(unix)]
#[test]
fn events_ends_cleanly_on_ctrl_c() {
    let server = Server::start(&[]);
    let (mut child, lines) = spawn(&server, &["events"]);
    let first = until(&lines, |_| true);
    assert!(first[0].contains("  snapshot  "), "{first:?}");
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = wait(&mut child);
    assert!(status.success(), "{status}");
}

#[test]
fn events_without_a_server_is_an_error_not_a_wait() {
    let server = Server::start(&[]);
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/RPC2", listener.local_addr().unwrap())
    };
    let stderr = sb(&server, &["events", "--url", &closed])
        .fails(3)
        .to_owned();
    assert!(stderr.contains("cannot connect"), "{stderr}");
    let stderr = sb(&server, &["events", "--types", "call.teleported"])
        .fails(2)
        .to_owned();
    assert!(stderr.contains("unknown event type"), "{stderr}");
}

#[test]
fn watch_follows_the_events_and_does_not_poll_get_calls() {
    let server = Server::start(&[]);
    let (mut child, lines) = spawn(
        &server,
        &["watch", "--interval", "0.2", "--iterations", "1000"],
    );
    until(&lines, |l| l.ends_with("refresh 1"));
    let id = sb(&server, &["sim", "call", "+15550100", "201"])
        .ok()
        .trim()
        .to_owned();
    let seen = until(&lines, |l| l.starts_with(&format!("{id} ")));
    assert!(seen.iter().any(|l| l == "Calls: 1"), "{seen:#?}");
    sb(&server, &["sim", "hangup", &id]).ok();
    let seen = until(&lines, |l| l == "Calls: 0");
    assert!(!seen.is_empty());
    let _ = child.kill();
    let _ = child.wait();
    let log = server.stop();
    let events = log.lines().filter(|l| l.contains("/events")).count();
    assert_eq!(events, 1, "one stream: {log}");
    let polls = log.lines().filter(|l| l.contains("get_calls")).count();
    assert_eq!(polls, 0, "no get_calls while watching: {log}");
    let sim = log.lines().filter(|l| l.contains("sim.call")).count();
    assert_eq!(sim, 1, "the log shows the API's requests: {log}");
}

#[test]
fn watch_polls_when_asked_to() {
    let server = Server::start(&[]);
    let out = sb(
        &server,
        &["watch", "--poll", "--iterations", "2", "--interval", "0.2"],
    )
    .ok()
    .to_owned();
    assert!(out.contains("refresh 2"), "{out}");
    let log = server.stop();
    let polls = log.lines().filter(|l| l.contains("get_calls")).count();
    assert_eq!(polls, 2, "{log}");
    assert!(!log.contains("/events"), "{log}");
}
