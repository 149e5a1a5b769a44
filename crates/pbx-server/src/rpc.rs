//! The XML-RPC endpoint: authenticate, read the body, let the binding answer.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pbx_backend::Caller;
use pbx_xmlrpc::{Answer, Outcome};

use crate::auth::{self, AuthFailure};
use crate::log::RequestLog;
use crate::{AppState, body};

/// `POST /RPC2` and `POST /`.
///
/// The caller is authenticated before the body is read, so that an unknown
/// client costs no more than its headers.
pub(crate) async fn post(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    let caller = match authenticate(&state, &headers, peer).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let mut log = RequestLog {
        user: Some(caller.number().to_owned()),
        ..RequestLog::default()
    };
    let read = body::read(&state.config, &headers, body);
    let mut response = match tokio::time::timeout(state.config.body_timeout, read).await {
        Ok(Ok(bytes)) => {
            let answer = state.handler.answer(&caller, &bytes).await;
            drop(bytes);
            match write(answer).await {
                Some(outcome) => {
                    log.method = outcome.method;
                    log.fault_code = outcome.fault_code;
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
        Ok(Err(error)) => error.into_response(),
        Err(_) => (StatusCode::REQUEST_TIMEOUT, "request body too slow\n").into_response(),
    };
    response.extensions_mut().insert(log);
    response
}

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

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> Result<Caller, Response> {
    let credentials = auth::credentials(headers);
    let user = credentials.as_ref().ok().map(|c| c.user.as_str());
    if let Err(retry_after) = state.throttle.check(peer, user) {
        return Err(too_many_attempts(retry_after));
    }
    let failure = match &credentials {
        Ok(credentials) => {
            match state
                .handler
                .backend()
                .authenticate(&credentials.user, &credentials.password)
                .await
            {
                Ok(Some(caller)) => {
                    state.throttle.success(&credentials.user);
                    return Ok(caller);
                }
                Ok(None) => AuthFailure::Rejected,
                Err(error) => {
                    tracing::error!(%error, "the backend could not check credentials");
                    return Err(
                        (StatusCode::INTERNAL_SERVER_ERROR, "internal server error\n")
                            .into_response(),
                    );
                }
            }
        }
        Err(failure) => *failure,
    };
    // A client that sends no credentials is asking for the challenge; anything
    // else is a failed attempt.
    if failure != AuthFailure::Missing {
        let delay = state.throttle.failure(peer, user);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }
    let mut response = auth::unauthorized(&state.challenge);
    response.extensions_mut().insert(RequestLog {
        auth_failure: Some(failure.as_str()),
        ..RequestLog::default()
    });
    Err(response)
}

/// 429 with `Retry-After` in whole seconds (rounded up).
fn too_many_attempts(retry_after: Duration) -> Response {
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        [
            (RETRY_AFTER, HeaderValue::from(seconds.max(1))),
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            ),
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
