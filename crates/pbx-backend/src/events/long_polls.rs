//! [`LongPolls`]: a server's long polls (`get_events`), ended together when it
//! shuts down, and counted for its metrics.
//!
//! A long poll may wait up to a minute for an event; a server that stops
//! gracefully waits for every request in flight, so without a way to end them
//! it would take that minute to stop. The transport answers each long poll
//! through [`LongPolls::batch`]; the server calls [`LongPolls::stop`] when it
//! stops, and every waiting poll answers at once with what it has.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use super::{Batch, ResetCause, ResetCounts, Subscription};

/// The long polls of one server: the signal that ends them, and their counts.
/// Cheap to clone; the clones share both.
#[derive(Debug, Clone)]
pub struct LongPolls {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    stop: watch::Sender<bool>,
    waiting: AtomicUsize,
    delivered: AtomicU64,
    resets: ResetCounts,
}

impl Default for LongPolls {
    fn default() -> Self {
        Self::new()
    }
}

impl LongPolls {
    /// No long poll yet, none stopped.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                stop: watch::channel(false).0,
                waiting: AtomicUsize::new(0),
                delivered: AtomicU64::new(0),
                resets: ResetCounts::new(),
            }),
        }
    }

    /// [`Subscription::batch`], unless the polls are [stopped](Self::stop):
    /// then a poll waiting for events answers at once with none (the
    /// subscription's cursor unchanged, so the client misses nothing), and
    /// one that arrives later takes what is pending without waiting.
    pub async fn batch(&self, sub: &mut Subscription, max: usize, wait: Duration) -> Batch {
        let mut stopped = self.shared.stop.subscribe();
        let wait = if *stopped.borrow_and_update() {
            Duration::ZERO
        } else {
            wait
        };
        // A reset at the subscription's start answers at once; any later one
        // is a poll that fell behind while it waited.
        let cause = sub.reset_cause().unwrap_or(ResetCause::Lagged);
        let batch = {
            let _waiting = Waiting::new(&self.shared);
            tokio::select! {
                // What is pending goes first, even once stopped.
                biased;
                batch = sub.batch(max, wait) => batch,
                // `batch` awaits only while it has taken nothing, so dropping
                // it there loses no event.
                _ = stopped.wait_for(|stop| *stop) => Batch {
                    reset: false,
                    events: Vec::new(),
                },
            }
        };
        self.shared
            .delivered
            .fetch_add(batch.events.len() as u64, Ordering::Relaxed);
        if batch.reset {
            self.shared.resets.count(cause);
        }
        batch
    }

    /// Ends every waiting long poll, and keeps any later one from waiting.
    pub fn stop(&self) {
        self.shared.stop.send_replace(true);
    }

    /// Whether [`stop`](Self::stop) was called.
    pub fn is_stopped(&self) -> bool {
        *self.shared.stop.borrow()
    }

    /// Long polls being answered now (most of them waiting for an event).
    pub fn in_flight(&self) -> usize {
        self.shared.waiting.load(Ordering::Relaxed)
    }

    /// Events answered so far, in all.
    pub fn delivered(&self) -> u64 {
        self.shared.delivered.load(Ordering::Relaxed)
    }

    /// Answers so far that told the client to re-read the state (a reset:
    /// no cursor, an unknown or expired one, or a client that fell behind).
    pub fn resets(&self) -> u64 {
        self.shared.resets.total()
    }

    /// Those of [`resets`](Self::resets) that had `cause`.
    pub fn resets_by(&self, cause: ResetCause) -> u64 {
        self.shared.resets.get(cause)
    }
}

/// One long poll in [`LongPolls::in_flight`], until dropped (also when the
/// request is dropped while it waits).
struct Waiting<'a>(&'a Shared);

