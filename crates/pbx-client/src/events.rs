//! Live events: [`Client::events`], a [`Stream`] of what changes in the
//! caller's admin group, over the server's `GET /events` (Server-Sent Events).
//!
//! The stream starts with [`EventUpdate::Connected`] and a
//! [`EventUpdate::Snapshot`] of everything the methods would show, then each
//! [`EventUpdate::Event`] as it happens. When the connection breaks (an error,
//! the server going away, no byte for two heartbeat periods), it says
//! [`EventUpdate::Reconnecting`], waits a growing delay (or the server's
//! `Retry-After`), and reconnects with `Last-Event-ID`: the server then sends
//! exactly the events missed, in order, or, when it no longer holds them, a
//! fresh snapshot first. Apply a snapshot by replacing what you show, and
//! events as upserts (`call.ended`: remove); that is the whole resync rule.
//!
//! The stream ends with an error, and only then, when going on cannot help:
//! refused credentials (401, 403), a server that offers no events
//! ([`ClientError::EventsNotOffered`]: fall back to polling), an answer that is
//! no event stream or a message beyond
//! [`EventStreamBuilder::max_event_bytes`], or
//! [`EventStreamBuilder::max_attempts`] failures in a row.
//!
//! The SSE framing is the `sse-stream` crate's; the records are read by the
//! binding's readers (`pbx_xmlrpc::events`), so no member name is written
//! here; the bytes come through `xmlrpc-client`'s [`get_stream`](xmlrpc_client::Client::get_stream).

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;
use pbx_model::{Call, Entity, Event, EventId, Favorite, ParkingInfo};
use sse_stream::{Sse, SseByteStream};

use crate::client::Client;
use crate::error::ClientError;

/// The path of the event stream beside the API's `/RPC2`.
pub const EVENTS_PATH: &str = "/events";
/// The server's heartbeat period the stream expects by default: 15 s, the
/// reference server's (SPEC.md). Two periods without a byte mean a dead
/// connection.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);
/// The largest SSE message (a snapshot included) kept by default: 16 MiB.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 << 20;
/// The first reconnection delay by default: 500 ms.
pub const DEFAULT_INITIAL_DELAY: Duration = Duration::from_millis(500);
/// The longest reconnection delay by default: 30 s (a `Retry-After` may ask
/// for more, and gets it).
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);
/// The longest wait for the server's answer to open a stream by default: 30 s.
pub const DEFAULT_OPEN_TIMEOUT: Duration = Duration::from_secs(30);

/// One item of an [`EventStream`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventUpdate {
    /// The stream is (again) connected; a snapshot or the missed events follow.
    Connected,
    /// Everything the methods would show now: replace what you show with it.
    /// Comes first on a new stream, and again whenever the server could not
    /// replay what was missed.
    Snapshot(Snapshot),
    /// One change: apply it as an upsert (`call.ended`: remove).
    Event(Event),
    /// The connection is lost; the stream reconnects after `delay` by itself.
    Reconnecting {
        /// Failed attempts in a row, from 1.
        attempt: u32,
        /// How long until the next attempt (the server's `Retry-After` when
        /// it sent a longer one).
        delay: Duration,
        /// Why the connection was lost or could not be made.
        cause: ClientError,
    },
}

/// An SSE `snapshot`: the caller's calls, extensions, parking lot and
/// favorites, as the `get_*` methods return them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// The snapshot's id: the stream resumes after it.
    pub id: EventId,
    /// As `get_calls`.
    pub calls: Vec<Call>,
    /// As `get_extensions`.
    pub extensions: Vec<Entity>,
    /// As `get_parking_info`.
    pub parking: ParkingInfo,
    /// As `get_favorites`.
    pub favorites: Vec<Favorite>,
}

/// Sets up an [`EventStream`]; made by [`Client::events_builder`].
///
/// ```
/// use std::time::Duration;
/// use pbx_client::{Client, EventId};
///
/// let client = Client::new("http://203:203@127.0.0.1:3339/RPC2")?;
/// // Nothing is sent until the stream is polled.
/// let _events = client
///     .events_builder()
///     .resume_after(EventId::new("17af806f75a24000-41"))
///     .max_delay(Duration::from_secs(10))
///     .build();
/// # Ok::<(), pbx_client::ClientError>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct EventStreamBuilder {
    client: Client,
    options: Options,
}

#[derive(Debug, Clone)]
struct Options {
    last_event_id: Option<EventId>,
    heartbeat: Duration,
    max_event_bytes: usize,
    initial_delay: Duration,
    max_delay: Duration,
    open_timeout: Duration,
    max_attempts: Option<u32>,
}

