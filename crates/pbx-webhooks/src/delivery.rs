//! One endpoint's background task: its subscription, its queue, its POSTs.
//!
//! The task owns everything it uses (subscription, queue, HTTP client): it
//! shares no lock or queue with the API, the PBX or another endpoint, so a
//! slow endpoint can only fill its own queue. One event is in flight at a
//! time, which keeps the endpoint's order; the next waits until that one is
//! acknowledged or given up.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use pbx_backend::{Delivery, Subscription, WebhookConfig};
use pbx_model::AdminGroupId;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::metrics::{DropReason, Outcome};
use crate::{DeliveryOptions, WebhookMetrics, signature};

/// What a task needs, apart from its subscription.
pub(crate) struct Endpoint {
    pub(crate) index: usize,
    pub(crate) group: AdminGroupId,
    pub(crate) config: WebhookConfig,
    pub(crate) url: url::Url,
    /// For logs: never the path, query or user info, which can hold tokens.
    pub(crate) origin: String,
    pub(crate) client: reqwest::Client,
    pub(crate) options: DeliveryOptions,
    pub(crate) metrics: WebhookMetrics,
}

struct Queued {
    id: String,
    body: Bytes,
    since: Instant,
}

struct InFlight {
    event: Queued,
    failures: u32,
    first_try: Instant,
}

type Attempt = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// What the deliveries are told to do, through the tasks' `watch` channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stop {
    /// Deliver.
    Run,
    /// Take no more events; deliver what is queued, in order, until the
    /// queue is empty or until the deadline, then end.
    Drain(Instant),
    /// End now, abandoning what is queued.
    Now,
}

impl Endpoint {
    /// Delivers until `stop` says so (or its sender is gone) or the
    /// backend's event log ends; what is still queued then is logged and
    /// counted as dropped at shutdown.
    pub(crate) async fn run(self, mut events: Subscription, mut stop: watch::Receiver<Stop>) {
        let this = Arc::new(self);
        let mut queue: VecDeque<Queued> = VecDeque::new();
        let mut in_flight: Option<InFlight> = None;
        let mut attempt: Option<Attempt> = None;
        let mut drain: Option<Pin<Box<tokio::time::Sleep>>> = None;
        loop {
            if in_flight.is_none()
                && let Some(event) = queue.pop_front()
            {
                attempt = Some(Box::pin(
                    this.clone().post(event.body.clone(), Duration::ZERO),
                ));
                in_flight = Some(InFlight {
                    event,
                    failures: 0,
                    first_try: Instant::now(),
                });
            }
            this.metrics
                .set_queue_depth(this.index, queue.len() + usize::from(in_flight.is_some()));
            if drain.is_some() && in_flight.is_none() {
                break;
            }
            tokio::select! {
                biased;
                changed = stop.changed(), if drain.is_none() => match changed
                    .map(|()| *stop.borrow_and_update())
                {
                    Ok(Stop::Run) => {}
                    Ok(Stop::Drain(deadline)) => {
                        // What the log holds already was published before the
                        // shutdown: it is queued too, after what is queued.
                        while let Some(delivery) = events.try_next() {
                            this.take(&mut queue, delivery);
                        }
                        let left = queue.len() + usize::from(in_flight.is_some());
                        let within = deadline.saturating_duration_since(Instant::now());
                        if left > 0 {
                            tracing::info!(
                                endpoint = this.index,
                                group = %this.group,
                                origin = %this.origin,
                                events = left,
                                within_ms = within.as_millis() as u64,
                                "webhook delivery draining its queue before shutdown"
                            );
                        }
                        drain = Some(Box::pin(tokio::time::sleep_until(deadline)));
                    }
                    Ok(Stop::Now) | Err(_) => break,
                },
                // Before the drain's end: an answer that came with it counts.
                outcome = async { attempt.as_mut().expect("guarded by the branch condition").await },
                    if attempt.is_some() =>
                {
                    attempt = None;
                    if let Some(current) = in_flight.take() {
                        attempt = this.clone().settle(current, outcome, &mut in_flight);
                    }
                }
                () = async { drain.as_mut().expect("guarded by the branch condition").await },
                    if drain.is_some() => break,
                delivery = events.next(), if drain.is_none() => match delivery {
                    Some(delivery) => this.take(&mut queue, delivery),
                    None => {
                        tracing::info!(
                            endpoint = this.index,
                            group = %this.group,
                            "the group's event log ended: webhook delivery stops"
                        );
                        break;
                    }
                },
            }
        }
        let left = queue.len() + usize::from(in_flight.is_some());
        if left > 0 {
            this.metrics
                .drop_events(this.index, DropReason::Shutdown, left as u64);
            let first = in_flight
                .as_ref()
                .map(|f| &f.event)
                .or(queue.front())
                .map(|e| e.id.as_str());
            tracing::warn!(
                endpoint = this.index,
                group = %this.group,
                origin = %this.origin,
                events = left,
                first = first.unwrap_or_default(),
                "webhook events left undelivered at shutdown: the receiver re-reads \
                 the state to catch up"
            );
        }
        this.metrics.set_queue_depth(this.index, 0);
    }

