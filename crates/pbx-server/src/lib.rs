//! The HTTP layer of the PBXpress XML-RPC API: a thin axum [`Router`] over the
//! framework-free binding (`pbx_handler::Handler`), and [`serve`] to run it.
//!
//! What it does, and nothing more:
//! - `POST /RPC2` and `POST /`; another method is 405 (with `Allow: POST`), another
//!   path 404;
//! - `POST /jsonrpc`: JSON-RPC 2.0 over the same method table and `Handler`
//!   (batches, notifications, `rpc.discover`'s OpenRPC document), with the same
//!   authentication and limits;
//! - HTTP Basic auth on every request, checked by the backend before the body is
//!   read: a missing, malformed or wrong header is 401 with
//!   `WWW-Authenticate: Basic realm="..."` and one body for every cause;
//! - body limits (413), gzip request bodies and gzip responses when asked (answers of
//!   [`GZIP_FROM_BYTES`] or more), any `Content-Type`, answers as
//!   `text/xml; charset=utf-8`;
//! - failed logins slowed down, then refused with 429 and `Retry-After`, per
//!   (client address, user name), per address failing across many names, and
//!   slowed per user name across addresses; a bounded number of passwords
//!   verified at once ([`ThrottleConfig`]); every 401 closes its connection;
//! - request and body timeouts (408), and with [`serve`] (or [`serve_tls`] for
//!   HTTPS) an idle and header timeout, a write timeout (a client that does not
//!   take its answer is cut off), caps on connections, requests per connection
//!   and header size, and graceful shutdown;
//! - large answers (the binding's estimate, `pbx_handler::Answer::is_large`)
//!   written on a blocking thread, never on the async workers; the binding
//!   bounds their size (`Handler::with_max_response_bytes`);
//! - one log event per request (`status`, `user`, `method`, `fault_code`,
//!   `duration`), never the password or the `Authorization` header;
//! - the operator console at `GET /console/` (a browser's `GET /` is sent
//!   there): its page compiled in, sign-in with a form through the same check
//!   and throttle as Basic auth, and a session cookie that authenticates
//!   `GET /events` (and `POST /jsonrpc`, with a CSRF token) like Basic auth
//!   ([`ConsoleConfig`]);
//! - `GET /health` without authentication (the backend's `PbxBackend::health`:
//!   200 or 503 with the reason), and, when given a [`Metrics`]
//!   ([`AppState::with_metrics`]), Prometheus counters served by [`ops_router`]
//!   or [`serve_ops`] on a listener of their own, and on the API's only
//!   behind a bearer token ([`AppStateBuilder::metrics_token`]).
//!
//! It knows no XML-RPC (the binding decodes, dispatches and maps faults) and no
//! particular PBX: the backend is an `Arc<dyn PbxBackend>`, and `sim.*`
//! exists only on a state given a `Simulator` ([`AppStateBuilder::simulator`]).
//! It never depends on the in-memory
//! PBX except in tests.
//!
//! Run it on its own:
//!
//! ```no_run
//! use std::sync::Arc;
//! use pbx_backend_memory::{MemoryPbx, Player};
//! use pbx_server::{AppState, ServerConfig};
//!
//! # async fn run() -> std::io::Result<()> {
//! let pbx = Arc::new(MemoryPbx::demo());
//! // A real PBX has no simulator: leave out `simulator` and `sim.*` does not exist.
//! let state = AppState::builder(pbx.clone(), ServerConfig::default())
//!     .simulator(Arc::new(Player::new(pbx)))
//!     .build();
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3339").await?;
//! pbx_server::serve(listener, state, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await
//! # }
//! ```
//!
//! Or mount the router in your own axum app (your server then owns the
//! connection-level settings, such as the idle timeout):
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::routing::get;
//! use pbx_backend::PbxBackend;
//! use pbx_server::{AppState, ServerConfig};
//!
//! # async fn run(backend: Arc<dyn PbxBackend>) -> std::io::Result<()> {
//! let api = pbx_server::router(AppState::new(backend, ServerConfig::default()));
//! let app = axum::Router::new()
//!     .route("/health", get(|| async { "ok" }))
//!     .nest_service("/pbx", api); // the API at /pbx/RPC2
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! axum::serve(listener, app).await
//! # }
//! ```

mod auth;
mod body;
mod config;
mod console;
mod events;
mod jsonrpc;
mod log;
mod metrics;
mod metrics_auth;
mod rpc;
mod serve;
mod throttle;
mod tls;
mod write_timeout;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, StatusCode};
use axum::routing::{get, post};
use pbx_backend::{PbxBackend, Simulator};
use pbx_handler::Handler;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::SizeAbove;
use tower_http::timeout::TimeoutLayer;
use xmlrpc_codec::Limits;

pub use config::ServerConfig;
pub use console::ConsoleConfig;
pub use metrics::{Metrics, ops_router};
pub use metrics_auth::{
    MAX_METRICS_TOKEN_CHARS, MIN_METRICS_TOKEN_CHARS, MetricsToken, MetricsTokenError,
};
pub use serve::{serve, serve_ops, serve_tls};
pub use throttle::ThrottleConfig;
pub use tls::TlsConfig;