impl EventStreamBuilder {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            options: Options {
                last_event_id: None,
                heartbeat: DEFAULT_HEARTBEAT,
                max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
                initial_delay: DEFAULT_INITIAL_DELAY,
                max_delay: DEFAULT_MAX_DELAY,
                open_timeout: DEFAULT_OPEN_TIMEOUT,
                max_attempts: None,
            },
        }
    }

    /// Resumes after an event (or snapshot) id a previous stream gave: the
    /// first connection sends it as `Last-Event-ID`.
    pub fn resume_after(mut self, id: EventId) -> Self {
        self.options.last_event_id = Some(id);
        self
    }

    /// The server's heartbeat period (default [`DEFAULT_HEARTBEAT`]): a
    /// connection that brings no byte for two periods is dead and replaced.
    pub fn heartbeat(mut self, period: Duration) -> Self {
        self.options.heartbeat = period;
        self
    }

    /// The largest SSE message (default [`DEFAULT_MAX_EVENT_BYTES`]), and so
    /// the largest line. A larger one ends the stream with
    /// [`ClientError::ResponseTooLarge`]: reconnecting would bring it again.
    pub fn max_event_bytes(mut self, limit: usize) -> Self {
        self.options.max_event_bytes = limit;
        self
    }

    /// The first reconnection delay (default [`DEFAULT_INITIAL_DELAY`]); each
    /// failure in a row doubles it, up to [`EventStreamBuilder::max_delay`].
    pub fn initial_delay(mut self, delay: Duration) -> Self {
        self.options.initial_delay = delay;
        self
    }

    /// The longest reconnection delay (default [`DEFAULT_MAX_DELAY`]).
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.options.max_delay = delay;
        self
    }

    /// The longest wait for the server to answer a connection (default
    /// [`DEFAULT_OPEN_TIMEOUT`]).
    pub fn open_timeout(mut self, timeout: Duration) -> Self {
        self.options.open_timeout = timeout;
        self
    }

    /// Gives up after this many failed connections in a row, ending the
    /// stream with the last failure (default: never).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.options.max_attempts = Some(attempts.max(1));
        self
    }

    /// The stream. Nothing is sent until it is first polled.
    pub fn build(self) -> EventStream {
        let state = State {
            client: self.client,
            options: self.options,
            connection: None,
            failures: 0,
            pending_delay: None,
            done: false,
        };
        EventStream {
            inner: futures_util::stream::unfold(state, |mut state| async move {
                let item = state.next().await?;
                Some((item, state))
            })
            .boxed(),
        }
    }
}

/// The live events of the caller's admin group, reconnecting by itself: see
/// the [module docs](self). Made by [`Client::events`] or
/// [`Client::events_builder`].
///
/// Items are `Ok` until the one `Err` that ends the stream.
pub struct EventStream {
    inner: BoxStream<'static, Result<EventUpdate, ClientError>>,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream").finish_non_exhaustive()
    }
}

