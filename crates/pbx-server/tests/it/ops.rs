//! The operations endpoints on real sockets: `GET /health` on the API's
//! listener, `GET /metrics` on a listener of its own (`ops_router`), and plain
//! HTTP sent to the HTTPS port.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pbx_backend_memory::{MemoryPbx, MemoryStorage, Storage, StorageError};
use pbx_model::Favorite;
use pbx_server::{AppState, Metrics, MetricsToken, ServerConfig, TlsConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::support::{HookedPbx, SECRET, basic, method_call};

/// A guard against a hung test; never reached when things work.
const PATIENCE: Duration = Duration::from_secs(20);

/// A running server; stops when dropped.
struct Running {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

async fn start(state: AppState, tls: Option<TlsConfig>) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async {
        let _ = stopped.await;
    };
    tokio::spawn(async move {
        match tls {
            None => pbx_server::serve(listener, state, shutdown).await,
            Some(tls) => pbx_server::serve_tls(listener, state, tls, shutdown).await,
        }
    });
    Running { addr, _stop: stop }
}

/// The operations routes on a listener of their own, as `--metrics-listen` runs them.
async fn start_ops(state: AppState) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(pbx_server::serve_ops(
        listener,
        state,
        std::future::pending(),
    ));
    addr
}

/// Sends `request` on a new connection and reads until the server closes it.
async fn exchange(addr: SocketAddr, request: &str) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
}

fn rpc_request(user: &str, password: &str, method: &str) -> String {
    let body = String::from_utf8(method_call(method, vec![])).unwrap();
    format!(
        "POST /RPC2 HTTP/1.1\r\nHost: localhost\r\nAuthorization: {}\r\n\
         Content-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        basic(user, password),
        body.len()
    )
}

fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

/// The value of the sample `name{labels}` (labels as written), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn demo_state() -> AppState {
    HookedPbx::new(false).state(ServerConfig::default())
}

#[tokio::test]
async fn health_answers_ok_without_credentials() {
    let server = start(demo_state(), None).await;
    let answer = exchange(server.addr, &get("/health")).await;
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(
        answer.contains("content-type: application/json"),
        "{answer}"
    );
    assert_eq!(body(&answer), "{\"status\":\"ok\"}\n");
}

/// A storage that works, but says it refuses writes (as SQLite's does once its
/// files were deleted under it).
#[derive(Debug, Default)]
struct RefusingStorage(MemoryStorage);

#[async_trait]
impl Storage for RefusingStorage {
    async fn get(&self, user: String, key: String) -> Result<Option<String>, StorageError> {
        self.0.get(user, key).await
    }
    async fn set(
        &self,
        user: String,
        key: String,
        value: String,
        max_keys: usize,
    ) -> Result<(), StorageError> {
        self.0.set(user, key, value, max_keys).await
    }
    async fn set_many(
        &self,
        user: String,
        entries: Vec<(String, String)>,
        max_keys: usize,
    ) -> Result<(), StorageError> {
        self.0.set_many(user, entries, max_keys).await
    }
    async fn delete(&self, user: String, key: String) -> Result<(), StorageError> {
        self.0.delete(user, key).await
    }
    async fn all(
        &self,
        user: String,
        max_bytes: usize,
    ) -> Result<Vec<(String, String)>, StorageError> {
        self.0.all(user, max_bytes).await
    }
    async fn favorites(&self, group: String) -> Result<Vec<Favorite>, StorageError> {
        self.0.favorites(group).await
    }
    async fn replace_favorites(
        &self,
        group: String,
        favorites: Vec<Favorite>,
    ) -> Result<(), StorageError> {
        self.0.replace_favorites(group, favorites).await
    }
    async fn health(&self) -> Result<(), StorageError> {
        Err(StorageError::Failed(
            "the data directory was deleted: every write is refused".into(),
        ))
    }
}

#[tokio::test]
async fn health_is_503_with_the_reason_when_the_storage_refuses_writes() {
    let pbx = Arc::new(MemoryPbx::demo().with_storage(Arc::new(RefusingStorage::default())));
    let state = AppState::new(pbx, ServerConfig::default());
    let server = start(state, None).await;
    let answer = exchange(server.addr, &get("/health")).await;
    assert!(answer.starts_with("HTTP/1.1 503 "), "{answer}");
    let json: serde_json::Value = serde_json::from_str(body(&answer)).expect("JSON");
    assert_eq!(json["status"], "unavailable", "{json}");
    let reason = json["reason"].as_str().expect("a reason");
    assert!(reason.contains("every write is refused"), "{reason}");
    // Status and reason only: nothing of any group.
    assert_eq!(json.as_object().map(|o| o.len()), Some(2), "{json}");
}

