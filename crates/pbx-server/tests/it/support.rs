//! Helpers: building requests, reading answers, and a demo PBX with test hooks.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, Request, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http_body_util::BodyExt as _;
use pbx_backend::{BackendResult, Caller, PbxBackend};
use pbx_backend_memory::{MemoryPbx, Player};
use pbx_model::{Call, CallId, Entity, Favorite, ParkingInfo};
use pbx_server::{AppState, ServerConfig};
use tokio::sync::{Notify, Semaphore};
use tower::ServiceExt as _;
use xmlrpc_codec::{MethodCall, MethodResponse, Value, decode_method_response, encode_method_call};

/// A guard against a hung socket test; never reached when things work.
pub(crate) const PATIENCE: std::time::Duration = std::time::Duration::from_secs(20);

/// A server serving on a free loopback port until `stop` is sent; `done` is `serve`'s end.
pub(crate) struct Running {
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) stop: tokio::sync::oneshot::Sender<()>,
    pub(crate) done: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Serves `state` on `127.0.0.1:0`.
pub(crate) async fn start(state: AppState) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let done = tokio::spawn(pbx_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    Running { addr, stop, done }
}

/// The demo router with the simulator on and the default configuration.
pub(crate) fn demo() -> Router {
    demo_with(ServerConfig::default())
}

/// The demo router under `config`.
pub(crate) fn demo_with(config: ServerConfig) -> Router {
    pbx_server::router(demo_state_with(config))
}

/// The demo PBX's state under `config`, built as the `switchboard` binary builds
/// it: the simulator is the binary's `Player` (nothing is played unless a test
/// asks `sim.play`).
pub(crate) fn demo_state_with(config: ServerConfig) -> AppState {
    let pbx = Arc::new(MemoryPbx::demo());
    AppState::builder(pbx.clone(), config)
        .simulator(Arc::new(Player::new(pbx)))
        .build()
}

/// `Basic` credentials for `user:password`.
pub(crate) fn basic(user: &str, password: &str) -> String {
    format!("Basic {}", BASE64.encode(format!("{user}:{password}")))
}

/// A methodCall of `method` with `params`.
pub(crate) fn method_call(method: &str, params: Vec<Value>) -> Vec<u8> {
    encode_method_call(&MethodCall::new(method, params)).expect("an encodable call")
}

/// A string parameter.
pub(crate) fn string(text: &str) -> Value {
    Value::String(text.to_owned())
}

/// A `POST /RPC2` request from `user` (password = number, as in the demo).
pub(crate) fn post(user: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post("/RPC2")
        .header(AUTHORIZATION, basic(user, user))
        .header(CONTENT_TYPE, "text/xml")
        .body(body.into())
        .unwrap()
}

/// What came back.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Answer {
    pub(crate) fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }

    /// The XML-RPC answer.
    pub(crate) fn response(&self) -> MethodResponse {
        decode_method_response(&self.body).expect("a methodResponse")
    }

    /// The fault code of a fault answer, `None` for a success.
    pub(crate) fn fault_code(&self) -> Option<i32> {
        match self.response() {
            MethodResponse::Fault(fault) => Some(fault.code),
            MethodResponse::Success(_) => None,
        }
    }

    /// The result of a successful answer.
    pub(crate) fn result(&self) -> Value {
        match self.response() {
            MethodResponse::Success(value) => value,
            MethodResponse::Fault(fault) => panic!("unexpected {fault}"),
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("an ASCII header"))
    }
}

/// Sends `request` through `router` in process.
pub(crate) async fn send(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.expect("a readable body").to_bytes(),
    }
}

/// Calls `method` as `user` and expects HTTP 200.
pub(crate) async fn rpc(router: &Router, user: &str, method: &str, params: Vec<Value>) -> Answer {
    let answer = send(router, post(user, method_call(method, params))).await;
    assert_eq!(answer.status, StatusCode::OK, "{method}: {}", answer.text());
    assert_eq!(
        answer.header("content-type"),
        Some("text/xml; charset=utf-8")
    );
    answer
}

pub(crate) fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

pub(crate) fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(data), &mut out).unwrap();
    out
}

/// A password no demo user has, so that a test can look for it in the logs.
pub(crate) const SECRET: &str = "s3cret-Pa55word";

