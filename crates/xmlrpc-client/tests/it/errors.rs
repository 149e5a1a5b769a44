//! What goes wrong on the wire: timeouts, refusals, hang-ups, garbage, statuses.

use std::io::Write as _;
use std::time::Duration;

use tokio::net::TcpListener;
use xmlrpc_client::{Client, Error};

use crate::support::{Answer, http_response, raw_server, xml_response};

fn client(url: &str) -> Client {
    Client::builder(url).no_proxy().build().unwrap()
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout() {
    // Never accepted: the kernel completes the handshake and queues the request,
    // and nobody ever answers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/RPC2", listener.local_addr().unwrap());
    let client = Client::builder(&url)
        .timeout(Duration::from_millis(200))
        .no_proxy()
        .build()
        .unwrap();
    let err = client.call::<_, i32>("add", (1, 2)).await.unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err:?}");
    assert!(err.is_transient());
    drop(listener);
}

#[tokio::test]
async fn nobody_listening_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/RPC2", listener.local_addr().unwrap());
    drop(listener);
    let err = client(&url).list_methods().await.unwrap_err();
    assert!(matches!(err, Error::Connect(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("cannot connect to {url}: ")),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

#[tokio::test]
async fn a_server_that_hangs_up_is_a_transport_error() {
    let raw = raw_server(vec![Answer::Close]).await;
    let err = client(&raw.url).list_methods().await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn bodies_that_are_not_xml_rpc_are_decode_errors() {
    let raw = raw_server(vec![
        Answer::Respond(http_response("200 OK", &[], b"<html>hello</html>")),
        Answer::Respond(http_response("500 Oops", &[], b"database\n  on fire")),
        xml_response(
            "<methodResponse><params><param><value><int>7</int></value></param></params></methodResponse>",
        ),
    ])
    .await;
    let client = client(&raw.url);
    let err = client.list_methods().await.unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    let err = client.list_methods().await.unwrap_err();
    assert!(
        matches!(err, Error::Http { status: 500, ref body_snippet, .. } if body_snippet == "database on fire"),
        "{err:?}"
    );
    let err = client.multicall().send().await;
    assert!(err.unwrap().is_empty());
    let mut batch = client.multicall();
    batch.call("a", ()).unwrap();
    let err = batch.send().await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidResponse(ref m) if m.contains("expected an array of results, got an int")),
        "{err:?}"
    );
    // Three answers on one accepted connection.
    assert_eq!(raw.requests.await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_fault_with_a_string_code_keeps_what_was_sent() {
    let raw = raw_server(vec![xml_response(
        "<methodResponse><fault><value><struct>\
         <member><name>faultCode</name><value><string>warning -- Access Denied</string></value></member>\
         <member><name>faultString</name><value>Traceback</value></member>\
         </struct></value></fault></methodResponse>",
    )])
    .await;
    let err = client(&raw.url).list_methods().await.unwrap_err();
    let fault = err.fault().expect("a fault");
    assert_eq!(fault.code, 0);
    assert!(!fault.is_conforming());
    assert_eq!(
        err.to_string(),
        "fault \"warning -- Access Denied\": Traceback"
    );
}

#[tokio::test]
async fn a_declared_length_beyond_the_limit_is_refused_before_reading() {
    let body = "x".repeat(5000);
    let gz = {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(body.as_bytes()).unwrap();
        gz.finish().unwrap()
    };
    let raw = raw_server(vec![
        Answer::Respond(http_response("200 OK", &[], body.as_bytes())),
        Answer::Respond(http_response("200 OK", &["Content-Encoding: gzip"], &gz)),
    ])
    .await;
    let client = Client::builder(&raw.url)
        .max_response_bytes(1000)
        .no_proxy()
        .build()
        .unwrap();
    for _ in 0..2 {
        let err = client.list_methods().await.unwrap_err();
        assert!(matches!(err, Error::TooLarge { limit: 1000 }), "{err:?}");
    }
}
