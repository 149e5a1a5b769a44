//! Signed webhooks for any [`PbxBackend`]: each admin group's events POSTed
//! to the operator's endpoints (SPEC.md, "Events", Webhooks).
//!
//! [`Webhooks::start`] takes the backend and the endpoints ([`Endpoint`]: a
//! group and its [`WebhookConfig`], from the group's configuration or built
//! in code) and runs one background task per endpoint. Each task subscribes
//! to its group's events ([`PbxBackend::group_events`]), keeps those of the
//! types the endpoint wants, and POSTs each as JSON
//! `{id, type, group, time, data}` ([`event_body`]) with the header
//! `Switchboard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
//! ([`sign`]; a Rust receiver checks it with [`verify_signature`]).
//!
//! - **At least once, in order**: one event in flight per endpoint; a 2xx
//!   acknowledges it, anything else (a 3xx too: redirects are not followed),
//!   a timeout or a connection error is retried with the same body, hence the
//!   same `id`, after growing delays with jitter ([`DeliveryOptions`]: 1 s
//!   doubling to 5 min), until [`DeliveryOptions::give_up_after`] (an hour):
//!   then the event is dropped, logged and counted, and the next one goes.
//! - **Bounded**: each endpoint queues at most
//!   [`DeliveryOptions::queue_capacity`] events; when full, the **oldest**
//!   queued event is dropped (logged, counted). Events are whole records, so
//!   a later event of the same object supersedes an earlier one: dropping the
//!   oldest keeps the receiver's view closest to now.
//! - **Falling behind**: when a task cannot keep up with its group's event
//!   log, its subscription resets; the task logs and counts it and goes on
//!   from now. A receiver that must never miss a change re-reads the state
//!   with the methods when it sees a gap it cares about.
//! - **Isolated**: a task shares no lock, queue or connection with the API,
//!   the PBX or another endpoint; a slow or dead endpoint fills only its own
//!   queue.
//! - **Quiet about secrets**: logs name an endpoint by its position, group and
//!   origin (`https://host:port`), never by its path, query or secret.
//!
//! - **Drained at shutdown**: [`Webhooks::shutdown`] gives the tasks up to
//!   [`DeliveryOptions::drain`] (5 s) to deliver what is queued, in order,
//!   still one POST at a time; whatever is left then (and everything, with
//!   [`Webhooks::shutdown_now`] or a zero drain) is dropped, logged and
//!   counted (`reason="shutdown"`). The bound holds whatever the receivers
//!   do: a POST in flight at the deadline is abandoned.
//!
//! Events are not stored across restarts: a task starts from "now".
//!
//! This crate knows no XML-RPC or server: it reaches the records' JSON through
//! `pbx-xmlrpc`'s mapping (the one the SSE stream uses) and HTTP through
//! reqwest on rustls.

mod delivery;
mod metrics;
mod signature;

use std::sync::Arc;
use std::time::Duration;

use pbx_backend::{BackendError, PbxBackend};
pub use pbx_backend::{WebhookConfig, WebhookSecret};
use pbx_model::AdminGroupId;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use delivery::Stop;

pub use metrics::{DropReason, Outcome, WebhookMetrics};
pub use signature::{DEFAULT_TOLERANCE_SECS, SIGNATURE_HEADER, event_body, sign, verify_signature};

/// One webhook endpoint of one admin group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The group whose events it receives.
    pub group: AdminGroupId,
    /// Its URL, secret and event types.
    pub config: WebhookConfig,
}

impl Endpoint {
    /// `config` for the events of `group`.
    pub fn new(group: AdminGroupId, config: WebhookConfig) -> Self {
        Self { group, config }
    }
}

