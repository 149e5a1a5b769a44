//! The request's timer, on tokio's paused clock: `request_timeout` runs from
//! the end of the headers to the answer, `body_timeout` from the start of the
//! body to its end, and the body's deadline gives way to the request's again
//! once the body is in (one timer, reset between the phases).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use pbx_server::ServerConfig;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::support::{HookedPbx, method_call, post, send};

/// A body whose chunks the test sends when it likes; it ends when the sender
/// is dropped.
struct Chunks(mpsc::Receiver<Bytes>);

impl futures_core::Stream for Chunks {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|chunk| chunk.map(Ok))
    }
}

/// A `get_calls` body that is complete after `after`, or never (`None`).
fn body_complete_after(after: Option<Duration>) -> Body {
    let (send, receive) = mpsc::channel(1);
    tokio::spawn(async move {
        let Some(after) = after else {
            // Holds the body open until the request is dropped.
            send.closed().await;
            return;
        };
        tokio::time::sleep(after).await;
        let _ = send
            .send(Bytes::from(method_call("get_calls", vec![])))
            .await;
    });
    Body::from_stream(Chunks(receive))
}

fn config(request: u64, body: u64) -> ServerConfig {
    let mut config = ServerConfig::default();
    config.request_timeout = Duration::from_secs(request);
    config.body_timeout = Duration::from_secs(body);
    config
}

#[tokio::test(start_paused = true)]
async fn a_body_that_never_ends_gets_408_at_the_body_timeout() {
    let router = pbx_server::router(HookedPbx::new(false).state(config(75, 20)));
    let start = Instant::now();
    let answer = send(&router, post("203", body_complete_after(None))).await;
    assert_eq!(answer.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(answer.text(), "request body too slow\n");
    assert_eq!(start.elapsed(), Duration::from_secs(20));
}

#[tokio::test(start_paused = true)]
async fn a_request_timeout_shorter_than_the_body_timeout_bounds_the_body() {
    let router = pbx_server::router(HookedPbx::new(false).state(config(10, 20)));
    let start = Instant::now();
    let answer = send(&router, post("203", body_complete_after(None))).await;
    assert_eq!(answer.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(answer.text(), "");
    assert_eq!(start.elapsed(), Duration::from_secs(10));
}

#[tokio::test(start_paused = true)]
async fn a_handler_that_never_answers_gets_408_at_the_request_timeout_from_the_start() {
    // The body takes 15 s of its 20; the handler then waits forever.
    let router = pbx_server::router(HookedPbx::new(true).state(config(75, 20)));
    let start = Instant::now();
    let body = body_complete_after(Some(Duration::from_secs(15)));
    let answer = send(&router, post("203", body)).await;
    assert_eq!(answer.status, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(answer.text(), "");
    assert_eq!(start.elapsed(), Duration::from_secs(75));
}

#[tokio::test(start_paused = true)]
async fn a_handler_may_run_past_the_body_deadline_once_the_body_is_in() {
    let pbx = HookedPbx::new(true);
    let router = pbx_server::router(pbx.state(config(75, 20)));
    let start = Instant::now();
    // Body in at 15 s; the handler answers at 40 s, past the body's 35 s.
    let opener = pbx.clone();
    tokio::spawn(async move {
        opener.reached.notified().await;
        tokio::time::sleep(Duration::from_secs(25)).await;
        opener.open.notify_one();
    });
    let body = body_complete_after(Some(Duration::from_secs(15)));
    let answer = send(&router, post("203", body)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.fault_code(), None);
    assert_eq!(start.elapsed(), Duration::from_secs(40));
}
