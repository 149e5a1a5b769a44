//! What goes wrong: credentials, HTTP statuses, timeouts, hang-ups, garbage.

use std::io::Write as _;
use std::time::Duration;

use pbx_client::{Client, ClientError, ErrorKind};
use tokio::net::TcpListener;

use crate::support::{Answer, Server, http_response, raw_server, xml_response};

fn raw_client(url: &str) -> Client {
    Client::builder(url)
        .credentials("203", "203")
        .no_proxy()
        .build()
        .unwrap()
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_unauthorized() {
    let server = Server::start().await;
    let err = server
        .client_with("203", "wrong")
        .get_calls()
        .await
        .unwrap_err();
    assert_eq!(err, ClientError::Unauthorized);
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    let anonymous = Client::builder(&server.url()).no_proxy().build().unwrap();
    assert_eq!(
        anonymous.list_methods().await.unwrap_err(),
        ClientError::Unauthorized
    );
    // 202 is an extension without a password: no user.
    let err = server.client("202").get_calls().await.unwrap_err();
    assert_eq!(err, ClientError::Unauthorized);
}

#[tokio::test]
async fn credentials_in_the_url_are_percent_decoded() {
    let server = Server::start().await;
    // "203" spelled with percent escapes, user and password alike.
    let url = format!("http://%32%30%33:%32%30%33@{}/RPC2", server.addr);
    let client = Client::builder(&url).no_proxy().build().unwrap();
    assert_eq!(client.user(), Some("203"));
    assert_eq!(client.url().as_str(), server.url());
    assert!(client.get_extensions().await.unwrap().len() > 1);

    let wrong = format!("http://203:nope@{}/RPC2", server.addr);
    let client = Client::builder(&wrong).no_proxy().build().unwrap();
    assert_eq!(
        client.get_calls().await.unwrap_err(),
        ClientError::Unauthorized
    );
    // Credentials given to the builder win over the URL's.
    let client = Client::builder(&wrong)
        .credentials("203", "203")
        .no_proxy()
        .build()
        .unwrap();
    client.get_calls().await.unwrap();
}

#[tokio::test]
async fn a_wrong_path_is_an_http_status() {
    let server = Server::start().await;
    let client = Client::builder(&format!("http://{}/nope", server.addr))
        .credentials("203", "203")
        .no_proxy()
        .build()
        .unwrap();
    let err = client.get_calls().await.unwrap_err();
    assert!(
        matches!(err, ClientError::HttpStatus { status: 404, .. }),
        "{err:?}"
    );
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
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
    let err = client.get_calls().await.unwrap_err();
    assert_eq!(err, ClientError::Timeout);
    assert_eq!(err.kind(), ErrorKind::Timeout);
    drop(listener);
}

#[tokio::test]
async fn nobody_listening_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/RPC2", listener.local_addr().unwrap());
    drop(listener);
    let err = raw_client(&url).get_calls().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("cannot connect to {url}: ")),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
    assert!(!text.contains("error sending request"), "{text}");
}

#[tokio::test]
async fn a_server_that_hangs_up_mid_request_is_a_transport_error() {
    let raw = raw_server(vec![Answer::Close]).await;
    let err = raw_client(&raw.url).get_calls().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err:?}");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("transport error talking to {}: ", raw.url)),
        "{text}"
    );
    assert_eq!(raw.requests.await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_body_that_is_not_xml_rpc_is_an_invalid_response() {
    let raw = raw_server(vec![
        Answer::Respond(http_response("200 OK", &["Content-Type: text/html"], b"<html>hello</html>")),
        Answer::Respond(http_response("200 OK", &[], b"not even XML")),
        xml_response(
            "<methodResponse><params><param><value><int>7</int></value></param></params></methodResponse>",
        ),
        xml_response(
            "<methodResponse><params><param><value><array><data><value><struct>\
             <member><name>id</name><value>c1</value></member>\
             </struct></value></data></array></value></param></params></methodResponse>",
        ),
    ])
    .await;
    let client = raw_client(&raw.url);
    for _ in 0..2 {
        let err = client.get_calls().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidResponse, "{err:?}");
        assert!(
            matches!(err, ClientError::InvalidResponse(ref m) if m.contains("no XML-RPC response")),
            "{err:?}"
        );
    }
    // Well-formed, but the wrong shape: the message names the method and the place.
    let err = client.get_calls().await.unwrap_err();
    assert_eq!(
        err,
        ClientError::InvalidResponse("get_calls: expected array, got int 7".into())
    );
    let err = client.get_calls().await.unwrap_err();
    assert_eq!(
        err,
        ClientError::InvalidResponse("get_calls: result[0]: missing member `state`".into())
    );
    // Four answers on one accepted connection: the connection was reused.
    assert_eq!(raw.requests.await.unwrap().len(), 4);
}

#[tokio::test]
async fn other_statuses_keep_a_snippet_of_the_body() {
    let raw = raw_server(vec![Answer::Respond(http_response(
        "500 Internal Server Error",
        &["Content-Type: text/plain"],
        b"database\n  on fire",
    ))])
    .await;
    let err = raw_client(&raw.url).get_calls().await.unwrap_err();
    assert_eq!(
        err,
        ClientError::HttpStatus {
            status: 500,
            body_snippet: "database on fire".into()
        }
    );
}

