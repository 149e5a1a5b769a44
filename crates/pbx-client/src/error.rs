//! [`ClientError`]: what can go wrong on a call, split so that a program can decide
//! what to do (retry, ask for credentials, show the fault, give up).

use pbx_xmlrpc::FaultCode;

/// Why a call failed.
///
/// Errors never hold the password or the `Authorization` header: URLs in messages
/// have their user info removed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The server URL is unusable (not a URL, not `http`/`https`, no host, user
    /// info that is not UTF-8), or the client could not be set up with it.
    #[error("invalid server URL: {0}")]
    InvalidUrl(String),
    /// No connection could be made: connection refused, unknown host, network
    /// unreachable, TLS handshake failed.
    #[error("cannot connect to {}: {}", .0.url(), .0)]
    Connect(TransportError),
    /// The server did not answer within the configured timeout (or the connection
    /// could not be made within the connect timeout).
    #[error("the server did not answer in time")]
    Timeout,
    /// HTTP 401: the credentials are missing or wrong. The server does not say
    /// which part was wrong, and neither does this error.
    #[error("the server refused the credentials (HTTP 401)")]
    Unauthorized,
    /// An HTTP status other than 200 and 401 (404 for a wrong path, 413 for a request
    /// too large, 5xx, ...).
    #[error("the server answered HTTP {status}{}", snippet_suffix(body_snippet))]
    HttpStatus {
        /// The status code.
        status: u16,
        /// The start of the response body (at most a few hundred characters), for
        /// the humans reading the error.
        body_snippet: String,
    },
    /// The server answered with an XML-RPC fault.
    ///
    /// By SPEC.md's rule a code above zero is an internal server error
    /// ([`ClientError::is_internal`]), anything else a user-level error;
    /// [`ClientError::fault_kind`] names the codes SPEC.md defines.
    #[error("fault {code}: {message}")]
    Fault {
        /// `faultCode`.
        code: i32,
        /// `faultString`.
        message: String,
    },
    /// The server's answer is no XML-RPC response, or its result does not have the
    /// shape the method's result has. The message names the method and the place
    /// inside the value, e.g. `get_calls: [2].from.id: expected int, got string "x"`.
    #[error("invalid response: {0}")]
    InvalidResponse(String),
    /// The response body is larger than
    /// [`ClientBuilder::max_response_bytes`](crate::ClientBuilder::max_response_bytes);
    /// reading stopped there.
    #[error("the response is larger than the limit of {limit} bytes")]
    ResponseTooLarge {
        /// The limit, in bytes (after gzip decompression).
        limit: usize,
    },
    /// A parameter cannot be written as XML-RPC (a NaN, a control character, nil):
    /// nothing was sent.
    #[error("cannot encode the request: {0}")]
    Encode(String),
    /// Any other transport failure: the connection closed or reset before the
    /// answer was complete, a broken gzip body, an HTTP protocol error.
    #[error("transport error talking to {}: {}", .0.url(), .0)]
    Transport(TransportError),
}

fn snippet_suffix(snippet: &str) -> String {
    if snippet.is_empty() {
        String::new()
    } else {
        format!(": {snippet}")
    }
}

impl ClientError {
    /// The class of the error, e.g. to pick a process exit code.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ClientError::InvalidUrl(_) | ClientError::Encode(_) => ErrorKind::InvalidInput,
            ClientError::Connect(_) => ErrorKind::Connect,
            ClientError::Timeout => ErrorKind::Timeout,
            ClientError::Unauthorized => ErrorKind::Unauthorized,
            ClientError::HttpStatus { .. } => ErrorKind::HttpStatus,
            ClientError::Fault { .. } => ErrorKind::Fault,
            ClientError::InvalidResponse(_) | ClientError::ResponseTooLarge { .. } => {
                ErrorKind::InvalidResponse
            }
            ClientError::Transport(_) => ErrorKind::Transport,
        }
    }

    /// The fault code, when the server answered with a fault.
    pub fn fault_code(&self) -> Option<i32> {
        match self {
            ClientError::Fault { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The fault as one of SPEC.md's codes, when the server answered with a fault
    /// whose code SPEC.md defines.
    pub fn fault_kind(&self) -> Option<FaultCode> {
        self.fault_code().and_then(FaultCode::from_code)
    }

    /// Whether this is a fault that SPEC.md's rule calls an internal server error
    /// (`faultCode > 0`): a bug or an I/O failure on the server, not something the
    /// caller did wrong. `false` for user-level faults and for every other error.
    pub fn is_internal(&self) -> bool {
        self.fault_code().is_some_and(FaultCode::is_internal)
    }

    /// Whether this is a fault with the given code, e.g.
    /// `err.is_fault(FaultCode::NotFound)`.
    pub fn is_fault(&self, code: FaultCode) -> bool {
        self.fault_code() == Some(code.code())
    }
}

/// The class of a [`ClientError`], one per variant family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// What the program gave the client is unusable: the URL, or a parameter
    /// XML-RPC cannot carry. Retrying does not help.
    InvalidInput,
    /// No connection could be made.
    Connect,
    /// No answer in time.
    Timeout,
    /// HTTP 401.
    Unauthorized,
    /// Another HTTP status.
    HttpStatus,
    /// An XML-RPC fault.
    Fault,
    /// An answer that does not decode, has the wrong shape or is too large.
    InvalidResponse,
    /// Another transport failure (connection closed, protocol error).
    Transport,
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
    /// The server's URL (without credentials), and what went wrong.
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

impl ClientError {
    /// Classifies an error of the HTTP stack; its message lists every cause.
    pub(crate) fn from_http(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            return ClientError::Timeout;
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
            ClientError::Connect(detail)
        } else {
            ClientError::Transport(detail)
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
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
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
    fn internal_faults_by_the_guides_rule() {
        let internal = ClientError::Fault {
            code: 1,
            message: "internal server error".into(),
        };
        assert!(internal.is_internal());
        assert_eq!(internal.fault_kind(), Some(FaultCode::Internal));
        let user = ClientError::Fault {
            code: -1,
            message: "no such call".into(),
        };
        assert!(!user.is_internal());
        assert!(user.is_fault(FaultCode::NotFound));
        assert_eq!(user.to_string(), "fault -1: no such call");
        assert!(!ClientError::Timeout.is_internal());
        assert_eq!(ClientError::Timeout.fault_code(), None);
        let odd = ClientError::Fault {
            code: 42,
            message: String::new(),
        };
        assert!(odd.is_internal());
        assert_eq!(odd.fault_kind(), None);
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

    #[test]
    fn http_status_shows_the_snippet_when_there_is_one() {
        let e = ClientError::HttpStatus {
            status: 404,
            body_snippet: String::new(),
        };
        assert_eq!(e.to_string(), "the server answered HTTP 404");
        let e = ClientError::HttpStatus {
            status: 500,
            body_snippet: "oops".into(),
        };
        assert_eq!(e.to_string(), "the server answered HTTP 500: oops");
        assert_eq!(e.kind(), ErrorKind::HttpStatus);
    }
}