/// What every request needs: the backend (which authenticates callers and
/// answers `GET /health`), the binding built over it, and the configuration.
/// Cheap to clone.
///
/// Built one way, by the `switchboard` binary, the tests and the fuzz targets
/// alike: [`AppState::new`] or [`AppState::builder`], which derive every limit
/// of the binding from [`ServerConfig`] (the decoder's
/// `Limits::max_document_bytes` from [`ServerConfig::max_decompressed_bytes`],
/// the answer bound from [`ServerConfig::max_response_bytes`]), so that no
/// caller copies a limit by hand. An embedder that only wants the binding uses
/// `pbx_handler::Handler` on its own.
///
/// Cloned for every request (by each layer that takes it as axum `State`):
/// one reference count, not one per part.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What an [`AppState`] shares between its clones.
#[derive(Clone)]
pub(crate) struct Shared {
    backend: Arc<dyn PbxBackend>,
    handler: Arc<Handler>,
    config: Arc<ServerConfig>,
    /// The `WWW-Authenticate` value, made once.
    challenge: HeaderValue,
    /// Failed logins by address and by user.
    throttle: Arc<throttle::Throttle>,
    /// Slots for password verifications in progress: one lane for clients whose
    /// last login from their address succeeded, one for everyone else, so that a
    /// flood of strangers does not hold up clients already logged in.
    verifications: Arc<[tokio::sync::Semaphore; 2]>,
    /// What is counted for `GET /metrics`, when the operator asked for it.
    metrics: Option<Arc<Metrics>>,
    /// The open event streams (`GET /events`).
    streams: Arc<events::Streams>,
    /// The `get_events` long polls, ended with the streams at shutdown.
    long_polls: pbx_backend::events::LongPolls,
    /// What opens `GET /metrics` on the API's listener; none: it is not there.
    metrics_token: Option<Arc<MetricsToken>>,
    /// The operator console's signed-in sessions.
    sessions: Arc<console::Sessions>,
}

/// Whether and how the `sim.*` methods are offered.
enum Simulation {
    /// They do not exist (a real PBX).
    Absent,
    /// They drive this simulator.
    On(Arc<dyn Simulator>),
    /// They are listed but every call is fault -2.
    SwitchedOff,
}

/// Builds an [`AppState`]: from [`AppState::builder`].
#[must_use = "call `build` to get the state"]
pub struct AppStateBuilder {
    backend: Arc<dyn PbxBackend>,
    config: ServerConfig,
    simulation: Simulation,
    metrics: Option<Arc<Metrics>>,
    metrics_token: Option<MetricsToken>,
}

impl AppStateBuilder {
    /// Offers the `sim.*` methods, driving `simulator` (for the in-memory PBX,
    /// `pbx_backend_memory::Player`, which also plays scenarios). Without it
    /// `sim.*` does not exist.
    pub fn simulator(mut self, simulator: Arc<dyn Simulator>) -> Self {
        self.simulation = Simulation::On(simulator);
        self
    }

    /// Lists the `sim.*` methods but answers every call of them with fault -2: a
    /// simulated PBX whose simulation is switched off.
    pub fn simulation_switched_off(mut self) -> Self {
        self.simulation = Simulation::SwitchedOff;
        self
    }

    /// Counts requests, logins and connections into `metrics` (as
    /// [`AppState::with_metrics`]).
    pub fn metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Serves the [`metrics`](Self::metrics) at `GET /metrics` on the API's
    /// listener too, to a scraper that sends `Authorization: Bearer TOKEN`
    /// (wrong tokens are throttled as failed logins). Without it, and without
    /// metrics, the API's listener has no `/metrics`.
    pub fn metrics_token(mut self, token: MetricsToken) -> Self {
        self.metrics_token = Some(token);
        self
    }

    /// The state, with the binding's limits taken from the configuration.
    pub fn build(self) -> AppState {
        let Self {
            backend,
            config,
            simulation,
            metrics,
            metrics_token,
        } = self;
        // The HTTP layer bounds documents (413); the decoder takes what it lets through.
        let mut limits = Limits::default();
        limits.max_document_bytes = config.max_decompressed_bytes;
        let long_polls = pbx_backend::events::LongPolls::new();
        let streams = Arc::new(events::Streams::new());
        if let Some(metrics) = &metrics {
            metrics.watch_events(streams.clone(), long_polls.clone());
        }
        let handler = Handler::new(backend.clone())
            .with_long_polls(long_polls.clone())
            .with_limits(limits)
            .with_max_response_bytes(config.max_response_bytes)
            .with_max_multicall(config.max_multicall);
        let handler = match simulation {
            Simulation::Absent => handler,
            Simulation::On(simulator) => handler.with_simulator(simulator),
            Simulation::SwitchedOff => handler.with_simulation_switched_off(),
        };
        AppState(Arc::new(Shared {
            backend,
            handler: Arc::new(handler),
            challenge: auth::challenge(&config.realm),
            throttle: Arc::new(throttle::Throttle::new(config.throttle.clone())),
            verifications: Arc::new(std::array::from_fn(|_| {
                tokio::sync::Semaphore::new(config.throttle.max_concurrent_verifications.max(1))
            })),
            config: Arc::new(config),
            metrics,
            streams,
            long_polls,
            metrics_token: metrics_token.map(Arc::new),
            sessions: Arc::new(console::Sessions::default()),
        }))
    }
}

