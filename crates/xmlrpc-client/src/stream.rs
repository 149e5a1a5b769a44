//! [`Client::get_stream`]: a long-lived `GET` beside the calls (a Server-Sent
//! Events endpoint of the same server, say), on the client's connection pool,
//! TLS roots, proxy and credentials.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE};

use crate::client::{Client, status_error};
use crate::error::Error;

/// The whole-request timeout of a stream: none worth the name. A stream lasts
/// as long as the server keeps it open; the caller bounds the wait for each
/// chunk, which is the only bound that makes sense for it.
const STREAM_TIMEOUT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// The answer to [`Client::get_stream`] once its status was 200: its body read
/// chunk by chunk, as the server sends it.
#[derive(Debug)]
pub struct ResponseStream {
    response: reqwest::Response,
}

impl ResponseStream {
    /// The `Content-Type` the server sent, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// The next chunk of the body as it arrived (any size), `None` at its end.
    ///
    /// Neither the client's timeout nor its `max_response_bytes` applies to a
    /// stream: the caller bounds how long it waits (e.g. with
    /// `tokio::time::timeout`) and how much it keeps.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, Error> {
        self.response.chunk().await.map_err(Error::from_http)
    }
}

impl Client {
    /// Opens a `GET` of `path` on this client's server, with `accept` as its
    /// `Accept` header, `headers` added, and the client's credentials, TLS
    /// settings and proxy: for an endpoint that streams its answer, such as
    /// Server-Sent Events.
    ///
    /// `path` is resolved against the client's URL (`/events` beside
    /// `/RPC2`) and must stay on the same scheme, host and port: the
    /// credentials never go to another server ([`Error::InvalidUrl`]).
    ///
    /// The client's timeout does not apply (a stream has no end to wait for):
    /// bound the wait for the status line and for each chunk yourself. A status
    /// other than 200 is the error [`Client::call`] gives for it:
    /// [`Error::Unauthorized`] for 401, [`Error::Http`] with its `Retry-After`
    /// otherwise.
    pub async fn get_stream(
        &self,
        path: &str,
        accept: &str,
        headers: &[(&str, &str)],
    ) -> Result<ResponseStream, Error> {
        let inner = self.inner();
        let url = inner
            .url
            .join(path)
            .map_err(|e| Error::InvalidUrl(format!("{path}: {e}")))?;
        if url.origin() != inner.url.origin() {
            return Err(Error::InvalidUrl(format!(
                "{path}: not on the client's server {}",
                inner.url.origin().ascii_serialization()
            )));
        }
        let mut request = inner
            .http
            .get(url)
            .timeout(STREAM_TIMEOUT)
            .header(ACCEPT, accept);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(c) = &inner.credentials {
            request = request.basic_auth(&c.user, Some(&c.password));
        }
        let mut response = request.send().await.map_err(Error::from_http)?;
        if response.status() != StatusCode::OK {
            return Err(status_error(&mut response).await);
        }
        Ok(ResponseStream { response })
    }
}
