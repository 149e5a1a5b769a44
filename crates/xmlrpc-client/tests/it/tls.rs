//! `https`: rustls with the system's roots plus the ones the program adds, against
//! Python's server wrapped in its `ssl` module.

use xmlrpc_client::{Client, Error};

use crate::support::PyServer;

// The CA that signed the fixture server's certificate (fixtures/client-tls).
const CA_PEM: &[u8] = include_bytes!("../../../../fixtures/client-tls/ca.pem");
const CA_DER: &[u8] = include_bytes!("../../../../fixtures/client-tls/ca.der");

#[tokio::test]
async fn https_with_an_added_pem_or_der_root() {
    let server = PyServer::with_tls();
    assert!(server.url().starts_with("https://"));
    let pem = Client::builder(&server.url())
        .add_root_certificates_pem(CA_PEM)
        .no_proxy()
        .build()
        .unwrap();
    assert_eq!(pem.call::<_, i32>("add", (20, 22)).await.unwrap(), 42);
    let der = Client::builder(&server.url())
        .add_root_certificate_der(CA_DER)
        .no_proxy()
        .build()
        .unwrap();
    let results = {
        let mut batch = der.multicall();
        batch.call("add", (1, 2)).unwrap();
        batch.send().await.unwrap()
    };
    assert_eq!(results.get::<i32>(0).unwrap(), 3);
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_connect_error() {
    let server = PyServer::with_tls();
    let client = match Client::builder(&server.url()).no_proxy().build() {
        Ok(client) => client,
        // A host without any system root: nothing to test here.
        Err(Error::Setup(m)) if m.contains("No CA certificates") => return,
        Err(e) => panic!("{e}"),
    };
    let err = client.list_methods().await.unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err:?}");
    assert!(err.to_string().contains("certificate"), "{err}");
    // The server survives the failed handshake.
    let trusted = Client::builder(&server.url())
        .add_root_certificates_pem(CA_PEM)
        .no_proxy()
        .build()
        .unwrap();
    assert!(trusted.list_methods().await.unwrap().len() > 5);
}
