//! One log event per request: status, user, XML-RPC method, fault code, duration.
//!
//! Handlers attach a [`RequestLog`] to their response; the middleware, outermost,
//! writes the event for every request (404s, 405s and timeouts included). Nothing
//! here ever sees the credentials: the user is recorded only once authenticated.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;
use tracing::field;

/// What the handler learnt about a request, for its log event.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestLog {
    /// The authenticated user's number.
    pub(crate) user: Option<String>,
    /// Why authentication failed (never shown to the client).
    pub(crate) auth_failure: Option<&'static str>,
    /// The XML-RPC method called, when the body named one.
    pub(crate) method: Option<String>,
    /// The fault code answered, if any.
    pub(crate) fault_code: Option<i32>,
}

/// Paths and method names come from the client: keep log lines bounded.
fn clip(text: &str) -> &str {
    const MAX: usize = 128;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The middleware: a span around the request and one event once it is answered.
pub(crate) async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| field::display(info.0));
    let span = tracing::info_span!(
        "request",
        http_method = %request.method(),
        path = ?clip(request.uri().path()),
        peer,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let entry = response
        .extensions_mut()
        .remove::<RequestLog>()
        .unwrap_or_default();
    span.in_scope(|| {
        tracing::info!(
            status = response.status().as_u16(),
            user = entry.user,
            auth_failure = entry.auth_failure,
            method = entry.method.as_deref().map(|m| field::debug(clip(m))),
            fault_code = entry.fault_code,
            duration = ?started.elapsed(),
            "answered",
        );
    });
    response
}
