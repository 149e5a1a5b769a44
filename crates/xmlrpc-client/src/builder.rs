//! [`ClientBuilder`]: the server URL, credentials, timeouts, TLS and limits of a
//! [`Client`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::percent_decode_str;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;
use xmlrpc_codec::{Decoder, EncodeOptions, Encoder, Limits};

use crate::client::{Client, Credentials, Inner};
use crate::error::Error;

/// The default [`ClientBuilder::timeout`]: 30 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default [`ClientBuilder::connect_timeout`]: 10 s.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default [`ClientBuilder::max_response_bytes`]: 64 MiB, as
/// [`Limits::for_responses`].
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 << 20;
/// The default [`ClientBuilder::pool_idle_timeout`]: 20 s, below the idle timeout
/// of most servers, so that the client drops a kept-alive connection before the
/// server does.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(20);

/// Sets up a [`Client`]; made by [`Client::builder`].
///
/// ```
/// use std::time::Duration;
/// use xmlrpc_client::Client;
///
/// let client = Client::builder("https://api.example.com/xmlrpc")
///     .basic_auth("alice", "secret")
///     .timeout(Duration::from_secs(5))
///     .max_response_bytes(8 << 20)
///     .build()?;
/// assert_eq!(client.url().as_str(), "https://api.example.com/xmlrpc");
/// # Ok::<(), xmlrpc_client::Error>(())
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
    gzip: bool,
    max_response_bytes: usize,
    limits: Option<Limits>,
    encode_options: EncodeOptions,
    proxy: bool,
    root_certificates: Vec<Vec<u8>>,
    root_certificates_pem: Vec<Vec<u8>>,
    headers: Vec<(String, String)>,
}

impl ClientBuilder {
    pub(crate) fn new(url: &str) -> Self {
        Self {
            url: url.to_string(),
            credentials: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            pool_idle_timeout: Some(DEFAULT_POOL_IDLE_TIMEOUT),
            user_agent: concat!("xmlrpc-client/", env!("CARGO_PKG_VERSION")).to_string(),
            gzip: true,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            limits: None,
            encode_options: EncodeOptions::default(),
            proxy: true,
            root_certificates: Vec::new(),
            root_certificates_pem: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// The user and password sent with HTTP Basic auth on every call. They take
    /// precedence over credentials in the URL
    /// (`https://user:p%40ss@host/RPC2`, percent-encoded).
    pub fn basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some(Credentials {
            user: user.into(),
            password: password.into(),
        });
        self
    }

    /// How long a whole call may take, from connecting to the end of the answer.
    /// Default [`DEFAULT_TIMEOUT`]. Beyond it, [`Error::Timeout`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long making a connection (TLS handshake included) may take. Default
    /// [`DEFAULT_CONNECT_TIMEOUT`].
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

    /// The `User-Agent` header. Default `xmlrpc-client/<version>`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Whether to ask for gzip-compressed answers (`Accept-Encoding: gzip`) and
    /// inflate them. Default on.
    pub fn gzip(mut self, enable: bool) -> Self {
        self.gzip = enable;
        self
    }

    /// The largest response body read, after gzip decompression; beyond it,
    /// [`Error::TooLarge`], so that a hostile or broken server cannot exhaust the
    /// client's memory. Default [`DEFAULT_MAX_RESPONSE_BYTES`].
    ///
    /// Unless [`limits`](Self::limits) are given, the decoder's
    /// `max_document_bytes` and `max_string_bytes` follow this value.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// The decoder's limits on an answer's shape (depth, array length, string
    /// length...), used as given. Default: [`Limits::for_responses`] with the
    /// document and string sizes set to
    /// [`max_response_bytes`](Self::max_response_bytes).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = Some(limits);
        self
    }

    /// How calls are written. Default: core XML-RPC types only, so that a
    /// [`Value::Nil`](xmlrpc_codec::Value::Nil) or an integer beyond 32 bits is
    /// [`Error::Encode`]; set `allow_extensions` for a server that reads `<nil/>`
    /// and `<i8>` (Python's does).
    pub fn encode_options(mut self, options: EncodeOptions) -> Self {
        self.encode_options = options;
        self
    }

    /// Connects directly, ignoring the `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`
    /// environment variables (which are honoured by default, with `NO_PROXY`).
    pub fn no_proxy(mut self) -> Self {
        self.proxy = false;
        self
    }

