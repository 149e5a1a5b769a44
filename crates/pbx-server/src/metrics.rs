//! [`Metrics`]: what the server counts, for Prometheus (`GET /metrics`), and the
//! operations routes ([`ops_router`]: `/health` and `/metrics`).
//!
//! On prometheus-client (the Prometheus project's own Rust client): a registry
//! per server rather than a process-wide recorder, so that two servers in one
//! process (or two tests) never count into each other.
//!
//! The request path stays cheap: every label value is a `&'static str` or a
//! number, the label sets of the known methods are registered up front (a
//! read-locked hash lookup per request, no allocation), and a method name the
//! binding does not know counts as `other`, so that clients cannot grow the
//! label space.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;
use crate::events::Streams;
use pbx_backend::events::{LongPolls, ResetCause};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// The method label of a request that named no method (a 401, a 404, a body
/// that was not a methodCall).
const NO_METHOD: &str = "none";
/// The method label of a method name the binding does not know.
const OTHER_METHOD: &str = "other";

/// The method label of a JSON-RPC batch (one request, whatever it held).
pub(crate) const BATCH_METHOD: &str = "batch";
/// JSON-RPC's own method, counted by name: it is not in the binding's table.
const DISCOVER_METHOD: &str = "rpc.discover";

/// Request latency buckets, in seconds: 100 µs to 10 s.
const LATENCY_BUCKETS: [f64; 15] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    10.0,
];

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    status: u16,
    /// Empty for an answer that is no fault.
    fault_code: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct MethodLabels {
    method: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The server's counters, gauges and histograms, and their registry.
///
/// Give one to [`AppState::with_metrics`](crate::AppState::with_metrics) (or
/// [`AppStateBuilder::metrics`](crate::AppStateBuilder::metrics)); serve
/// [`Metrics::encode`] (or [`ops_router`]) where Prometheus scrapes.
pub struct Metrics {
    registry: Registry,
    /// Method names of the binding, by name, as the label values to count under.
    methods: HashMap<&'static str, &'static str>,
    requests: Family<RequestLabels, Counter>,
    latency: Family<MethodLabels, Histogram, fn() -> Histogram>,
    login_failures: Counter,
    logins_refused: Family<ReasonLabels, Counter>,
    open_connections: Gauge,
    connections_refused: Family<ReasonLabels, Counter>,
    tls_handshake_failures: Counter,
    answers_too_large: Counter,
    // Live events and storage (issue 19's dashboard).
    events: Arc<EventCollector>,
    storage_commits: Histogram,
    storage_writes: Counter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric at zero, the binding's methods registered (`switchboard_`
    /// prefix on every name).
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("switchboard");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, XML-RPC and JSON-RPC alike, by method (`none` when \
             the request named none, `other` for a name the server does not know, \
             `batch` for a JSON-RPC batch), HTTP status and fault code (empty: no \
             fault; a JSON-RPC error counts as its fault)",
            requests.clone(),
        );
        let latency = Family::<MethodLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "request_duration_seconds",
            "Time from the request's arrival to its answer, by XML-RPC method",
            latency.clone(),
        );
        let login_failures = Counter::default();
        registry.register(
            "login_failures",
            "Logins with a wrong user name or password (or metrics token), or a malformed \
             Authorization header",
            login_failures.clone(),
        );
        let logins_refused = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "logins_refused",
            "Logins refused before their password was checked: `throttled` (429 after \
             failed logins), `busy` (503: no verification slot in time), `full` (503: \
             every tracking slot holds a lockout)",
            logins_refused.clone(),
        );
        let open_connections = Gauge::default();
        registry.register(
            "open_connections",
            "Connections being served now",
            open_connections.clone(),
        );
        let connections_refused = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "connections_refused",
            "Connections refused at accept: `max_connections` (503) or \
             `max_connections_per_address` (429)",
            connections_refused.clone(),
        );
        let tls_handshake_failures = Counter::default();
        registry.register(
            "tls_handshake_failures",
            "TLS handshakes that failed or timed out (plain HTTP sent to the HTTPS port included)",
            tls_handshake_failures.clone(),
        );
        let answers_too_large = Counter::default();
        registry.register(
            "answers_too_large",
            "Answers refused with fault -4 for exceeding max_response_bytes",
            answers_too_large.clone(),
        );
        let events = Arc::new(EventCollector::default());
        registry.register_collector(Box::new(events.clone()));
        let storage_commits = Histogram::new(LATENCY_BUCKETS);
        registry.register(
            "storage_commit_duration_seconds",
            "Time the storage took to commit (and fsync) one group of writes; \
             counted only when the server's storage reports its commits",
            storage_commits.clone(),
        );
        let storage_writes = Counter::default();
        registry.register(
            "storage_writes",
            "Writes committed or refused by the storage, in all its commits",
            storage_writes.clone(),
        );
        let methods: HashMap<&'static str, &'static str> = pbx_xmlrpc::methods()
            .iter()
            .map(|spec| (spec.name, spec.name))
            .chain([BATCH_METHOD, DISCOVER_METHOD].map(|name| (name, name)))
            .collect();
        // Known label sets up front: the request path only reads, and a scrape
        // shows every method (at 0) from the start.
        for name in methods.values().copied().chain([NO_METHOD, OTHER_METHOD]) {
            let _ = latency.get_or_create(&MethodLabels { method: name });
        }
        for name in methods.values() {
            let _ = requests.get_or_create(&RequestLabels {
                method: name,
                status: 200,
                fault_code: None,
            });
        }
        for reason in ["throttled", "busy", "full"] {
            let _ = logins_refused.get_or_create(&ReasonLabels { reason });
        }
        for reason in ["max_connections", "max_connections_per_address"] {
            let _ = connections_refused.get_or_create(&ReasonLabels { reason });
        }
        Self {
            registry,
            methods,
            requests,
            latency,
            login_failures,
            logins_refused,
            open_connections,
            connections_refused,
            tls_handshake_failures,
            answers_too_large,
            events,
            storage_commits,
            storage_writes,
        }
    }

    /// Counts one commit of the storage: `writes` writes committed together
    /// in `duration`. A storage reports its commits through its own hook
    /// (`pbx_storage_sqlite::Options::on_commit`); call this from it.
    pub fn storage_committed(&self, writes: usize, duration: Duration) {
        self.storage_commits.observe(duration.as_secs_f64());
        self.storage_writes.inc_by(writes as u64);
    }

    /// Reads the event streams and long polls of a state at each scrape
    /// (once per state, however often it is given these metrics).
    pub(crate) fn watch_events(&self, streams: Arc<Streams>, long_polls: LongPolls) {
        let mut sources = self
            .events
            .sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if !sources.iter().any(|(s, _)| Arc::ptr_eq(s, &streams)) {
            sources.push((streams, long_polls));
        }
    }

    // --- Metrics kept by other crates (pbx-webhooks' deliveries) ---

    /// The registry itself, to register metrics another crate keeps (such as
    /// `pbx_webhooks::WebhookMetrics::register`) before these `Metrics` are
    /// shared: they are encoded with the rest, under the same prefix.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    // --- end of other crates' metrics ---

    /// Everything in the Prometheus text exposition format (OpenMetrics 1.0 text).
    pub fn encode(&self) -> String {
        let mut text = String::with_capacity(16 << 10);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    /// The label value for a method name from the wire.
    fn method_label(&self, method: Option<&str>) -> &'static str {
        match method {
            None => NO_METHOD,
            Some(name) => self.methods.get(name).copied().unwrap_or(OTHER_METHOD),
        }
    }

    pub(crate) fn request(
        &self,
        method: Option<&str>,
        status: u16,
        fault_code: Option<i32>,
        elapsed: Duration,
    ) {
        let method = self.method_label(method);
        self.requests
            .get_or_create(&RequestLabels {
                method,
                status,
                fault_code,
            })
            .inc();
        self.latency
            .get_or_create(&MethodLabels { method })
            .observe(elapsed.as_secs_f64());
    }

    pub(crate) fn login_failed(&self) {
        self.login_failures.inc();
    }

    pub(crate) fn login_refused(&self, reason: &'static str) {
        self.logins_refused
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    pub(crate) fn connection_refused(&self, reason: &'static str) {
        self.connections_refused
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    pub(crate) fn tls_handshake_failed(&self) {
        self.tls_handshake_failures.inc();
    }

    pub(crate) fn answer_too_large(&self) {
        self.answers_too_large.inc();
    }

    /// Counts a connection as open until the guard is dropped.
    pub(crate) fn connection_opened(self: &Arc<Self>) -> OpenConnection {
        self.open_connections.inc();
        OpenConnection(self.clone())
    }
}

/// One open connection in [`Metrics`]' gauge.
pub(crate) struct OpenConnection(Arc<Metrics>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.open_connections.dec();
    }
}

