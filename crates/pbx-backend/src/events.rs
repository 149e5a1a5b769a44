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
//!
//! A published event is one allocation however many subscribers it reaches:
//! [`Subscription::next_shared`] hands out a [`SharedEvent`], and a
//! transport that sends it to many subscribers encodes it once, through
//! [`SharedEvent::encoded`], whichever subscriber gets there first.

use std::any::{Any, TypeId};
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
    /// (1,024 slots; about 250 KB when they held whole events, tens of KB
    /// now that they hold pointers), which a PBX of thousands of groups that
    /// nobody watches must not pay per group. Nothing is sent before it exists,
    /// as nothing could receive it.
    sender: OnceLock<broadcast::Sender<SharedEvent>>,
    window: EventWindow,
    /// Tells this log's ids from those of an earlier run or another log.
    epoch: String,
}

impl Shared {
    /// The live channel, made on first use; called under the log's lock.
    fn live(&self) -> &broadcast::Sender<SharedEvent> {
        self.sender
            .get_or_init(|| broadcast::channel(self.window.channel_capacity.max(1)).0)
    }
}

#[derive(Debug)]
struct Inner {
    /// The sequence number of the last event published (0: none).
    head: u64,
    recent: VecDeque<SharedEvent>,
    wanted: bool,
}

/// An event as its log published it, shared by every subscriber it reaches
/// (cloning it copies a pointer), with room for one wire form of it made
/// once for all of them ([`encoded`](Self::encoded)).
#[derive(Debug, Clone)]
pub struct SharedEvent(Arc<Published>);

#[derive(Debug)]
struct Published {
    seq: u64,
    event: Event,
    /// The first [`Encoding`] asked for, and its output.
    encoded: OnceLock<(TypeId, Box<dyn Any + Send + Sync>)>,
}

/// A wire form of an event that a transport sends to many subscribers
/// (an SSE frame): made by [`SharedEvent::encoded`] once per event.
pub trait Encoding: 'static {
    /// What it makes: cheap to clone (e.g. `Bytes`), as each subscriber
    /// gets a clone.
    type Output: Clone + Send + Sync + 'static;
    /// The wire form of `event`.
    fn encode(event: &Event) -> Self::Output;
}

impl SharedEvent {
    fn new(seq: u64, event: Event) -> Self {
        Self(Arc::new(Published {
            seq,
            event,
            encoded: OnceLock::new(),
        }))
    }

    /// The event.
    pub fn event(&self) -> &Event {
        &self.0.event
    }

    /// The event, taken out when this was its last holder, else cloned.
    pub fn into_event(self) -> Event {
        Arc::try_unwrap(self.0).map_or_else(|shared| shared.event.clone(), |p| p.event)
    }

    /// `E`'s wire form of the event: encoded by the first subscriber that
    /// asks, then a clone of the same output for every other one. One
    /// encoding is kept per event (the transport with many subscribers);
    /// another `E` gets a fresh encoding at each call.
    pub fn encoded<E: Encoding>(&self) -> E::Output {
        let (kind, output) = self
            .0
            .encoded
            .get_or_init(|| (TypeId::of::<E>(), Box::new(E::encode(&self.0.event))));
        match output.downcast_ref::<E::Output>() {
            Some(output) if *kind == TypeId::of::<E>() => output.clone(),
            _ => E::encode(&self.0.event),
        }
    }
}

impl std::ops::Deref for SharedEvent {
    type Target = Event;
    fn deref(&self) -> &Event {
        &self.0.event
    }
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
    /// Returns the event as its subscribers share it, or `None` when nobody
    /// ever subscribed.
    pub fn publish(
        &self,
        kind: EventKind,
        data: EventData,
        time: SystemTime,
    ) -> Option<SharedEvent> {
        let mut inner = self.lock();
        if !inner.wanted {
            return None;
        }
        inner.head += 1;
        let seq = inner.head;
        let event = SharedEvent::new(seq, Event::new(self.id(seq), kind, time, data));
        inner.recent.push_back(event.clone());
        let window = self.shared.window;
        while inner.recent.len() > window.max_events
            || (inner.recent.len() > window.min_events
                && inner.recent.front().is_some_and(|e| {
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
        let oldest_kept = inner.recent.front().map_or(inner.head + 1, |e| e.0.seq);
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
                    .filter(|e| e.0.seq > seq)
                    .cloned()
                    .collect(),
            ),
            None => (true, VecDeque::new()),
        };
        Subscription {
            log: self.clone(),
            reset,
            cursor_given: after.is_some(),
            cursor: Cursor::Id(self.id(inner.head)),
            last: inner.head,
            replay,
            live,
        }
    }
}

/// What a [`Subscription`] delivers next: an [`Event`] of its own, or (from
/// [`next_shared`](Subscription::next_shared)) a [`SharedEvent`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery<E = Event> {
    /// The next event, in order.
    Event(E),
    /// Events were lost (the subscriber fell behind): re-read the state, then
    /// go on with the deliveries that follow.
    Reset,
}