impl std::fmt::Debug for AppStateBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppStateBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The state serving `backend` under `config`, without simulation (`sim.*`
    /// does not exist) and without metrics. The backend also authenticates the
    /// callers.
    pub fn new(backend: Arc<dyn PbxBackend>, config: ServerConfig) -> Self {
        Self::builder(backend, config).build()
    }

    /// A builder for the state serving `backend` under `config`, to add a
    /// simulator or metrics.
    pub fn builder(backend: Arc<dyn PbxBackend>, config: ServerConfig) -> AppStateBuilder {
        AppStateBuilder {
            backend,
            config,
            simulation: Simulation::Absent,
            metrics: None,
            metrics_token: None,
        }
    }

    /// Counts requests, logins and connections into `metrics` (served by
    /// [`ops_router`] or [`Metrics::encode`]). Without it nothing is counted.
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        metrics.watch_events(self.0.streams.clone(), self.0.long_polls.clone());
        Arc::make_mut(&mut self.0).metrics = Some(metrics);
        self
    }

    /// The metrics given to [`with_metrics`](Self::with_metrics), if any.
    pub fn metrics(&self) -> Option<&Arc<Metrics>> {
        self.0.metrics.as_ref()
    }

    /// Ends every open event stream (`GET /events`), and any opened later,
    /// and answers every waiting `get_events` long poll at once with what it
    /// has (no events, its cursor): graceful shutdown waits for open
    /// responses, and a stream never ends by itself (a long poll only after
    /// up to a minute). [`serve`] calls it when it stops.
    pub fn stop_event_streams(&self) {
        self.0.streams.stop();
        self.0.long_polls.stop();
    }

    /// The configuration this state was made with.
    pub fn config(&self) -> &ServerConfig {
        &self.0.config
    }

    /// The backend: it authenticates callers and answers `GET /health`.
    pub fn backend(&self) -> &Arc<dyn PbxBackend> {
        &self.0.backend
    }

    /// The binding the state answers with, its limits taken from the
    /// configuration (for a fuzz target or a test that calls it without HTTP).
    pub fn handler(&self) -> &Handler {
        &self.0.handler
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("handler", &self.0.handler)
            .field("config", &self.0.config)
            .finish()
    }
}

/// Answers shorter than this go out uncompressed even to a client that accepts gzip.
pub const GZIP_FROM_BYTES: u64 = 1024;

/// The API as an axum router: `POST /RPC2` and `POST /` (XML-RPC), `POST
/// /jsonrpc` (JSON-RPC 2.0), with authentication,
/// limits, gzip, the request timeout and request logs, and `GET /health`
/// (SPEC.md, "Operations endpoints": no authentication, no group's data).
/// Serve it with [`serve`], or mount it in a larger app. `/metrics` is here
/// only behind a bearer token ([`AppStateBuilder::metrics_token`]); else
/// serve [`ops_router`] on an address of its own.
pub fn router(state: AppState) -> Router {
    // `POST` keeps its own timer (`rpc::post`), with the body's phase in it.
    let timeout = || {
        TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, state.0.config.request_timeout)
    };
    Router::new()
        .route("/RPC2", post(rpc::post))
        .route("/", post(rpc::post).fallback(console::root))
        // JSON-RPC reads its body under `body_timeout` and runs under this one.
        .route("/jsonrpc", post(jsonrpc::post).layer(timeout()))
        .route("/health", get(metrics::health).layer(timeout()))
        .route("/metrics", get(metrics_auth::get).layer(timeout()))
        .merge(console_routes().layer(timeout()))
        .with_state(state.clone())
        // Every answer is XML (the stock predicate's content-type checks are moot),
        // and gzip does not pay for itself on a fault or a single value.
        .layer(CompressionLayer::new().compress_when(SizeAbove::new(GZIP_FROM_BYTES)))
        // Outside the compression: a compressed stream would hold events back.
        .route(
            "/events",
            get(events::get).layer(timeout()).with_state(state.clone()),
        )
        .layer(axum::middleware::from_fn_with_state(
            state,
            log::log_request,
        ))
}

/// The operator console: the page and its files, sign-in, sign-out and the
/// session's CSRF token, each answer with the console's security headers.
fn console_routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(console::to_console))
        .route("/console/", get(console::asset))
        .route("/console/index.html", get(console::asset))
        .route("/console/console.js", get(console::asset))
        .route("/console/console.css", get(console::asset))
        .route("/console/icon.svg", get(console::asset))
        .route("/console/login", post(console::login))
        .route("/console/logout", post(console::logout))
        .route("/console/session", get(console::session))
        .layer(axum::middleware::from_fn(console::hardened))
}

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