#[tokio::test]
async fn an_internal_fault_is_told_apart_from_a_user_level_one() {
    let fault = |code: i32| {
        xml_response(&format!(
            "<methodResponse><fault><value><struct>\
             <member><name>faultCode</name><value><int>{code}</int></value></member>\
             <member><name>faultString</name><value><string>boom</string></value></member>\
             </struct></value></fault></methodResponse>"
        ))
    };
    let raw = raw_server(vec![fault(1), fault(-2)]).await;
    let client = raw_client(&raw.url);
    let err = client.get_calls().await.unwrap_err();
    assert_eq!((err.fault_code(), err.is_internal()), (Some(1), true));
    assert_eq!(err.kind(), ErrorKind::Fault);
    let err = client.sim_reset().await.unwrap_err();
    assert_eq!((err.fault_code(), err.is_internal()), (Some(-2), false));
}

#[tokio::test]
async fn requests_are_text_xml_with_basic_auth_and_gzip_answers_are_read() {
    let xml = "<?xml version=\"1.0\"?><methodResponse><params><param><value><array><data>\
               <value><string>get_calls</string></value></data></array></value></param></params>\
               </methodResponse>";
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(xml.as_bytes()).unwrap();
    let body = gz.finish().unwrap();
    let raw = raw_server(vec![Answer::Respond(http_response(
        "200 OK",
        &["Content-Type: text/xml", "Content-Encoding: gzip"],
        &body,
    ))])
    .await;
    let names = raw_client(&raw.url).list_methods().await.unwrap();
    assert_eq!(names, ["get_calls"]);

    let request = raw.requests.await.unwrap().remove(0);
    let request_lower = request.to_ascii_lowercase();
    assert!(request.starts_with("POST /RPC2 HTTP/1.1\r\n"), "{request}");
    assert!(
        request_lower.contains("\r\ncontent-type: text/xml\r\n"),
        "{request}"
    );
    assert!(
        request_lower.contains("\r\naccept-encoding: gzip"),
        "{request}"
    );
    // base64("203:203")
    assert!(request.contains("Basic MjAzOjIwMw=="), "{request}");
    assert!(
        request_lower.contains("\r\nuser-agent: pbx-client/"),
        "{request}"
    );
    assert!(
        request.contains("<methodName>system.listMethods</methodName>"),
        "{request}"
    );
}

#[tokio::test]
async fn answers_beyond_the_limit_are_refused() {
    let server = Server::start().await;
    let client = Client::builder(&server.url())
        .credentials("203", "203")
        .max_response_bytes(256)
        .no_proxy()
        .build()
        .unwrap();
    let err = client.get_extensions().await.unwrap_err();
    assert_eq!(err, ClientError::ResponseTooLarge { limit: 256 });
    assert_eq!(err.kind(), ErrorKind::InvalidResponse);
    // Small answers still pass.
    client.get_calls().await.unwrap();
}

#[tokio::test]
async fn values_xml_rpc_cannot_carry_are_refused_before_sending() {
    let client = Client::new("http://pbx.invalid/RPC2").unwrap();
    let err = client
        .dict_set_serialized(
            "k",
            &pbx_client::Value::Array(vec![pbx_client::Value::Double(f64::NAN)]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err:?}");
}

#[tokio::test]
async fn a_lockout_said_nothing_of_when_it_ends() {
    let raw = raw_server(vec![
        Answer::Respond(http_response(
            "429 Too Many Requests",
            &["Retry-After: 900", "Content-Type: text/plain"],
            b"too many failed logins: try again later\n",
        )),
        Answer::Respond(http_response("429 Too Many Requests", &[], b"")),
    ])
    .await;
    let client = raw_client(&raw.url);
    let err = client.get_calls().await.unwrap_err();
    assert_eq!(
        err,
        ClientError::TooManyRequests {
            retry_after: Some(Duration::from_secs(900))
        }
    );
    assert_eq!(err.kind(), ErrorKind::HttpStatus);
    assert!(err.to_string().contains("try again in 900 s"), "{err}");
    // Without a Retry-After, no guess.
    let err = client.get_calls().await.unwrap_err();
    assert_eq!(err, ClientError::TooManyRequests { retry_after: None });
}

#[tokio::test]
async fn nil_and_i8_go_out_only_when_extensions_are_allowed() {
    use xmlrpc_codec::Value;
    let strict = raw_client("http://127.0.0.1:9/RPC2");
    let err = strict.call("m", vec![Value::Nil]).await.unwrap_err();
    assert!(matches!(err, ClientError::Encode(_)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);

    let raw = raw_server(vec![xml_response(
        "<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>",
    )])
    .await;
    let client = Client::builder(&raw.url)
        .no_proxy()
        .allow_extensions(true)
        .build()
        .unwrap();
    client
        .call("m", vec![Value::Nil, Value::Int(5_000_000_000)])
        .await
        .unwrap();
    let requests = raw.requests.await.unwrap();
    assert!(requests[0].contains("<nil/>"), "{requests:?}");
    assert!(requests[0].contains("<i8>5000000000</i8>"), "{requests:?}");
}