/// How deliveries are paced and bounded; the same for every endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeliveryOptions {
    /// How long one POST may take, connection included. Default 10 s.
    pub request_timeout: Duration,
    /// The delay before the first retry; each later one doubles it. Default 1 s.
    pub first_retry: Duration,
    /// The longest delay between two attempts. Default 5 minutes.
    pub max_retry_delay: Duration,
    /// How long an event is retried, from its first attempt, before it is
    /// dropped. Default an hour.
    pub give_up_after: Duration,
    /// The most events queued per endpoint besides the one in flight; when
    /// full, the oldest is dropped. Default 1,000.
    pub queue_capacity: usize,
    /// How long [`Webhooks::shutdown`] lets the tasks deliver what is queued
    /// before it abandons the rest; zero abandons it at once. Default 5 s.
    pub drain: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(10),
            first_retry: Duration::from_secs(1),
            max_retry_delay: Duration::from_secs(300),
            give_up_after: Duration::from_secs(3600),
            queue_capacity: 1_000,
            drain: Duration::from_secs(5),
        }
    }
}

impl DeliveryOptions {
    /// The delay before the retry that follows the `failures`-th failure:
    /// `first_retry` doubled per failure, capped at `max_retry_delay`, then
    /// jittered down by up to half, so that endpoints that failed together
    /// do not retry together.
    pub fn retry_delay(&self, failures: u32) -> Duration {
        let doubling = 2u32.saturating_pow(failures.saturating_sub(1));
        let delay = self
            .first_retry
            .saturating_mul(doubling)
            .min(self.max_retry_delay);
        let half = delay / 2;
        half + half.mul_f64(jitter())
    }

    /// What is wrong with these options, if anything.
    fn problem(&self) -> Option<&'static str> {
        if self.queue_capacity == 0 {
            Some("the webhook queue capacity must be at least 1")
        } else if self.request_timeout.is_zero() {
            Some("the webhook request timeout must be above zero")
        } else if self.first_retry.is_zero() || self.max_retry_delay < self.first_retry {
            Some("webhook retry delays must be above zero, the longest no shorter than the first")
        } else {
            None
        }
    }
}