/// The demo PBX with test hooks: [`SECRET`] is every demo user's password
/// too, `get_calls` can be held at a gate until the test opens it, and password
/// checks are counted and can be held at a gate of their own.
pub(crate) struct HookedPbx {
    inner: Arc<MemoryPbx>,
    /// Notified when a `get_calls` reaches the gate.
    pub(crate) reached: Notify,
    /// Notified by the test to let it through.
    pub(crate) open: Notify,
    gated: bool,
    /// Password checks wait for a permit here, when there is a login gate.
    pub(crate) login_gate: Option<Semaphore>,
    /// Notified when a password check begins.
    pub(crate) login_reached: Notify,
    /// Password checks begun, in progress, and the most in progress at once.
    pub(crate) checks: AtomicUsize,
    pub(crate) checking: AtomicUsize,
    pub(crate) most_checking: AtomicUsize,
}

impl HookedPbx {
    pub(crate) fn new(gated: bool) -> Arc<Self> {
        Arc::new(Self::unshared(gated, None))
    }

    /// A PBX whose password checks wait until the test adds permits to `login_gate`.
    pub(crate) fn with_login_gate() -> Arc<Self> {
        Arc::new(Self::unshared(false, Some(Semaphore::new(0))))
    }

    fn unshared(gated: bool, login_gate: Option<Semaphore>) -> Self {
        Self {
            inner: Arc::new(MemoryPbx::demo()),
            reached: Notify::new(),
            open: Notify::new(),
            gated,
            login_gate,
            login_reached: Notify::new(),
            checks: AtomicUsize::new(0),
            checking: AtomicUsize::new(0),
            most_checking: AtomicUsize::new(0),
        }
    }

    /// Waits until `n` password checks are in progress.
    pub(crate) async fn until_checking(&self, n: usize) {
        while self.checking.load(Ordering::SeqCst) < n {
            self.login_reached.notified().await;
        }
    }

    pub(crate) fn state(self: &Arc<Self>, config: ServerConfig) -> AppState {
        AppState::builder(self.clone(), config)
            .simulator(Arc::new(Player::new(self.inner.clone())))
            .build()
    }
}

#[async_trait]
impl PbxBackend for HookedPbx {
    async fn authenticate(&self, user: &str, password: &str) -> BackendResult<Option<Caller>> {
        let password = if password == SECRET { user } else { password };
        self.checks.fetch_add(1, Ordering::SeqCst);
        let now = self.checking.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_checking.fetch_max(now, Ordering::SeqCst);
        self.login_reached.notify_one();
        if let Some(gate) = &self.login_gate {
            gate.acquire().await.expect("never closed").forget();
        }
        let outcome = self.inner.authenticate(user, password).await;
        self.checking.fetch_sub(1, Ordering::SeqCst);
        outcome
    }
    async fn get_calls(&self, caller: &Caller) -> BackendResult<Vec<Call>> {
        if self.gated {
            self.reached.notify_one();
            self.open.notified().await;
        }
        self.inner.get_calls(caller).await
    }
    async fn get_extensions(&self, caller: &Caller) -> BackendResult<Vec<Entity>> {
        self.inner.get_extensions(caller).await
    }
    async fn get_favorites(&self, caller: &Caller) -> BackendResult<Vec<Favorite>> {
        self.inner.get_favorites(caller).await
    }
    async fn set_favorites(&self, caller: &Caller, favorites: Vec<Favorite>) -> BackendResult<()> {
        self.inner.set_favorites(caller, favorites).await
    }
    async fn transfer(&self, caller: &Caller, call: &CallId, to: &str) -> BackendResult<()> {
        self.inner.transfer(caller, call, to).await
    }
    async fn drop_call(&self, caller: &Caller, call: &CallId) -> BackendResult<()> {
        self.inner.drop_call(caller, call).await
    }
    async fn get_parking_info(&self, caller: &Caller) -> BackendResult<ParkingInfo> {
        self.inner.get_parking_info(caller).await
    }
    async fn park(&self, caller: &Caller, call: &CallId, slot: Option<u32>) -> BackendResult<u32> {
        self.inner.park(caller, call, slot).await
    }
    async fn dict_set(&self, caller: &Caller, key: &str, value: &str) -> BackendResult<()> {
        self.inner.dict_set(caller, key, value).await
    }
    async fn dict_set_many(
        &self,
        caller: &Caller,
        entries: Vec<(String, String)>,
    ) -> BackendResult<()> {
        self.inner.dict_set_many(caller, entries).await
    }
    async fn dict_get(&self, caller: &Caller, key: &str) -> BackendResult<String> {
        self.inner.dict_get(caller, key).await
    }
    async fn dict_delete(&self, caller: &Caller, key: &str) -> BackendResult<()> {
        self.inner.dict_delete(caller, key).await
    }
    async fn get_all(&self, caller: &Caller, max: usize) -> BackendResult<Vec<(String, String)>> {
        self.inner.get_all(caller, max).await
    }
}
