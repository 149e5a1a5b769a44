//! The HTTP service: statuses, body limits, gzip, and the request's extensions as
//! the handlers' context, called with `oneshot` (no socket) and mounted in axum.

use std::io::Write as _;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use http::header::{ACCEPT_ENCODING, ALLOW, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use tower::ServiceExt as _;
use xmlrpc_codec::{
    Limits, MethodCall, Value, decode_method_response, encode_method_call, to_params,
};
use xmlrpc_server::{Context, Error, Router};

use crate::multicall::calculator;

fn add_body(a: i32, b: i32) -> Vec<u8> {
    encode_method_call(&MethodCall::new("add", to_params(&(a, b)).unwrap())).unwrap()
}

fn post(body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    Request::post("/RPC2").body(Full::new(body.into())).unwrap()
}

async fn send<B>(
    router: Router<calculator::Calculator>,
    request: Request<B>,
) -> (Response<()>, Bytes)
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let response = router.into_service().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    (Response::from_parts(parts, ()), body)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn result(body: &[u8]) -> Result<Value, xmlrpc_codec::Fault> {
    decode_method_response(body).unwrap().into_result()
}

#[tokio::test]
async fn a_post_gets_200_and_the_answer_as_text_xml_even_for_a_fault() {
    let (response, body) = send(calculator::router(), post(add_body(2, 3))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[CONTENT_TYPE], "text/xml");
    assert_eq!(result(&body), Ok(Value::Int(5)));

    let (response, body) = send(calculator::router(), post("<methodCall>")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(result(&body).unwrap_err().code, -32700);
}

#[tokio::test]
async fn only_post_is_answered_other_methods_get_405_with_allow() {
    for method in [Method::GET, Method::PUT, Method::HEAD, Method::OPTIONS] {
        let request = Request::builder()
            .method(method.clone())
            .uri("/RPC2")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let (response, _) = send(calculator::router(), request).await;
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method}"
        );
        assert_eq!(response.headers()[ALLOW], "POST");
    }
}

fn small_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_document_bytes = 1000;
    limits
}

#[tokio::test]
async fn a_body_declared_larger_than_the_limit_is_413_unread() {
    let router = calculator::router().with_limits(small_limits());
    // The body itself is small: the declared length alone decides.
    let mut request = post(add_body(1, 2));
    request
        .headers_mut()
        .insert(CONTENT_LENGTH, "1001".parse().unwrap());
    let (response, _) = send(router, request).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_body_larger_than_the_limit_without_a_length_is_413() {
    let router = calculator::router().with_limits(small_limits());
    let (response, _) = send(router.clone(), post(vec![b' '; 1001])).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // At the limit, the document is read (and answered).
    let mut body = add_body(1, 2);
    body.resize(1000, b' ');
    let (response, body) = send(router, post(body)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(result(&body), Ok(Value::Int(3)));
}

#[tokio::test]
async fn a_gzip_body_is_inflated() {
    let mut request = post(gzip(&add_body(40, 2)));
    request
        .headers_mut()
        .insert(CONTENT_ENCODING, "gzip".parse().unwrap());
    let (response, body) = send(calculator::router(), request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(result(&body), Ok(Value::Int(42)));
}

#[tokio::test]
async fn a_gzip_body_inflating_beyond_the_limit_is_413() {
    let router = calculator::router().with_limits(small_limits());
    let mut padded = add_body(1, 2);
    padded.resize(100_000, b' ');
    let compressed = gzip(&padded);
    assert!(
        compressed.len() < 1000,
        "the bomb is small: {}",
        compressed.len()
    );
    let mut request = post(compressed);
    request
        .headers_mut()
        .insert(CONTENT_ENCODING, "gzip".parse().unwrap());
    let (response, _) = send(router, request).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn an_invalid_gzip_body_is_400() {
    let mut request = post(add_body(1, 2));
    request
        .headers_mut()
        .insert(CONTENT_ENCODING, "gzip".parse().unwrap());
    let (response, _) = send(calculator::router(), request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_unknown_content_encoding_is_415_naming_gzip() {
    let mut request = post(add_body(1, 2));
    request
        .headers_mut()
        .insert(CONTENT_ENCODING, "br".parse().unwrap());
    let (response, _) = send(calculator::router(), request).await;
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(response.headers()[ACCEPT_ENCODING], "gzip");
}

/// A body whose stream fails, as a connection reset midway does.
struct Broken;

impl http_body::Body for Broken {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::other("connection reset"))))
    }
}

#[tokio::test]
async fn a_body_that_fails_midway_is_400() {
    let request = Request::post("/RPC2").body(Broken).unwrap();
    let (response, _) = send(calculator::router(), request).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[derive(Clone)]
struct User(String);

fn whoami() -> Router<()> {
    Router::new().method_with_context("whoami", |(), ctx: Context, (): ()| async move {
        let user = ctx
            .get::<User>()
            .ok_or_else(|| Error::fault(401, "not logged in"))?;
        Ok(user.0.clone())
    })
}

fn whoami_body() -> Vec<u8> {
    encode_method_call(&MethodCall::new("whoami", vec![])).unwrap()
}

#[tokio::test]
async fn request_extensions_reach_handlers_as_their_context() {
    let mut request = post(whoami_body());
    request.extensions_mut().insert(User("alice".into()));
    let response = whoami().into_service().oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(result(&body), Ok(Value::from("alice")));
}

#[tokio::test]
async fn mounted_in_axum_behind_an_auth_layer_handlers_see_the_user() {
    // A stand-in for real authentication: the layer trusts a header.
    async fn authenticate(
        mut request: axum::extract::Request,
        next: axum::middleware::Next,
    ) -> axum::response::Response {
        let user = request
            .headers()
            .get("x-user")
            .and_then(|v| v.to_str().ok())
            .map(|v| User(v.to_owned()));
        if let Some(user) = user {
            request.extensions_mut().insert(user);
        }
        next.run(request).await
    }
    let app = axum::Router::new()
        .route_service("/RPC2", whoami().into_service())
        .layer(axum::middleware::from_fn(authenticate));

    let request = |user: Option<&str>| {
        let mut builder = Request::post("/RPC2");
        if let Some(user) = user {
            builder = builder.header("x-user", user);
        }
        builder.body(axum::body::Body::from(whoami_body())).unwrap()
    };
    let response = app.clone().oneshot(request(Some("bob"))).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(result(&body), Ok(Value::from("bob")));

    let response = app.clone().oneshot(request(None)).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(result(&body).unwrap_err().code, 401);

    let response = app
        .oneshot(
            Request::get("/RPC2")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
}