/// The live-event metrics, read from the streams and long polls at each
/// scrape: they keep their own counts (the long polls' live in the binding's
/// path, which knows nothing of Prometheus).
#[derive(Debug, Default)]
struct EventCollector {
    /// Every state given these metrics (usually one).
    sources: Mutex<Vec<(Arc<Streams>, LongPolls)>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct TransportLabels {
    transport: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ResetLabels {
    transport: &'static str,
    cause: &'static str,
}

impl Collector for EventCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let (mut streams, mut polls) = (0_i64, 0_i64);
        let (mut sse_delivered, mut poll_delivered) = (0_u64, 0_u64);
        // By cause, in the order of `ResetCause::ALL`.
        let (mut sse_resets, mut poll_resets) = ([0_u64; 3], [0_u64; 3]);
        for (s, p) in self
            .sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            streams += i64::try_from(s.open()).unwrap_or(i64::MAX);
            polls += i64::try_from(p.in_flight()).unwrap_or(i64::MAX);
            sse_delivered += s.delivered();
            poll_delivered += p.delivered();
            for (i, cause) in ResetCause::ALL.into_iter().enumerate() {
                sse_resets[i] += s.resets(cause);
                poll_resets[i] += p.resets_by(cause);
            }
        }
        let gauge = ConstGauge::new(streams);
        gauge.encode(encoder.encode_descriptor(
            "event_streams",
            "Server-Sent Event streams (GET /events) open now",
            None,
            gauge.metric_type(),
        )?)?;
        let gauge = ConstGauge::new(polls);
        gauge.encode(encoder.encode_descriptor(
            "long_polls",
            "get_events long polls being answered now (most waiting for an event)",
            None,
            gauge.metric_type(),
        )?)?;
        let mut family = encoder.encode_descriptor(
            "events_delivered",
            "Events sent to subscribers, by transport (`sse`: GET /events, \
             `long_poll`: get_events)",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for (transport, value) in [("sse", sse_delivered), ("long_poll", poll_delivered)] {
            ConstCounter::new(value)
                .encode(family.encode_family(&TransportLabels { transport })?)?;
        }
        let mut family = encoder.encode_descriptor(
            "event_resets",
            "Resets sent to subscribers (re-read the state: a snapshot on a \
             stream, `reset` in a get_events answer), by transport and cause: \
             `start` (a client starting without a cursor: nothing lost), `expired` \
             (a cursor the server could no longer resume: events missed while away), \
             `lagged` (a subscriber that fell behind while connected)",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for (transport, counts) in [("sse", sse_resets), ("long_poll", poll_resets)] {
            for (cause, value) in ResetCause::ALL.into_iter().zip(counts) {
                ConstCounter::new(value).encode(family.encode_family(&ResetLabels {
                    transport,
                    cause: cause.as_str(),
                })?)?;
            }
        }
        Ok(())
    }
}

/// `GET /health`: 200 `{"status":"ok"}` when the backend says it can serve and
/// write, else 503 `{"status":"unavailable","reason":...}`. No authentication,
/// and nothing of any group: only the backend's reason, which names no user data.
pub(crate) async fn health(State(state): State<AppState>) -> Response {
    let (status, body) = match state.0.backend.health().await {
        Ok(()) => (StatusCode::OK, serde_json::json!({ "status": "ok" })),
        Err(error) => {
            tracing::warn!(%error, "health check: unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({ "status": "unavailable", "reason": error.to_string() }),
            )
        }
    };
    (
        status,
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        format!("{body}\n"),
    )
        .into_response()
}

pub(crate) fn exposition(metrics: &Metrics) -> Response {
    (
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        metrics.encode(),
    )
        .into_response()
}

/// The operations routes for a listen address of their own (no API there):
/// `GET /metrics` and `GET /health`, without authentication. Serve it where
/// only the scraper reaches (a loopback or internal address), with
/// `axum::serve` or anything else.
pub fn ops_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(state): State<AppState>| async move {
                match &state.0.metrics {
                    Some(metrics) => exposition(metrics),
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }),
        )
        .route("/health", get(health))
        .with_state(state)
}