/// A number in `[0, 1)`, different on each call; for jitter, not for secrets.
fn jitter() -> f64 {
    use std::hash::BuildHasher;
    // Each RandomState is seeded anew (per thread, then incremented).
    let bits = std::collections::hash_map::RandomState::new().hash_one(0u8);
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

/// Why the deliveries could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// An endpoint's configuration breaks a rule ([`WebhookConfig::problems`]).
    #[error("webhook {endpoint} of group {group:?}: {message}")]
    Invalid {
        /// Its position in the list.
        endpoint: usize,
        /// Its group.
        group: String,
        /// What is wrong (never the secret).
        message: String,
    },
    /// The options break a rule.
    #[error("{0}")]
    Options(&'static str),
    /// The backend offers no events for the endpoint's group (no events at
    /// all, or no such group).
    #[error("webhook {endpoint} of group {group:?}: cannot subscribe to its events: {source}")]
    Subscribe {
        /// Its position in the list.
        endpoint: usize,
        /// Its group.
        group: String,
        /// The backend's answer.
        #[source]
        source: BackendError,
    },
    /// The HTTP client could not be set up (TLS roots, ...).
    #[error("webhook {endpoint}: cannot set up its HTTP client: {message}")]
    Client {
        /// Its position in the list.
        endpoint: usize,
        /// Why.
        message: String,
    },
}

/// The running deliveries: one task per endpoint, until [`shutdown`](Self::shutdown)
/// (or until this is dropped: the tasks then end on their own, unawaited,
/// abandoning what is queued).
#[derive(Debug)]
pub struct Webhooks {
    stop: watch::Sender<Stop>,
    tasks: Vec<JoinHandle<()>>,
    metrics: WebhookMetrics,
    drain: Duration,
}

impl Webhooks {
    /// Checks every endpoint, subscribes each to its group's events (from
    /// now), and spawns its task on the current tokio runtime. Nothing is
    /// started unless every endpoint can be.
    pub async fn start(
        backend: Arc<dyn PbxBackend>,
        endpoints: Vec<Endpoint>,
        options: DeliveryOptions,
        metrics: WebhookMetrics,
    ) -> Result<Self, StartError> {
        if let Some(problem) = options.problem() {
            return Err(StartError::Options(problem));
        }
        let mut ready = Vec::with_capacity(endpoints.len());
        for (index, endpoint) in endpoints.into_iter().enumerate() {
            let group = endpoint.group.as_str().to_owned();
            if let Some((_, message)) = endpoint.config.problems().into_iter().next() {
                return Err(StartError::Invalid {
                    endpoint: index,
                    group,
                    message,
                });
            }
            let url = url::Url::parse(&endpoint.config.url).map_err(|e| StartError::Invalid {
                endpoint: index,
                group: group.clone(),
                message: e.to_string(),
            })?;
            let client =
                http_client(url.scheme() == "https").map_err(|message| StartError::Client {
                    endpoint: index,
                    message,
                })?;
            let events = backend
                .group_events(&endpoint.group, None)
                .await
                .map_err(|source| StartError::Subscribe {
                    endpoint: index,
                    group,
                    source,
                })?;
            ready.push((
                delivery::Endpoint {
                    index,
                    origin: endpoint.config.origin(),
                    group: endpoint.group,
                    config: endpoint.config,
                    url,
                    client,
                    options,
                    metrics: metrics.clone(),
                },
                events,
            ));
        }
        let (stop, stopped) = watch::channel(Stop::Run);
        let tasks = ready
            .into_iter()
            .map(|(endpoint, events)| {
                tracing::info!(
                    endpoint = endpoint.index,
                    group = %endpoint.group,
                    origin = %endpoint.origin,
                    events = ?endpoint.config.events,
                    "webhook delivery started"
                );
                tokio::spawn(endpoint.run(events, stopped.clone()))
            })
            .collect();
        Ok(Self {
            stop,
            tasks,
            metrics,
            drain: options.drain,
        })
    }

    /// How many endpoints are delivered to.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether there is no endpoint.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// The deliveries' metrics.
    pub fn metrics(&self) -> &WebhookMetrics {
        &self.metrics
    }

    /// Ends every task after it delivered what it had queued, in order, or
    /// after [`DeliveryOptions::drain`], whichever comes first, and waits
    /// until they have ended: at most that long, whatever the receivers do.
    /// The tasks take no new event once this is called (the API and the
    /// PBX are meant to be stopped already). What is left is dropped,
    /// logged and counted ([`DropReason::Shutdown`]).
    pub async fn shutdown(self) {
        let stop = if self.drain.is_zero() {
            Stop::Now
        } else {
            // A drain too long to add (`Duration::MAX` for "no bound") ends
            // in a century: the sum must not panic at shutdown.
            let now = tokio::time::Instant::now();
            let century = Duration::from_secs(100 * 365 * 24 * 3600);
            Stop::Drain(now.checked_add(self.drain).unwrap_or_else(|| now + century))
        };
        self.stop_with(stop).await;
    }

    /// Ends every task now (a POST in flight is abandoned, queued events are
    /// not sent, but logged and counted as [`DropReason::Shutdown`]) and
    /// waits until they have ended: for a server that stops on an error.
    pub async fn shutdown_now(self) {
        self.stop_with(Stop::Now).await;
    }

    async fn stop_with(self, stop: Stop) {
        let _ = self.stop.send(stop);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// An endpoint's own client: no redirects (a redirected POST would become a
/// GET, and a redirect could lead anywhere), no proxy from the environment,
/// rustls on *ring* with the platform's roots for `https`.
fn http_client(https: bool) -> Result<reqwest::Client, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let mut tls = if https {
        let verifier = rustls_platform_verifier::Verifier::new(provider)
            .map_err(|e| format!("cannot set up TLS: {e}"))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth()
    } else {
        // Loopback http only (the configuration's rule): never speaks TLS.
        builder
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    };
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("switchboard-webhooks/", env!("CARGO_PKG_VERSION")))
        .tls_backend_preconfigured(tls)
        .build()
        .map_err(|e| e.to_string())
}

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
