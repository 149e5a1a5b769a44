//! [`WebhookMetrics`]: what the deliveries count, for Prometheus.
//!
//! Endpoints are labelled by their position in the list given to
//! [`Webhooks::start`](crate::Webhooks::start) (`endpoint="0"`), never by URL
//! or group: a URL can hold a token, and the operations endpoint holds
//! nothing of any group. The log names each endpoint's group and origin
//! once, at start.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// How one POST ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// A 2xx answer: the event is delivered.
    Acknowledged,
    /// Another status (3xx included: redirects are not followed).
    Refused,
    /// No answer within the request timeout.
    Timeout,
    /// No answer at all: connection refused or reset, DNS, TLS.
    Error,
}

impl Outcome {
    /// Its label value: `acknowledged`, `refused`, `timeout`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledged => "acknowledged",
            Self::Refused => "refused",
            Self::Timeout => "timeout",
            Self::Error => "error",
        }
    }
}

/// Why an event was given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// The endpoint's queue was full: its oldest event made room.
    QueueFull,
    /// It was retried for the whole `give_up_after` without an acknowledgement.
    GaveUp,
    /// It was still queued (or in flight) when the deliveries shut down,
    /// after their drain.
    Shutdown,
}

impl DropReason {
    /// Its label value: `queue_full`, `gave_up`, `shutdown`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::QueueFull => "queue_full",
            Self::GaveUp => "gave_up",
            Self::Shutdown => "shutdown",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct EndpointLabels {
    endpoint: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    endpoint: u64,
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DropLabels {
    endpoint: u64,
    reason: &'static str,
}

/// Delivery latency buckets, in seconds: 1 ms to an hour (retries included).
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.005, 0.025, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The webhook deliveries' counters, gauges and histograms. Cheap to clone
/// (the clones count together); [`register`](Self::register) them into a
/// server's registry to expose them.
#[derive(Clone)]
pub struct WebhookMetrics {
    attempts: Family<OutcomeLabels, Counter>,
    retries: Family<EndpointLabels, Counter>,
    dropped: Family<DropLabels, Counter>,
    resets: Family<EndpointLabels, Counter>,
    queue_depth: Family<EndpointLabels, Gauge>,
    latency: Family<EndpointLabels, Histogram, fn() -> Histogram>,
}

impl std::fmt::Debug for WebhookMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookMetrics").finish_non_exhaustive()
    }
}

impl Default for WebhookMetrics {
    fn default() -> Self {
        Self::new()
    }
}

fn labels(endpoint: usize) -> EndpointLabels {
    EndpointLabels {
        endpoint: endpoint as u64,
    }
}

impl WebhookMetrics {
    /// Everything at zero, registered nowhere.
    pub fn new() -> Self {
        Self {
            attempts: Family::default(),
            retries: Family::default(),
            dropped: Family::default(),
            resets: Family::default(),
            queue_depth: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
        }
    }

