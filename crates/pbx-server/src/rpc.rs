//! The XML-RPC endpoint: authenticate, read the body, let the binding answer.

use axum::body::Body;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pbx_backend::Caller;

use crate::auth::{self, AuthFailure};
use crate::log::RequestLog;
use crate::{AppState, body};

/// `POST /RPC2` and `POST /`.
///
/// The caller is authenticated before the body is read, so that an unknown
/// client costs no more than its headers.
pub(crate) async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let caller = match authenticate(&state, &headers).await {
        Ok(caller) => caller,
        Err(response) => return response,
    };
    let mut log = RequestLog {
        user: Some(caller.number().to_owned()),
        ..RequestLog::default()
    };
    let mut response = match body::read(&state.config, &headers, body).await {
        Ok(bytes) => {
            let outcome = state.handler.handle(&caller, &bytes).await;
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
        Err(error) => error.into_response(),
    };
    response.extensions_mut().insert(log);
    response
}

async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Caller, Response> {
    let failure = match auth::credentials(headers) {
        Ok(credentials) => {
            match state
                .handler
                .backend()
                .authenticate(&credentials.user, &credentials.password)
                .await
            {
                Ok(Some(caller)) => return Ok(caller),
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
        Err(failure) => failure,
    };
    let mut response = auth::unauthorized(&state.challenge);
    response.extensions_mut().insert(RequestLog {
        auth_failure: Some(failure.as_str()),
        ..RequestLog::default()
    });
    Err(response)
}