impl Stream for EventStream {
    type Item = Result<EventUpdate, ClientError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl Client {
    /// The live events of the caller's admin group with the default options:
    /// see [`EventStream`].
    ///
    /// ```no_run
    /// use futures_util::StreamExt as _;
    /// use pbx_client::{Client, EventUpdate};
    ///
    /// # async fn run() -> Result<(), pbx_client::ClientError> {
    /// let client = Client::new("http://203:203@127.0.0.1:3339/RPC2")?;
    /// let mut events = client.events();
    /// while let Some(update) = events.next().await {
    ///     match update? {
    ///         EventUpdate::Snapshot(s) => println!("{} calls", s.calls.len()),
    ///         EventUpdate::Event(e) => println!("{} {}", e.id, e.kind),
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn events(&self) -> EventStream {
        self.events_builder().build()
    }

    /// A builder for an event stream with options: where to resume, the
    /// heartbeat, the size bound, the reconnection delays.
    pub fn events_builder(&self) -> EventStreamBuilder {
        EventStreamBuilder::new(self.clone())
    }
}

/// The delay before reconnection attempt `attempt` (from 1): the initial
/// delay doubled each time, at most `max`, and never less than what the
/// server asked for.
pub(crate) fn reconnect_delay(
    initial: Duration,
    max: Duration,
    attempt: u32,
    retry_after: Option<Duration>,
) -> Duration {
    let doubled = initial.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    doubled.min(max).max(retry_after.unwrap_or_default())
}

/// Why a connection attempt or a connection failed, and what the server asked.
struct Failure {
    error: ClientError,
    retry_after: Option<Duration>,
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Self {
        Self {
            error,
            retry_after: None,
        }
    }
}

/// Whether reconnecting may help: not for refused credentials, a server
/// without events, or an answer that would come again the same.
fn is_fatal(error: &ClientError) -> bool {
    match error {
        ClientError::Connect(_)
        | ClientError::Timeout
        | ClientError::Transport(_)
        | ClientError::EventStreamEnded
        | ClientError::TooManyRequests { .. } => false,
        ClientError::HttpStatus { status, .. } => !(*status == 408 || *status >= 500),
        _ => true,
    }
}

type Messages = SseByteStream<BoxStream<'static, Result<Bytes, ClientError>>>;

struct State {
    client: Client,
    options: Options,
    connection: Option<Messages>,
    failures: u32,
    pending_delay: Option<Duration>,
    done: bool,
}

impl State {
    async fn next(&mut self) -> Option<Result<EventUpdate, ClientError>> {
        loop {
            if self.done {
                return None;
            }
            let Some(messages) = self.connection.as_mut() else {
                if let Some(delay) = self.pending_delay.take() {
                    tokio::time::sleep(delay).await;
                }
                // Owned: the state holds the (not `Sync`) connection.
                let (client, options) = (self.client.clone(), self.options.clone());
                match open(client, options).await {
                    Ok(messages) => {
                        self.connection = Some(messages);
                        return Some(Ok(EventUpdate::Connected));
                    }
                    Err(failure) => return Some(self.lost(failure)),
                }
            };
            let failure = match messages.next().await {
                Some(Ok(message)) => match self.read(message) {
                    Ok(Some(update)) => {
                        // Something came through: the connection works.
                        self.failures = 0;
                        return Some(Ok(update));
                    }
                    Ok(None) => continue,
                    Err(error) => Failure::from(error),
                },
                Some(Err(sse_stream::Error::Body(error))) => {
                    match error.downcast::<ClientError>() {
                        Ok(error) => Failure::from(*error),
                        Err(error) => {
                            Failure::from(ClientError::InvalidResponse(error.to_string()))
                        }
                    }
                }
                Some(Err(error)) => Failure::from(ClientError::InvalidResponse(format!(
                    "the event stream does not decode: {error}"
                ))),
                None => Failure::from(ClientError::EventStreamEnded),
            };
            self.connection = None;
            return Some(self.lost(failure));
        }
    }

    /// A failure: the end of the stream when it is fatal or the last allowed
    /// attempt, else a reconnection after a delay.
    fn lost(&mut self, failure: Failure) -> Result<EventUpdate, ClientError> {
        self.failures = self.failures.saturating_add(1);
        let out_of_attempts = self
            .options
            .max_attempts
            .is_some_and(|max| self.failures >= max);
        if is_fatal(&failure.error) || out_of_attempts {
            self.done = true;
            return Err(failure.error);
        }
        let delay = reconnect_delay(
            self.options.initial_delay,
            self.options.max_delay,
            self.failures,
            failure.retry_after,
        );
        self.pending_delay = Some(delay);
        Ok(EventUpdate::Reconnecting {
            attempt: self.failures,
            delay,
            cause: failure.error,
        })
    }

