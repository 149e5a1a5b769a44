//! [`TlsConfig`]: HTTPS with rustls (on *ring*), from PEM files.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// A server certificate chain and its key, ready to serve HTTPS with
/// [`serve_tls`](crate::serve_tls). TLS 1.2 and 1.3, HTTP/1.1 over ALPN.
#[derive(Clone)]
pub struct TlsConfig {
    acceptor: TlsAcceptor,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the key.
        f.debug_struct("TlsConfig").finish_non_exhaustive()
    }
}

impl TlsConfig {
    /// Reads a PEM certificate chain (the server's certificate first) and a PEM
    /// private key (PKCS#8, PKCS#1 or SEC1). The errors name the file.
    pub fn from_pem_files(cert: &Path, key: &Path) -> io::Result<Self> {
        let context = |path: &Path, e: &dyn fmt::Display| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{}: {e}", path.display()),
            )
        };
        let cert_pem = std::fs::read(cert).map_err(|e| context(cert, &e))?;
        let key_pem = std::fs::read(key).map_err(|e| context(key, &e))?;
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| context(cert, &format!("not a PEM certificate chain: {e}")))?;
        if chain.is_empty() {
            return Err(context(cert, &"no PEM certificate in it"));
        }
        let key_der = PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|e| context(key, &format!("not a PEM private key: {e}")))?;
        Self::from_der(chain, key_der).map_err(|e| context(cert, &e))
    }

    /// A configuration from a DER certificate chain and private key.
    pub fn from_der(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> io::Result<Self> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}