    /// Registers every metric into `registry` (named `webhook_*` under the
    /// registry's prefix).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "webhook_deliveries",
            "Webhook POSTs by endpoint (its position in the configuration) and \
             outcome: acknowledged (2xx), refused (another status), timeout, error",
            self.attempts.clone(),
        );
        registry.register(
            "webhook_retries",
            "Webhook POSTs scheduled again after a failed one",
            self.retries.clone(),
        );
        registry.register(
            "webhook_dropped",
            "Webhook events given up: queue_full (the oldest queued event made room), \
             gave_up (retried for the whole give-up time) or shutdown (still queued \
             when the server stopped, after the drain)",
            self.dropped.clone(),
        );
        registry.register(
            "webhook_resets",
            "Times an endpoint's subscription fell behind the group's events and \
             went on from now (events in between are not delivered)",
            self.resets.clone(),
        );
        registry.register(
            "webhook_queue_depth",
            "Events waiting for an endpoint, the one in flight included",
            self.queue_depth.clone(),
        );
        registry.register(
            "webhook_delivery_seconds",
            "Time from an event's arrival in an endpoint's queue to its acknowledgement",
            self.latency.clone(),
        );
    }

    pub(crate) fn attempt(&self, endpoint: usize, outcome: Outcome) {
        self.attempts
            .get_or_create(&OutcomeLabels {
                endpoint: endpoint as u64,
                outcome: outcome.as_str(),
            })
            .inc();
    }

    pub(crate) fn retry(&self, endpoint: usize) {
        self.retries.get_or_create(&labels(endpoint)).inc();
    }

    pub(crate) fn drop_event(&self, endpoint: usize, reason: DropReason) {
        self.drop_events(endpoint, reason, 1);
    }

    pub(crate) fn drop_events(&self, endpoint: usize, reason: DropReason, events: u64) {
        self.dropped
            .get_or_create(&DropLabels {
                endpoint: endpoint as u64,
                reason: reason.as_str(),
            })
            .inc_by(events);
    }

    pub(crate) fn reset(&self, endpoint: usize) {
        self.resets.get_or_create(&labels(endpoint)).inc();
    }

    pub(crate) fn set_queue_depth(&self, endpoint: usize, depth: usize) {
        self.queue_depth
            .get_or_create(&labels(endpoint))
            .set(i64::try_from(depth).unwrap_or(i64::MAX));
    }

    pub(crate) fn delivered_after(&self, endpoint: usize, seconds: f64) {
        self.latency
            .get_or_create(&labels(endpoint))
            .observe(seconds);
    }

    /// POSTs to `endpoint` that ended with `outcome`.
    pub fn deliveries(&self, endpoint: usize, outcome: Outcome) -> u64 {
        self.attempts
            .get_or_create(&OutcomeLabels {
                endpoint: endpoint as u64,
                outcome: outcome.as_str(),
            })
            .get()
    }

    /// Retries scheduled for `endpoint`.
    pub fn retries(&self, endpoint: usize) -> u64 {
        self.retries.get_or_create(&labels(endpoint)).get()
    }

    /// Events of `endpoint` given up for `reason`.
    pub fn dropped(&self, endpoint: usize, reason: DropReason) -> u64 {
        self.dropped
            .get_or_create(&DropLabels {
                endpoint: endpoint as u64,
                reason: reason.as_str(),
            })
            .get()
    }

    /// Times `endpoint`'s subscription fell behind and went on from now.
    pub fn resets(&self, endpoint: usize) -> u64 {
        self.resets.get_or_create(&labels(endpoint)).get()
    }

    /// Events waiting for `endpoint` now, the one in flight included.
    pub fn queue_depth(&self, endpoint: usize) -> i64 {
        self.queue_depth.get_or_create(&labels(endpoint)).get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_exposed_under_the_registry_prefix_by_endpoint_position() {
        let metrics = WebhookMetrics::new();
        let mut registry = Registry::with_prefix("switchboard");
        metrics.register(&mut registry);
        metrics.attempt(0, Outcome::Acknowledged);
        metrics.attempt(1, Outcome::Timeout);
        metrics.retry(1);
        metrics.drop_event(1, DropReason::QueueFull);
        metrics.drop_events(0, DropReason::Shutdown, 3);
        metrics.reset(1);
        metrics.set_queue_depth(1, 7);
        metrics.delivered_after(0, 0.2);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        for line in [
            "switchboard_webhook_deliveries_total{endpoint=\"0\",outcome=\"acknowledged\"} 1",
            "switchboard_webhook_deliveries_total{endpoint=\"1\",outcome=\"timeout\"} 1",
            "switchboard_webhook_retries_total{endpoint=\"1\"} 1",
            "switchboard_webhook_dropped_total{endpoint=\"1\",reason=\"queue_full\"} 1",
            "switchboard_webhook_dropped_total{endpoint=\"0\",reason=\"shutdown\"} 3",
            "switchboard_webhook_resets_total{endpoint=\"1\"} 1",
            "switchboard_webhook_queue_depth{endpoint=\"1\"} 7",
            "switchboard_webhook_delivery_seconds_count{endpoint=\"0\"} 1",
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
    }
}
