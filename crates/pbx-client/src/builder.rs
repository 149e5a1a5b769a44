//! [`ClientBuilder`]: the server URL, credentials, timeouts and limits of a
//! [`Client`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use reqwest::Url;
use xmlrpc_codec::{Decoder, EncodeOptions, Encoder, Limits};

use crate::client::{Client, Credentials, Inner};
use crate::error::ClientError;

/// The default [`ClientBuilder::timeout`]: 30 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default [`ClientBuilder::connect_timeout`]: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default [`ClientBuilder::max_response_bytes`]: 64 MiB.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;
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
    url: String,
    credentials: Option<Credentials>,
    timeout: Duration,
    connect_timeout: Duration,
    pool_idle_timeout: Option<Duration>,
    user_agent: String,
    max_response_bytes: usize,
    proxy: bool,
    root_certificates: Vec<Vec<u8>>,
    allow_extensions: bool,
}

impl ClientBuilder {
    pub(crate) fn new(url: &str) -> Self {
        Self {
            url: url.to_string(),
            credentials: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
            user_agent: concat!("pbx-client/", env!("CARGO_PKG_VERSION")).to_string(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            proxy: true,
            root_certificates: Vec::new(),
            allow_extensions: false,
        }
    }

    /// The user (an extension number, e.g. `203`) and password sent with HTTP
    /// Basic auth on every call. They take precedence over credentials in the URL.
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some(Credentials {
            user: user.into(),
            password: password.into(),
        });
        self
    }

    /// How long a whole call may take, from connecting to the end of the answer.
    /// Default [`DEFAULT_TIMEOUT`]. Beyond it, [`ClientError::Timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long making a connection may take. Default [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long an idle connection is kept for reuse; `None` keeps it until the
    /// server closes it. Default [`DEFAULT_POOL_IDLE_TIMEOUT`].
    pub fn pool_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.pool_idle_timeout = timeout;
        self
    }

    /// The `User-Agent` header. Default `pbx-client/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The largest response body read, after gzip decompression; beyond it,
    /// [`ClientError::ResponseTooLarge`], so that a hostile or broken server cannot
    /// exhaust the client's memory. Default [`DEFAULT_MAX_RESPONSE_BYTES`].
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Connects directly, ignoring the `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`
    /// environment variables (which are honoured by default, with `NO_PROXY`).
    pub fn no_proxy(mut self) -> Self {
        self.proxy = false;
        self
    }

    /// Sends the `<nil/>` and `<i8>` extension types (`Value::Nil`, integers
    /// beyond 32 bits) instead of refusing them with [`ClientError::Encode`]. Off by
    /// default: PBXpress servers need not read them.
    pub fn allow_extensions(mut self, allow: bool) -> Self {
        self.allow_extensions = allow;
        self
    }

    /// Trusts this certificate authority (DER) for `https` URLs, besides the
    /// system's roots: for a server with a private or self-signed certificate.
    pub fn add_root_certificate_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(der.into());
        self
    }

    /// The client.
    ///
    /// Fails with [`ClientError::InvalidUrl`] when the URL is not an `http` or
    /// `https` URL with a host, or its user info is not UTF-8 once percent-decoded,
    /// and when TLS cannot be set up for an `https` URL (no root certificates).
    pub fn build(self) -> Result<Client, ClientError> {
        let (url, from_url) = parse_url(&self.url)?;
        let credentials = self.credentials.or(from_url);
        let https = url.scheme() == "https";

        let mut http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .pool_idle_timeout(self.pool_idle_timeout)
            .user_agent(self.user_agent)
            // A redirected POST would become a GET: a redirect is an error to see.
            .redirect(reqwest::redirect::Policy::none())
            .tls_backend_preconfigured(tls_config(https, self.root_certificates)?);
        if !self.proxy {
            http = http.no_proxy();
        }
        let http = http
            .build()
            .map_err(|e| ClientError::InvalidUrl(format!("cannot set up the HTTP client: {e}")))?;

        let mut options = EncodeOptions::default();
        options.allow_extensions = self.allow_extensions;
        let mut limits = Limits::default();
        limits.max_document_bytes = self.max_response_bytes;
        limits.max_string_bytes = self.max_response_bytes;
        Ok(Client::from_inner(Arc::new(Inner {
            http,
            url,
            credentials,
            timeout: self.timeout,
            max_response_bytes: self.max_response_bytes,
            decoder: Decoder::new(limits),
            encoder: Encoder::new(options),
        })))
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL as given may hold a password: show it only once parsed and stripped.
        let url = parse_url(&self.url).map(|(url, _)| url.to_string());
        f.debug_struct("ClientBuilder")
            .field("url", &url.as_deref().unwrap_or("<invalid>"))
            .field("credentials", &self.credentials)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("user_agent", &self.user_agent)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("proxy", &self.proxy)
            .field("root_certificates", &self.root_certificates.len())
            .field("allow_extensions", &self.allow_extensions)
            .finish()
    }
}

