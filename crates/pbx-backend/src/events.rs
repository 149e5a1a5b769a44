//! Live events: what changed in an admin group, pushed to its users.
//!
//! An [`Event`] carries the whole current record of what changed (a call, an
//! extension, the parking lot, the favorites), so applying one twice changes
//! nothing. Events are kept per admin group in an [`EventLog`]: ids are the
//! group's own sequence (nothing in them reveals another group), a bounded
//! window of recent events lets a client that reconnects replay what it
//! missed, and a [`Subscription`] delivers the replay, then live events.
//!
//! A backend offers events through [`PbxBackend::events`](crate::PbxBackend::events);
//! it may keep one `EventLog` per group and [`publish`](EventLog::publish) every
//! change. Transports (SSE, the XML-RPC long poll, webhooks, a client stream)
//! are built on [`Subscription`] and know nothing of how a backend emits.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

pub use pbx_model::{Event, EventData, EventId, EventKind};
use tokio::sync::broadcast;

mod long_polls;
mod resets;
pub use long_polls::LongPolls;
pub use resets::{ResetCause, ResetCounts};

/// How much of a group's past an [`EventLog`] keeps for replay, and how far a
/// live subscriber may fall behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventWindow {
    /// Events always kept, however old (SPEC.md: at least 1,000).
    pub min_events: usize,
    /// Age under which events are kept, beyond `min_events` (SPEC.md: 5 minutes).
    pub min_age: Duration,
    /// Events never exceeded, whatever their age: the memory bound of a busy group.
    pub max_events: usize,
    /// Events a live subscriber may have pending before it is reset.
    pub channel_capacity: usize,
}

impl Default for EventWindow {
    /// 1,000 events or 5 minutes, at most 10,000; 1,024 pending per subscriber.
    fn default() -> Self {
        Self {
            min_events: 1_000,
            min_age: Duration::from_secs(300),
            max_events: 10_000,
            channel_capacity: 1_024,
        }
    }
}

impl EventWindow {
    /// `self` with `min_events` and `max_events` set to `events` and no age
    /// rule: a small window, for tests of the reset path.
    pub fn events(events: usize) -> Self {
        Self {
            min_events: events,
            min_age: Duration::ZERO,
            max_events: events,
            ..Self::default()
        }
    }
}

/// One admin group's events: the sequence, the replay window and the live channel.
///
/// [`publish`](Self::publish) is synchronous and quick (a short lock, no
/// `.await`), so a backend may call it while holding its own lock to keep
/// events in the order of its changes. Until someone subscribes, nothing can
/// hold a cursor, so [`is_wanted`](Self::is_wanted) is false and a backend
/// may skip building events altogether.
#[derive(Debug, Clone)]
pub struct EventLog {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    inner: Mutex<Inner>,
    /// Made by the first subscription: a channel preallocates its capacity
    /// (1,024 events, about 250 KB), which a PBX of thousands of groups that
    /// nobody watches must not pay per group. Nothing is sent before it exists,
    /// as nothing could receive it.
    sender: OnceLock<broadcast::Sender<Event>>,
    window: EventWindow,
    /// Tells this log's ids from those of an earlier run or another log.
    epoch: String,
}

impl Shared {
    /// The live channel, made on first use; called under the log's lock.
    fn live(&self) -> &broadcast::Sender<Event> {
        self.sender
            .get_or_init(|| broadcast::channel(self.window.channel_capacity.max(1)).0)
    }
}

#[derive(Debug)]
struct Inner {
    /// The sequence number of the last event published (0: none).
    head: u64,
    recent: VecDeque<(u64, Event)>,
    wanted: bool,
}

impl Default for EventLog {
    fn default() -> Self {
        Self::new(EventWindow::default())
    }
}

impl EventLog {
    /// An empty log keeping `window`, its ids marked with `epoch`: any text
    /// that differs between runs of the backend (so that a cursor of an
    /// earlier run is a reset, not a wrong position) and tells nothing of
    /// other groups, e.g. the backend's start time. A fixed one makes ids
    /// reproducible in tests. `-` in it is replaced (it ends the epoch).
    pub fn with_epoch(window: EventWindow, epoch: &str) -> Self {
        let shared = Shared {
            inner: Mutex::new(Inner {
                head: 0,
                recent: VecDeque::new(),
                wanted: false,
            }),
            sender: OnceLock::new(),
            window,
            epoch: epoch.replace('-', "_"),
        };
        Self {
            shared: Arc::new(shared),
        }
    }

