//! Running `switchboard serve` in production: metrics and health on their own
//! listener, JSON logs, options from the environment, `serve --check`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::Stdio;

use xmlrpc_codec::MethodResponse;

use crate::{PATIENCE, Server, call, collect, root, switchboard, wait};

/// `switchboard serve ARGS` with `env`, and every line of its banner.
fn start(env: &[(&str, &str)], args: &[&str]) -> (Server, Vec<String>) {
    let mut child = switchboard()
        .arg("serve")
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchboard binary starts");
    let stderr = collect(child.stderr.take().expect("piped stderr"));
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut banner = Vec::new();
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).expect("reading stdout") == 0 {
            let _ = child.kill();
            panic!(
                "the banner ended early: {banner:?}; stderr:\n{}",
                stderr.join().unwrap()
            );
        }
        let line = line.trim_end().to_owned();
        let last = line.starts_with("Stop with");
        banner.push(line);
        if last {
            break;
        }
    }
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let url = banner[0]
        .strip_prefix("listening on ")
        .expect("the first line says where")
        .to_owned();
    let server = Server {
        child,
        url,
        stderr: Some(stderr),
        data: None,
    };
    (server, banner)
}

/// `GET path` on `authority`: the status line and the body.
fn get(authority: &str, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(authority).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a whole response");
    let status = head.lines().next().unwrap_or_default().to_owned();
    (status, body.to_owned())
}

/// The `/metrics` address from the banner's `Metrics: http://ADDR/metrics ...`.
fn metrics_authority(banner: &[String]) -> String {
    banner
        .iter()
        .find_map(|l| l.strip_prefix("Metrics: http://"))
        .and_then(|rest| rest.split_once("/metrics"))
        .map(|(authority, _)| authority.to_owned())
        .unwrap_or_else(|| panic!("a Metrics line in the banner: {banner:?}"))
}

/// The sum of every sample of `name` whose labels contain `labels`.
fn total(metrics: &str, name: &str, labels: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .filter(|(series, _)| {
            series
                .split_once('{')
                .is_some_and(|(n, rest)| n == name && rest.contains(labels))
        })
        .map(|(_, value)| value.parse::<f64>().expect("a number"))
        .sum()
}

#[test]
fn a_scrape_during_a_scenario_shows_requests_and_their_latency() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let (server, banner) = start(
        &[],
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir,
            "--metrics-listen",
            "127.0.0.1:0",
            "--scenario",
            "office-day",
            "--speed",
            "50",
            "--loop",
        ],
    );
    let metrics = metrics_authority(&banner);
    for _ in 0..5 {
        assert!(matches!(
            call(&server.url, "get_calls"),
            MethodResponse::Success(_)
        ));
    }
    let authority = server
        .url
        .strip_prefix("http://")
        .and_then(|u| u.strip_suffix("/RPC2"))
        .unwrap()
        .to_owned();
    let (status, health) = get(&authority, "/health");
    assert!(status.contains(" 200 "), "{status} {health}");
    assert!(health.contains("\"status\":\"ok\""), "{health}");

    let (status, text) = get(&metrics, "/metrics");
    assert!(status.contains(" 200 "), "{status}");
    let requests = total(
        &text,
        "switchboard_requests_total",
        "method=\"get_calls\",status=\"200\"",
    );
    assert_eq!(requests, 5.0, "{text}");
    let timed = total(
        &text,
        "switchboard_request_duration_seconds_count",
        "method=\"get_calls\"",
    );
    assert_eq!(timed, 5.0, "{text}");
    let seconds = total(
        &text,
        "switchboard_request_duration_seconds_sum",
        "method=\"get_calls\"",
    );
    assert!(seconds > 0.0, "{text}");
    // The health probe is a request too, under no method.
    assert!(
        total(&text, "switchboard_requests_total", "method=\"none\"") >= 1.0,
        "{text}"
    );
    // The API's listener has no /metrics.
    let (status, _) = get(&authority, "/metrics");
    assert!(status.contains(" 404 "), "{status}");
    server.stop();
}

