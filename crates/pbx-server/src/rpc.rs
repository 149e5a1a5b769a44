//! The XML-RPC endpoint: authenticate, read the body, let the binding answer.

use std::future::Future as _;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CONNECTION, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pbx_backend::Caller;
use pbx_handler::{Answer, Outcome};
use tokio::time::Instant;

use crate::auth::{self, AuthFailure};
use crate::log::RequestLog;
use crate::throttle::{Attempt, Refusal};
use crate::{AppState, body};

/// `POST /RPC2` and `POST /`.
///
/// The caller is authenticated before the body is read, so that an unknown
/// client costs no more than its headers.
///
/// One timer bounds the request: it runs to `request_timeout` from the end of
/// the headers, is pulled in to `body_timeout` from the start of the body while
/// a body that did not come with the headers is read, and put back for the
/// handler (one `Sleep`, instead of a timeout layer and a second timer for the
/// body).
pub(crate) async fn post(State(state): State<AppState>, request: Request) -> Response {
    let deadline = Instant::now() + state.0.config.request_timeout;
    let timer = tokio::time::sleep_until(deadline);
    tokio::pin!(timer);
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    // A page of another site can make a browser post a `text/plain` form here
    // with the Basic credentials the browser keeps for this server (CSRF):
    // refused before anything is read or run.
    if crate::console::from_another_site(&headers) {
        return (StatusCode::FORBIDDEN, "cross-site request refused\n").into_response();
    }
    let caller = tokio::select! {
        biased;
        caller = authenticate(&state, &headers, peer) => match caller {
            Ok(caller) => caller,
            Err(response) => return response,
        },
        () = &mut timer => return request_timed_out(),
    };
    let mut log = RequestLog {
        user: Some(caller.number().to_owned()),
        ..RequestLog::default()
    };
    let body_deadline = Instant::now() + state.0.config.body_timeout;
    let mut read = std::pin::pin!(body::read(&state.0.config, &headers, body));
    // A small body usually came with the headers: read at once, it needs no
    // timer of its own (two `Sleep` resets fewer). Polling with a waker that
    // does nothing is safe: a pending read is polled again below with the
    // task's own, which it then registers.
    let at_once = read
        .as_mut()
        .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    let (read, timer_moved) = match at_once {
        std::task::Poll::Ready(read) => (Some(read), false),
        std::task::Poll::Pending => {
            timer.as_mut().reset(body_deadline.min(deadline));
            let read = tokio::select! {
                biased;
                read = read => Some(read),
                () = &mut timer => None,
            };
            (read, true)
        }
    };
    let mut response = match read {
        Some(Ok(bytes)) => {
            if timer_moved {
                timer.as_mut().reset(deadline);
            }
            let answered = async {
                let answer = state.0.handler.answer(&caller, &bytes).await;
                drop(bytes);
                write(answer).await
            };
            let written = tokio::select! {
                biased;
                written = answered => written,
                () = &mut timer => return request_timed_out(),
            };
            match written {
                Some(outcome) => {
                    log.method = outcome.method;
                    log.fault_code = outcome.fault_code;
                    log.too_large = outcome.too_large;
                    (
                        [(
                            CONTENT_TYPE,
                            HeaderValue::from_static("text/xml; charset=utf-8"),
                        )],
                        outcome.body,
                    )
                        .into_response()
                }
                None => {
                    (StatusCode::INTERNAL_SERVER_ERROR, "internal server error\n").into_response()
                }
            }
        }
        Some(Err(error)) => error.into_response(),
        // The request's own deadline came first: as any request past it.
        None if deadline <= body_deadline => return request_timed_out(),
        None => (StatusCode::REQUEST_TIMEOUT, "request body too slow\n").into_response(),
    };
    response.extensions_mut().insert(log);
    response.extensions_mut().insert(Authenticated);
    response
}

/// The answer to a request past `request_timeout`: 408 with no body, as
/// `tower_http`'s timeout layer answered it (the handler's work is dropped).
fn request_timed_out() -> Response {
    StatusCode::REQUEST_TIMEOUT.into_response()
}

/// Marks the answer to an authenticated request: [`serve`](crate::serve) keeps a
/// connection open only once one of its requests has logged in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Authenticated;

/// Writes the answer: a large one on a blocking thread, since writing it is long
/// CPU work that would hold an async worker (and everyone queued behind it); a
/// small one in place, without the hop. `None` if the writing thread panicked.
async fn write(answer: Answer) -> Option<Outcome> {
    if !answer.is_large() {
        return Some(answer.encode());
    }
    match tokio::task::spawn_blocking(move || answer.encode()).await {
        Ok(outcome) => Some(outcome),
        Err(error) => {
            tracing::error!(%error, "writing an answer failed");
            None
        }
    }
}

