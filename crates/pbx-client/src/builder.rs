//! [`ClientBuilder`]: the server URL, credentials, timeouts and limits of a
//! [`Client`]; the HTTP itself is `xmlrpc-client`'s.

use std::fmt;
use std::time::Duration;

use crate::client::Client;
use crate::error::ClientError;

/// The default [`ClientBuilder::timeout`]: 30 s.
pub const DEFAULT_TIMEOUT: Duration = xmlrpc_client::DEFAULT_TIMEOUT;
/// The default [`ClientBuilder::connect_timeout`]: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = xmlrpc_client::DEFAULT_CONNECT_TIMEOUT;
/// The default [`ClientBuilder::max_response_bytes`]: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = xmlrpc_client::DEFAULT_MAX_RESPONSE_BYTES;
/// The default [`ClientBuilder::pool_idle_timeout`]: 20 s, below the reference
/// server's 30 s idle timeout so that the client drops a kept-alive connection
/// before the server does.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(20);

/// Sets up a [`Client`]; made by [`Client::builder`].
///
/// ```
/// use std::time::Duration;
/// use pbx_client::Client;
///
/// let client = Client::builder("https://pbx.example.com:3339/RPC2")
///     .credentials("203", "secret")
///     .timeout(Duration::from_secs(5))
///     .build()?;
/// assert_eq!(client.url().as_str(), "https://pbx.example.com:3339/RPC2");
/// # Ok::<(), pbx_client::ClientError>(())
/// ```
#[derive(Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ClientBuilder {
    inner: xmlrpc_client::ClientBuilder,
}

impl ClientBuilder {
    pub(crate) fn new(url: &str) -> Self {
        Self {
            inner: xmlrpc_client::Client::builder(url)
                .pool_idle_timeout(Some(DEFAULT_POOL_IDLE_TIMEOUT))
                .user_agent(concat!("pbx-client/", env!("CARGO_PKG_VERSION"))),
        }
    }

    fn with(
        self,
        f: impl FnOnce(xmlrpc_client::ClientBuilder) -> xmlrpc_client::ClientBuilder,
    ) -> Self {
        Self {
            inner: f(self.inner),
        }
    }

    /// The user (an extension number, e.g. `203`) and password sent with HTTP
    /// Basic auth on every call. They take precedence over credentials in the URL.
    pub fn credentials(self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.with(|b| b.basic_auth(user, password))
    }

    /// How long a whole call may take, from connecting to the end of the answer.
    /// Default [`DEFAULT_TIMEOUT`]. Beyond it, [`ClientError::Timeout`].
    pub fn timeout(self, timeout: Duration) -> Self {
        self.with(|b| b.timeout(timeout))
    }

    /// How long making a connection may take. Default [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.with(|b| b.connect_timeout(timeout))
    }

    /// How long an idle connection is kept for reuse; `None` keeps it until the
    /// server closes it. Default [`DEFAULT_POOL_IDLE_TIMEOUT`].
    pub fn pool_idle_timeout(self, timeout: Option<Duration>) -> Self {
        self.with(|b| b.pool_idle_timeout(timeout))
    }

    /// The `User-Agent` header. Default `pbx-client/<version>`.
    pub fn user_agent(self, user_agent: impl Into<String>) -> Self {
        self.with(|b| b.user_agent(user_agent))
    }

    /// The largest response body read, after gzip decompression; beyond it,
    /// [`ClientError::ResponseTooLarge`], so that a hostile or broken server cannot
    /// exhaust the client's memory. Default [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub fn max_response_bytes(self, limit: usize) -> Self {
        self.with(|b| b.max_response_bytes(limit))
    }

    /// Connects directly, ignoring the `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`
    /// environment variables (which are honoured by default, with `NO_PROXY`).
    pub fn no_proxy(self) -> Self {
        self.with(xmlrpc_client::ClientBuilder::no_proxy)
    }

    /// Sends the `<nil/>` and `<i8>` extension types (`Value::Nil`, integers
    /// beyond 32 bits) instead of refusing them with [`ClientError::Encode`]. Off by
    /// default: PBXpress servers need not read them.
    pub fn allow_extensions(self, allow: bool) -> Self {
        let mut options = xmlrpc_codec::EncodeOptions::default();
        options.allow_extensions = allow;
        self.with(|b| b.encode_options(options))
    }

    /// Trusts this certificate authority (DER) for `https` URLs, besides the
    /// system's roots: for a server with a private or self-signed certificate.
    pub fn add_root_certificate_der(self, der: impl Into<Vec<u8>>) -> Self {
        self.with(|b| b.add_root_certificate_der(der))
    }

    /// The client.
    ///
    /// Fails with [`ClientError::InvalidUrl`] when the URL is not an `http` or
    /// `https` URL with a host, or its user info is not UTF-8 once percent-decoded,
    /// and when TLS cannot be set up for an `https` URL (no root certificates).
    pub fn build(self) -> Result<Client, ClientError> {
        Ok(Client::from_rpc(self.inner.build()?))
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The generic builder's `Debug` shows neither the URL's password nor the
        // credentials'.
        f.debug_tuple("ClientBuilder").field(&self.inner).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_percent_decoded_and_removed() {
        let client = Client::new("http://203:s%40cret%3A%C3%A9@pbx.example:3339/RPC2").unwrap();
        assert_eq!(client.url().as_str(), "http://pbx.example:3339/RPC2");
        assert_eq!(client.user(), Some("203"));
        let client = Client::new("https://pbx.example/").unwrap_or_else(|e| {
            // A host without any root certificate cannot build an https client.
            assert!(e.to_string().contains("No CA certificates"), "{e}");
            Client::new("http://pbx.example/").unwrap()
        });
        assert_eq!(client.user(), None);
        let client = Client::new("http://203@pbx.example/").unwrap();
        assert_eq!(client.user(), Some("203"));
    }

    #[test]
    fn unusable_urls_are_refused_without_repeating_them() {
        for bad in [
            "pbx.example:3339",
            "ftp://u:hunter2@pbx.example/",
            "http://u:%FF@pbx.example/",
            "not a url hunter2",
            "file:///etc/passwd",
        ] {
            let err = Client::new(bad).map(|_| ()).unwrap_err();
            assert!(matches!(err, ClientError::InvalidUrl(_)), "{bad}: {err:?}");
            assert!(!err.to_string().contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn debug_never_shows_the_password() {
        let builder =
            ClientBuilder::new("http://u:hunter2@pbx.example/").credentials("u", "swordfish");
        let text = format!("{builder:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("swordfish"),
            "{text}"
        );
        let client = builder.build().unwrap();
        let text = format!("{client:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("swordfish"),
            "{text}"
        );
        assert!(text.contains("\"u\""), "{text}");
    }

    #[test]
    fn https_clients_use_our_tls_configuration() {
        // reqwest refuses a preconfigured TLS config of another rustls version at
        // `build`: this catches a version skew between the two.
        match Client::new("https://pbx.example/RPC2") {
            Ok(_) => {}
            // A host without any root certificate: the verifier cannot be made.
            Err(ClientError::InvalidUrl(m)) if m.contains("No CA certificates") => {}
            Err(e) => panic!("{e}"),
        }
    }
}
