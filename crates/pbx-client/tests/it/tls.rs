//! `https` URLs: rustls with the system's roots plus the ones the program adds.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread::JoinHandle;

use pbx_client::{Client, ErrorKind};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::support::http_response;

// A test CA and a server certificate it signed for `localhost` and 127.0.0.1,
// valid 2000–2100 (see fixtures/client-tls/README.md).
const CA: &[u8] = include_bytes!("../../../../fixtures/client-tls/ca.der");
const SERVER_CERT: &[u8] = include_bytes!("../../../../fixtures/client-tls/server.der");
const SERVER_KEY: &[u8] = include_bytes!("../../../../fixtures/client-tls/server.key.der");

/// A TLS server on 127.0.0.1:0 that answers one request with `response` on a
/// thread of its own; yields the request, or `None` when the handshake failed.
fn tls_server(response: Vec<u8>) -> (String, JoinHandle<Option<String>>) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(SERVER_CERT.to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(SERVER_KEY.to_vec())),
        )
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/RPC2", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().ok()?;
        let connection = rustls::ServerConnection::new(Arc::new(config)).ok()?;
        let mut tls = rustls::StreamOwned::new(connection, tcp);
        let mut request = Vec::new();
        let mut buf = [0; 4096];
        // Headers, then a body of Content-Length bytes.
        loop {
            let n = tls.read(&mut buf).ok()?;
            if n == 0 {
                return None;
            }
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request);
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (name, value) = l.split_once(':')?;
                        name.eq_ignore_ascii_case("content-length")
                            .then(|| value.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if request.len() >= end + 4 + length {
                    break;
                }
            }
        }
        tls.write_all(&response).ok()?;
        tls.conn.send_close_notify();
        tls.flush().ok()?;
        Some(String::from_utf8_lossy(&request).into_owned())
    });
    (url, handle)
}

const METHODS: &str = "<methodResponse><params><param><value><array><data>\
    <value><string>get_calls</string></value></data></array></value></param></params>\
    </methodResponse>";

#[tokio::test]
async fn https_with_an_added_root_certificate() {
    let (url, server) = tls_server(http_response("200 OK", &[], METHODS.as_bytes()));
    let client = Client::builder(&url)
        .credentials("203", "203")
        .add_root_certificate_der(CA)
        .no_proxy()
        .build()
        .unwrap();
    assert_eq!(client.list_methods().await.unwrap(), ["get_calls"]);
    let request = server.join().unwrap().expect("a request over TLS");
    assert!(request.starts_with("POST /RPC2 HTTP/1.1\r\n"), "{request}");
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_connect_error() {
    let (url, server) = tls_server(http_response("200 OK", &[], METHODS.as_bytes()));
    let client = match Client::builder(&url).no_proxy().build() {
        Ok(client) => client,
        // A host without any system root: nothing to test here.
        Err(e) if e.to_string().contains("No CA certificates") => return,
        Err(e) => panic!("{e}"),
    };
    let err = client.list_methods().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}");
    assert!(err.to_string().contains("certificate"), "{err}");
    assert_eq!(server.join().unwrap(), None);
}