    /// An empty log keeping `window`, with a random epoch.
    pub fn new(window: EventWindow) -> Self {
        // A random value per log: it tells a cursor of an earlier run (or of
        // another log) from one of this log, and reveals nothing (no time,
        // no count of groups).
        let epoch = {
            use std::hash::BuildHasher;
            let nanos = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            std::collections::hash_map::RandomState::new().hash_one(nanos)
        };
        Self {
            shared: Arc::new(Shared {
                inner: Mutex::new(Inner {
                    head: 0,
                    recent: VecDeque::new(),
                    wanted: false,
                }),
                sender: OnceLock::new(),
                window,
                epoch: format!("{epoch:x}"),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // Nothing panics half-way under this lock; a poisoned one is consistent.
        self.shared
            .inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn id(&self, seq: u64) -> EventId {
        EventId::new(format!("{}-{seq}", self.shared.epoch))
    }

    fn seq_of(&self, id: &EventId) -> Option<u64> {
        let (epoch, seq) = id.as_str().split_once('-')?;
        if epoch != self.shared.epoch || seq.starts_with('+') {
            return None;
        }
        seq.parse().ok()
    }

    /// Whether anyone ever subscribed: until then, publishing keeps nothing.
    pub fn is_wanted(&self) -> bool {
        self.lock().wanted
    }

    /// Records a change at `time` and sends it to the live subscribers.
    /// Returns the event, or `None` when nobody ever subscribed.
    pub fn publish(&self, kind: EventKind, data: EventData, time: SystemTime) -> Option<Event> {
        let mut inner = self.lock();
        if !inner.wanted {
            return None;
        }
        inner.head += 1;
        let seq = inner.head;
        let event = Event::new(self.id(seq), kind, time, data);
        inner.recent.push_back((seq, event.clone()));
        let window = self.shared.window;
        while inner.recent.len() > window.max_events
            || (inner.recent.len() > window.min_events
                && inner.recent.front().is_some_and(|(_, e)| {
                    time.duration_since(e.time).unwrap_or_default() > window.min_age
                }))
        {
            inner.recent.pop_front();
        }
        // Sent under the lock, so that a subscriber made under it sees each
        // event exactly once: in its replay or live. No receiver is no error.
        if let Some(sender) = self.shared.sender.get() {
            let _ = sender.send(event.clone());
        }
        Some(event)
    }

    /// A subscription resuming after `after`: the events since then when the
    /// window still holds them, else (no cursor, an unknown or expired one) a
    /// reset; then live events.
    pub fn subscribe(&self, after: Option<&EventId>) -> Subscription {
        let mut inner = self.lock();
        inner.wanted = true;
        let live = self.shared.live().subscribe();
        let oldest_kept = inner.recent.front().map_or(inner.head + 1, |(seq, _)| *seq);
        let resume = after
            .and_then(|id| self.seq_of(id))
            // Resuming after `seq` needs every event from `seq + 1` on.
            .filter(|&seq| seq <= inner.head && seq + 1 >= oldest_kept);
        let (reset, replay) = match resume {
            Some(seq) => (
                false,
                inner
                    .recent
                    .iter()
                    .filter(|(s, _)| *s > seq)
                    .map(|(_, e)| e.clone())
                    .collect(),
            ),
            None => (true, VecDeque::new()),
        };
        Subscription {
            log: self.clone(),
            reset,
            cursor_given: after.is_some(),
            cursor: self.id(inner.head),
            last: inner.head,
            replay,
            live,
        }
    }
}

/// What a [`Subscription`] delivers next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
#[expect(
    clippy::large_enum_variant,
    reason = "nearly every delivery is an event, moved once: boxing would only add an allocation"
)]
pub enum Delivery {
    /// The next event, in order.
    Event(Event),
    /// Events were lost (the subscriber fell behind): re-read the state, then
    /// go on with the deliveries that follow.
    Reset,
}

/// What [`Subscription::batch`] gives: events in order, or a reset.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Batch {
    /// Whether the subscriber must re-read the state (then `events` is empty).
    pub reset: bool,
    /// The events, in order.
    pub events: Vec<Event>,
}

impl Batch {
    fn take(&mut self, delivery: Delivery) {
        match delivery {
            Delivery::Event(e) => self.events.push(e),
            Delivery::Reset => {
                self.events.clear();
                self.reset = true;
            }
        }
    }
}

/// A user's view of their group's events: a replay of what they missed, then
/// live events, in order, each once.
///
/// Whether it started with a reset is [`is_reset`](Self::is_reset); a
/// subscriber that falls behind by more than the window's
/// `channel_capacity` gets a [`Delivery::Reset`] instead of silently losing
/// events.
#[derive(Debug)]
pub struct Subscription {
    log: EventLog,
    reset: bool,
    /// Whether the subscriber gave a cursor: its reset, if any, is then a loss.
    cursor_given: bool,
    cursor: EventId,
    /// The sequence number of the last event delivered or skipped by a reset.
    last: u64,
    replay: VecDeque<Event>,
    live: broadcast::Receiver<Event>,
}

impl Subscription {
    /// Whether the cursor given could not be resumed (none, unknown or
    /// expired): the subscriber must read the current state first.
    pub fn is_reset(&self) -> bool {
        self.reset
    }