    /// Trusts this certificate authority (DER) for `https` URLs, besides the
    /// system's roots: for a server with a private or self-signed certificate.
    pub fn add_root_certificate_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.root_certificates.push(der.into());
        self
    }

    /// Trusts every certificate in this PEM text (`-----BEGIN CERTIFICATE-----`
    /// blocks), as [`add_root_certificate_der`](Self::add_root_certificate_der).
    /// Text without a certificate, or one that does not parse, makes
    /// [`build`](Self::build) fail with [`Error::Setup`].
    pub fn add_root_certificates_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificates_pem.push(pem.into());
        self
    }

    /// Sends this header on every call (an API key, say). Its value is never shown
    /// by `Debug`. A name or value that is not valid HTTP makes
    /// [`build`](Self::build) fail with [`Error::Setup`].
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The client.
    ///
    /// Fails with [`Error::InvalidUrl`] when the URL is not an `http` or `https`
    /// URL with a host or its user info is not UTF-8 once percent-decoded, and with
    /// [`Error::Setup`] when TLS cannot be set up for an `https` URL (no root
    /// certificates, a certificate that does not parse) or a header is invalid.
    pub fn build(self) -> Result<Client, Error> {
        let (url, from_url) = parse_url(&self.url)?;
        let credentials = self.credentials.or(from_url);
        let https = url.scheme() == "https";

        let mut roots = self.root_certificates;
        for pem in &self.root_certificates_pem {
            roots.extend(parse_pem(pem)?);
        }
        let mut http = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .pool_idle_timeout(self.pool_idle_timeout)
            .user_agent(self.user_agent)
            .gzip(self.gzip)
            .default_headers(header_map(&self.headers)?)
            // A redirected POST would become a GET: a redirect is an error to see.
            .redirect(reqwest::redirect::Policy::none())
            .tls_backend_preconfigured(tls_config(https, roots)?);
        if !self.proxy {
            http = http.no_proxy();
        }
        let http = http
            .build()
            .map_err(|e| Error::Setup(format!("cannot set up the HTTP client: {e}")))?;

        let limits = self.limits.unwrap_or_else(|| {
            let mut limits = Limits::for_responses();
            limits.max_document_bytes = self.max_response_bytes;
            limits.max_string_bytes = self.max_response_bytes;
            limits
        });
        Ok(Client::from_inner(Arc::new(Inner {
            http,
            url,
            credentials,
            timeout: self.timeout,
            max_response_bytes: self.max_response_bytes,
            decoder: Decoder::new(limits),
            encoder: Encoder::new(self.encode_options),
        })))
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL as given may hold a password: show it only once parsed and stripped.
        let url = parse_url(&self.url).map(|(url, _)| url.to_string());
        let header_names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("ClientBuilder")
            .field("url", &url.as_deref().unwrap_or("<invalid>"))
            .field("credentials", &self.credentials)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("pool_idle_timeout", &self.pool_idle_timeout)
            .field("user_agent", &self.user_agent)
            .field("gzip", &self.gzip)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("limits", &self.limits)
            .field("encode_options", &self.encode_options)
            .field("proxy", &self.proxy)
            .field(
                "root_certificates",
                &(self.root_certificates.len() + self.root_certificates_pem.len()),
            )
            .field("headers", &header_names)
            .finish()
    }
}

/// The URL without its user info and fragment, and the credentials it held
/// (percent-decoded).
///
/// Error messages never repeat the URL as given: it may hold a password.
pub(crate) fn parse_url(text: &str) -> Result<(Url, Option<Credentials>), Error> {
    let mut url =
        Url::parse(text.trim()).map_err(|e| Error::InvalidUrl(format!("not a URL ({e})")))?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(Error::InvalidUrl(format!(
                "the scheme must be http or https, not {other:?}"
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::InvalidUrl("the URL has no host".into()));
    }
    let decode = |part: &str, what: &str| {
        percent_decode_str(part)
            .decode_utf8()
            .map(|s| s.into_owned())
            .map_err(|_| {
                Error::InvalidUrl(format!("the {what} in the URL is not UTF-8 once decoded"))
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
        return Err(Error::InvalidUrl(
            "the URL's user info cannot be removed".into(),
        ));
    }
    url.set_fragment(None);
    Ok((url, credentials))
}

fn parse_pem(pem: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let certificates = CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::Setup(format!("a root certificate's PEM does not parse: {e}")))?;
    if certificates.is_empty() {
        return Err(Error::Setup(
            "a root certificate's PEM holds no certificate".into(),
        ));
    }
    Ok(certificates)
}

fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, Error> {
    let mut map = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::Setup(format!("{name:?} is not a valid HTTP header name")))?;
        // The value may be a secret: the message names the header only.
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| Error::Setup(format!("the value of header {name:?} is not valid HTTP")))?;
        value.set_sensitive(true);
        map.append(header, value);
    }
    Ok(map)
}

