//! [`ClientError`]: what can go wrong on a call, split so that a program can decide
//! what to do (retry, ask for credentials, show the fault, give up).

use pbx_xmlrpc::FaultCode;
/// A transport failure, described in full: the generic client's.
pub use xmlrpc_client::TransportError;

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
    /// HTTP 429: the server refuses this user or address for now (too many failed
    /// logins). `retry_after` is the server's `Retry-After`, when it sent one in
    /// seconds: when the lock ends.
    #[error(
        "the server refuses further attempts for now (HTTP 429){}",
        retry_suffix(retry_after)
    )]
    TooManyRequests {
        /// How long until the server accepts attempts again, if it said.
        retry_after: Option<std::time::Duration>,
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
    /// The server offers no live events (`GET /events` answered 404): poll
    /// the `get_*` methods instead (or `get_events`, when it has them).
    #[error("the server offers no event stream (HTTP 404 for /events)")]
    EventsNotOffered,
    /// The server ended an event stream (it stopped or restarted, or a proxy
    /// closed the connection); [`EventStream`](crate::EventStream) reconnects
    /// by itself.
    #[error("the server ended the event stream")]
    EventStreamEnded,
}

fn retry_suffix(retry_after: &Option<std::time::Duration>) -> String {
    match retry_after {
        Some(after) => format!(": try again in {} s", after.as_secs()),
        None => String::new(),
    }
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
            ClientError::HttpStatus { .. }
            | ClientError::TooManyRequests { .. }
            | ClientError::EventsNotOffered => ErrorKind::HttpStatus,
            ClientError::Fault { .. } => ErrorKind::Fault,
            ClientError::InvalidResponse(_) | ClientError::ResponseTooLarge { .. } => {
                ErrorKind::InvalidResponse
            }
            ClientError::Transport(_) | ClientError::EventStreamEnded => ErrorKind::Transport,
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
    /// Another HTTP status (429 included).
    HttpStatus,
    /// An XML-RPC fault.
    Fault,
    /// An answer that does not decode, has the wrong shape or is too large.
    InvalidResponse,
    /// Another transport failure (connection closed, protocol error).
    Transport,
}

impl From<xmlrpc_client::Error> for ClientError {
    /// The one place where the generic client's errors become this crate's: the
    /// variants, and so [`ClientError::kind`] and the exit codes programs derive
    /// from it, stay what they were before the transport moved.
    fn from(error: xmlrpc_client::Error) -> Self {
        use xmlrpc_client::Error as E;
        match error {
            E::InvalidUrl(message) | E::Setup(message) => ClientError::InvalidUrl(message),
            E::Connect(detail) => ClientError::Connect(detail),
            E::Timeout => ClientError::Timeout,
            E::Unauthorized => ClientError::Unauthorized,
            E::Http {
                status: 429,
                retry_after,
                ..
            } => ClientError::TooManyRequests { retry_after },
            E::Http {
                status,
                body_snippet,
                ..
            } => ClientError::HttpStatus {
                status,
                body_snippet,
            },
            E::Fault(fault) => ClientError::Fault {
                code: fault.code,
                message: fault.string,
            },
            E::Decode(e) => {
                ClientError::InvalidResponse(format!("the body is no XML-RPC response: {e}"))
            }
            E::InvalidResponse(message) => ClientError::InvalidResponse(message),
            E::Deserialize(e) => ClientError::InvalidResponse(e.to_string()),
            E::Serialize(e) => ClientError::Encode(e.to_string()),
            E::Encode(e) => ClientError::Encode(e.to_string()),
            E::TooLarge { limit } => ClientError::ResponseTooLarge { limit },
            E::Transport(detail) => ClientError::Transport(detail),
            // `BlockingInAsync` (never: this crate uses the async client) and
            // whatever the generic client learns to report later.
            other => ClientError::InvalidResponse(other.to_string()),
        }
    }
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
