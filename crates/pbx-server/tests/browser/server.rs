//! The real server under test, on a free loopback port, and an XML-RPC
//! client to drive the scenario and check what the page did.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use base64::Engine as _;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use pbx_backend_memory::{DEMO_CONFIG, MemoryPbx, Player};
use pbx_server::{AppState, ServerConfig};
use xmlrpc_codec::{MethodCall, Value, decode_method_response, encode_method_call};

/// A server serving the PBX until dropped.
pub(crate) struct Server {
    pub(crate) addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl Server {
    /// The demo PBX.
    pub(crate) async fn demo() -> Self {
        Self::with_config(DEMO_CONFIG).await
    }

    /// The PBX of `toml` (the demo's format).
    pub(crate) async fn with_config(toml: &str) -> Self {
        Self::bind(toml, "127.0.0.1:0").await
    }

    async fn bind(toml: &str, at: &str) -> Self {
        let pbx = Arc::new(MemoryPbx::from_toml_str(toml, "test").expect("a valid PBX"));
        let state = AppState::builder(pbx.clone(), ServerConfig::default())
            .simulator(Arc::new(Player::new(pbx)))
            .build();
        let listener = tokio::net::TcpListener::bind(at).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(pbx_server::serve(listener, state, async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            stop: Some(stop),
            done: Some(done),
            http: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Stops this server (its event streams end, its port closes) and starts
    /// a new one of `toml` on the same port: a server restart as the page
    /// sees it.
    pub(crate) async fn restart(mut self, toml: &str) -> Self {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(done) = self.done.take() {
            done.await.unwrap().unwrap();
        }
        Self::bind(toml, &self.addr.to_string()).await
    }

    /// The console's address.
    pub(crate) fn console(&self) -> String {
        format!("http://{}/console/", self.addr)
    }

    /// Calls `method` as `user` (whose password is its number, as in the demo).
    pub(crate) async fn call(&self, user: &str, method: &str, params: Vec<Value>) -> Value {
        let body = encode_method_call(&MethodCall::new(method, params)).unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{user}"));
        let request = hyper::Request::post(format!("http://{}/RPC2", self.addr))
            .header("authorization", format!("Basic {auth}"))
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let response = self
            .http
            .request(request)
            .await
            .expect("the server answers");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        match decode_method_response(&body).expect("an XML-RPC answer") {
            xmlrpc_codec::MethodResponse::Success(value) => value,
            other => panic!("{method} failed: {other:?}"),
        }
    }

    /// The HTTP status of `GET path` with `cookie`.
    pub(crate) async fn status_with_cookie(&self, path: &str, cookie: &str) -> u16 {
        let request = hyper::Request::get(format!("http://{}{path}", self.addr))
            .header("cookie", cookie)
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = self
            .http
            .request(request)
            .await
            .expect("the server answers");
        response.status().as_u16()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A page of another origin (`127.0.0.2`): serves `html` at `/`.
pub(crate) struct Elsewhere {
    pub(crate) addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Elsewhere {
    pub(crate) async fn serving(html: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.2:0")
            .await
            .expect("127.0.0.2 is loopback on Linux");
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new().route(
            "/",
            axum::routing::get(move || {
                let html = html.clone();
                async move { axum::response::Html(html) }
            }),
        );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, task }
    }
}

impl Drop for Elsewhere {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A string parameter.
pub(crate) fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

/// A favorite `{id, type, slot, size}`.
pub(crate) fn favorite(id: i32, kind: &str, slot: i32, size: &str) -> Value {
    Value::Struct(
        [
            ("id".to_owned(), Value::Int(id.into())),
            ("type".to_owned(), s(kind)),
            ("slot".to_owned(), Value::Int(slot.into())),
            ("size".to_owned(), s(size)),
        ]
        .into_iter()
        .collect(),
    )
}