/// rustls on *ring*, handed to reqwest whole (no process-wide provider installed).
///
/// Plain `http` URLs get a configuration without roots: the client never leaves
/// its URL (no redirects), so it never speaks TLS, and loading the system's roots
/// (which fails on hosts without any) would only cost time.
fn tls_config(https: bool, extra_roots: Vec<Vec<u8>>) -> Result<rustls::ClientConfig, Error> {
    let tls_error = |e: rustls::Error| Error::Setup(format!("cannot set up TLS: {e}"));
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
        let (url, c) = parse_url("http://bob:s%40cret%3A%C3%A9@api.example:8080/RPC2#x").unwrap();
        assert_eq!(url.as_str(), "http://api.example:8080/RPC2");
        assert_eq!(c, creds("bob", "s@cret:é"));
        let (url, c) = parse_url("https://api.example/").unwrap();
        assert_eq!((url.as_str(), c), ("https://api.example/", None));
        let (_, c) = parse_url("http://bob@api.example/").unwrap();
        assert_eq!(c, creds("bob", ""));
    }

    #[test]
    fn unusable_urls_are_refused_without_repeating_them() {
        for (url, says) in [
            ("not a url", "not a URL"),
            (
                "ftp://bob:hunter2@api.example/",
                "scheme must be http or https",
            ),
            (
                "http://bob:%FF%FE@api.example/",
                "password in the URL is not UTF-8",
            ),
            (
                "http://%FF:hunter2@api.example/",
                "user in the URL is not UTF-8",
            ),
        ] {
            let err = parse_url(url).unwrap_err();
            let text = err.to_string();
            assert!(matches!(err, Error::InvalidUrl(_)), "{url}: {err:?}");
            assert!(text.contains(says), "{url}: {text}");
            assert!(!text.contains("hunter2"), "{text}");
        }
    }

    #[test]
    fn debug_shows_neither_password_nor_header_values() {
        let builder = Client::builder("http://bob:hunter2@api.example/RPC2")
            .header("X-Api-Key", "k3y-s3cret")
            .basic_auth("bob", "hunter2");
        let text = format!("{builder:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("k3y-s3cret"),
            "{text}"
        );
        assert!(text.contains("X-Api-Key") && text.contains("bob"), "{text}");
        let client = builder.build().unwrap();
        let text = format!("{client:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("k3y-s3cret"),
            "{text}"
        );
    }

    #[test]
    fn bad_headers_and_certificates_fail_the_build_clearly() {
        let err = Client::builder("http://api.example/")
            .header("Bad Name", "x")
            .build()
            .unwrap_err();
        assert!(
            matches!(err, Error::Setup(ref m) if m.contains("\"Bad Name\"")),
            "{err:?}"
        );
        let err = Client::builder("http://api.example/")
            .header("X-Key", "line\nbreak-s3cret")
            .build()
            .unwrap_err();
        assert!(
            matches!(err, Error::Setup(ref m) if !m.contains("s3cret")),
            "{err:?}"
        );
        let err = Client::builder("https://api.example/")
            .add_root_certificates_pem(b"no certificate here".to_vec())
            .build()
            .unwrap_err();
        assert!(
            matches!(err, Error::Setup(ref m) if m.contains("no certificate")),
            "{err:?}"
        );
    }

    #[test]
    fn https_clients_use_our_tls_configuration() {
        // reqwest refuses a preconfigured TLS config of another rustls version at
        // `build`: this catches a version skew between the two.
        match Client::new("https://api.example/RPC2") {
            Ok(_) => {}
            // A host without any root certificate: the verifier cannot be made.
            Err(Error::Setup(m)) if m.contains("No CA certificates") => {}
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn decoder_limits_follow_the_response_limit_unless_given() {
        let client = Client::builder("http://api.example/")
            .max_response_bytes(1000)
            .build()
            .unwrap();
        assert_eq!(client.inner().decoder.limits().max_document_bytes, 1000);
        assert_eq!(client.inner().decoder.limits().max_string_bytes, 1000);
        let mut limits = Limits::default();
        limits.max_depth = 3;
        let client = Client::builder("http://api.example/")
            .limits(limits.clone())
            .build()
            .unwrap();
        assert_eq!(client.inner().decoder.limits(), &limits);
    }
}
