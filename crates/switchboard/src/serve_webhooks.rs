//! `switchboard serve`'s webhooks: the endpoints of the configuration's
//! groups (`[[group.webhook]]`), their delivery bounds, and the deliveries'
//! start and stop (docs/events.md, "Webhooks").

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result};
use pbx_backend_memory::{Config, MemoryPbx};
use pbx_model::AdminGroupId;
use pbx_webhooks::{DeliveryOptions, Endpoint, WebhookMetrics, Webhooks};

use crate::cli::parse_duration;

#[derive(Debug, clap::Args)]
pub(crate) struct WebhookArgs {
    /// The most events queued for one webhook endpoint while it is slow or
    /// down; when full, its oldest queued event is dropped (logged, counted).
    #[arg(long, env = "SWITCHBOARD_WEBHOOK_QUEUE", value_name = "N", default_value_t = DeliveryOptions::default().queue_capacity)]
    webhook_queue: usize,
    /// How long one webhook POST may take before it counts as failed and is retried.
    #[arg(long, env = "SWITCHBOARD_WEBHOOK_TIMEOUT", value_name = "SECONDS", default_value = "10", value_parser = parse_duration)]
    webhook_timeout: Duration,
    /// How long a webhook event is retried before it is dropped (logged, counted).
    #[arg(long, env = "SWITCHBOARD_WEBHOOK_GIVE_UP", value_name = "SECONDS", default_value = "3600", value_parser = parse_duration)]
    webhook_give_up: Duration,
    /// At a graceful stop, how long webhook deliveries may go on to send what
    /// is queued (in order) after the API has stopped; what is left then is
    /// dropped (logged, counted). 0: drop it at once.
    #[arg(long, env = "SWITCHBOARD_WEBHOOK_DRAIN", value_name = "SECONDS", default_value = "5", value_parser = parse_duration)]
    webhook_drain: Duration,
}

impl WebhookArgs {
    pub(crate) fn options(&self) -> DeliveryOptions {
        let mut options = DeliveryOptions::default();
        options.queue_capacity = self.webhook_queue;
        options.request_timeout = self.webhook_timeout;
        options.give_up_after = self.webhook_give_up;
        options.drain = self.webhook_drain;
        options
    }

    /// What `serve --check` reports about these options.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.webhook_queue == 0 {
            problems.push("--webhook-queue must be at least 1".into());
        }
        if self.webhook_timeout.is_zero() {
            problems.push("--webhook-timeout must be above zero".into());
        }
        problems
    }
}

/// Every webhook of every group of `config`, in order: an endpoint's position
/// is its `endpoint` label in the metrics.
pub(crate) fn endpoints(config: &Config) -> Vec<Endpoint> {
    config
        .groups
        .iter()
        .flat_map(|group| {
            group
                .webhooks
                .iter()
                .map(|webhook| Endpoint::new(AdminGroupId::new(&group.name), webhook.clone()))
        })
        .collect()
}

/// Starts the deliveries to `endpoints` (from [`endpoints`]; none when the
/// configuration names none).
pub(crate) async fn start(
    pbx: Arc<MemoryPbx>,
    endpoints: Vec<Endpoint>,
    args: &WebhookArgs,
    metrics: WebhookMetrics,
) -> Result<Webhooks> {
    Webhooks::start(pbx, endpoints, args.options(), metrics)
        .await
        .context("cannot start the webhooks")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    #[derive(clap::Parser)]
    struct Args {
        #[command(flatten)]
        webhooks: WebhookArgs,
    }

    fn options(extra: &[&str]) -> DeliveryOptions {
        Args::try_parse_from(std::iter::once("serve").chain(extra.iter().copied()))
            .expect("valid flags")
            .webhooks
            .options()
    }

    #[test]
    fn the_webhook_drain_has_a_flag_and_the_crates_default() {
        assert_eq!(options(&[]).drain, DeliveryOptions::default().drain);
        assert_eq!(options(&[]).drain, Duration::from_secs(5));
        assert_eq!(options(&["--webhook-drain", "0"]).drain, Duration::ZERO);
        assert_eq!(
            options(&["--webhook-drain", "2.5"]).drain,
            Duration::from_millis(2500)
        );
        assert!(Args::try_parse_from(["serve", "--webhook-drain", "-1"]).is_err());
    }
}