    /// One SSE message: an update to give, or none (a comment, a type this
    /// version does not know). Remembers its id to resume after it.
    fn read(&mut self, message: Sse) -> Result<Option<EventUpdate>, ClientError> {
        let (Some(kind), Some(data)) = (message.event, message.data) else {
            return Ok(None);
        };
        let Some(id) = message.id.filter(|id| !id.is_empty()) else {
            return Err(ClientError::InvalidResponse(format!(
                "a {kind} message without an id"
            )));
        };
        let invalid =
            |problem: String| ClientError::InvalidResponse(format!("event {id}: {problem}"));
        let json: serde_json::Value =
            serde_json::from_str(&data).map_err(|e| invalid(format!("no JSON: {e}")))?;
        let update = if kind == "snapshot" {
            let records = pbx_xmlrpc::events::snapshot_from_json(&json)
                .map_err(|e| invalid(format!("snapshot: {e}")))?;
            EventUpdate::Snapshot(Snapshot {
                id: EventId::new(id.clone()),
                calls: records.calls,
                extensions: records.extensions,
                parking: records.parking,
                favorites: records.favorites,
            })
        } else if pbx_xmlrpc::events::parse_event_kind(&kind).is_some() {
            // SSE carries no time: the event's is when it arrived.
            let event = pbx_xmlrpc::events::event_from_sse(&id, &kind, &json, SystemTime::now())
                .map_err(|e| invalid(format!("{kind}: {e}")))?;
            EventUpdate::Event(event)
        } else {
            // A type of a later server: skipped, but resumed after.
            self.options.last_event_id = Some(EventId::new(id));
            return Ok(None);
        };
        self.options.last_event_id = Some(EventId::new(id));
        Ok(Some(update))
    }
}

/// Opens a connection: the status checked, the bytes bounded in size and
/// in the time between them.
async fn open(client: Client, options: Options) -> Result<Messages, Failure> {
    let id = options.last_event_id.as_ref().map(EventId::as_str);
    let headers: Vec<(&str, &str)> = id.map(|id| ("Last-Event-ID", id)).into_iter().collect();
    let open = client
        .rpc()
        .get_stream(EVENTS_PATH, "text/event-stream", &headers);
    let response = match tokio::time::timeout(options.open_timeout, open).await {
        Err(_) => return Err(ClientError::Timeout.into()),
        Ok(Ok(response)) => response,
        Ok(Err(error)) => {
            let retry_after = match &error {
                xmlrpc_client::Error::Http { retry_after, .. } => *retry_after,
                _ => None,
            };
            let error = match ClientError::from(error) {
                ClientError::HttpStatus { status: 404, .. } => ClientError::EventsNotOffered,
                other => other,
            };
            return Err(Failure { error, retry_after });
        }
    };
    let content_type = response.content_type().unwrap_or("");
    if !content_type.starts_with("text/event-stream") {
        return Err(ClientError::InvalidResponse(format!(
            "{EVENTS_PATH} answered {content_type:?}, not an event stream"
        ))
        .into());
    }
    let dead_after = options.heartbeat.saturating_mul(2);
    let bound = MessageBound::new(options.max_event_bytes);
    let bytes = futures_util::stream::try_unfold(
        (response, bound),
        move |(mut response, mut bound)| async move {
            let chunk = tokio::time::timeout(dead_after, response.chunk())
                .await
                .map_err(|_| ClientError::Timeout)?
                .map_err(ClientError::from)?;
            match chunk {
                Some(chunk) => {
                    bound.feed(&chunk)?;
                    Ok(Some((chunk, (response, bound))))
                }
                None => Ok(None),
            }
        },
    );
    Ok(SseByteStream::new(bytes.boxed()))
}

/// Counts the bytes of the SSE message being received, so that neither a
/// line nor a message grows beyond the bound before the parser sees it
/// (the parser itself keeps whatever it is given). Counting only: a blank
/// line (CR, LF or CRLF right after another line end) ends a message.
#[derive(Debug)]
struct MessageBound {
    limit: usize,
    message: usize,
    line: usize,
    after_cr: bool,
}

impl MessageBound {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            message: 0,
            line: 0,
            after_cr: false,
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Result<(), ClientError> {
        for &byte in bytes {
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\r' | b'\n' => {
                    self.after_cr = byte == b'\r';
                    if self.line == 0 {
                        self.message = 0;
                    }
                    self.line = 0;
                }
                _ => {
                    self.after_cr = false;
                    self.line += 1;
                    self.message += 1;
                    if self.message > self.limit {
                        return Err(ClientError::ResponseTooLarge { limit: self.limit });
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnection_delays_grow_to_the_cap_and_honour_retry_after() {
        let initial = Duration::from_millis(500);
        let max = Duration::from_secs(30);
        let delays: Vec<_> = (1..=9)
            .map(|n| reconnect_delay(initial, max, n, None).as_millis())
            .collect();
        assert_eq!(
            delays,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert_eq!(
            reconnect_delay(initial, max, u32::MAX, None),
            max,
            "no overflow"
        );
        let asked = Duration::from_secs(120);
        assert_eq!(reconnect_delay(initial, max, 1, Some(asked)), asked);
    }

    #[test]
    fn the_bound_counts_a_message_and_a_blank_line_starts_the_next() {
        let mut bound = MessageBound::new(10);
        bound.feed(b"data: 1234\n\n").unwrap();
        bound.feed(b"data: 12\r\n\r\ndata: 1234").unwrap();
        assert!(bound.feed(b"\r\r").is_ok());
        bound.feed(b"data:").unwrap();
        bound.feed(b"\ndata:").unwrap();
        let err = bound.feed(b"\ndata:").unwrap_err();
        assert_eq!(err, ClientError::ResponseTooLarge { limit: 10 });
        let mut bound = MessageBound::new(10);
        assert!(bound.feed(b"data: 0123456789").is_err(), "one long line");
        let mut bound = MessageBound::new(4);
        for _ in 0..100 {
            bound.feed(b": hi\n\n").unwrap();
        }
    }

    #[test]
    fn only_what_reconnecting_cannot_change_is_fatal() {
        assert!(is_fatal(&ClientError::Unauthorized));
        assert!(is_fatal(&ClientError::EventsNotOffered));
        let status = |status| ClientError::HttpStatus {
            status,
            body_snippet: String::new(),
        };
        assert!(is_fatal(&status(403)));
        assert!(!is_fatal(&status(503)));
        assert!(!is_fatal(&status(408)));
        assert!(!is_fatal(&ClientError::Timeout));
        assert!(!is_fatal(&ClientError::TooManyRequests {
            retry_after: None
        }));
    }
}