    /// Why it started with a reset, if it did: [`ResetCause::Start`] without
    /// a cursor, [`ResetCause::Expired`] with one that could not be resumed.
    /// (A [`Delivery::Reset`] later is [`ResetCause::Lagged`].)
    pub fn reset_cause(&self) -> Option<ResetCause> {
        match (self.reset, self.cursor_given) {
            (false, _) => None,
            (true, false) => Some(ResetCause::Start),
            (true, true) => Some(ResetCause::Expired),
        }
    }

    /// Where the subscriber stands: the id of the last event delivered (or,
    /// before any and after a reset, of the last event before the state the
    /// subscriber is to read). Resuming from it misses nothing.
    pub fn cursor(&self) -> &EventId {
        &self.cursor
    }

    fn deliver(&mut self, event: Event) -> Delivery {
        if let Some(seq) = self.log.seq_of(&event.id) {
            self.last = seq;
        }
        self.cursor = event.id.clone();
        Delivery::Event(event)
    }

    fn lagged(&mut self) -> Delivery {
        // Skip what is buffered (older than the state to be re-read) and go
        // on from the head, taken under the log's lock.
        let inner = self.log.lock();
        self.live = self.log.shared.live().subscribe();
        self.last = inner.head;
        self.cursor = self.log.id(inner.head);
        Delivery::Reset
    }

    /// The next delivery if one is pending, without waiting.
    pub fn try_next(&mut self) -> Option<Delivery> {
        if let Some(event) = self.replay.pop_front() {
            return Some(self.deliver(event));
        }
        loop {
            match self.live.try_recv() {
                Ok(event) if self.is_stale(&event) => continue,
                Ok(event) => return Some(self.deliver(event)),
                Err(broadcast::error::TryRecvError::Lagged(_)) => return Some(self.lagged()),
                Err(_) => return None,
            }
        }
    }