/// The URL without its user info, and the credentials it held (percent-decoded).
///
/// Error messages never repeat the URL as given: it may hold a password.
fn parse_url(text: &str) -> Result<(Url, Option<Credentials>), ClientError> {
    let mut url =
        Url::parse(text.trim()).map_err(|e| ClientError::InvalidUrl(format!("not a URL ({e})")))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(ClientError::InvalidUrl(format!(
                "the scheme must be http or https, not {other:?}"
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(ClientError::InvalidUrl("the URL has no host".into()));
    }
    let decode = |part: &str, what: &str| {
        percent_decode_str(part)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| {
                ClientError::InvalidUrl(format!("the {what} in the URL is not UTF-8 once decoded"))
            })
    };
    let credentials = if url.username().is_empty() && url.password().is_none() {
        None
    } else {
        Some(Credentials {
            user: decode(url.username(), "user")?,
            password: decode(url.password().unwrap_or(""), "password")?,
        })
    };
    // Infallible for http(s) URLs with a host; checked all the same.
    let stripped = url.set_username("").is_ok() && url.set_password(None).is_ok();
    if !stripped {
        return Err(ClientError::InvalidUrl(
            "the URL's user info cannot be removed".into(),
        ));
    }
    url.set_fragment(None);
    Ok((url, credentials))
}

/// rustls on *ring*, handed to reqwest whole (no process-wide provider installed).
///
/// Plain `http` URLs get a configuration without roots: the client never leaves
/// its URL (no redirects), so it never speaks TLS, and loading the system's roots
/// (which fails on hosts without any) would only cost time.
fn tls_config(https: bool, extra_roots: Vec<Vec<u8>>) -> Result<rustls::ClientConfig, ClientError> {
    let tls_error = |e: rustls::Error| ClientError::InvalidUrl(format!("cannot set up TLS: {e}"));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?;
    let mut config = if https {
        let roots = extra_roots
            .into_iter()
            .map(rustls::pki_types::CertificateDer::from);
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider)
            .map_err(tls_error)?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    } else {
        builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds(user: &str, password: &str) -> Option<Credentials> {
        Some(Credentials {
            user: user.into(),
            password: password.into(),
        })
    }

    #[test]
    fn user_info_is_percent_decoded_and_removed() {
        let (url, c) = parse_url("http://203:s%40cret%3A%C3%A9@pbx.example:3339/RPC2").unwrap();
        assert_eq!(url.as_str(), "http://pbx.example:3339/RPC2");
        assert_eq!(c, creds("203", "s@cret:é"));
        let (url, c) = parse_url("https://pbx.example/").unwrap();
        assert_eq!((url.as_str(), c), ("https://pbx.example/", None));
        let (_, c) = parse_url("http://203@pbx.example/").unwrap();
        assert_eq!(c, creds("203", ""));
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
            let err = parse_url(bad).map(|_| ()).unwrap_err();
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
