//! `Client::get_stream`: a long-lived `GET` on the same server, chunk by chunk.

use xmlrpc_client::{Client, Error};

use crate::support::{Answer, http_response, raw_server};

fn client(url: &str) -> Client {
    Client::builder(url)
        .basic_auth("203", "s3cret")
        .no_proxy()
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_stream_is_a_get_beside_the_calls_with_the_credentials() {
    let raw = raw_server(vec![Answer::Respond(http_response(
        "200 OK",
        &["Content-Type: text/event-stream"],
        b"data: 1\n\n",
    ))])
    .await;
    let mut stream = client(&raw.url)
        .get_stream("/events", "text/event-stream", &[("Last-Event-ID", "a-7")])
        .await
        .unwrap();
    assert_eq!(stream.content_type(), Some("text/event-stream"));
    let mut body = Vec::new();
    while let Some(chunk) = stream.chunk().await.unwrap() {
        body.extend_from_slice(&chunk);
    }
    assert_eq!(body, b"data: 1\n\n");
    let requests = raw.requests.await.unwrap();
    let head = requests[0].to_ascii_lowercase();
    assert!(head.starts_with("get /events http/1.1\r\n"), "{head}");
    assert!(head.contains("\r\naccept: text/event-stream\r\n"), "{head}");
    assert!(head.contains("\r\nlast-event-id: a-7\r\n"), "{head}");
    assert!(head.contains("\r\nauthorization: basic "), "{head}");
}

#[tokio::test]
async fn a_stream_refused_is_the_status_error_of_a_call() {
    let raw = raw_server(vec![
        Answer::Respond(http_response("401 Unauthorized", &[], b"")),
        Answer::Respond(http_response(
            "503 Service Unavailable",
            &["Retry-After: 7"],
            b"too many event streams",
        )),
    ])
    .await;
    let client = client(&raw.url);
    let err = client.get_stream("/events", "*/*", &[]).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized), "{err:?}");
    let err = client.get_stream("/events", "*/*", &[]).await.unwrap_err();
    match err {
        Error::Http {
            status: 503,
            retry_after,
            body_snippet,
        } => {
            assert_eq!(retry_after, Some(std::time::Duration::from_secs(7)));
            assert_eq!(body_snippet, "too many event streams");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_stream_never_takes_the_credentials_to_another_server() {
    let client = client("http://127.0.0.1:9/RPC2");
    for path in [
        "http://example.com/events",
        "//example.com/events",
        "https://127.0.0.1:9/x",
    ] {
        let err = client.get_stream(path, "*/*", &[]).await.unwrap_err();
        assert!(matches!(err, Error::InvalidUrl(_)), "{path}: {err:?}");
    }
}
