//! `GET /events`: live events as Server-Sent Events (SPEC.md, "Events").
//!
//! A stream starts with a `snapshot` (unless `Last-Event-ID` can be resumed,
//! then with the missed events), then each event as `id:`/`event:`/`data:`,
//! a comment line every `event_heartbeat`, and a fresh snapshot whenever the
//! subscriber fell behind. The JSON of the records comes from the binding
//! (`pbx_xmlrpc::events`), which owns the records' wire form. Streams are
//! capped in all and per user, and end when the server shuts down.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pbx_backend::{BackendError, Caller, Delivery, Event, EventId, PbxBackend, Subscription};
use tokio::sync::{mpsc, watch};

use crate::AppState;
use crate::console;
use crate::log::RequestLog;
use crate::rpc::{self, Authenticated};

/// The longest `Last-Event-ID` looked at; a longer one is unknown (a snapshot).
const MAX_EVENT_ID_BYTES: usize = 128;

/// The open streams, for the caps and for shutdown.
#[derive(Debug)]
pub(crate) struct Streams {
    open: Mutex<HashMap<String, usize>>,
    stop: watch::Sender<bool>,
    /// Events sent on every stream so far (snapshots not included).
    delivered: AtomicU64,
    /// Snapshots sent so far: a stream's first, and one each time its
    /// subscriber fell behind.
    resets: AtomicU64,
}

impl Streams {
    pub(crate) fn new() -> Self {
        Self {
            open: Mutex::new(HashMap::new()),
            stop: watch::channel(false).0,
            delivered: AtomicU64::new(0),
            resets: AtomicU64::new(0),
        }
    }

    /// Streams open now.
    pub(crate) fn open(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .sum()
    }

    /// Events sent so far, in all.
    pub(crate) fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Snapshots sent so far, in all.
    pub(crate) fn resets(&self) -> u64 {
        self.resets.load(Ordering::Relaxed)
    }

    /// Ends every stream, now and from now on.
    pub(crate) fn stop(&self) {
        self.stop.send_replace(true);
    }

    fn admit(self: &Arc<Self>, user: &str, total: usize, per_user: usize) -> Option<Permit> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let all: usize = open.values().sum();
        let mine = open.get(user).copied().unwrap_or(0);
        if all >= total || mine >= per_user {
            return None;
        }
        open.insert(user.to_owned(), mine + 1);
        Some(Permit {
            streams: self.clone(),
            user: user.to_owned(),
        })
    }
}

/// One open stream, counted until it is dropped.
struct Permit {
    streams: Arc<Streams>,
    user: String,
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut open = self
            .streams
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = open.get_mut(&self.user) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.user);
            }
        }
    }
}

/// The body: frames from the task that follows the subscription.
struct Frames(mpsc::Receiver<Bytes>);

impl futures_core::Stream for Frames {
    type Item = Result<Bytes, std::convert::Infallible>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|f| f.map(Ok))
    }
}

