//! [`Client`]: calls over one pool of HTTP connections.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;
use xmlrpc_codec::{Decoder, Encoder, MethodCall, Value, from_value, to_params};

use crate::builder::ClientBuilder;
use crate::error::Error;
use crate::multicall::Multicall;

/// The most body bytes read for [`Error::Http`]'s snippet.
const SNIPPET_READ_BYTES: usize = 4096;
/// The most characters of a body kept in [`Error::Http`].
const SNIPPET_CHARS: usize = 200;

/// An XML-RPC client of one server URL.
///
/// Cheap to clone (the clones share one connection pool) and safe to use from
/// many tasks at once. Every call is an HTTP `POST` of `text/xml` with Basic auth
/// when credentials are set, within the timeout, and its answer is read within
/// [`ClientBuilder::max_response_bytes`].
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    /// Without user info: it never reaches reqwest, so no error message shows it.
    pub(crate) url: Url,
    pub(crate) credentials: Option<Credentials>,
    pub(crate) timeout: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) decoder: Decoder,
    pub(crate) encoder: Encoder,
}

/// A user and password; `Debug` shows the user only.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Credentials {
    pub(crate) user: String,
    pub(crate) password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.inner.url.as_str())
            .field("user", &self.user())
            .field("timeout", &self.inner.timeout)
            .field("max_response_bytes", &self.inner.max_response_bytes)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the server at `url` with the default settings.
    ///
    /// Credentials may be part of the URL, percent-encoded:
    /// `https://bob:s%40cret@api.example.com/RPC2` is user `bob` with password
    /// `s@cret`. The path is used as given.
    pub fn new(url: &str) -> Result<Client, Error> {
        Client::builder(url).build()
    }

    /// A builder for a client of the server at `url`, to set credentials, timeouts,
    /// TLS roots and limits.
    pub fn builder(url: &str) -> ClientBuilder {
        ClientBuilder::new(url)
    }

    pub(crate) fn from_inner(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// The server's URL, without credentials.
    pub fn url(&self) -> &Url {
        &self.inner.url
    }

    /// The user the client authenticates as, if any.
    pub fn user(&self) -> Option<&str> {
        self.inner.credentials.as_ref().map(|c| c.user.as_str())
    }

    /// Calls `method` with `params`, the parameter *list* (a tuple, an array, a
    /// `Vec`, `()` for none, or [`Positional`](xmlrpc_codec::Positional) for a
    /// struct's fields; see [`to_params`]), and converts the result to `R`
    /// ([`Value`] to keep it as it came).
    ///
    /// A fault is [`Error::Fault`]; a result that does not fit `R` is
    /// [`Error::Deserialize`], saying where.
    pub async fn call<P, R>(&self, method: &str, params: P) -> Result<R, Error>
    where
        P: Serialize,
        R: DeserializeOwned,
    {
        let params = to_params(&params).map_err(Error::Serialize)?;
        let value = self.send(&MethodCall::new(method, params)).await?;
        from_value(value).map_err(Error::Deserialize)
    }

    /// Calls `method` with `params` as they are, and returns the result as it came.
    pub async fn call_value(&self, method: &str, params: Vec<Value>) -> Result<Value, Error> {
        self.send(&MethodCall::new(method, params)).await
    }

    /// Sends `call` and returns its result; a fault is [`Error::Fault`].
    pub async fn send(&self, call: &MethodCall) -> Result<Value, Error> {
        let inner = &*self.inner;
        let mut body = Vec::with_capacity(256);
        inner
            .encoder
            .method_call(call, &mut body)
            .map_err(Error::Encode)?;
        let mut request = inner
            .http
            .post(inner.url.clone())
            .header(CONTENT_TYPE, "text/xml")
            .body(body);
        if let Some(c) = &inner.credentials {
            request = request.basic_auth(&c.user, Some(&c.password));
        }
        let mut response = request.send().await.map_err(Error::from_http)?;
        if response.status() != StatusCode::OK {
            return Err(status_error(&mut response).await);
        }
        let body = read_body(&mut response, inner.max_response_bytes, true).await?;
        let response = inner
            .decoder
            .method_response(&body)
            .map_err(Error::Decode)?;
        Ok(response.into_result()?)
    }

    /// A batch of calls to send in one `system.multicall` request, each with its
    /// own result or fault.
    pub fn multicall(&self) -> Multicall {
        Multicall::new(self.clone())
    }

    /// `system.listMethods`: the methods the server offers (when it offers
    /// introspection).
    pub async fn list_methods(&self) -> Result<Vec<String>, Error> {
        self.call("system.listMethods", ()).await
    }

    /// `system.methodHelp`: the help text of `method`.
    pub async fn method_help(&self, method: &str) -> Result<String, Error> {
        self.call("system.methodHelp", (method,)).await
    }

    /// `system.methodSignature`: the signatures of `method` as the server sends
    /// them (a list of type-name lists, result type first; Python's server
    /// answers the string `"signatures not supported"`).
    pub async fn method_signature(&self, method: &str) -> Result<Value, Error> {
        self.call("system.methodSignature", (method,)).await
    }
}

/// The error for an answer whose status is not 200: [`Error::Unauthorized`]
/// for 401, else [`Error::Http`] with the body's start and the `Retry-After`.
pub(crate) async fn status_error(response: &mut reqwest::Response) -> Error {
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        return Error::Unauthorized;
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(std::time::Duration::from_secs);
    match read_body(response, SNIPPET_READ_BYTES, false).await {
        Ok(body) => Error::Http {
            status: status.as_u16(),
            body_snippet: snippet(&body),
            retry_after,
        },
        Err(error) => error,
    }
}

/// Reads the body up to `limit` bytes (after decompression). Beyond it:
/// [`Error::TooLarge`] when `strict`, else the first `limit` bytes.
async fn read_body(
    response: &mut reqwest::Response,
    limit: usize,
    strict: bool,
) -> Result<Vec<u8>, Error> {
    let too_large = Error::TooLarge { limit };
    // Content-Length counts compressed bytes: a cheap early refusal, not the check.
    let compressed = response.headers().contains_key(CONTENT_ENCODING);
    let declared = response.content_length();
    if let Some(length) = declared
        && strict
        && !compressed
        && length > limit as u64
    {
        return Err(too_large);
    }
    let capacity = declared.map_or(0, |n| n.min(limit as u64) as usize);
    let mut body = Vec::with_capacity(if compressed { 0 } else { capacity });
    while let Some(chunk) = response.chunk().await.map_err(Error::from_http)? {
        if body.len() + chunk.len() > limit {
            if strict {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk[..limit - body.len()]);
            break;
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The start of a body as one line of text, for an error message.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut line: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(SNIPPET_CHARS + 1)
        .collect();
    if line.chars().count() > SNIPPET_CHARS {
        line = line.chars().take(SNIPPET_CHARS).collect();
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_one_short_line() {
        assert_eq!(snippet(b"  Not\r\n Found \n"), "Not Found");
        let long = "x".repeat(500);
        let s = snippet(long.as_bytes());
        assert_eq!(s.chars().count(), SNIPPET_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(snippet(b"\xff ok"), "\u{fffd} ok");
    }

    #[test]
    fn clients_and_errors_are_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<Client>();
        check::<Error>();
        check::<crate::Multicall>();
    }
}
