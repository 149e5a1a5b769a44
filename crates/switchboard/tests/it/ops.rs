//! Running `switchboard serve` in production: metrics and health on their own
//! listener, JSON logs, options from the environment, `serve --check`.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::Stdio;

use xmlrpc_codec::{MethodCall, MethodResponse, Value, decode_method_response, encode_method_call};

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

/// One XML-RPC call with `params` over a fresh connection, as user 203.
fn call_with(authority: &str, method: &str, params: Vec<Value>) -> Value {
    let body = encode_method_call(&MethodCall::new(method, params)).unwrap();
    let mut stream = TcpStream::connect(authority).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "POST /RPC2 HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Basic MjAzOjIwMw==\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(&body).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a whole response");
    assert!(head.starts_with("HTTP/1.1 200 "), "{response}");
    match decode_method_response(body.as_bytes()).expect("a methodResponse") {
        MethodResponse::Success(value) => value,
        MethodResponse::Fault(fault) => panic!("{method}: {fault}"),
    }
}

fn member<'a>(value: &'a Value, name: &str) -> &'a Value {
    value
        .as_struct()
        .and_then(|s| s.get(name))
        .unwrap_or_else(|| panic!("no {name} in {value:?}"))
}

/// One sample line of the exposition: name, labels (as written), value.
fn samples(text: &str) -> Vec<(String, String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("a sample: SERIES VALUE");
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => {
                    (name, labels.strip_suffix('}').expect("labels end with }"))
                }
                None => (series, ""),
            };
            let value = value.parse().unwrap_or_else(|_| panic!("a number: {line}"));
            (name.to_owned(), labels.to_owned(), value)
        })
        .collect()
}

/// The value of `name` whose labels hold every `label="value"` of `labels`,
/// summed over the series that match (none: `None`).
fn value(samples: &[(String, String, f64)], name: &str, labels: &[&str]) -> Option<f64> {
    let matching: Vec<f64> = samples
        .iter()
        .filter(|(n, l, _)| {
            n == name
                && labels
                    .iter()
                    .all(|want| l.split(',').any(|have| have == *want))
        })
        .map(|(_, _, v)| *v)
        .collect();
    (!matching.is_empty()).then(|| matching.iter().sum())
}

/// What a dashboard charts, scraped while a scenario runs and clients follow
/// it: requests, latency, live events (both transports) and storage commits
/// all move, on the metrics listener and on the API's behind the token.
#[test]
fn a_dashboard_scrape_during_a_scenario_shows_requests_events_and_storage_commits() {
    let data = tempfile::tempdir().unwrap();
    let token_file = data.path().join("metrics.token");
    std::fs::write(&token_file, "dashboard-token-0123456789\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let dir = data.path().join("data");
    let (server, banner) = start(
        &[(
            "SWITCHBOARD_METRICS_TOKEN_FILE",
            token_file.to_str().unwrap(),
        )],
        &[
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.to_str().unwrap(),
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
    let authority = server
        .url
        .strip_prefix("http://")
        .and_then(|u| u.strip_suffix("/RPC2"))
        .unwrap()
        .to_owned();
    assert!(
        banner
            .iter()
            .any(|l| l.contains(&format!("http://{authority}/metrics with the bearer token"))),
        "{banner:?}"
    );

    // A console follows the events on a stream, an integration by long polls.
    let mut stream = TcpStream::connect(&authority).unwrap();
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "GET /events HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Basic MjAzOjIwMw==\r\n\r\n"
    )
    .unwrap();
    let mut sse = BufReader::new(stream);
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let mut line = String::new();
        assert!(sse.read_line(&mut line).unwrap() > 0, "the stream goes on");
        if let Some(kind) = line.trim_end().strip_prefix("event: ") {
            kinds.push(kind.to_owned());
        }
    }
    assert_eq!(kinds[0], "snapshot", "{kinds:?}");
    let first = call_with(
        &authority,
        "get_events",
        vec![Value::String(String::new()), Value::Int(0)],
    );
    let polled = call_with(
        &authority,
        "get_events",
        vec![member(&first, "cursor").clone(), Value::Int(30)],
    );
    assert!(
        matches!(member(&polled, "events"), Value::Array(events) if !events.is_empty()),
        "the scenario's events: {polled:?}"
    );
    for _ in 0..5 {
        call_with(&authority, "get_calls", vec![]);
    }
    // Durable writes, for the storage's commits.
    for i in 0..3 {
        call_with(
            &authority,
            "dict_set",
            vec![
                Value::String(format!("crm.k{i}")),
                Value::String("v".into()),
            ],
        );
    }

    let (status, text) = get(&metrics, "/metrics");
    assert!(status.contains(" 200 "), "{status}");
    let scraped = samples(&text);
    let at_least_one = |name: &str, labels: &[&str]| {
        let v =
            value(&scraped, name, labels).unwrap_or_else(|| panic!("no {name}{labels:?}: {text}"));
        assert!(v >= 1.0, "{name}{labels:?} = {v}: {text}");
        v
    };
    assert_eq!(
        value(
            &scraped,
            "switchboard_requests_total",
            &["method=\"get_calls\"", "status=\"200\""]
        ),
        Some(5.0),
        "{text}"
    );
    at_least_one(
        "switchboard_request_duration_seconds_count",
        &["method=\"get_events\""],
    );
    assert!(
        value(
            &scraped,
            "switchboard_request_duration_seconds_sum",
            &["method=\"get_calls\""]
        ) > Some(0.0),
        "{text}"
    );
    at_least_one("switchboard_event_streams", &[]);
    at_least_one("switchboard_events_delivered_total", &["transport=\"sse\""]);
    at_least_one(
        "switchboard_events_delivered_total",
        &["transport=\"long_poll\""],
    );
    at_least_one("switchboard_event_resets_total", &["transport=\"sse\""]);
    at_least_one("switchboard_storage_commit_duration_seconds_count", &[]);
    assert!(
        value(
            &scraped,
            "switchboard_storage_commit_duration_seconds_sum",
            &[]
        ) > Some(0.0),
        "{text}"
    );
    assert_eq!(
        value(&scraped, "switchboard_storage_writes_total", &[]),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(&scraped, "switchboard_long_polls", &[]),
        Some(0.0),
        "{text}"
    );

    // The same on the API's listener, with the token and only with it.
    let scrape = |authorization: &str| {
        let mut stream = TcpStream::connect(&authority).unwrap();
        stream.set_read_timeout(Some(PATIENCE)).unwrap();
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: {authority}\r\nAuthorization: {authorization}\r\n\
             Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    };
    let answer = scrape("Bearer dashboard-token-0123456789");
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(
        answer.contains("switchboard_storage_writes_total 3"),
        "{answer}"
    );
    let answer = scrape("Basic MjAzOjIwMw==");
    assert!(answer.starts_with("HTTP/1.1 401 "), "{answer}");
    drop(sse);
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
pub(crate) fn check(args: &[&str]) -> (Option<i32>, String, String) {
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

#[cfg(unix)]
#[test]
fn serve_check_refuses_a_metrics_token_file_open_to_others() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("metrics.token");
    std::fs::write(&token, "dashboard-token-0123456789\n").unwrap();
    std::fs::set_permissions(&token, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, _, stderr) = check(&["--metrics-token-file", token.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("--metrics-token-file") && stderr.contains("chmod 600"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("dashboard-token"),
        "the token stays out: {stderr}"
    );
}