    /// Queues what the subscription delivered, if the endpoint wants it; a
    /// full queue drops its oldest.
    fn take(&self, queue: &mut VecDeque<Queued>, delivery: Delivery) {
        match delivery {
            Delivery::Event(event) => {
                if !self.config.wants(event.kind) {
                    return;
                }
                queue.push_back(Queued {
                    id: event.id.as_str().to_owned(),
                    body: Bytes::from(signature::event_body(&self.group, &event)),
                    since: Instant::now(),
                });
                if queue.len() > self.options.queue_capacity
                    && let Some(dropped) = queue.pop_front()
                {
                    self.metrics.drop_event(self.index, DropReason::QueueFull);
                    tracing::warn!(
                        endpoint = self.index,
                        group = %self.group,
                        origin = %self.origin,
                        event = %dropped.id,
                        capacity = self.options.queue_capacity,
                        "webhook queue full: dropped its oldest event"
                    );
                }
            }
            Delivery::Reset => {
                self.metrics.reset(self.index);
                tracing::warn!(
                    endpoint = self.index,
                    group = %self.group,
                    origin = %self.origin,
                    "webhook fell behind the group's events: going on from now, \
                     events in between are not delivered"
                );
            }
            _ => {}
        }
    }

    /// After an attempt: done, or the next attempt of the same event (the
    /// same body, hence the same id), or given up.
    fn settle(
        self: Arc<Self>,
        mut current: InFlight,
        outcome: Outcome,
        in_flight: &mut Option<InFlight>,
    ) -> Option<Attempt> {
        self.metrics.attempt(self.index, outcome);
        if outcome == Outcome::Acknowledged {
            self.metrics
                .delivered_after(self.index, current.event.since.elapsed().as_secs_f64());
            return None;
        }
        current.failures += 1;
        let delay = self.options.retry_delay(current.failures);
        if current.first_try.elapsed() + delay > self.options.give_up_after {
            self.metrics.drop_event(self.index, DropReason::GaveUp);
            tracing::warn!(
                endpoint = self.index,
                group = %self.group,
                origin = %self.origin,
                event = %current.event.id,
                attempts = current.failures,
                "webhook event given up: not acknowledged within the give-up time"
            );
            return None;
        }
        self.metrics.retry(self.index);
        // Once per event at `warn`: a dead endpoint says so without a line per retry.
        if current.failures == 1 {
            tracing::warn!(
                endpoint = self.index,
                group = %self.group,
                origin = %self.origin,
                event = %current.event.id,
                ?outcome,
                "webhook POST failed: retrying with growing delays"
            );
        } else {
            tracing::debug!(
                endpoint = self.index,
                origin = %self.origin,
                event = %current.event.id,
                ?outcome,
                retry_in_ms = delay.as_millis() as u64,
                "webhook POST failed again: retrying"
            );
        }
        let attempt: Attempt = Box::pin(self.clone().post(current.event.body.clone(), delay));
        *in_flight = Some(current);
        Some(attempt)
    }

    /// One POST of `body`, after `delay`, signed when it is sent.
    async fn post(self: Arc<Self>, body: Bytes, delay: Duration) -> Outcome {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let signature = signature::sign(self.config.secret.as_bytes(), t, &body);
        let sent = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(signature::SIGNATURE_HEADER, signature)
            .timeout(self.options.request_timeout)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(answer) if answer.status().is_success() => Outcome::Acknowledged,
            Ok(answer) => {
                tracing::debug!(
                    endpoint = self.index,
                    origin = %self.origin,
                    status = answer.status().as_u16(),
                    "webhook POST refused"
                );
                Outcome::Refused
            }
            Err(e) if e.is_timeout() => Outcome::Timeout,
            Err(e) => {
                // Without the URL: its path or query may hold a token.
                tracing::debug!(
                    endpoint = self.index,
                    origin = %self.origin,
                    error = %e.without_url(),
                    "webhook POST failed"
                );
                Outcome::Error
            }
        }
    }
}