/// `GET /events`.
pub(crate) async fn get(State(state): State<AppState>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let (caller, session) =
        match console::authenticate_session(&state, &parts, peer, console::Csrf::NotNeeded).await {
            Ok(found) => found,
            Err(response) => return response,
        };
    let config = &state.0.config;
    let Some(permit) = state.0.streams.admit(
        caller.number(),
        config.max_event_streams,
        config.max_event_streams_per_user,
    ) else {
        return rpc::busy("too many event streams");
    };
    let after = parts
        .headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .filter(|id| !id.is_empty() && id.len() <= MAX_EVENT_ID_BYTES)
        .map(EventId::new);
    let backend = state.0.handler.backend().clone();
    let sub = match backend.events(&caller, after.as_ref()).await {
        Ok(sub) => sub,
        Err(BackendError::Unsupported(_)) => {
            return (StatusCode::NOT_FOUND, "this PBX offers no live events\n").into_response();
        }
        Err(error) => {
            tracing::error!(%error, "subscribing to events failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal server error\n").into_response();
        }
    };
    let (tx, rx) = mpsc::channel(16);
    let stop = state.0.streams.stop.subscribe();
    let session = session.map(|id| Session {
        sessions: state.0.sessions.clone(),
        id,
        config: config.console.clone(),
    });
    tokio::spawn(pump(
        backend,
        caller.clone(),
        sub,
        tx,
        config.event_heartbeat,
        stop,
        permit,
        session,
    ));
    let mut response = (
        [
            (CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Body::from_stream(Frames(rx)),
    )
        .into_response();
    response.extensions_mut().insert(RequestLog {
        user: Some(caller.number().to_owned()),
        ..RequestLog::default()
    });
    response.extensions_mut().insert(Authenticated);
    response
}

fn frame(event: &Event) -> Bytes {
    let data = pbx_xmlrpc::events::event_data_json(&event.data);
    Bytes::from(format!(
        "id: {}\nevent: {}\ndata: {data}\n\n",
        event.id, event.kind
    ))
}

async fn snapshot(backend: &dyn PbxBackend, caller: &Caller, id: &EventId) -> Option<Bytes> {
    let read = async {
        Ok::<_, BackendError>(pbx_xmlrpc::events::snapshot_json(
            &backend.get_calls(caller).await?,
            &backend.get_extensions(caller).await?,
            &backend.get_parking_info(caller).await?,
            &backend.get_favorites(caller).await?,
        ))
    };
    match read.await {
        Ok(data) => Some(Bytes::from(format!(
            "id: {id}\nevent: snapshot\ndata: {data}\n\n"
        ))),
        Err(error) => {
            tracing::error!(%error, "reading an event snapshot failed");
            None
        }
    }
}

/// The console session a stream was opened with: checked at every
/// heartbeat, so that signing out (or the session's expiry) ends the stream.
struct Session {
    sessions: Arc<console::Sessions>,
    id: String,
    config: crate::ConsoleConfig,
}

/// Follows the subscription into the stream until the client leaves, the
/// backend's log is gone, the server stops, or the console session it was
/// opened with ends.
#[allow(clippy::too_many_arguments)]
async fn pump(
    backend: Arc<dyn PbxBackend>,
    caller: Caller,
    mut sub: Subscription,
    tx: mpsc::Sender<Bytes>,
    heartbeat: std::time::Duration,
    mut stop: watch::Receiver<bool>,
    permit: Permit,
    session: Option<Session>,
) {
    let streams = permit.streams.clone();
    if sub.is_reset() {
        let Some(first) = snapshot(&*backend, &caller, sub.cursor()).await else {
            return;
        };
        streams.resets.fetch_add(1, Ordering::Relaxed);
        if tx.send(first).await.is_err() {
            return;
        }
    }
    let heartbeat = heartbeat.max(std::time::Duration::from_millis(100));
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        let next = tokio::select! {
            d = sub.next() => match d {
                Some(Delivery::Event(event)) => {
                    streams.delivered.fetch_add(1, Ordering::Relaxed);
                    Some(frame(&event))
                }
                Some(_) => {
                    streams.resets.fetch_add(1, Ordering::Relaxed);
                    snapshot(&*backend, &caller, sub.cursor()).await
                }
                None => None,
            },
            _ = tick.tick() => match &session {
                Some(s) if !s.sessions.alive(&s.id, &s.config) => None,
                _ => Some(Bytes::from_static(b": keep-alive\n\n")),
            },
            _ = stop.changed() => None,
            () = tx.closed() => None,
        };
        let Some(bytes) = next else { return };
        if tx.send(bytes).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbx_backend_memory::MemoryPbx;

    /// Paused time: the check comes with the next heartbeat.
    #[tokio::test(start_paused = true)]
    async fn a_stream_opened_by_a_console_session_ends_at_its_sign_out() {
        let pbx: Arc<dyn PbxBackend> = Arc::new(MemoryPbx::demo());
        let caller = pbx.authenticate("203", "203").await.unwrap().unwrap();
        let sub = pbx.events(&caller, None).await.unwrap();
        let streams = Arc::new(Streams::new());
        let permit = streams.admit("203", 1, 1).unwrap();
        let sessions = Arc::new(console::Sessions::default());
        let config = crate::ConsoleConfig::default();
        let (id, _) = sessions.create(caller.clone(), &config).unwrap();
        let session = Session {
            sessions: sessions.clone(),
            id: id.clone(),
            config: config.clone(),
        };
        let (tx, mut rx) = mpsc::channel(4);
        let heartbeat = std::time::Duration::from_secs(15);
        let stop = streams.stop.subscribe();
        let task = tokio::spawn(pump(
            pbx,
            caller,
            sub,
            tx,
            heartbeat,
            stop,
            permit,
            Some(session),
        ));
        assert!(
            rx.recv().await.unwrap().starts_with(b"id: "),
            "the snapshot"
        );
        // Watched for longer than the idle expiry: the open page is use.
        let beats = config.session_idle.as_secs() / heartbeat.as_secs() + 2;
        for _ in 0..beats {
            assert_eq!(rx.recv().await.unwrap(), &b": keep-alive\n\n"[..]);
        }
        sessions.remove(&id);
        assert!(rx.recv().await.is_none(), "signed out: the stream ends");
        task.await.unwrap();
    }

    /// Paused time: the heartbeat comes after its period without waiting.
    #[tokio::test(start_paused = true)]
    async fn an_idle_stream_gets_a_comment_every_heartbeat_and_ends_on_stop() {
        let pbx: Arc<dyn PbxBackend> = Arc::new(MemoryPbx::demo());
        let caller = pbx.authenticate("203", "203").await.unwrap().unwrap();
        let sub = pbx.events(&caller, None).await.unwrap();
        let streams = Arc::new(Streams::new());
        let permit = streams.admit("203", 1, 1).unwrap();
        assert!(streams.admit("203", 1, 1).is_none(), "the cap holds");
        let (tx, mut rx) = mpsc::channel(4);
        let heartbeat = std::time::Duration::from_secs(15);
        let stop = streams.stop.subscribe();
        let task = tokio::spawn(pump(pbx, caller, sub, tx, heartbeat, stop, permit, None));
        let first = rx.recv().await.unwrap();
        assert!(first.starts_with(b"id: "), "{first:?}");
        let started = tokio::time::Instant::now();
        assert_eq!(rx.recv().await.unwrap(), &b": keep-alive\n\n"[..]);
        assert_eq!(started.elapsed(), heartbeat);
        streams.stop();
        assert!(rx.recv().await.is_none(), "the stream ends");
        task.await.unwrap();
        assert!(
            streams.admit("203", 1, 1).is_some(),
            "its slot is free again"
        );
    }
}
