//! [`ServerConfig`]: the HTTP layer's realm, size limits and timeouts.

use std::time::Duration;

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
    /// refuses documents above its own `Limits::max_document_bytes` with a fault:
    /// give it this value to accept what HTTP lets through (see [`AppState::new`](crate::AppState::new)).
    pub max_decompressed_bytes: usize,
    /// How long one request may take from the end of its headers to its answer
    /// (reading the body included); beyond it, 408. Default 30 s.
    pub request_timeout: Duration,
    /// How long a connection may take to deliver the complete headers of its next
    /// request: the keep-alive idle timeout and the guard against clients that send
    /// headers slowly, at once (hyper's header read timeout). Applies to
    /// [`serve`](crate::serve) only; an embedding server sets its own. Default 30 s.
    pub idle_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            realm: "PBXpress".to_owned(),
            max_body_bytes: 1 << 20,
            max_decompressed_bytes: 20 << 20,
            request_timeout: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30),
        }
    }
}
