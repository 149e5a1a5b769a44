//! A webhook receiver for the tests: an HTTP server on `127.0.0.1:0` that
//! records every request and answers as scripted.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use tokio::sync::{Notify, mpsc};

/// How the receiver answers one request; once the script is used up, 200.
#[derive(Clone)]
pub(crate) enum Answer {
    Status(u16),
    /// Never answers.
    Hang,
    /// Answers 200 once notified.
    HoldUntil(Arc<Notify>),
    /// Answers 200 after this long (on tokio's clock, paused in tests).
    After(Duration),
}

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    pub(crate) path: String,
    pub(crate) content_type: String,
    pub(crate) signature: String,
    pub(crate) body: Vec<u8>,
}

#[derive(Clone)]
struct Shared {
    script: Arc<Mutex<VecDeque<Answer>>>,
    log: Arc<Mutex<Vec<Request>>>,
    sender: mpsc::UnboundedSender<Request>,
}

pub(crate) struct Receiver {
    url: String,
    log: Arc<Mutex<Vec<Request>>>,
    received: tokio::sync::Mutex<mpsc::UnboundedReceiver<Request>>,
}

/// A guard against a hang, not a timing assertion: long enough for any machine.
const GUARD: Duration = Duration::from_secs(120);

impl Receiver {
    pub(crate) async fn start(script: Vec<Answer>) -> Self {
        let (sender, received) = mpsc::unbounded_channel();
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            script: Arc::new(Mutex::new(script.into())),
            log: log.clone(),
            sender,
        };
        let app = axum::Router::new()
            .fallback(axum::routing::any(receive))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url,
            log,
            received: tokio::sync::Mutex::new(received),
        }
    }

    pub(crate) fn url(&self) -> String {
        self.url.clone()
    }

    /// The next request, as soon as it arrives.
    pub(crate) async fn next(&self) -> Request {
        let mut received = self.received.lock().await;
        match tokio::time::timeout(GUARD, received.recv()).await {
            Ok(Some(request)) => request,
            Ok(None) => panic!("the receiver stopped"),
            Err(_) => panic!("no webhook request arrived"),
        }
    }

    /// Every request so far.
    pub(crate) fn all(&self) -> Vec<Request> {
        self.log.lock().unwrap().clone()
    }
}

async fn receive(
    State(shared): State<Shared>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let request = Request {
        path: uri.path().to_owned(),
        content_type: header("content-type"),
        signature: header("switchboard-signature"),
        body: body.to_vec(),
    };
    shared.log.lock().unwrap().push(request.clone());
    let answer = shared.script.lock().unwrap().pop_front();
    let _ = shared.sender.send(request);
    match answer {
        None => StatusCode::OK,
        Some(Answer::Status(code)) => StatusCode::from_u16(code).unwrap(),
        Some(Answer::Hang) => std::future::pending().await,
        Some(Answer::HoldUntil(release)) => {
            release.notified().await;
            StatusCode::OK
        }
        Some(Answer::After(delay)) => {
            tokio::time::sleep(delay).await;
            StatusCode::OK
        }
    }
}

/// Waits until `done` holds, yielding to the runtime in between.
pub(crate) async fn until(mut done: impl FnMut() -> bool) {
    let waited = tokio::time::timeout(GUARD, async {
        while !done() {
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(waited.is_ok(), "the condition never held");
}
