//! `GET /metrics` on the API's own listener, behind a bearer token: for a
//! deployment that cannot give the scraper an address of its own.
//!
//! Off unless the state was given a [`MetricsToken`] (and [`Metrics`]); then
//! a scrape must send `Authorization: Bearer TOKEN`, what Prometheus sends with
//! `authorization: { credentials_file: ... }`. Wrong tokens count as failed
//! logins: they are throttled like passwords, per (client address, `/metrics`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{AUTHORIZATION, CONNECTION, CONTENT_TYPE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

use crate::log::RequestLog;
use crate::rpc::{self, Authenticated};
use crate::throttle::Refusal;
use crate::{AppState, Metrics};

/// The throttle's user name for `/metrics`: no PBX user is called so (a
/// number never starts with `/`), so a scraper's failures lock out no user.
const METRICS_USER: &str = "/metrics";

/// The shortest token accepted: a guessable token would open the metrics.
pub const MIN_METRICS_TOKEN_CHARS: usize = 16;
/// The longest token accepted (as the longest `Authorization` value read).
pub const MAX_METRICS_TOKEN_CHARS: usize = 4096;

/// The secret a scraper presents as `Authorization: Bearer TOKEN` to read
/// `GET /metrics` on the API's listener. Kept only as its SHA-256 digest,
/// compared in constant time; its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct MetricsToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsToken(<redacted>)")
    }
}

/// Why a text cannot be a [`MetricsToken`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsTokenError {
    /// Shorter than [`MIN_METRICS_TOKEN_CHARS`].
    #[error(
        "the metrics token has {chars} characters; it needs at least {MIN_METRICS_TOKEN_CHARS}"
    )]
    TooShort {
        /// Its length.
        chars: usize,
    },
    /// Longer than [`MAX_METRICS_TOKEN_CHARS`].
    #[error("the metrics token is longer than {MAX_METRICS_TOKEN_CHARS} characters")]
    TooLong,
    /// A character outside printable ASCII or a space: it could not travel in
    /// an `Authorization` header as it is.
    #[error("the metrics token may hold only printable ASCII characters without spaces")]
    NotPrintable,
}

impl MetricsToken {
    /// The token `text` (taken as it is: trim a file's trailing newline
    /// first, as Prometheus does with its `credentials_file`).
    pub fn new(text: &str) -> Result<Self, MetricsTokenError> {
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(MetricsTokenError::NotPrintable);
        }
        if text.len() < MIN_METRICS_TOKEN_CHARS {
            return Err(MetricsTokenError::TooShort { chars: text.len() });
        }
        if text.len() > MAX_METRICS_TOKEN_CHARS {
            return Err(MetricsTokenError::TooLong);
        }
        Ok(Self {
            digest: Sha256::digest(text.as_bytes()).into(),
        })
    }

    /// Whether `presented` is the token. Digests compared in constant time,
    /// so neither the content nor the length shows in the time taken.
    fn matches(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.digest.ct_eq(&digest).into()
    }
}

/// What an `Authorization` header presents.
enum Presented<'a> {
    Missing,
    Malformed,
    Token(&'a str),
}

fn presented(headers: &HeaderMap) -> Presented<'_> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Presented::Missing;
    };
    if values.next().is_some() {
        return Presented::Malformed;
    }
    let Ok(value) = value.to_str() else {
        return Presented::Malformed;
    };
    match value.trim().split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer")
                && token.trim().len() <= MAX_METRICS_TOKEN_CHARS =>
        {
            Presented::Token(token.trim())
        }
        _ => Presented::Malformed,
    }
}

/// `GET /metrics` on the API's listener.
pub(crate) async fn get(State(state): State<AppState>, request: Request) -> Response {
    let (Some(metrics), Some(token)) = (&state.0.metrics, &state.0.metrics_token) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let token_sent = match presented(request.headers()) {
        // No credentials at all is no guess: answered, not counted.
        Presented::Missing => return unauthorized("missing"),
        Presented::Malformed => None,
        Presented::Token(sent) => Some(sent),
    };
    let attempt = match state.0.throttle.begin(peer, Some(METRICS_USER)) {
        Ok(attempt) => attempt,
        Err(Refusal::Locked(retry_after)) => {
            metrics.login_refused("throttled");
            return rpc::too_many_attempts(retry_after);
        }
        Err(Refusal::Full) => {
            metrics.login_refused("full");
            return rpc::busy("throttled");
        }
    };
    let mut attempt = attempt;
    attempt.checking();
    if token_sent.is_some_and(|sent| token.matches(sent)) {
        attempt.success();
        let mut response = crate::metrics::exposition(metrics);
        response.extensions_mut().insert(Authenticated);
        return response;
    }
    Metrics::login_failed(metrics);
    let delay = attempt.failure();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    unauthorized(if token_sent.is_some() {
        "rejected"
    } else {
        "malformed"
    })
}

/// 401 with a Bearer challenge; it closes the connection, as every 401 does.
fn unauthorized(why: &'static str) -> Response {
    let mut response = (
        StatusCode::UNAUTHORIZED,
        [
            (
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"metrics\""),
            ),
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (CONNECTION, HeaderValue::from_static("close")),
        ],
        "authentication required\n",
    )
        .into_response();
    response.extensions_mut().insert(RequestLog {
        auth_failure: Some(why),
        ..RequestLog::default()
    });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_refused_when_short_or_unprintable_and_never_shown() {
        assert_eq!(
            MetricsToken::new("short").unwrap_err(),
            MetricsTokenError::TooShort { chars: 5 }
        );
        assert_eq!(
            MetricsToken::new("with a space in it, long enough").unwrap_err(),
            MetricsTokenError::NotPrintable
        );
        assert_eq!(
            MetricsToken::new(&"x".repeat(MAX_METRICS_TOKEN_CHARS + 1)).unwrap_err(),
            MetricsTokenError::TooLong
        );
        let token = MetricsToken::new("s3cret-s3cret-s3cret").unwrap();
        assert!(token.matches("s3cret-s3cret-s3cret"));
        assert!(!token.matches("s3cret-s3cret-s3cre"));
        assert!(!format!("{token:?}").contains("s3cret"));
    }
}