pub(crate) async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> Result<Caller, Response> {
    let credentials = match auth::credentials(headers) {
        // The first leg of a Basic challenge, not a failure.
        Err(AuthFailure::Missing) => return Err(unauthorized(state, AuthFailure::Missing)),
        other => other,
    };
    verify(state, credentials, peer).await
}

/// Checks `credentials` from `peer` through the failed-login throttle and the
/// backend: the one path of every login, Basic or the console's form, so that
/// both are counted, slowed and refused alike.
pub(crate) async fn verify(
    state: &AppState,
    credentials: Result<auth::Credentials, AuthFailure>,
    peer: Option<IpAddr>,
) -> Result<Caller, Response> {
    let user = credentials.as_ref().ok().map(|c| c.user.as_str());
    let mut attempt = match state.0.throttle.begin(peer, user) {
        Ok(attempt) => attempt,
        Err(Refusal::Locked(retry_after)) => {
            count(state, |m| m.login_refused("throttled"));
            return Err(too_many_attempts(retry_after));
        }
        Err(Refusal::Full) => {
            count(state, |m| m.login_refused("full"));
            tracing::warn!("every login tracking slot holds a lockout: refusing a login");
            return Err(busy("throttled"));
        }
    };
    let credentials = match credentials {
        Ok(credentials) => credentials,
        Err(failure) => {
            attempt.checking();
            return Err(failed(state, attempt, failure).await);
        }
    };
    // Someone is guessing this user's password from many addresses: slow down.
    if !attempt.wait().is_zero() {
        tokio::time::sleep(attempt.wait()).await;
    }
    // A bounded number of verifications at once: each may hold megabytes.
    let lane = &state.0.verifications[usize::from(attempt.known())];
    let wait = state.0.config.throttle.verification_wait;
    // A free slot is taken at once, without arming a timer for the wait.
    let acquired = match lane.try_acquire() {
        Ok(permit) => Ok(Ok(permit)),
        Err(_) => tokio::time::timeout(wait, lane.acquire()).await,
    };
    let permit = match acquired {
        Ok(Ok(permit)) => permit,
        _ => {
            attempt.abandon();
            count(state, |m| m.login_refused("busy"));
            tracing::warn!("no password verification slot in time: refusing a login");
            return Err(busy("busy"));
        }
    };
    attempt.checking();
    let checked = state
        .0
        .backend
        .authenticate(&credentials.user, &credentials.password)
        .await;
    drop(permit);
    match checked {
        Ok(Some(caller)) => {
            attempt.success();
            Ok(caller)
        }
        Ok(None) => Err(failed(state, attempt, AuthFailure::Rejected).await),
        Err(error) => {
            attempt.abandon();
            tracing::error!(%error, "the backend could not check credentials");
            Err((StatusCode::INTERNAL_SERVER_ERROR, "internal server error\n").into_response())
        }
    }
}

/// Counts into the metrics, when there are any.
fn count(state: &AppState, what: impl FnOnce(&crate::metrics::Metrics)) {
    if let Some(metrics) = &state.0.metrics {
        what(metrics);
    }
}

/// Counts a failed attempt, waits what the throttle says, and answers 401.
async fn failed(state: &AppState, attempt: Attempt, failure: AuthFailure) -> Response {
    count(state, crate::metrics::Metrics::login_failed);
    let delay = attempt.failure();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    unauthorized(state, failure)
}

/// The 401 answer. It closes the connection: a connection that has not logged
/// in must not hold a slot (the client's next leg opens a new one).
fn unauthorized(state: &AppState, failure: AuthFailure) -> Response {
    let mut response = auth::unauthorized(&state.0.challenge);
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response.extensions_mut().insert(RequestLog {
        auth_failure: Some(failure.as_str()),
        ..RequestLog::default()
    });
    response
}

/// 503 with `Retry-After`: the server cannot check a password now.
pub(crate) fn busy(why: &'static str) -> Response {
    let mut response = (
        StatusCode::SERVICE_UNAVAILABLE,
        [
            (RETRY_AFTER, HeaderValue::from_static("1")),
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (CONNECTION, HeaderValue::from_static("close")),
        ],
        "server is too busy to check passwords: try again later\n",
    )
        .into_response();
    response.extensions_mut().insert(RequestLog {
        auth_failure: Some(why),
        ..RequestLog::default()
    });
    response
}

/// 429 with `Retry-After` in whole seconds (rounded up).
pub(crate) fn too_many_attempts(retry_after: Duration) -> Response {
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (RETRY_AFTER, HeaderValue::from(seconds.max(1))),
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
            (CONNECTION, HeaderValue::from_static("close")),
        ],
        "too many failed logins: try again later\n",
    )
        .into_response();
    response.extensions_mut().insert(RequestLog {
        auth_failure: Some("throttled"),
        ..RequestLog::default()
    });
    response
}