    /// The next delivery, waiting for it; `None` when the log is gone.
    pub async fn next(&mut self) -> Option<Delivery> {
        if let Some(event) = self.replay.pop_front() {
            return Some(self.deliver(event));
        }
        loop {
            match self.live.recv().await {
                Ok(event) if self.is_stale(&event) => continue,
                Ok(event) => return Some(self.deliver(event)),
                Err(broadcast::error::RecvError::Lagged(_)) => return Some(self.lagged()),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// A long poll's answer: what is pending (at most `max` events), else
    /// the first events to come within `wait`, else none. A reset (at the
    /// start or on falling behind) answers at once, with no events: they
    /// would be older than the state the subscriber is to re-read. Needs a
    /// tokio runtime with time enabled.
    pub async fn batch(&mut self, max: usize, wait: Duration) -> Batch {
        let mut batch = Batch {
            reset: self.reset,
            events: Vec::new(),
        };
        if batch.reset {
            return batch;
        }
        self.take_pending(&mut batch, max);
        if batch.events.is_empty()
            && !batch.reset
            && !wait.is_zero()
            && let Ok(Some(d)) = tokio::time::timeout(wait, self.next()).await
        {
            batch.take(d);
            self.take_pending(&mut batch, max);
        }
        batch
    }

    fn take_pending(&mut self, batch: &mut Batch, max: usize) {
        while batch.events.len() < max && !batch.reset {
            match self.try_next() {
                Some(d) => batch.take(d),
                None => break,
            }
        }
    }

    fn is_stale(&self, event: &Event) -> bool {
        self.log
            .seq_of(&event.id)
            .is_some_and(|seq| seq <= self.last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pbx_model::ParkingInfo;
    use std::collections::BTreeMap;

    fn lot(slots: u32) -> EventData {
        EventData::Parking(ParkingInfo {
            parking_extension: "700".into(),
            slots,
            parked_calls: BTreeMap::new(),
        })
    }

    fn slots(d: Delivery) -> u32 {
        match d {
            Delivery::Event(Event {
                data: EventData::Parking(p),
                ..
            }) => p.slots,
            other => panic!("expected a parking event, got {other:?}"),
        }
    }

    #[test]
    fn a_log_nobody_subscribed_to_allocates_no_live_channel() {
        // A hosted PBX of 2,000 groups held 500 MB of preallocated channels.
        for log in [
            EventLog::default(),
            EventLog::with_epoch(EventWindow::default(), "e"),
        ] {
            log.publish(EventKind::ParkingUpdated, lot(1), SystemTime::now());
            assert!(log.shared.sender.get().is_none());
            let mut sub = log.subscribe(None);
            assert!(log.shared.sender.get().is_some());
            log.publish(EventKind::ParkingUpdated, lot(2), SystemTime::now());
            assert_eq!(slots(sub.try_next().unwrap()), 2);
        }
    }

    #[test]
    fn nothing_is_kept_until_someone_subscribes() {
        let log = EventLog::default();
        assert!(!log.is_wanted());
        assert!(
            log.publish(EventKind::ParkingUpdated, lot(1), SystemTime::now())
                .is_none()
        );
        let mut sub = log.subscribe(None);
        assert!(sub.is_reset());
        assert!(sub.try_next().is_none());
        log.publish(EventKind::ParkingUpdated, lot(2), SystemTime::now());
        assert_eq!(slots(sub.try_next().unwrap()), 2);
        assert!(sub.try_next().is_none());
    }

    #[test]
    fn a_cursor_replays_exactly_what_followed_it() {
        let log = EventLog::default();
        let first = log.subscribe(None);
        let start = first.cursor().clone();
        for n in 1..=5 {
            log.publish(EventKind::ParkingUpdated, lot(n), SystemTime::now());
        }
        let mut sub = log.subscribe(Some(&start));
        assert!(!sub.is_reset());
        let got: Vec<u32> = std::iter::from_fn(|| sub.try_next()).map(slots).collect();
        assert_eq!(got, [1, 2, 3, 4, 5]);
        let after_three = {
            let mut s = log.subscribe(Some(&start));
            for _ in 0..3 {
                s.try_next();
            }
            s.cursor().clone()
        };
        let mut sub = log.subscribe(Some(&after_three));
        let got: Vec<u32> = std::iter::from_fn(|| sub.try_next()).map(slots).collect();
        assert_eq!(got, [4, 5]);
    }

    #[test]
    fn an_unknown_or_expired_cursor_is_a_reset() {
        let log = EventLog::new(EventWindow::events(2));
        let start = log.subscribe(None).cursor().clone();
        for n in 1..=3 {
            log.publish(EventKind::ParkingUpdated, lot(n), SystemTime::now());
        }
        assert!(log.subscribe(Some(&start)).is_reset(), "expired");
        for bad in ["", "x", "0-1", "abc-+1", "-1"] {
            assert!(
                log.subscribe(Some(&EventId::new(bad))).is_reset(),
                "{bad:?}"
            );
        }
        let other = EventLog::default();
        let foreign = other.subscribe(None).cursor().clone();
        assert!(
            log.subscribe(Some(&foreign)).is_reset(),
            "another log's cursor"
        );
    }

    #[test]
    fn a_subscriber_that_falls_behind_gets_a_reset_not_a_gap() {
        let log = EventLog::new(EventWindow {
            channel_capacity: 2,
            ..EventWindow::default()
        });
        let mut sub = log.subscribe(None);
        for n in 1..=5 {
            log.publish(EventKind::ParkingUpdated, lot(n), SystemTime::now());
        }
        assert_eq!(sub.try_next(), Some(Delivery::Reset));
        assert!(
            sub.try_next().is_none(),
            "what was buffered is older than the reset"
        );
        log.publish(EventKind::ParkingUpdated, lot(6), SystemTime::now());
        assert_eq!(slots(sub.try_next().unwrap()), 6);
    }
}
