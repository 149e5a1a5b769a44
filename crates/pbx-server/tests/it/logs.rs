//! The request log: what it says, and that it never holds credentials.

use std::io;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;
use axum::http::header::AUTHORIZATION;
use pbx_server::ServerConfig;
use tracing_subscriber::fmt::MakeWriter;

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
            "duration=",
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