#[tokio::test]
async fn metrics_count_requests_logins_and_latency_on_their_own_listener() {
    let metrics = Arc::new(Metrics::new());
    let state = demo_state().with_metrics(metrics.clone());
    let server = start(state.clone(), None).await;
    let ops = start_ops(state).await;

    // Before any request: every method at zero, already listed.
    let text = body(&exchange(ops, &get("/metrics")).await).to_owned();
    assert_eq!(
        sample(
            &text,
            "switchboard_requests_total{method=\"get_calls\",status=\"200\",fault_code=\"\"}"
        ),
        Some(0.0),
        "{text}"
    );

    for _ in 0..3 {
        let answer = exchange(server.addr, &rpc_request("203", SECRET, "get_extensions")).await;
        assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    }
    exchange(server.addr, &rpc_request("203", SECRET, "no_such_method")).await;
    let refused = exchange(server.addr, &rpc_request("203", "wrong", "get_calls")).await;
    assert!(refused.starts_with("HTTP/1.1 401 "), "{refused}");
    exchange(server.addr, &get("/health")).await;

    let answer = exchange(ops, &get("/metrics")).await;
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(
        answer.contains("content-type: application/openmetrics-text"),
        "{answer}"
    );
    let text = body(&answer);
    let extensions = "method=\"get_extensions\",status=\"200\",fault_code=\"\"";
    assert_eq!(
        sample(text, &format!("switchboard_requests_total{{{extensions}}}")),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        sample(
            text,
            "switchboard_requests_total{method=\"other\",status=\"200\",fault_code=\"-32601\"}"
        ),
        Some(1.0),
        "an unknown method counts as `other`: {text}"
    );
    assert_eq!(
        sample(
            text,
            "switchboard_requests_total{method=\"none\",status=\"401\",fault_code=\"\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(text, "switchboard_login_failures_total"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            text,
            "switchboard_request_duration_seconds_count{method=\"get_extensions\"}"
        ),
        Some(3.0),
        "{text}"
    );
    let seconds = sample(
        text,
        "switchboard_request_duration_seconds_sum{method=\"get_extensions\"}",
    )
    .expect("a latency sum");
    assert!(seconds > 0.0, "{text}");
    assert!(text.contains("switchboard_open_connections "), "{text}");
    assert!(text.ends_with("# EOF\n"), "{text}");
}

#[tokio::test]
async fn client_chosen_method_names_do_not_grow_the_metrics() {
    let metrics = Arc::new(Metrics::new());
    let state = demo_state().with_metrics(metrics.clone());
    let server = start(state, None).await;
    let before = metrics.encode().lines().count();
    for i in 0..20 {
        exchange(
            server.addr,
            &rpc_request("203", SECRET, &format!("made_up_{i}")),
        )
        .await;
    }
    let text = metrics.encode();
    assert!(!text.contains("made_up"), "{text}");
    assert_eq!(
        sample(
            &text,
            "switchboard_requests_total{method=\"other\",status=\"200\",fault_code=\"-32601\"}"
        ),
        Some(20.0),
        "{text}"
    );
    // One new series (other/-32601) and nothing per name.
    assert_eq!(text.lines().count(), before + 1, "{text}");
}

const METRICS_TOKEN: &str = "scrape-me-if-you-can-0123";

fn scrape(token: &str) -> String {
    format!(
        "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAuthorization: {token}\r\n\
         Connection: close\r\n\r\n"
    )
}