impl Delivery<SharedEvent> {
    /// The delivery with its event taken out of (or cloned from) the share.
    pub fn into_owned(self) -> Delivery {
        match self {
            Delivery::Event(e) => Delivery::Event(e.into_event()),
            Delivery::Reset => Delivery::Reset,
        }
    }
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
    cursor: Cursor,
    /// The sequence number of the last event delivered or skipped by a reset.
    last: u64,
    replay: VecDeque<SharedEvent>,
    live: broadcast::Receiver<SharedEvent>,
}

/// Where a subscription stands: the last event delivered is held rather than
/// its id copied, so a delivery allocates nothing.
#[derive(Debug)]
enum Cursor {
    Id(EventId),
    Event(SharedEvent),
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
        match &self.cursor {
            Cursor::Id(id) => id,
            Cursor::Event(event) => &event.id,
        }
    }

    fn deliver(&mut self, event: SharedEvent) -> Delivery<SharedEvent> {
        self.last = event.0.seq;
        self.cursor = Cursor::Event(event.clone());
        Delivery::Event(event)
    }

    fn lagged(&mut self) -> Delivery<SharedEvent> {
        // Skip what is buffered (older than the state to be re-read) and go
        // on from the head, taken under the log's lock.
        let inner = self.log.lock();
        self.live = self.log.shared.live().subscribe();
        self.last = inner.head;
        self.cursor = Cursor::Id(self.log.id(inner.head));
        Delivery::Reset
    }

    /// The next delivery if one is pending, without waiting.
    pub fn try_next(&mut self) -> Option<Delivery> {
        self.try_next_shared().map(Delivery::into_owned)
    }

    /// The next delivery, waiting for it; `None` when the log is gone.
    pub async fn next(&mut self) -> Option<Delivery> {
        self.next_shared().await.map(Delivery::into_owned)
    }

    /// [`try_next`](Self::try_next) without copying the event: the one
    /// every subscriber shares.
    pub fn try_next_shared(&mut self) -> Option<Delivery<SharedEvent>> {
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

    /// [`next`](Self::next) without copying the event: the one every
    /// subscriber shares, for a transport that sends it to many.
    pub async fn next_shared(&mut self) -> Option<Delivery<SharedEvent>> {
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

    fn is_stale(&self, event: &SharedEvent) -> bool {
        event.0.seq <= self.last
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

    /// Counts its encodings: the fan-out's cost is one per event, however
    /// many subscribers there are.
    struct Counting;
    static ENCODED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    impl Encoding for Counting {
        type Output = Arc<str>;
        fn encode(event: &Event) -> Arc<str> {
            ENCODED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Arc::from(event.id.as_str())
        }
    }

    /// Another wire form of the same event: never given `Counting`'s.
    struct Other;
    impl Encoding for Other {
        type Output = String;
        fn encode(event: &Event) -> String {
            format!("other {}", event.id)
        }
    }

    #[test]
    fn an_event_is_shared_and_encoded_once_however_many_subscribe() {
        let log = EventLog::default();
        let mut subs: Vec<Subscription> = (0..100).map(|_| log.subscribe(None)).collect();
        let published = log
            .publish(EventKind::ParkingUpdated, lot(1), SystemTime::now())
            .unwrap();
        let mut outputs = Vec::new();
        for sub in &mut subs {
            let Some(Delivery::Event(event)) = sub.try_next_shared() else {
                panic!("no event");
            };
            assert!(Arc::ptr_eq(&event.0, &published.0), "one allocation");
            outputs.push(event.encoded::<Counting>());
            assert_eq!(event.encoded::<Other>(), format!("other {}", event.id));
            assert_eq!(sub.cursor(), &published.id);
        }
        assert_eq!(ENCODED.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert!(outputs.iter().all(|o| Arc::ptr_eq(o, &outputs[0])));
    }

    #[test]
    fn a_shared_delivery_keeps_the_replay_and_the_cursor() {
        let log = EventLog::default();
        let start = log.subscribe(None).cursor().clone();
        for n in 1..=3 {
            log.publish(EventKind::ParkingUpdated, lot(n), SystemTime::now());
        }
        let mut sub = log.subscribe(Some(&start));
        let mut got = Vec::new();
        while let Some(Delivery::Event(e)) = sub.try_next_shared() {
            got.push(e);
        }
        assert_eq!(got.len(), 3);
        assert_eq!(sub.cursor(), &got[2].id);
        // Resuming from the cursor a shared delivery left misses nothing.
        log.publish(EventKind::ParkingUpdated, lot(4), SystemTime::now());
        let mut again = log.subscribe(Some(sub.cursor()));
        assert_eq!(slots(again.try_next().unwrap()), 4);
        assert!(again.try_next().is_none());
    }
}
