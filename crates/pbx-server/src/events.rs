//! `GET /events`: live events as Server-Sent Events (SPEC.md, "Events").
//!
//! A stream starts with a `snapshot` (unless `Last-Event-ID` can be resumed,
//! then with the missed events), then each event as `id:`/`event:`/`data:`,
//! a comment line every `event_heartbeat`, and a fresh snapshot whenever the
//! subscriber fell behind. The JSON of the records comes from the binding
//! (`pbx_xmlrpc::events`), which owns the records' wire form. Streams are
//! capped in all and per user, and end when the server shuts down.
//!
//! An event reaching many subscribers costs O(1) encodings and O(N) cheap
//! writes: its frame is encoded once ([`SseFrame`], through the backend's
//! [`SharedEvent`]) and every stream sends the same `Bytes`; each stream is
//! the connection's body itself (no task or channel between the
//! subscription and the socket), so a delivery wakes one task per
//! subscriber and allocates nothing for it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_core::Stream;
use pbx_backend::{
    BackendError, Caller, Delivery, Encoding, Event, EventId, PbxBackend, ResetCause, ResetCounts,
    Subscription,
};
use tokio::sync::watch;
use tokio::time::{Interval, MissedTickBehavior, interval_at};

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
    resets: ResetCounts,
}

impl Streams {
    pub(crate) fn new() -> Self {
        Self {
            open: Mutex::new(HashMap::new()),
            stop: watch::channel(false).0,
            delivered: AtomicU64::new(0),
            resets: ResetCounts::new(),
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

    /// Snapshots sent so far for `cause`.
    pub(crate) fn resets(&self, cause: ResetCause) -> u64 {
        self.resets.get(cause)
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
    let session = session.map(|id| Session {
        sessions: state.0.sessions.clone(),
        id,
        config: config.console.clone(),
    });
    let follow = Follow::new(
        backend,
        caller.clone(),
        sub,
        config.event_heartbeat,
        permit,
        session,
    );
    let mut response = (
        [
            (CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Body::from_stream(follow.into_stream()),
    )
        .into_response();
    response.extensions_mut().insert(RequestLog {
        user: Some(caller.number().to_owned()),
        ..RequestLog::default()
    });
    response.extensions_mut().insert(Authenticated);
    response
}

/// An event's SSE message, encoded once per event for all its subscribers.
struct SseFrame;

impl Encoding for SseFrame {
    type Output = Bytes;
    fn encode(event: &Event) -> Bytes {
        let data = pbx_xmlrpc::events::event_data_json(&event.data);
        Bytes::from(format!(
            "id: {}\nevent: {}\ndata: {data}\n\n",
            event.id, event.kind
        ))
    }
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

/// One stream: follows the subscription until the client leaves (the body
/// is dropped), the backend's log is gone, the server stops, or the console
/// session it was opened with ends.
struct Follow {
    backend: Arc<dyn PbxBackend>,
    caller: Caller,
    sub: Subscription,
    tick: Interval,
    stop: watch::Receiver<bool>,
    /// Holds the stream's place under the caps until the body is dropped.
    permit: Permit,
    session: Option<Session>,
    /// Whether the first message (a snapshot, unless the subscription
    /// resumed) was sent.
    started: bool,
}

impl Follow {
    fn new(
        backend: Arc<dyn PbxBackend>,
        caller: Caller,
        sub: Subscription,
        heartbeat: std::time::Duration,
        permit: Permit,
        session: Option<Session>,
    ) -> Self {
        let heartbeat = heartbeat.max(std::time::Duration::from_millis(100));
        Self {
            backend,
            caller,
            sub,
            tick: {
                // A body not polled for a while (a slow client) sends one
                // keep-alive when polled again, not the ticks it missed.
                let mut tick = interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
                tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
                tick
            },
            stop: permit.streams.stop.subscribe(),
            permit,
            session,
            started: false,
        }
    }

    /// The stream's messages, as the connection's body polls them.
    fn into_stream(self) -> impl Stream<Item = Result<Bytes, std::convert::Infallible>> + Send {
        futures_util::stream::unfold(self, |mut follow| async move {
            let bytes = follow.next_message().await?;
            Some((Ok(bytes), follow))
        })
    }

    /// The next bytes to send; `None` ends the stream.
    async fn next_message(&mut self) -> Option<Bytes> {
        let streams = &self.permit.streams;
        if !self.started {
            self.started = true;
            if let Some(cause) = self.sub.reset_cause() {
                let first = snapshot(&*self.backend, &self.caller, self.sub.cursor()).await?;
                streams.resets.count(cause);
                return Some(first);
            }
        }
        if *self.stop.borrow_and_update() {
            return None;
        }
        tokio::select! {
            d = self.sub.next_shared() => match d {
                Some(Delivery::Event(event)) => {
                    streams.delivered.fetch_add(1, Ordering::Relaxed);
                    Some(event.encoded::<SseFrame>())
                }
                Some(_) => {
                    streams.resets.count(ResetCause::Lagged);
                    snapshot(&*self.backend, &self.caller, self.sub.cursor()).await
                }
                None => None,
            },
            _ = self.tick.tick() => match &self.session {
                Some(s) if !s.sessions.alive(&s.id, &s.config) => None,
                _ => Some(Bytes::from_static(b": keep-alive\n\n")),
            },
            _ = self.stop.changed() => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt as _;
    use pbx_backend::Simulator as _;
    use pbx_backend_memory::MemoryPbx;

    type Body =
        std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, std::convert::Infallible>> + Send>>;

    /// A stream of `caller`'s as `get` makes it, without HTTP.
    fn open(
        pbx: &Arc<MemoryPbx>,
        caller: &Caller,
        sub: Subscription,
        permit: Permit,
        session: Option<Session>,
    ) -> Body {
        let backend: Arc<dyn PbxBackend> = pbx.clone();
        Box::pin(
            Follow::new(
                backend,
                caller.clone(),
                sub,
                std::time::Duration::from_secs(15),
                permit,
                session,
            )
            .into_stream(),
        )
    }

    async fn next(body: &mut Body) -> Option<Bytes> {
        body.next().await.map(|b| b.unwrap_or_else(|e| match e {}))
    }

    /// Paused time: the check comes with the next heartbeat.
    #[tokio::test(start_paused = true)]
    async fn a_stream_opened_by_a_console_session_ends_at_its_sign_out() {
        let pbx = Arc::new(MemoryPbx::demo());
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
        let mut body = open(&pbx, &caller, sub, permit, Some(session));
        assert!(
            next(&mut body).await.unwrap().starts_with(b"id: "),
            "the snapshot"
        );
        // Watched for longer than the idle expiry: the open page is use.
        let beats = config.session_idle.as_secs() / 15 + 2;
        for _ in 0..beats {
            assert_eq!(next(&mut body).await.unwrap(), &b": keep-alive\n\n"[..]);
        }
        sessions.remove(&id);
        assert!(
            next(&mut body).await.is_none(),
            "signed out: the stream ends"
        );
    }

    /// Paused time: the heartbeat comes after its period without waiting.
    #[tokio::test(start_paused = true)]
    async fn an_idle_stream_gets_a_comment_every_heartbeat_and_ends_on_stop() {
        let pbx = Arc::new(MemoryPbx::demo());
        let caller = pbx.authenticate("203", "203").await.unwrap().unwrap();
        let sub = pbx.events(&caller, None).await.unwrap();
        let streams = Arc::new(Streams::new());
        let permit = streams.admit("203", 1, 1).unwrap();
        assert!(streams.admit("203", 1, 1).is_none(), "the cap holds");
        let mut body = open(&pbx, &caller, sub, permit, None);
        let first = next(&mut body).await.unwrap();
        assert!(first.starts_with(b"id: "), "{first:?}");
        let started = tokio::time::Instant::now();
        assert_eq!(next(&mut body).await.unwrap(), &b": keep-alive\n\n"[..]);
        assert_eq!(started.elapsed(), std::time::Duration::from_secs(15));
        streams.stop();
        assert!(next(&mut body).await.is_none(), "the stream ends");
        assert!(
            streams.admit("203", 1, 1).is_some(),
            "its slot is free again"
        );
    }

    /// The body is the stream: a client gone (the connection drops its body)
    /// frees the stream's place at once, with nothing left running.
    #[tokio::test(start_paused = true)]
    async fn a_stream_whose_client_left_frees_its_place_under_the_caps() {
        let pbx = Arc::new(MemoryPbx::demo());
        let caller = pbx.authenticate("203", "203").await.unwrap().unwrap();
        let sub = pbx.events(&caller, None).await.unwrap();
        let streams = Arc::new(Streams::new());
        let permit = streams.admit("203", 1, 1).unwrap();
        let mut body = open(&pbx, &caller, sub, permit, None);
        assert!(next(&mut body).await.is_some(), "the snapshot");
        assert_eq!(streams.open(), 1);
        drop(body);
        assert_eq!(streams.open(), 0);
        assert!(streams.admit("203", 1, 1).is_some());
    }

    /// The fan-out's cost: one event, one encoding, whatever the number of
    /// subscribers. Every stream is sent the very same bytes (one buffer,
    /// not equal copies), the structural sign that it was encoded once.
    #[tokio::test(start_paused = true)]
    async fn an_event_is_encoded_once_for_all_its_subscribers() {
        const SUBSCRIBERS: usize = 50;
        let pbx = Arc::new(MemoryPbx::demo());
        let caller = pbx.authenticate("203", "203").await.unwrap().unwrap();
        let streams = Arc::new(Streams::new());
        let mut bodies = Vec::new();
        for _ in 0..SUBSCRIBERS {
            let sub = pbx.events(&caller, None).await.unwrap();
            let permit = streams.admit("203", SUBSCRIBERS, SUBSCRIBERS).unwrap();
            let mut body = open(&pbx, &caller, sub, permit, None);
            let snapshot = next(&mut body).await.unwrap();
            assert!(snapshot.starts_with(b"id: "), "{snapshot:?}");
            bodies.push(body);
        }
        pbx.call(&caller, "+15550100", "201", None).await.unwrap();
        let mut frames = Vec::new();
        for body in &mut bodies {
            frames.push(next(body).await.unwrap());
        }
        let first = &frames[0];
        let text = std::str::from_utf8(first).unwrap();
        assert!(text.contains("\nevent: call.created\ndata: {"), "{text}");
        for frame in &frames {
            assert_eq!(frame.as_ptr(), first.as_ptr(), "a copy: encoded again");
            assert_eq!(frame.len(), first.len());
        }
        assert_eq!(streams.delivered(), SUBSCRIBERS as u64);
    }

    /// A stream whose client does not keep up gets no gap: once it fell
    /// behind the channel, its next message is a fresh snapshot (what the
    /// shared events it missed would have told), then live events again.
    #[tokio::test(start_paused = true)]
    async fn a_stream_that_fell_behind_is_sent_a_fresh_snapshot_not_a_gap() {
        let mut window = pbx_backend::EventWindow::default();
        window.channel_capacity = 2;
        let pbx = Arc::new(MemoryPbx::demo().with_event_window(window));
        let caller = pbx.authenticate("203", "203").await.unwrap().unwrap();
        let streams = Arc::new(Streams::new());
        let sub = pbx.events(&caller, None).await.unwrap();
        let permit = streams.admit("203", 1, 1).unwrap();
        let mut body = open(&pbx, &caller, sub, permit, None);
        assert!(next(&mut body).await.unwrap().starts_with(b"id: "));
        for to in ["201", "202", "204"] {
            pbx.call(&caller, "+15550100", to, None).await.unwrap();
        }
        let text = next(&mut body).await.unwrap();
        let text = std::str::from_utf8(&text).unwrap();
        assert!(text.contains("\nevent: snapshot\ndata: {"), "{text}");
        assert_eq!(streams.resets(ResetCause::Start), 1, "the first snapshot");
        assert_eq!(streams.resets(ResetCause::Lagged), 1, "this one");
        assert_eq!(streams.delivered(), 0);
        pbx.call(&caller, "+15550101", "205", None).await.unwrap();
        let text = next(&mut body).await.unwrap();
        let text = std::str::from_utf8(&text).unwrap();
        assert!(text.contains("\nevent: call.created\n"), "{text}");
    }
}
