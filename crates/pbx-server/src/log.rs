//! One log event per request: status, user, XML-RPC method, fault code, duration.
//!
//! Handlers attach a [`RequestLog`] to their response; the middleware, outermost,
//! writes the event for every request (404s, 405s and timeouts included). Nothing
//! here ever sees the credentials: the user is recorded only once authenticated.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
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
    /// The method called, when the body named one.
    pub(crate) method: Option<String>,
    /// How many requests a JSON-RPC batch held, when the body was one: logged
    /// as `batch n=…` and counted under the `batch` method label.
    pub(crate) batch: Option<usize>,
    /// The fault code answered, if any.
    pub(crate) fault_code: Option<i32>,
    /// The answer was refused for exceeding `max_response_bytes`.
    pub(crate) too_large: bool,
}

/// Paths and method names come from the client: keep log lines bounded.
fn clip(text: &str) -> &str {
    const MAX: usize = 128;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// A client address as `SocketAddr` shows it (`127.0.0.1:50312`, `[::1]:8080`),
/// an IPv4 one written in one piece: the standard formatting goes through the
/// formatting machinery once per octet, a sixth of a small request's log line.
struct Peer(SocketAddr);

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let SocketAddr::V4(v4) = self.0 else {
            return self.0.fmt(f);
        };
        // "255.255.255.255:65535" is the longest.
        let mut text = [0_u8; 21];
        let mut len = 0;
        for (i, octet) in v4.ip().octets().into_iter().enumerate() {
            if i > 0 {
                text[len] = b'.';
                len += 1;
            }
            len = push_digits(&mut text, len, u16::from(octet));
        }
        text[len] = b':';
        len = push_digits(&mut text, len + 1, v4.port());
        // Digits, dots and a colon only.
        f.write_str(std::str::from_utf8(&text[..len]).unwrap_or_default())
    }
}

/// Writes `n` in decimal into `text` at `at`; where it ends.
fn push_digits(text: &mut [u8], at: usize, n: u16) -> usize {
    let mut digits = [0_u8; 5];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let end = at + digits.len() - i;
    text[at..end].copy_from_slice(&digits[i..]);
    end
}

/// The middleware: one event once the request is answered.
///
/// The event is the only thing written at the default `info` level: a span per
/// request (here, and the binding's) cost as much as the event itself, so the
/// `request` span is `debug` and the event carries the peer itself. The path and
/// HTTP method show only when they are not the API's (`POST /RPC2` or `POST /`).
pub(crate) async fn log_request(
    State(state): State<crate::AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    let http_method = request.method().clone();
    let unusual =
        http_method != axum::http::Method::POST || !matches!(request.uri().path(), "/RPC2" | "/");
    let path = unusual.then(|| request.uri().path().to_owned());
    let mut response = if tracing::enabled!(tracing::Level::DEBUG) {
        let span = tracing::debug_span!(
            "request",
            %http_method,
            path = clip(request.uri().path()),
            peer = peer.map(field::display),
        );
        next.run(request).instrument(span).await
    } else {
        next.run(request).await
    };
    let entry = response
        .extensions_mut()
        .remove::<RequestLog>()
        .unwrap_or_default();
    let elapsed = started.elapsed();
    if let Some(metrics) = &state.0.metrics {
        metrics.request(
            match entry.batch {
                Some(_) => Some(crate::metrics::BATCH_METHOD),
                None => entry.method.as_deref(),
            },
            response.status().as_u16(),
            entry.fault_code,
            elapsed,
        );
        if entry.too_large {
            metrics.answer_too_large();
        }
    }
    let method = match entry.batch {
        Some(n) => Some(format!("batch n={n}")),
        None => entry.method,
    };
    tracing::info!(
        status = response.status().as_u16(),
        peer = peer.map(|peer| field::display(Peer(peer))),
        http_method = unusual.then(|| field::display(&http_method)),
        // As `&str`: quoted and escaped in the text layout, a plain JSON string
        // in the JSON one (a `Debug` value would be quoted twice there).
        path = path.as_deref().map(clip),
        user = entry.user,
        auth_failure = entry.auth_failure,
        method = method.as_deref().map(clip),
        fault_code = entry.fault_code,
        // Whole microseconds: one unit to read and compare, cheaper to write than a
        // `Debug` of the `Duration` (a float and a unit chosen per value).
        duration_us = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        "answered",
    );
    response
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::Peer;

    #[test]
    fn a_peer_shows_as_the_standard_library_shows_its_address() {
        for text in [
            "0.0.0.0:0",
            "127.0.0.1:50312",
            "10.20.30.40:8",
            "255.255.255.255:65535",
            "1.0.100.9:10000",
            "[::1]:8080",
            "[2001:db8::7]:443",
        ] {
            let addr: SocketAddr = text.parse().expect("an address");
            assert_eq!(Peer(addr).to_string(), addr.to_string());
            assert_eq!(Peer(addr).to_string(), text);
        }
    }
}
