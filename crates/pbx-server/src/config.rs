//! [`ServerConfig`]: the HTTP layer's realm, size limits, timeouts, connection
//! caps and login throttling (docs/security.md says what each defends).

use std::time::Duration;

use crate::{ConsoleConfig, ThrottleConfig};

/// What the HTTP layer accepts and how long it waits.
///
/// The defaults suit a server facing untrusted clients. The struct is
/// `#[non_exhaustive]` so that settings can be added; change fields on a default value:
///
/// ```
/// use std::time::Duration;
/// use pbx_server::ServerConfig;
///
/// let mut config = ServerConfig::default();
/// config.realm = "Acme PBX".into();
/// config.request_timeout = Duration::from_secs(10);
/// # let _ = config;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerConfig {
    /// The realm named in the `WWW-Authenticate` challenge. Default `"PBXpress"`.
    /// Characters outside printable ASCII are replaced by `_`.
    pub realm: String,
    /// The largest request body accepted as it arrives, compressed or not; a larger
    /// one is answered 413 without being read. Default 1 MiB.
    pub max_body_bytes: usize,
    /// The largest document a gzip request body may inflate to; beyond it, 413.
    /// Default 20 MiB, as Python's `SimpleXMLRPCServer`. The binding's decoder
    /// refuses documents above its own `Limits::max_document_bytes` with a fault;
    /// [`AppState`](crate::AppState) gives it this value, so that it accepts what
    /// HTTP lets through.
    pub max_decompressed_bytes: usize,
    /// The most bytes one answer may take; beyond, the call is fault -4
    /// (`pbx_handler::Handler::with_max_response_bytes`, which
    /// [`AppState`](crate::AppState) gives this value). Default
    /// `pbx_handler::DEFAULT_MAX_RESPONSE_BYTES` (16 MiB).
    pub max_response_bytes: usize,
    /// The most calls one request may make: the entries of a
    /// `system.multicall` (beyond, fault -32602), and of a JSON-RPC batch,
    /// counting a multicall's sub-calls inside it (beyond, error -32600).
    /// Default `pbx_handler::DEFAULT_MAX_MULTICALL` (1,000).
    pub max_multicall: usize,
    /// The most JSON values one `POST /jsonrpc` body may hold (counted on the
    /// bytes, before any is parsed); beyond, error -32600. Bounds the memory a
    /// parsed body takes, which for JSON is many times its size. Default 65,536.
    pub max_json_values: usize,
    /// How long one request may take from the end of its headers to its answer
    /// (reading the body included); beyond it, 408. Default 75 s: above the
    /// longest `get_events` long poll (60 s) with room for the answer, while
    /// `body_timeout` still bounds a slow body on its own.
    pub request_timeout: Duration,
    /// How long a connection may take to deliver the complete headers of its next
    /// request: the keep-alive idle timeout and the guard against clients that send
    /// headers slowly, at once (hyper's header read timeout). Applies to
    /// [`serve`](crate::serve) only; an embedding server sets its own. Default 30 s.
    /// It also bounds a TLS handshake.
    pub idle_timeout: Duration,
    /// How long reading a request's body may take; beyond it, 408 (a client
    /// trickling its body). Default 20 s.
    pub body_timeout: Duration,
    /// How long a client may take to receive what is written to it, from the
    /// moment its socket stops taking bytes until all of it is through; beyond,
    /// the connection is closed and the answer it held freed
    /// ([`serve`](crate::serve) only). An answer of `N` bytes thus needs a
    /// client taking about `N / write_timeout` bytes per second once the socket
    /// buffers are full. Default 30 s.
    pub write_timeout: Duration,
    /// The most connections served at once; beyond, a new connection is answered
    /// 503 and closed ([`serve`](crate::serve) only). Default 1024.
    pub max_connections: usize,
    /// The most connections served at once from one client address (IPv6: one
    /// /64); beyond, a new connection from it is answered 429 and closed
    /// ([`serve`](crate::serve) only). Default 64.
    pub max_connections_per_address: usize,
    /// The most requests one keep-alive connection may make; the last answer says
    /// `Connection: close` ([`serve`](crate::serve) only). Default 1000.
    pub max_requests_per_connection: usize,
    /// The most header fields a request may have; beyond, 431
    /// ([`serve`](crate::serve) only). Default 64.
    pub max_headers: usize,
    /// The most bytes of request line and headers; beyond, 431
    /// ([`serve`](crate::serve) only; at least 8 KiB). Default 64 KiB.
    pub max_header_bytes: usize,
    /// How failed logins are slowed down and refused (429).
    pub throttle: ThrottleConfig,
    /// Server-Sent Event streams (`GET /events`) open at once, in all; more
    /// are answered 503. Default 1,000.
    pub max_event_streams: usize,
    /// Event streams one user may hold open at once; more are answered 503.
    /// Default 4.
    pub max_event_streams_per_user: usize,
    /// How often an idle event stream gets a comment line, so that proxies
    /// keep it open. Default 15 s.
    pub event_heartbeat: Duration,
    /// The operator console's sessions: expiry and caps.
    pub console: ConsoleConfig,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            realm: "PBXpress".to_owned(),
            max_body_bytes: 1 << 20,
            max_decompressed_bytes: 20 << 20,
            max_response_bytes: pbx_handler::DEFAULT_MAX_RESPONSE_BYTES,
            max_multicall: pbx_handler::DEFAULT_MAX_MULTICALL,
            max_json_values: 1 << 16,
            request_timeout: Duration::from_secs(75),
            idle_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(20),
            write_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_connections_per_address: 64,
            max_requests_per_connection: 1000,
            max_headers: 64,
            max_header_bytes: 64 << 10,
            throttle: ThrottleConfig::default(),
            max_event_streams: 1000,
            max_event_streams_per_user: 4,
            event_heartbeat: Duration::from_secs(15),
            console: ConsoleConfig::default(),
        }
    }
}
