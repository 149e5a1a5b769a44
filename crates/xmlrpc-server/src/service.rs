//! [`RpcService`]: a [`Router`] as a `tower::Service` answering HTTP requests.

use std::convert::Infallible;
use std::future::Future;
use std::io::Read as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use http::header::{ACCEPT_ENCODING, ALLOW, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};

use crate::{Context, Router};

/// The body of every response of an [`RpcService`].
pub type ResponseBody = Full<Bytes>;

/// A [`Router`] answering HTTP: made by [`Router::into_service`].
///
/// It answers every path (mount it where you want it, e.g. on `/RPC2` with
/// axum's `Router::route_service`). For each request:
///
/// - a method other than `POST`: 405, with `Allow: POST`;
/// - a body above the router's `Limits::max_document_bytes`, as sent or once
///   inflated: 413, read no further than the limit;
/// - `Content-Encoding: gzip` is inflated; any other encoding: 415 (with
///   `Accept-Encoding: gzip`); a body that is not valid gzip or cannot be read: 400;
/// - otherwise 200 and the router's `methodResponse` (`text/xml`), a fault or
///   not, the request's extensions handed to handlers as their [`Context`].
///
/// It sets no timeout: add one around it (`tower_http::timeout`, hyper's header
/// read timeout), as for any service facing slow clients.
pub struct RpcService<S = ()> {
    router: Arc<Router<S>>,
}

impl<S> Clone for RpcService<S> {
    fn clone(&self) -> Self {
        Self {
            router: Arc::clone(&self.router),
        }
    }
}

impl<S> std::fmt::Debug for RpcService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcService")
            .field("router", &self.router)
            .finish()
    }
}

impl<S: Clone + Send + Sync + 'static> Router<S> {
    /// This router as a `tower::Service<http::Request<B>>`: see [`RpcService`].
    /// Cheap to clone (the router is shared).
    pub fn into_service(self) -> RpcService<S> {
        RpcService {
            router: Arc::new(self),
        }
    }
}

impl<S, B> tower::Service<Request<B>> for RpcService<S>
where
    S: Clone + Send + Sync + 'static,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let router = Arc::clone(&self.router);
        Box::pin(async move { Ok(answer(&router, request).await) })
    }
}

async fn answer<S, B>(router: &Router<S>, request: Request<B>) -> Response<ResponseBody>
where
    S: Clone + Send + Sync + 'static,
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if request.method() != Method::POST {
        let mut response = refusal(StatusCode::METHOD_NOT_ALLOWED, "only POST is allowed\n");
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let (parts, body) = request.into_parts();
    let body = match read_body(&parts.headers, body, router.limits().max_document_bytes).await {
        Ok(body) => body,
        Err(refused) => return refused.response(),
    };
    let document = router
        .handle(Context::from_extensions(parts.extensions), &body)
        .await;
    let mut response = Response::new(Full::new(Bytes::from(document)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    response
}

/// Why a body was not read: each is an HTTP status, never a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    TooLarge,
    UnsupportedEncoding,
    BadGzip,
    Unreadable,
}

impl Refusal {
    fn response(self) -> Response<ResponseBody> {
        match self {
            Refusal::TooLarge => refusal(StatusCode::PAYLOAD_TOO_LARGE, "request body too large\n"),
            Refusal::UnsupportedEncoding => {
                let mut response = refusal(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported Content-Encoding: send identity or gzip\n",
                );
                // RFC 7694: say which encodings are understood.
                response
                    .headers_mut()
                    .insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
                response
            }
            Refusal::BadGzip => {
                refusal(StatusCode::BAD_REQUEST, "request body is not valid gzip\n")
            }
            Refusal::Unreadable => {
                refusal(StatusCode::BAD_REQUEST, "request body could not be read\n")
            }
        }
    }
}

fn refusal(status: StatusCode, message: &'static str) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(Bytes::from_static(message.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// Whether the body is gzip (one layer; identity otherwise).
fn is_gzip(headers: &HeaderMap) -> Result<bool, Refusal> {
    let mut gzip = false;
    for value in headers.get_all(CONTENT_ENCODING) {
        let value = value.to_str().map_err(|_| Refusal::UnsupportedEncoding)?;
        for coding in value.split(',').map(str::trim) {
            if coding.is_empty() || coding.eq_ignore_ascii_case("identity") {
                continue;
            }
            let is_gzip =
                coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip");
            // Gzip twice could inflate far beyond what one layer's check sees.
            if !is_gzip || gzip {
                return Err(Refusal::UnsupportedEncoding);
            }
            gzip = true;
        }
    }
    Ok(gzip)
}

/// The whole body, at most `max` bytes as sent and, for gzip, once inflated.
async fn read_body<B>(headers: &HeaderMap, body: B, max: usize) -> Result<Bytes, Refusal>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let gzip = is_gzip(headers)?;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return Err(Refusal::TooLarge);
    }
    let bytes = Limited::new(body, max)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                Refusal::TooLarge
            } else {
                Refusal::Unreadable
            }
        })?
        .to_bytes();
    if !gzip {
        return Ok(bytes);
    }
    let mut inflated = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    flate2::read::MultiGzDecoder::new(&bytes[..])
        .take(limit)
        .read_to_end(&mut inflated)
        .map_err(|_| Refusal::BadGzip)?;
    if inflated.len() > max {
        return Err(Refusal::TooLarge);
    }
    Ok(Bytes::from(inflated))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(encodings: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for e in encodings {
            headers.append(CONTENT_ENCODING, HeaderValue::from_str(e).unwrap());
        }
        headers
    }

    #[test]
    fn only_identity_and_one_layer_of_gzip_are_understood() {
        assert_eq!(is_gzip(&headers(&[])), Ok(false));
        assert_eq!(is_gzip(&headers(&["identity"])), Ok(false));
        assert_eq!(is_gzip(&headers(&["GZIP"])), Ok(true));
        assert_eq!(is_gzip(&headers(&["x-gzip"])), Ok(true));
        assert_eq!(
            is_gzip(&headers(&["gzip, gzip"])),
            Err(Refusal::UnsupportedEncoding)
        );
        assert_eq!(
            is_gzip(&headers(&["gzip", "gzip"])),
            Err(Refusal::UnsupportedEncoding)
        );
        assert_eq!(
            is_gzip(&headers(&["br"])),
            Err(Refusal::UnsupportedEncoding)
        );
    }
}