#[test]
fn log_format_json_writes_one_object_per_line_without_credentials() {
    let (server, _) = start(
        &[("SWITCHBOARD_LOG_FORMAT", "json")],
        &["--listen", "127.0.0.1:0", "--ephemeral"],
    );
    assert!(matches!(
        call(&server.url, "get_calls"),
        MethodResponse::Success(_)
    ));
    let log = server.stop();
    let mut answered = None;
    for line in log.lines() {
        let object: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"));
        for key in ["timestamp", "level", "target", "message"] {
            assert!(object.get(key).is_some(), "{key} missing: {line}");
        }
        if object["message"] == "answered" {
            answered = Some(object);
        }
    }
    let answered = answered.unwrap_or_else(|| panic!("a request line: {log}"));
    assert_eq!(answered["status"], 200, "{answered}");
    assert_eq!(answered["user"], "203", "{answered}");
    assert_eq!(answered["method"], "get_calls", "{answered}");
    assert_eq!(answered["level"], "INFO", "{answered}");
    assert!(answered["duration_us"].is_u64(), "{answered}");
    // "203:203" in base64, and the password, appear nowhere.
    assert!(
        !log.contains("MjAzOjIwMw") && !log.contains("Authorization"),
        "{log}"
    );
}

#[test]
fn every_serve_option_can_come_from_the_environment() {
    let data = tempfile::tempdir().unwrap();
    let (server, banner) = start(
        &[
            ("SWITCHBOARD_LISTEN", "127.0.0.1:0"),
            ("SWITCHBOARD_DATA_DIR", data.path().to_str().unwrap()),
            ("SWITCHBOARD_NO_SIMULATION", "1"),
            // A flag set to false is no flag: it does not clash with the data directory.
            ("SWITCHBOARD_EPHEMERAL", "false"),
            ("SWITCHBOARD_METRICS_LISTEN", "127.0.0.1:0"),
        ],
        &[],
    );
    let text = banner.join("\n");
    assert!(text.contains("(simulation off)"), "{text}");
    assert!(text.contains("Metrics: http://127.0.0.1:"), "{text}");
    let shown = std::path::absolute(data.path()).unwrap();
    assert!(
        text.contains(&format!("Data: {}", shown.display())),
        "{text}"
    );
    server.stop();
}

/// `switchboard serve --check ARGS`: exit code, stdout, stderr.
fn check(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = switchboard()
        .args(["serve", "--check"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the switchboard binary starts");
    let stderr = collect(child.stderr.take().unwrap());
    let stdout = collect(child.stdout.take().unwrap());
    let status = wait(&mut child);
    (
        status.code(),
        stdout.join().unwrap(),
        stderr.join().unwrap(),
    )
}

#[test]
fn serve_check_reports_every_problem_at_once_and_fails() {
    let bad = root().join("fixtures/config/bad/several-problems.toml");
    let (code, stdout, stderr) = check(&[
        "--config",
        bad.to_str().unwrap(),
        "--scenario",
        "office-day",
        "--tls-cert",
        "/nonexistent/cert.pem",
        "--tls-key",
        "/nonexistent/key.pem",
    ]);
    assert_eq!(code, Some(1), "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    for part in [
        "6 problems found",
        "several-problems.toml:2:13: unknown time zone",
        "several-problems.toml:9:8:",
        "several-problems.toml:12:10:",
        "several-problems.toml:14:12:",
        "--scenario: not checked",
        "/nonexistent/cert.pem",
    ] {
        assert!(stderr.contains(part), "{part:?} missing: {stderr}");
    }
}

#[test]
fn serve_check_suggests_the_key_a_typo_meant() {
    let bad = root().join("fixtures/config/bad/unknown-key.toml");
    let (code, _, stderr) = check(&["--config", bad.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("(did you mean `online`?)"), "{stderr}");
}

#[test]
fn serve_check_passes_a_good_configuration_and_scenario_without_serving() {
    let (code, stdout, stderr) = check(&["--scenario", "office-day"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("built-in demo") && stdout.contains(": OK"),
        "{stdout}"
    );
    assert!(!stdout.contains("listening"), "{stdout}");
}

#[test]
fn a_configuration_without_users_starts_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("empty.toml");
    std::fs::write(&config, "[[group]]\nname = \"Acme\"\n").unwrap();
    let (server, banner) = start(
        &[],
        &[
            "--listen",
            "127.0.0.1:0",
            "--ephemeral",
            "--config",
            config.to_str().unwrap(),
        ],
    );
    let text = banner.join("\n");
    assert!(text.contains("curl -u 'USER:PASSWORD' "), "{text}");
    let log = server.stop();
    assert!(
        log.contains("WARN") && log.contains("nobody can log in"),
        "{log}"
    );
}