impl<'a> Waiting<'a> {
    fn new(shared: &'a Shared) -> Self {
        shared.waiting.fetch_add(1, Ordering::Relaxed);
        Self(shared)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::SystemTime;

    use pbx_model::{EventData, EventKind, ParkingInfo};

    use super::*;
    use crate::events::EventLog;

    fn lot() -> EventData {
        EventData::Parking(ParkingInfo {
            parking_extension: "700".into(),
            slots: 1,
            parked_calls: BTreeMap::new(),
        })
    }

    /// Paused time: without the stop, the poll would end only after its
    /// whole minute, which the clock would show.
    #[tokio::test(start_paused = true)]
    async fn stopping_ends_a_waiting_long_poll_at_once_with_its_cursor() {
        let log = EventLog::default();
        let polls = LongPolls::new();
        let mut first = log.subscribe(None);
        let cursor = first.cursor().clone();
        let batch = polls.batch(&mut first, 10, Duration::from_secs(60)).await;
        assert!(batch.reset, "a first poll without a cursor is a reset");
        assert_eq!(polls.resets(), 1);
        assert_eq!(polls.resets_by(ResetCause::Start), 1);

        let mut sub = log.subscribe(Some(&cursor));
        let started = tokio::time::Instant::now();
        let waiting = {
            let polls = polls.clone();
            tokio::spawn(async move {
                let batch = polls.batch(&mut sub, 10, Duration::from_secs(60)).await;
                (batch, sub.cursor().clone())
            })
        };
        while polls.in_flight() == 0 {
            tokio::task::yield_now().await;
        }
        polls.stop();
        let (batch, after) = waiting.await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(60));
        assert!(!batch.reset && batch.events.is_empty(), "{batch:?}");
        assert_eq!(after, cursor, "nothing was skipped");
        assert_eq!(polls.in_flight(), 0);

        // Later polls take what is pending and do not wait.
        log.publish(EventKind::ParkingUpdated, lot(), SystemTime::now());
        let mut sub = log.subscribe(Some(&cursor));
        let batch = polls.batch(&mut sub, 10, Duration::from_secs(60)).await;
        assert_eq!(batch.events.len(), 1);
        assert_eq!(polls.delivered(), 1);
        let batch = polls.batch(&mut sub, 10, Duration::from_secs(60)).await;
        assert!(batch.events.is_empty());
        assert!(started.elapsed() < Duration::from_secs(60));
        assert!(polls.is_stopped());
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_poll_that_is_not_stopped_waits_for_its_event() {
        let log = EventLog::default();
        let polls = LongPolls::new();
        let cursor = log.subscribe(None).cursor().clone();
        let mut sub = log.subscribe(Some(&cursor));
        let publisher = log.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            publisher.publish(EventKind::ParkingUpdated, lot(), SystemTime::now());
        });
        let started = tokio::time::Instant::now();
        let batch = polls.batch(&mut sub, 10, Duration::from_secs(60)).await;
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert_eq!(batch.events.len(), 1);
        assert_eq!((polls.delivered(), polls.resets()), (1, 0));
    }

    /// What broke: every reset was counted alike, so a client's first poll
    /// (no cursor) looked like a client that lost events.
    #[tokio::test(start_paused = true)]
    async fn a_first_poll_is_counted_apart_from_an_expired_cursor_and_a_lag() {
        let log = EventLog::new(crate::EventWindow {
            min_events: 1,
            min_age: Duration::ZERO,
            max_events: 1,
            channel_capacity: 1,
        });
        let polls = LongPolls::new();
        let mut first = log.subscribe(None);
        assert_eq!(first.reset_cause(), Some(ResetCause::Start));
        assert!(polls.batch(&mut first, 10, Duration::ZERO).await.reset);
        let old = first.cursor().clone();

        // The window keeps one event: `old` cannot be resumed after two.
        log.publish(EventKind::ParkingUpdated, lot(), SystemTime::now());
        log.publish(EventKind::ParkingUpdated, lot(), SystemTime::now());
        let mut expired = log.subscribe(Some(&old));
        assert_eq!(expired.reset_cause(), Some(ResetCause::Expired));
        assert!(polls.batch(&mut expired, 10, Duration::ZERO).await.reset);

        // A live subscriber two events behind a channel of one has lagged.
        let mut live = log.subscribe(Some(expired.cursor()));
        assert_eq!(live.reset_cause(), None);
        log.publish(EventKind::ParkingUpdated, lot(), SystemTime::now());
        log.publish(EventKind::ParkingUpdated, lot(), SystemTime::now());
        assert!(polls.batch(&mut live, 10, Duration::ZERO).await.reset);

        let by = |cause| polls.resets_by(cause);
        assert_eq!(
            (
                by(ResetCause::Start),
                by(ResetCause::Expired),
                by(ResetCause::Lagged)
            ),
            (1, 1, 1)
        );
        assert_eq!(polls.resets(), 3);
    }
}
