//! The request log: what it says, and that it never holds credentials or stored
//! values.

use std::io;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::header::AUTHORIZATION;
use axum::http::{Request, StatusCode};
use pbx_server::ServerConfig;
use tracing_subscriber::fmt::MakeWriter;
use xmlrpc_codec::Value;

use crate::support::{HookedPbx, SECRET, basic, method_call, send, string};

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test]
async fn the_log_names_user_method_fault_and_status_but_never_credentials() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    // The test runtime is single-threaded: this thread's default subscriber sees
    // it all. With a single dispatcher registered, tracing computes a callsite's
    // interest from the default of whichever thread reaches it first, so a test on
    // another thread would switch our events off for good: keep a second one alive.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let _guard = tracing::subscriber::set_default(subscriber);

    let router = pbx_server::router(HookedPbx::new(false).state(ServerConfig::default()));
    let good = basic("203", SECRET);
    let wrong = basic("203", "wrong-Pa55word");
    let request = |authorization: &str, body: Vec<u8>| {
        Request::post("/RPC2")
            .header(AUTHORIZATION, authorization)
            .body(Body::from(body))
            .unwrap()
    };
    let answer = send(
        &router,
        request(&good, method_call("get_extensions", vec![])),
    )
    .await;
    assert_eq!(answer.fault_code(), None);
    let answer = send(
        &router,
        request(&good, method_call("drop", vec![string("nope")])),
    )
    .await;
    assert_eq!(answer.fault_code(), Some(-1));
    send(&router, request(&wrong, method_call("get_calls", vec![]))).await;
    send(
        &router,
        request("Basic !!", method_call("get_calls", vec![])),
    )
    .await;
    send(
        &router,
        Request::get("/elsewhere").body(Body::empty()).unwrap(),
    )
    .await;

    let log = capture.text();
    for secret in [
        SECRET,
        "wrong-Pa55word",
        good.as_str(),
        wrong.as_str(),
        "Basic",
    ] {
        assert!(!log.contains(secret), "the log holds {secret:?}:\n{log}");
    }
    assert!(!log.to_ascii_lowercase().contains("authorization"), "{log}");
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("answered")).collect();
    assert_eq!(lines.len(), 5, "one event per request:\n{log}");
    let expect = |line: &str, parts: &[&str]| {
        for part in parts {
            assert!(line.contains(part), "{part:?} missing from {line:?}");
        }
    };
    expect(
        lines[0],
        &[
            "status=200",
            "user=\"203\"",
            "method=\"get_extensions\"",
            "duration_us=",
        ],
    );
    expect(
        lines[1],
        &["status=200", "method=\"drop\"", "fault_code=-1"],
    );
    expect(lines[2], &["status=401", "auth_failure=\"rejected\""]);
    expect(lines[3], &["status=401", "auth_failure=\"malformed\""]);
    expect(lines[4], &["status=404", "path=\"/elsewhere\""]);
}

#[tokio::test]
async fn stored_values_and_throttled_credentials_never_reach_the_log() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    // See the test above: a second dispatcher keeps callsite interest per thread.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut config = ServerConfig::default();
    config.throttle.slow_after = 5;
    config.throttle.lock_after = 2;
    let router = pbx_server::router(HookedPbx::new(false).state(config));
    let good = basic("203", SECRET);
    let request = |authorization: &str, body: Vec<u8>| {
        Request::post("/RPC2")
            .header(AUTHORIZATION, authorization)
            .body(Body::from(body))
            .unwrap()
    };
    const VALUE: &str = "Stored-Value-0f-a-CRM-t0ken";
    let too_long = VALUE.repeat(4000);
    for body in [
        method_call("dict_set", vec![string("crm.token"), string(VALUE)]),
        method_call("dict_get", vec![string("crm.token")]),
        method_call("get_all", vec![]),
        method_call("dict_set", vec![string("big"), string(&too_long)]),
        method_call(
            "dict_set_many",
            vec![Value::Struct(
                [("k".to_owned(), string(VALUE))].into_iter().collect(),
            )],
        ),
        method_call("dict_get_serialized", vec![string("crm.token")]),
    ] {
        let answer = send(&router, request(&good, body)).await;
        assert_eq!(answer.status, StatusCode::OK);
    }
    // Wrong passwords until the user is locked out, then the right one: 429.
    let guesses = ["Gue55-one", "Gue55-two"];
    for guess in guesses {
        send(
            &router,
            request(&basic("203", guess), method_call("get_calls", vec![])),
        )
        .await;
    }
    let locked = send(&router, request(&good, method_call("get_calls", vec![]))).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);

    let log = capture.text();
    for secret in [
        SECRET,
        VALUE,
        good.as_str(),
        "Basic",
        guesses[0],
        guesses[1],
    ] {
        assert!(!log.contains(secret), "the log holds {secret:?}:\n{log}");
    }
    assert!(!log.to_ascii_lowercase().contains("authorization"), "{log}");
    assert!(log.contains("auth_failure=\"throttled\""), "{log}");
}

#[tokio::test]
async fn json_rpc_requests_log_one_line_each_with_the_method_or_the_batch() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(capture.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    // See the first test: a second dispatcher keeps callsite interest per thread.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());
    let _guard = tracing::subscriber::set_default(subscriber);

    let router = pbx_server::router(HookedPbx::new(false).state(ServerConfig::default()));
    let request = |body: &str| {
        Request::post("/jsonrpc")
            .header(AUTHORIZATION, basic("203", SECRET))
            .header(axum::http::header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_owned()))
            .unwrap()
    };
    let stored = "a-stored-value-never-logged";
    let answer = send(
        &router,
        request(&format!(
            r#"{{"jsonrpc": "2.0", "method": "dict_set", "params": ["k", "{stored}"], "id": 1}}"#
        )),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    send(
        &router,
        request(r#"{"jsonrpc": "2.0", "method": "dict_get", "params": ["nope"], "id": 2}"#),
    )
    .await;
    send(
        &router,
        request(
            r#"[{"jsonrpc": "2.0", "method": "get_calls", "id": 1}, {"jsonrpc": "2.0", "method": "get_calls"}]"#,
        ),
    )
    .await;
    send(&router, request("{not json")).await;

    let log = capture.text();
    assert!(
        !log.contains(stored),
        "the log holds a stored value:\n{log}"
    );
    assert!(!log.contains(SECRET), "{log}");
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("answered")).collect();
    assert_eq!(lines.len(), 4, "one event per request:\n{log}");
    let expect = |line: &str, parts: &[&str]| {
        for part in parts {
            assert!(line.contains(part), "{part:?} missing from {line:?}");
        }
    };
    expect(
        lines[0],
        &[
            "status=200",
            "path=\"/jsonrpc\"",
            "user=\"203\"",
            "method=\"dict_set\"",
        ],
    );
    expect(lines[1], &["method=\"dict_get\"", "fault_code=-1"]);
    expect(lines[2], &["method=\"batch n=2\""]);
    expect(lines[3], &["fault_code=-32700"]);
}
