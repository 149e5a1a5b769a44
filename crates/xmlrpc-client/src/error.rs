//! [`Error`]: what can go wrong on a call, split so that a program can decide what
//! to do (retry, ask for credentials, show the fault, give up).

use xmlrpc_codec::{DecodeError, EncodeError, Fault, SerdeError};

/// Why a call failed.
///
/// Errors never hold a password or the `Authorization` header: URLs in messages
/// have their user info removed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server URL is unusable: not a URL, not `http`/`https`, no host, user
    /// info that is not UTF-8 once percent-decoded.
    #[error("invalid server URL: {0}")]
    InvalidUrl(String),
    /// The client could not be set up: TLS (no root certificates, a certificate
    /// that does not parse), a header that is not valid HTTP, the blocking
    /// client's runtime.
    #[error("cannot set up the client: {0}")]
    Setup(String),
    /// No connection could be made: connection refused, unknown host, network
    /// unreachable, TLS handshake failed (an untrusted certificate, say).
    #[error("cannot connect to {}: {}", .0.url(), .0)]
    Connect(TransportError),
    /// No answer within [`ClientBuilder::timeout`](crate::ClientBuilder::timeout),
    /// or no connection within
    /// [`ClientBuilder::connect_timeout`](crate::ClientBuilder::connect_timeout).
    #[error("the server did not answer in time")]
    Timeout,
    /// HTTP 401: the credentials are missing or wrong.
    #[error("the server refused the credentials (HTTP 401)")]
    Unauthorized,
    /// An HTTP status other than 200 and 401: 404 for a wrong path, 3xx (redirects
    /// are not followed: a redirected POST would become a GET), 413, 5xx, ...
    #[error("the server answered HTTP {status}{}", snippet_suffix(body_snippet))]
    Http {
        /// The status code.
        status: u16,
        /// The start of the response body as one line (at most 200 characters),
        /// for the humans reading the error.
        body_snippet: String,
        /// The `Retry-After` the server sent in whole seconds (with 429 or 503), if any.
        retry_after: Option<std::time::Duration>,
    },
    /// The server answered with an XML-RPC fault: its `faultCode` and
    /// `faultString` (and whatever it sent beyond the spec, see [`Fault`]).
    #[error("{0}")]
    Fault(Fault),
    /// The response body is no XML-RPC response (HTML, truncated XML, a document
    /// beyond the decoder's [`Limits`](xmlrpc_codec::Limits)...).
    #[error("the answer is no XML-RPC response: {0}")]
    Decode(DecodeError),
    /// The answer is a well-formed XML-RPC response of the wrong shape for what was
    /// asked: a `system.multicall` answer that is not one result per call.
    #[error("invalid response: {0}")]
    InvalidResponse(String),
    /// The result does not convert to the type asked for
    /// ([`Client::call`](crate::Client::call)'s `R`); the message says where.
    #[error("the result does not fit the type asked for: {0}")]
    Deserialize(SerdeError),
    /// The parameters do not convert to XML-RPC params (for example a struct given
    /// where the parameter *list* is expected: see `xmlrpc_codec::to_params`).
    /// Nothing was sent.
    #[error("cannot convert the parameters: {0}")]
    Serialize(SerdeError),
    /// A parameter cannot be written as XML-RPC (a NaN, a control character, a
    /// nil without extensions): nothing was sent.
    #[error("cannot encode the call: {0}")]
    Encode(EncodeError),
    /// The response body is larger than
    /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes)
    /// (counted after gzip decompression); reading stopped there.
    #[error("the response is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Any other transport failure: the connection closed or reset before the
    /// answer was complete, a broken gzip body, an HTTP protocol error.
    #[error("transport error talking to {}: {}", .0.url(), .0)]
    Transport(TransportError),
    /// A [`blocking::Client`](crate::blocking::Client) was called on a thread
    /// that runs an async runtime, where blocking would stall the runtime: use
    /// the async [`Client`](crate::Client) there.
    #[error(
        "the blocking client cannot be used inside an async runtime; use the async Client there"
    )]
    BlockingInAsync,
}

fn snippet_suffix(snippet: &str) -> String {
    if snippet.is_empty() {
        String::new()
    } else {
        format!(": {snippet}")
    }
}

impl Error {
    /// The fault, when the server answered with one.
    pub fn fault(&self) -> Option<&Fault> {
        match self {
            Error::Fault(fault) => Some(fault),
            _ => None,
        }
    }

    /// The fault code, when the server answered with a fault.
    pub fn fault_code(&self) -> Option<i32> {
        self.fault().map(|f| f.code)
    }

