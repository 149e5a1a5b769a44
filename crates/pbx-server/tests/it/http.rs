//! In-process HTTP behaviour: auth, methods, paths, limits, encodings, and a few
//! XML-RPC calls end to end.

use axum::Router;
use axum::body::Body;
use axum::http::header::{
    ACCEPT_ENCODING, ALLOW, AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE,
    WWW_AUTHENTICATE,
};
use axum::http::{Method, Request, StatusCode};
use pbx_server::ServerConfig;
use xmlrpc_codec::Value;

use crate::support::{
    Answer, basic, demo, demo_with, gunzip, gzip, method_call, post, rpc, send, string,
};

fn get_extensions() -> Vec<u8> {
    method_call("get_extensions", vec![])
}

#[tokio::test]
async fn every_authentication_failure_gets_the_same_401() {
    let router = demo();
    let attempt = |authorization: Option<String>| {
        let mut request = Request::post("/RPC2");
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, value);
        }
        request.body(Body::from(get_extensions())).unwrap()
    };
    let cases = [
        ("missing", None),
        ("wrong password", Some(basic("203", "204"))),
        ("unknown user", Some(basic("999", "999"))),
        ("other scheme", Some("Bearer MjAzOjIwMw==".to_owned())),
        ("bad base64", Some("Basic ***".to_owned())),
        ("no colon", Some(format!("Basic {}", "MjAz"))),
        ("empty", Some(basic("", ""))),
    ];
    let mut answers: Vec<(&str, Answer)> = Vec::new();
    for (case, authorization) in cases {
        answers.push((case, send(&router, attempt(authorization)).await));
    }
    let (_, first) = &answers[0];
    for (case, answer) in &answers {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{case}");
        assert_eq!(
            answer.header(WWW_AUTHENTICATE.as_str()),
            Some("Basic realm=\"PBXpress\""),
            "{case}"
        );
        assert_eq!(
            answer.body, first.body,
            "{case}: the body must not say what was wrong"
        );
        assert_eq!(answer.headers, first.headers, "{case}");
    }
}