#[tokio::test]
async fn metrics_on_the_api_listener_need_the_token_and_wrong_ones_are_throttled() {
    let mut config = ServerConfig::default();
    // Locked at the second failure, with no slowing down before (no waiting here).
    config.throttle.slow_after = 10;
    config.throttle.lock_after = 2;
    let metrics = Arc::new(Metrics::new());
    let state = AppState::builder(Arc::new(MemoryPbx::demo()), config)
        .metrics(metrics.clone())
        .metrics_token(MetricsToken::new(METRICS_TOKEN).unwrap())
        .build();
    let server = start(state, None).await;

    let answer = exchange(server.addr, &scrape(&format!("Bearer {METRICS_TOKEN}"))).await;
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(
        answer.contains("content-type: application/openmetrics-text"),
        "{answer}"
    );
    assert!(
        body(&answer).contains("switchboard_requests_total"),
        "{answer}"
    );

    let answer = exchange(server.addr, &get("/metrics")).await;
    assert!(answer.starts_with("HTTP/1.1 401 "), "{answer}");
    assert!(
        answer.contains("www-authenticate: Bearer realm=\"metrics\""),
        "{answer}"
    );
    // A PBX user's password is no metrics token, nor is a wrong token.
    for wrong in [basic("203", "203"), format!("Bearer {METRICS_TOKEN}x")] {
        let answer = exchange(server.addr, &scrape(&wrong)).await;
        assert!(answer.starts_with("HTTP/1.1 401 "), "{wrong}: {answer}");
        assert!(!answer.contains("switchboard_"), "{answer}");
    }
    let answer = exchange(server.addr, &scrape(&format!("Bearer {METRICS_TOKEN}"))).await;
    assert!(answer.starts_with("HTTP/1.1 429 "), "locked out: {answer}");
    let text = metrics.encode();
    assert_eq!(
        sample(&text, "switchboard_login_failures_total"),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "switchboard_logins_refused_total{reason=\"throttled\"}"
        ),
        Some(1.0),
        "{text}"
    );
    // The lockout is the scraper's: the users on that address log in.
    let answer = exchange(server.addr, &rpc_request("203", "203", "get_calls")).await;
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
}

#[tokio::test]
async fn metrics_are_not_served_on_the_api_listener_without_a_token() {
    let state = demo_state().with_metrics(Arc::new(Metrics::new()));
    let server = start(state, None).await;
    let answer = exchange(server.addr, &get("/metrics")).await;
    assert!(answer.starts_with("HTTP/1.1 404 "), "{answer}");
}

fn tls_fixture() -> TlsConfig {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/client-tls");
    TlsConfig::from_pem_files(&dir.join("server.pem"), &dir.join("server.key.pem"))
        .expect("the test certificate")
}

#[tokio::test]
async fn plain_http_on_the_https_port_gets_a_400_saying_so() {
    let metrics = Arc::new(Metrics::new());
    let state = demo_state().with_metrics(metrics.clone());
    let server = start(state, Some(tls_fixture())).await;
    let answer = exchange(server.addr, &rpc_request("203", SECRET, "get_calls")).await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(
        body(&answer).contains("this server speaks HTTPS"),
        "{answer}"
    );
    let text = metrics.encode();
    assert_eq!(
        sample(&text, "switchboard_tls_handshake_failures_total"),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test]
async fn metrics_count_throttled_logins_and_open_connections() {
    let mut config = ServerConfig::default();
    // Locked at the second failure, with no slowing down before (no waiting here).
    config.throttle.slow_after = 10;
    config.throttle.lock_after = 2;
    let metrics = Arc::new(Metrics::new());
    let state = HookedPbx::new(false)
        .state(config)
        .with_metrics(metrics.clone());
    let server = start(state, None).await;
    for _ in 0..2 {
        let answer = exchange(server.addr, &rpc_request("203", "wrong", "get_calls")).await;
        assert!(answer.starts_with("HTTP/1.1 401 "), "{answer}");
    }
    let answer = exchange(server.addr, &rpc_request("203", "wrong", "get_calls")).await;
    assert!(answer.starts_with("HTTP/1.1 429 "), "{answer}");

    // A logged-in keep-alive connection stays open, and counted, until it closes.
    let mut open = TcpStream::connect(server.addr).await.unwrap();
    let request = rpc_request("201", SECRET, "get_calls").replace("Connection: close\r\n", "");
    open.write_all(request.as_bytes()).await.unwrap();
    let mut first = [0_u8; 12];
    tokio::time::timeout(PATIENCE, open.read_exact(&mut first))
        .await
        .expect("an answer")
        .unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");

    let text = metrics.encode();
    assert_eq!(
        sample(&text, "switchboard_login_failures_total"),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "switchboard_logins_refused_total{reason=\"throttled\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "switchboard_requests_total{method=\"none\",status=\"429\",fault_code=\"\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "switchboard_open_connections"),
        Some(1.0),
        "{text}"
    );
    drop(open);
    // Closed connections leave the gauge: wait for the server to notice.
    let closed = async {
        while sample(&metrics.encode(), "switchboard_open_connections") != Some(0.0) {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(PATIENCE, closed)
        .await
        .expect("the gauge goes back to 0");
}