    /// Whether retrying the same call later might succeed: no connection, a
    /// timeout, a broken connection, or HTTP 502, 503 or 504. A call that is not
    /// idempotent may have run on the server all the same when the answer was lost.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Connect(_) | Error::Timeout | Error::Transport(_) => true,
            Error::Http { status, .. } => matches!(status, 502..=504),
            _ => false,
        }
    }
}

impl From<Fault> for Error {
    fn from(fault: Fault) -> Self {
        Error::Fault(fault)
    }
}

/// A transport failure, described in full: its message holds the chain of causes
/// (e.g. `tcp connect error: Connection refused (os error 111)`), so printing the
/// error once says everything.
///
/// Opaque on purpose: the HTTP stack underneath is an implementation detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    url: String,
    message: String,
}

impl TransportError {
    pub(crate) fn new(url: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            message: message.into(),
        }
    }

    /// The URL of the server the client was talking to, without credentials.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The description of the failure and its causes.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TransportError {}

impl Error {
    /// Classifies an error of the HTTP stack; its message lists every cause.
    pub(crate) fn from_http(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            return Error::Timeout;
        }
        let url = error
            .url()
            .map_or_else(|| "the server".to_string(), |u| u.to_string());
        // reqwest's own message ("error sending request for url (...)") only
        // repeats the URL: the causes say what happened.
        let detail = match std::error::Error::source(&error) {
            Some(cause) => describe(cause),
            None => describe(&error),
        };
        let detail = explain_scheme_mismatch(&url, detail);
        let detail = TransportError::new(url, detail);
        if error.is_connect() {
            Error::Connect(detail)
        } else {
            Error::Transport(detail)
        }
    }
}

/// The HTTP stack's words for a URL whose scheme is not the server's
/// ("invalid HTTP version parsed": TLS bytes read as HTTP; "InvalidContentType":
/// HTTP bytes read as TLS), said in the user's terms, the original kept after.
fn explain_scheme_mismatch(url: &str, detail: String) -> String {
    if url.starts_with("http://") && detail.contains("invalid HTTP version parsed") {
        format!("the server speaks HTTPS: use an https:// URL ({detail})")
    } else if url.starts_with("https://")
        && (detail.contains("InvalidContentType") || detail.contains("corrupt message"))
    {
        format!("the server does not speak HTTPS: use an http:// URL ({detail})")
    } else {
        detail
    }
}

/// The error and its causes as one line, `a: b: c`, without repeats.
pub(crate) fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        // hyper-util wraps causes in "client error (Connect)"-style messages that
        // add nothing to the cause that follows.
        let noise = text.starts_with("client error (");
        if !noise && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    if parts.is_empty() {
        return error.to_string();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_display_as_the_codec_shows_them() {
        let e = Error::Fault(Fault::new(4, "Too many parameters"));
        assert_eq!(e.to_string(), "fault 4: Too many parameters");
        assert_eq!(e.fault_code(), Some(4));
        assert_eq!(Error::Timeout.fault_code(), None);
    }

    #[test]
    fn http_status_shows_the_snippet_when_there_is_one() {
        let e = Error::Http {
            status: 404,
            body_snippet: String::new(),
            retry_after: None,
        };
        assert_eq!(e.to_string(), "the server answered HTTP 404");
        let e = Error::Http {
            status: 503,
            body_snippet: "busy".into(),
            retry_after: None,
        };
        assert_eq!(e.to_string(), "the server answered HTTP 503: busy");
        assert!(e.is_transient());
        assert!(!Error::Unauthorized.is_transient());
    }

    #[test]
    fn a_url_with_the_wrong_scheme_says_which_the_server_speaks() {
        let tls_read_as_http = "error sending request: invalid HTTP version parsed";
        assert_eq!(
            explain_scheme_mismatch("http://127.0.0.1:3339/RPC2", tls_read_as_http.into()),
            format!("the server speaks HTTPS: use an https:// URL ({tls_read_as_http})")
        );
        let http_read_as_tls = "received corrupt message of type InvalidContentType";
        assert_eq!(
            explain_scheme_mismatch("https://127.0.0.1:3339/RPC2", http_read_as_tls.into()),
            format!("the server does not speak HTTPS: use an http:// URL ({http_read_as_tls})")
        );
        // Other failures, and the same words under the other scheme, stay as they are.
        for (url, detail) in [
            ("https://h/RPC2", tls_read_as_http),
            ("http://h/RPC2", http_read_as_tls),
            (
                "http://h/RPC2",
                "tcp connect error: Connection refused (os error 111)",
            ),
        ] {
            assert_eq!(explain_scheme_mismatch(url, detail.into()), detail);
        }
    }
}