#[tokio::test]
async fn the_realm_is_configurable() {
    let mut config = ServerConfig::default();
    config.realm = "Acme \"PBX\"".into();
    let answer = send(
        &demo_with(config),
        Request::post("/RPC2").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(
        answer.header(WWW_AUTHENTICATE.as_str()),
        Some("Basic realm=\"Acme _PBX_\"")
    );
}

#[tokio::test]
async fn other_http_methods_are_405_with_allow_post() {
    let router = demo();
    for (method, path) in [
        (Method::GET, "/RPC2"),
        (Method::PUT, "/RPC2"),
        (Method::DELETE, "/"),
        (Method::GET, "/"),
    ] {
        let request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(AUTHORIZATION, basic("203", "203"))
            .body(Body::empty())
            .unwrap();
        let answer = send(&router, request).await;
        assert_eq!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(
            answer.header(ALLOW.as_str()),
            Some("POST"),
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn other_paths_are_404() {
    let router = demo();
    for path in [
        "/RPC2/",
        "/rpc2",
        "/RPC3",
        "/RPC2/get_calls",
        "/favicon.ico",
    ] {
        let request = Request::post(path)
            .header(AUTHORIZATION, basic("203", "203"))
            .body(Body::from(get_extensions()))
            .unwrap();
        assert_eq!(
            send(&router, request).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}

#[tokio::test]
async fn both_paths_answer() {
    let router = demo();
    for path in ["/RPC2", "/"] {
        let request = Request::post(path)
            .header(AUTHORIZATION, basic("203", "203"))
            .body(Body::from(get_extensions()))
            .unwrap();
        let answer = send(&router, request).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_eq!(answer.fault_code(), None, "{path}: {}", answer.text());
    }
}

fn small_limits() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.max_body_bytes = 4096;
    config.max_decompressed_bytes = 16 * 1024;
    config
}

/// A well-formed call padded with whitespace to exactly `len` bytes.
fn call_of_len(len: usize) -> Vec<u8> {
    let mut call = get_extensions();
    call.resize(len, b' ');
    call
}

#[tokio::test]
async fn bodies_above_the_limit_are_413() {
    // In process there is no Content-Length: the limit holds while reading.
    let router = demo_with(small_limits());
    assert_eq!(
        send(&router, post("203", call_of_len(4096))).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&router, post("203", call_of_len(4097))).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

fn gzip_post(user: &str, body: &[u8]) -> Request<Body> {
    let mut request = post(user, gzip(body));
    request
        .headers_mut()
        .insert(CONTENT_ENCODING, "gzip".parse().unwrap());
    request
}

#[tokio::test]
async fn gzip_request_bodies_are_inflated_within_their_own_limit() {
    let router = demo_with(small_limits());
    let plain = send(&router, post("203", get_extensions())).await;
    let inflated = send(&router, gzip_post("203", &get_extensions())).await;
    assert_eq!(inflated.status, StatusCode::OK);
    assert_eq!(inflated.body, plain.body);

    // Larger than max_body_bytes once inflated, but within max_decompressed_bytes.
    let padded = send(&router, gzip_post("203", &call_of_len(16 * 1024))).await;
    assert_eq!(padded.status, StatusCode::OK);
    assert_eq!(padded.body, plain.body);

    // A small bomb: a few dozen bytes that inflate beyond the limit.
    let bomb = gzip_post("203", &call_of_len(16 * 1024 + 1));
    assert_eq!(
        send(&router, bomb).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    let mut garbage = post("203", "not gzip at all");
    garbage
        .headers_mut()
        .insert(CONTENT_ENCODING, "gzip".parse().unwrap());
    assert_eq!(send(&router, garbage).await.status, StatusCode::BAD_REQUEST);

    let mut brotli = post("203", get_extensions());
    brotli
        .headers_mut()
        .insert(CONTENT_ENCODING, "br".parse().unwrap());
    let answer = send(&router, brotli).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(answer.header(ACCEPT_ENCODING.as_str()), Some("gzip"));
}

/// The decoder's own limit (1 MiB by default) used to be copied from
/// `max_decompressed_bytes` by every caller that built a server; one that forgot
/// answered a fault to a gzip body that HTTP had let through.
#[tokio::test]
async fn the_decoder_limit_follows_max_decompressed_bytes_without_copying() {
    let document = 2 << 20;
    assert!(document > xmlrpc_codec::Limits::default().max_document_bytes);
    let config = ServerConfig::default();
    assert!(document <= config.max_decompressed_bytes);
    let router = pbx_server::router(pbx_server::AppState::new(
        std::sync::Arc::new(pbx_backend_memory::MemoryPbx::demo()),
        config,
    ));
    let plain = send(&router, post("203", get_extensions())).await;
    let padded = send(&router, gzip_post("203", &call_of_len(document))).await;
    assert_eq!(padded.status, StatusCode::OK);
    assert_eq!(padded.fault_code(), None, "{}", padded.text());
    assert_eq!(padded.body, plain.body);
}

#[tokio::test]
async fn responses_are_gzipped_when_the_client_asks() {
    let router = demo();
    let plain = send(&router, post("203", get_extensions())).await;
    assert_eq!(plain.header(CONTENT_ENCODING.as_str()), None);

    let mut request = post("203", get_extensions());
    request
        .headers_mut()
        .insert(ACCEPT_ENCODING, "gzip".parse().unwrap());
    let compressed = send(&router, request).await;
    assert_eq!(compressed.status, StatusCode::OK);
    assert_eq!(compressed.header(CONTENT_ENCODING.as_str()), Some("gzip"));
    assert_eq!(
        compressed.header(CONTENT_TYPE.as_str()),
        Some("text/xml; charset=utf-8")
    );
    assert_eq!(gunzip(&compressed.body), plain.body);
    assert!(plain.body.len() as u64 >= pbx_server::GZIP_FROM_BYTES);

    // A short answer is not worth compressing.
    let mut request = post(
        "203",
        method_call("get_extensions", vec![string("too many")]),
    );
    request
        .headers_mut()
        .insert(ACCEPT_ENCODING, "gzip".parse().unwrap());
    let short = send(&router, request).await;
    assert_eq!(short.status, StatusCode::OK);
    assert!(
        (short.body.len() as u64) < pbx_server::GZIP_FROM_BYTES,
        "{}",
        String::from_utf8_lossy(&short.body)
    );
    assert!(String::from_utf8_lossy(&short.body).contains("<fault>"));
    assert_eq!(short.header(CONTENT_ENCODING.as_str()), None);
}

#[tokio::test]
async fn any_content_type_is_accepted() {
    let router = demo();
    let reference = send(&router, post("203", get_extensions())).await;
    for content_type in [
        Some("text/xml"),
        Some("text/xml; charset=utf-8"),
        Some("TEXT/XML;charset=\"UTF-8\""),
        Some("application/xml"),
        Some("text/html"),
        Some("application/x-www-form-urlencoded"), // curl --data without -H
        None,
    ] {
        let mut request = post("203", get_extensions());
        match content_type {
            Some(value) => {
                request
                    .headers_mut()
                    .insert(CONTENT_TYPE, value.parse().unwrap());
            }
            None => {
                request.headers_mut().remove(CONTENT_TYPE);
            }
        }
        let answer = send(&router, request).await;
        assert_eq!(answer.status, StatusCode::OK, "{content_type:?}");
        assert_eq!(answer.body, reference.body, "{content_type:?}");
    }
}

#[tokio::test]
async fn an_empty_or_broken_body_is_a_fault_not_an_http_error() {
    let router = demo();
    for body in ["", "<methodCall>", "not xml"] {
        let answer = send(&router, post("203", body)).await;
        assert_eq!(answer.status, StatusCode::OK, "{body:?}");
        let code = answer.fault_code();
        assert!(
            matches!(code, Some(-32700 | -32600)),
            "{body:?}: {}",
            answer.text()
        );
    }
}

#[tokio::test]
async fn a_declared_content_length_above_the_limit_is_413_before_reading() {
    let router = demo_with(small_limits());
    let mut request = post("203", get_extensions());
    request
        .headers_mut()
        .insert(CONTENT_LENGTH, "999999999".parse().unwrap());
    assert_eq!(
        send(&router, request).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
}

fn member<'a>(value: &'a Value, name: &str) -> &'a Value {
    match value {
        Value::Struct(s) => s
            .get(name)
            .unwrap_or_else(|| panic!("no {name} in {value:?}")),
        _ => panic!("not a struct: {value:?}"),
    }
}

fn items(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => panic!("not an array: {other:?}"),
    }
}

async fn numbers(router: &Router, user: &str) -> Vec<String> {
    let extensions = items(rpc(router, user, "get_extensions", vec![]).await.result());
    extensions
        .iter()
        .map(|e| match member(e, "abbreviated") {
            Value::String(number) => number.clone(),
            other => panic!("abbreviated: {other:?}"),
        })
        .collect()
}

async fn call_ids(router: &Router, user: &str) -> Vec<Value> {
    let calls = items(rpc(router, user, "get_calls", vec![]).await.result());
    calls.iter().map(|c| member(c, "id").clone()).collect()
}

#[tokio::test]
async fn calls_and_faults_go_through_end_to_end() {
    let router = demo();
    let call = rpc(
        &router,
        "203",
        "sim.call",
        vec![string("201"), string("202")],
    )
    .await
    .result();
    assert_eq!(call_ids(&router, "203").await, vec![call.clone()]);

    let dropped = rpc(&router, "203", "drop", vec![call.clone()]).await;
    assert_eq!(dropped.result(), Value::Bool(true));
    assert_eq!(call_ids(&router, "203").await, vec![]);

    let again = rpc(&router, "203", "drop", vec![call]).await;
    assert_eq!(again.fault_code(), Some(-1));
    let unknown = rpc(&router, "203", "no_such_method", vec![]).await;
    assert_eq!(unknown.fault_code(), Some(-32601));
}

#[tokio::test]
async fn each_user_sees_only_their_own_group() {
    let router = demo();
    let acme = numbers(&router, "203").await;
    let globex = numbers(&router, "301").await;
    assert!(
        acme.contains(&"203".to_owned()) && acme.contains(&"600".to_owned()),
        "{acme:?}"
    );
    assert!(globex.contains(&"301".to_owned()), "{globex:?}");
    assert!(
        acme.iter().all(|n| !globex.contains(n)),
        "{acme:?} / {globex:?}"
    );

    let call = rpc(
        &router,
        "203",
        "sim.call",
        vec![string("201"), string("202")],
    )
    .await
    .result();
    assert_eq!(call_ids(&router, "203").await, vec![call.clone()]);
    assert_eq!(call_ids(&router, "301").await, vec![]);
    let foreign = rpc(&router, "301", "drop", vec![call.clone()]).await;
    assert_eq!(foreign.fault_code(), Some(-1), "as if it did not exist");
    assert_eq!(call_ids(&router, "203").await, vec![call]);
}

/// The crate docs' embedding example.
#[tokio::test]
async fn the_router_can_be_mounted_in_another_app() {
    let app = Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .nest_service("/pbx", demo());
    let mut request = post("203", get_extensions());
    *request.uri_mut() = "/pbx/RPC2".parse().unwrap();
    let answer = send(&app, request).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.fault_code(), None);
    let health = send(&app, Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(health.text(), "ok");
}
