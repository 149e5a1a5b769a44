//! Throttling failed logins (SPEC.md, "Failed logins").
//!
//! Three kinds of record, each answering one question:
//!
//! - per (client address, user name) — a *pair*: is this client guessing this
//!   user's password? After `slow_after` failures within the window each failure
//!   is answered after a growing delay; after `lock_after` the pair is refused
//!   (429) until `lockout` ends. Nothing else is refused: the same user from
//!   another address, and every other user from the same address, go on. So a
//!   client with a stale password locks out only itself.
//! - per client address: is it *spraying*, failing across many user names? After
//!   `spray_after` distinct names within the window the whole address is refused.
//! - per user name, across every address: is someone guessing this user's
//!   password from many addresses? Past `user_slow_after` failures, each attempt
//!   for that user waits (a delay growing to `max_delay`) before its password is
//!   checked. It only slows; it never refuses, so a stranger cannot lock a user
//!   out. A pair whose last login succeeded (a known client) is not slowed.
//!
//! An attempt is reserved ([`Throttle::begin`]) before its password is checked and
//! counts towards the pair's limit while in flight, so concurrent guesses cannot
//! slip past the limit. User names are kept as keyed 64-bit hashes (bounded size
//! whatever a client sends). Each table holds at most `max_tracked` records; when
//! full, idle records go first, then the least recently used unlocked ones, and a
//! lock, or an attempt in flight, is never dropped: when every record is one of
//! those, the attempt that would need a new record is refused (503) instead.
//!
//! Time is tokio's, which tests can pause and advance.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// How failed logins are slowed down and refused, and how many passwords are
/// verified at once. Part of [`ServerConfig`](crate::ServerConfig).
///
/// Failures are counted per (client address, user name); IPv6 addresses per /64.
/// After `slow_after` failures of a pair within `window`, each further failure is
/// answered only after a delay that starts at `delay` and doubles up to
/// `max_delay`; after `lock_after` failures that pair, and only that pair, is
/// refused with HTTP 429 and `Retry-After` for `lockout`, without its password
/// being checked. When the lockout ends, or the pair logs in successfully, its
/// failures are forgotten.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThrottleConfig {
    /// Failures of one (address, user) pair answered at once. Default 3.
    pub slow_after: u32,
    /// The delay after the first slowed-down failure. Default 500 ms.
    pub delay: Duration,
    /// The longest delay, of a pair's failures and of the per-user slowing. Default 4 s.
    pub max_delay: Duration,
    /// Failures that lock one (address, user) pair out; 0 never locks. Default 10.
    pub lock_after: u32,
    /// How long a lockout lasts. Default 15 minutes.
    pub lockout: Duration,
    /// How long a failure counts. Default 15 minutes.
    pub window: Duration,
    /// Distinct user names one address may fail with within `window` before the
    /// whole address is refused for `lockout` (password spraying); 0 never; at
    /// most 1,000 (a larger value acts as 1,000). Default 20.
    pub spray_after: u32,
    /// Failures of one user name, from all addresses together within `window`,
    /// after which every attempt at that user waits before its password is checked
    /// (`delay` doubling to `max_delay`; never refused). `u32::MAX`: never.
    /// Default 30.
    pub user_slow_after: u32,
    /// The most records of each kind (pairs, addresses, user names). Default 100,000.
    pub max_tracked: usize,
    /// The most passwords verified at once (each argon2 verification holds the
    /// hash's memory, 19 MiB at the default cost), in each of two lanes: one for
    /// clients whose last login from their address succeeded, one for everyone
    /// else. At least 1. Default 4.
    pub max_concurrent_verifications: usize,
    /// How long a login may wait for a verification slot; beyond it, 503 with
    /// `Retry-After`. Default 10 s.
    pub verification_wait: Duration,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self {
            slow_after: 3,
            delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(4),
            lock_after: 10,
            lockout: Duration::from_secs(15 * 60),
            window: Duration::from_secs(15 * 60),
            spray_after: 20,
            user_slow_after: 30,
            max_tracked: 100_000,
            max_concurrent_verifications: 4,
            verification_wait: Duration::from_secs(10),
        }
    }
}

impl ThrottleConfig {
    /// No slowing and no refusals (for trusted networks and tests). The number of
    /// concurrent verifications stays bounded.
    pub fn off() -> Self {
        Self {
            slow_after: u32::MAX,
            lock_after: 0,
            spray_after: 0,
            user_slow_after: u32::MAX,
            ..Self::default()
        }
    }
}

/// Why an attempt is not let through to the password check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The pair or the address is locked (429): retry after this long.
    Locked(Duration),
    /// Every tracking slot holds a lock or an attempt in flight (503).
    Full,
}

/// A user name as the tables keep it: a keyed hash, `None` hashed apart (a
/// malformed `Authorization` header has no name).
type Name = u64;
/// A client address as the tables keep it (`None`: the router was not given one).
type Address = Option<IpAddr>;

#[derive(Debug, Clone, Copy)]
struct Pair {
    failures: u32,
    /// Attempts reserved and not finished yet.
    in_flight: u32,
    /// When the first failure counted in `failures` happened.
    since: Instant,
    last_used: Instant,
    locked_until: Option<Instant>,
    /// The last finished attempt of this pair succeeded.
    known: bool,
}

impl Pair {
    fn new(now: Instant) -> Self {
        Self {
            failures: 0,
            in_flight: 0,
            since: now,
            last_used: now,
            locked_until: None,
            known: false,
        }
    }

    /// Forgets what no longer counts at `now`: an ended lockout takes its
    /// failures with it, and failures older than the window go.
    fn refresh(&mut self, config: &ThrottleConfig, now: Instant) {
        match self.locked_until {
            Some(until) if now >= until => {
                self.locked_until = None;
                self.failures = 0;
                self.since = now;
            }
            Some(_) => {}
            None if now.saturating_duration_since(self.since) >= config.window => {
                self.failures = 0;
                self.since = now;
            }
            None => {}
        }
    }
}

#[derive(Debug, Clone)]
struct Spray {
    /// The distinct names that failed within the window (at most `spray_after`).
    names: Vec<Name>,
    since: Instant,
    last_used: Instant,
    locked_until: Option<Instant>,
}

impl Spray {
    fn new(now: Instant) -> Self {
        Self {
            names: Vec::new(),
            since: now,
            last_used: now,
            locked_until: None,
        }
    }

    fn refresh(&mut self, config: &ThrottleConfig, now: Instant) {
        let expired = match self.locked_until {
            Some(until) => now >= until,
            None => now.saturating_duration_since(self.since) >= config.window,
        };
        if expired {
            self.names.clear();
            self.locked_until = None;
            self.since = now;
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct UserFailures {
    failures: u32,
    since: Instant,
    last_used: Instant,
}

impl UserFailures {
    fn refresh(&mut self, config: &ThrottleConfig, now: Instant) {
        if now.saturating_duration_since(self.since) >= config.window {
            self.failures = 0;
            self.since = now;
        }
    }
}

/// What eviction needs to know of a record.
trait Tracked {
    /// Must stay: a live lock or an attempt in flight.
    fn pinned(&self, now: Instant) -> bool;
    /// Holds nothing that still counts.
    fn idle(&self, config: &ThrottleConfig, now: Instant) -> bool;
    fn last_used(&self) -> Instant;
}

impl Tracked for Pair {
    fn pinned(&self, now: Instant) -> bool {
        self.in_flight > 0 || self.locked_until.is_some_and(|until| now < until)
    }
    fn idle(&self, config: &ThrottleConfig, now: Instant) -> bool {
        let mut fresh = *self;
        fresh.refresh(config, now);
        !fresh.pinned(now) && fresh.failures == 0 && !fresh.known
    }
    fn last_used(&self) -> Instant {
        self.last_used
    }
}

impl Tracked for Spray {
    fn pinned(&self, now: Instant) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }
    fn idle(&self, config: &ThrottleConfig, now: Instant) -> bool {
        let mut fresh = self.clone();
        fresh.refresh(config, now);
        fresh.names.is_empty()
    }
    fn last_used(&self) -> Instant {
        self.last_used
    }
}

impl Tracked for UserFailures {
    fn pinned(&self, _: Instant) -> bool {
        false
    }
    fn idle(&self, config: &ThrottleConfig, now: Instant) -> bool {
        now.saturating_duration_since(self.since) >= config.window
    }
    fn last_used(&self) -> Instant {
        self.last_used
    }
}

/// Makes room for one more record in `map`; false when every record is pinned.
///
/// Idle records go first; then, in one batch (so that a flood does not rescan
/// the table for each failure), the least recently used eighth of the unpinned ones.
fn make_room<K: Hash + Eq + Clone, V: Tracked>(
    map: &mut HashMap<K, V>,
    config: &ThrottleConfig,
    now: Instant,
) -> bool {
    let max = config.max_tracked.max(1);
    if map.len() < max {
        return true;
    }
    map.retain(|_, record| !record.idle(config, now));
    if map.len() < max {
        return true;
    }
    let mut evictable: Vec<(Instant, K)> = map
        .iter()
        .filter(|(_, record)| !record.pinned(now))
        .map(|(key, record)| (record.last_used(), key.clone()))
        .collect();
    if evictable.is_empty() {
        return false;
    }
    let batch = (max / 8).clamp(1, evictable.len());
    if batch < evictable.len() {
        evictable.select_nth_unstable_by_key(batch - 1, |(last_used, _)| *last_used);
    }
    for (_, key) in &evictable[..batch] {
        map.remove(key);
    }
    true
}

#[derive(Debug, Default)]
struct Tables {
    pairs: HashMap<(Address, Name), Pair>,
    addresses: HashMap<IpAddr, Spray>,
    users: HashMap<Name, UserFailures>,
}

/// The failed-login bookkeeping of one server.
#[derive(Debug)]
pub(crate) struct Throttle {
    config: ThrottleConfig,
    /// Keys the hash of user names, so that nobody can choose colliding names.
    names: RandomState,
    tables: Mutex<Tables>,
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The password was never checked: the attempt does not count.
    Abandoned,
    Success,
    Failure,
}

/// One reserved login attempt: it counts towards its pair's limit until it is
/// finished. Dropped unfinished after its password check began, it counts as a
/// failure (a client hanging up cannot dodge the count); before, it is released.
#[derive(Debug)]
pub(crate) struct Attempt {
    throttle: Arc<Throttle>,
    pair: (Address, Name),
    name: Name,
    /// How long to wait before checking the password (the per-user slowing).
    wait: Duration,
    /// The pair's last login succeeded.
    known: bool,
    checking: bool,
    finished: bool,
}

impl Attempt {
    /// How long to wait before checking the password.
    pub(crate) fn wait(&self) -> Duration {
        self.wait
    }

    /// Whether this client's last login from its address succeeded.
    pub(crate) fn known(&self) -> bool {
        self.known
    }

    /// The password is being checked from now on.
    pub(crate) fn checking(&mut self) {
        self.checking = true;
    }

    /// A successful login: the pair's failures are forgotten.
    pub(crate) fn success(mut self) {
        self.finished = true;
        self.throttle.finish(self.pair, self.name, Outcome::Success);
    }

    /// A failed login; how long to wait before answering it.
    pub(crate) fn failure(mut self) -> Duration {
        self.finished = true;
        self.throttle.finish(self.pair, self.name, Outcome::Failure)
    }

    /// The password could not be checked (a backend error, no verification slot).
    pub(crate) fn abandon(mut self) {
        self.finished = true;
        self.throttle
            .finish(self.pair, self.name, Outcome::Abandoned);
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.finished {
            let outcome = if self.checking {
                Outcome::Failure
            } else {
                Outcome::Abandoned
            };
            self.throttle.finish(self.pair, self.name, outcome);
        }
    }
}

impl Throttle {
    pub(crate) fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            names: RandomState::new(),
            tables: Mutex::new(Tables::default()),
        }
    }

    fn tables(&self) -> MutexGuard<'_, Tables> {
        // Every update leaves the tables consistent: a poisoned lock is usable.
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reserves an attempt of `user` (`None`: no readable name) from `address`, or
    /// says why not.
    pub(crate) fn begin(
        self: &Arc<Self>,
        address: Option<IpAddr>,
        user: Option<&str>,
    ) -> Result<Attempt, Refusal> {
        let config = &self.config;
        let now = Instant::now();
        let address = address.map(key);
        let name = self.names.hash_one(user);
        let pair_key = (address, name);
        let mut tables = self.tables();
        if let Some(spray) = address.and_then(|a| tables.addresses.get_mut(&a)) {
            spray.refresh(config, now);
            if let Some(until) = spray.locked_until {
                return Err(Refusal::Locked(until - now));
            }
        }
        let tables = &mut *tables;
        // One lookup for a pair already tracked (every request of a logged-in
        // client): the tables' keys are SipHashed.
        let pair = match tables.pairs.get_mut(&pair_key) {
            Some(pair) => pair,
            None => {
                if !make_room(&mut tables.pairs, config, now) {
                    return Err(Refusal::Full);
                }
                tables
                    .pairs
                    .entry(pair_key)
                    .or_insert_with(|| Pair::new(now))
            }
        };
        pair.refresh(config, now);
        pair.last_used = now;
        if let Some(until) = pair.locked_until {
            return Err(Refusal::Locked(until - now));
        }
        // Attempts in flight count: had they all failed, this one would be refused.
        // A known pair is let through (its client knows the password).
        if config.lock_after > 0
            && !pair.known
            && pair.failures.saturating_add(pair.in_flight) >= config.lock_after
        {
            return Err(Refusal::Locked(Duration::from_secs(1)));
        }
        pair.in_flight += 1;
        let known = pair.known;
        let wait = match tables.users.get_mut(&name) {
            Some(user) if !known => {
                user.refresh(config, now);
                self.delay(user.failures, config.user_slow_after)
            }
            _ => Duration::ZERO,
        };
        Ok(Attempt {
            throttle: self.clone(),
            pair: pair_key,
            name,
            wait,
            known,
            checking: false,
            finished: false,
        })
    }

    /// Ends an attempt; for a failure, how long to wait before answering it.
    fn finish(&self, pair_key: (Address, Name), name: Name, outcome: Outcome) -> Duration {
        let config = &self.config;
        let now = Instant::now();
        let mut tables = self.tables();
        let tables = &mut *tables;
        // The record may be gone only if it was evicted, which a pinned one is not;
        // recreate it rather than lose a failure.
        let pair = match tables.pairs.get_mut(&pair_key) {
            Some(pair) => pair,
            None => {
                make_room(&mut tables.pairs, config, now);
                tables
                    .pairs
                    .entry(pair_key)
                    .or_insert_with(|| Pair::new(now))
            }
        };
        pair.in_flight = pair.in_flight.saturating_sub(1);
        pair.last_used = now;
        match outcome {
            Outcome::Abandoned => Duration::ZERO,
            Outcome::Success => {
                *pair = Pair {
                    known: true,
                    in_flight: pair.in_flight,
                    ..Pair::new(now)
                };
                Duration::ZERO
            }
            Outcome::Failure => {
                pair.refresh(config, now);
                pair.known = false;
                pair.failures = pair.failures.saturating_add(1);
                if config.lock_after > 0
                    && pair.failures >= config.lock_after
                    && pair.locked_until.is_none()
                {
                    pair.locked_until = Some(now + config.lockout);
                }
                let failures = pair.failures;
                if let Some(address) = pair_key.0 {
                    self.count_spray(tables, address, name, now);
                }
                if tables.users.contains_key(&name) || make_room(&mut tables.users, config, now) {
                    let user = tables.users.entry(name).or_insert(UserFailures {
                        failures: 0,
                        since: now,
                        last_used: now,
                    });
                    user.refresh(config, now);
                    user.failures = user.failures.saturating_add(1);
                    user.last_used = now;
                }
                self.delay(failures, config.slow_after)
            }
        }
    }

    fn count_spray(&self, tables: &mut Tables, address: IpAddr, name: Name, now: Instant) {
        let config = &self.config;
        if config.spray_after == 0 {
            return;
        }
        if !tables.addresses.contains_key(&address)
            && !make_room(&mut tables.addresses, config, now)
        {
            // Every address slot holds a lock: this one goes uncounted, its pairs
            // are still limited one by one.
            return;
        }
        let spray = tables
            .addresses
            .entry(address)
            .or_insert_with(|| Spray::new(now));
        spray.refresh(config, now);
        spray.last_used = now;
        if !spray.names.contains(&name) {
            spray.names.push(name);
        }
        if spray.names.len() >= spray_limit(config) && spray.locked_until.is_none() {
            spray.locked_until = Some(now + config.lockout);
        }
    }

    /// The delay after `failures` when the first `free` cost nothing: `delay`
    /// doubling up to `max_delay`.
    fn delay(&self, failures: u32, free: u32) -> Duration {
        let beyond = match failures.checked_sub(free) {
            Some(beyond) if beyond > 0 => beyond,
            _ => return Duration::ZERO,
        };
        let factor = 1u32.checked_shl(beyond - 1).unwrap_or(u32::MAX);
        self.config
            .delay
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.config.max_delay)
    }
}

/// The names an address may fail with before it is locked: `spray_after`, at
/// most [`MAX_SPRAY_NAMES`] (the names of each address are kept until then).
fn spray_limit(config: &ThrottleConfig) -> usize {
    (config.spray_after as usize).min(MAX_SPRAY_NAMES)
}

/// The most distinct failed names kept per address.
const MAX_SPRAY_NAMES: usize = 1000;

/// IPv6 clients usually own a whole /64: count it as one address.
pub(crate) fn key(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn config() -> ThrottleConfig {
        ThrottleConfig {
            slow_after: 2,
            delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(250),
            lock_after: 5,
            lockout: Duration::from_secs(60),
            window: Duration::from_secs(30),
            spray_after: 4,
            user_slow_after: 6,
            max_tracked: 1000,
            ..ThrottleConfig::default()
        }
    }

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    fn address(i: u32) -> IpAddr {
        IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i))
    }

    fn fail(t: &Arc<Throttle>, address: IpAddr, user: &str) -> Duration {
        let mut attempt = t.begin(Some(address), Some(user)).expect("let through");
        attempt.checking();
        attempt.failure()
    }

    fn succeed(t: &Arc<Throttle>, address: IpAddr, user: &str) {
        t.begin(Some(address), Some(user))
            .expect("let through")
            .success();
    }

    fn refused(t: &Arc<Throttle>, address: IpAddr, user: &str) -> Option<Refusal> {
        t.begin(Some(address), Some(user)).err()
    }

    #[tokio::test(start_paused = true)]
    async fn failures_slow_down_then_lock_out_only_that_address_and_user() {
        let t = Arc::new(Throttle::new(config()));
        let delays: Vec<u128> = (0..5).map(|_| fail(&t, A, "201").as_millis()).collect();
        assert_eq!(delays, [0, 0, 100, 200, 250]);
        assert_eq!(
            refused(&t, A, "201"),
            Some(Refusal::Locked(Duration::from_secs(60)))
        );
        // The same user from another address, another user from the same one.
        assert_eq!(refused(&t, B, "201"), None);
        assert_eq!(refused(&t, A, "202"), None);
        // A lockout ends with time, and takes its failures with it.
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(
            refused(&t, A, "201"),
            Some(Refusal::Locked(Duration::from_secs(1)))
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(fail(&t, A, "201"), Duration::ZERO);
        assert_eq!(refused(&t, A, "201"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_stale_password_does_not_lock_out_the_office() {
        let t = Arc::new(Throttle::new(config()));
        for _ in 0..11 {
            match t.begin(Some(A), Some("202")) {
                Ok(mut attempt) => {
                    attempt.checking();
                    attempt.failure();
                }
                Err(refusal) => assert!(matches!(refusal, Refusal::Locked(_))),
            }
        }
        assert!(refused(&t, A, "202").is_some());
        succeed(&t, A, "203");
        succeed(&t, B, "202");
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_after_a_lockout_clears_the_failures() {
        let t = Arc::new(Throttle::new(config()));
        for _ in 0..4 {
            fail(&t, A, "201");
        }
        succeed(&t, A, "201");
        // Counting starts again: four more failures do not lock.
        for _ in 0..4 {
            fail(&t, A, "201");
        }
        assert_eq!(refused(&t, A, "201"), None);
        fail(&t, A, "201");
        assert!(refused(&t, A, "201").is_some());
        tokio::time::advance(Duration::from_secs(60)).await;
        succeed(&t, A, "201");
        // One typo after the lockout and a success is one failure, not a new lock.
        assert_eq!(fail(&t, A, "201"), Duration::ZERO);
        assert_eq!(refused(&t, A, "201"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_guesses_cannot_exceed_the_limit() {
        let t = Arc::new(Throttle::new(config()));
        fail(&t, A, "203");
        // Four in flight at once fill the remaining four.
        let mut in_flight: Vec<Attempt> = (0..4)
            .map(|_| t.begin(Some(A), Some("203")).expect("within the limit"))
            .collect();
        assert_eq!(
            refused(&t, A, "203"),
            Some(Refusal::Locked(Duration::from_secs(1)))
        );
        // One released without a check frees its place; one dropped while
        // being checked counts as a failure.
        in_flight.pop().unwrap().abandon();
        let extra = t.begin(Some(A), Some("203")).expect("a freed place");
        in_flight.push(extra);
        for attempt in &mut in_flight {
            attempt.checking();
        }
        drop(in_flight);
        assert_eq!(
            refused(&t, A, "203"),
            Some(Refusal::Locked(Duration::from_secs(60)))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_address_failing_across_many_names_is_refused_as_a_whole() {
        let t = Arc::new(Throttle::new(config()));
        for user in ["201", "202", "203"] {
            fail(&t, A, user);
        }
        // Failing the same names again is no spraying.
        fail(&t, A, "201");
        assert_eq!(refused(&t, A, "204"), None);
        fail(&t, A, "999");
        assert_eq!(
            refused(&t, A, "205"),
            Some(Refusal::Locked(Duration::from_secs(60)))
        );
        assert_eq!(refused(&t, B, "201"), None);
        // Credential-less or malformed attempts have no name but count as one.
        tokio::time::advance(Duration::from_secs(60)).await;
        assert_eq!(refused(&t, A, "205"), None);
        let mut nameless = t.begin(Some(A), None).unwrap();
        nameless.checking();
        nameless.failure();
    }

    #[tokio::test(start_paused = true)]
    async fn guessing_one_user_from_many_addresses_is_slowed_never_refused() {
        let t = Arc::new(Throttle::new(config()));
        succeed(&t, A, "201");
        for i in 0..100 {
            let _ = fail(&t, address(i), "201");
        }
        let attempt = t.begin(Some(B), Some("201")).expect("never refused");
        assert_eq!(attempt.wait(), Duration::from_millis(250));
        attempt.success();
        // A client that logged in before is not slowed; another user is not.
        let known = t.begin(Some(A), Some("201")).unwrap();
        assert_eq!(known.wait(), Duration::ZERO);
        known.success();
        assert_eq!(
            t.begin(Some(address(1)), Some("202")).unwrap().wait(),
            Duration::ZERO
        );
        // The slowing grows with the failures, from `delay`.
        let t = Arc::new(Throttle::new(config()));
        let waits: Vec<u128> = (0..9)
            .map(|i| {
                let wait = t.begin(Some(address(i)), Some("203")).unwrap().wait();
                let _ = fail(&t, address(i), "203");
                wait.as_millis()
            })
            .collect();
        assert_eq!(waits, [0, 0, 0, 0, 0, 0, 0, 100, 200]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_of_addresses_does_not_evict_a_lock() {
        let t = Arc::new(Throttle::new(ThrottleConfig {
            max_tracked: 8,
            ..config()
        }));
        for _ in 0..5 {
            fail(&t, A, "201");
        }
        for i in 0..1000 {
            let _ = fail(&t, address(i), &format!("user{i}"));
            let tables = t.tables();
            assert!(tables.pairs.len() <= 8);
            assert!(tables.addresses.len() <= 8);
            assert!(tables.users.len() <= 8);
        }
        assert!(matches!(refused(&t, A, "201"), Some(Refusal::Locked(_))));
        // When every slot holds a lock, a newcomer is refused, not tracked.
        for i in 0..7 {
            for _ in 0..5 {
                let _ = t.begin(Some(address(i)), Some("x")).map(|mut a| {
                    a.checking();
                    a.failure()
                });
            }
        }
        assert_eq!(refused(&t, B, "202"), Some(Refusal::Full));
        assert!(matches!(refused(&t, A, "201"), Some(Refusal::Locked(_))));
    }

    #[tokio::test(start_paused = true)]
    async fn old_failures_expire_and_off_never_refuses() {
        let t = Arc::new(Throttle::new(config()));
        for _ in 0..4 {
            fail(&t, A, "201");
        }
        tokio::time::advance(Duration::from_secs(30)).await;
        for _ in 0..4 {
            fail(&t, A, "201");
        }
        assert_eq!(refused(&t, A, "201"), None);
        let off = Arc::new(Throttle::new(ThrottleConfig::off()));
        for i in 0..100 {
            assert_eq!(fail(&off, A, &i.to_string()), Duration::ZERO);
            assert_eq!(fail(&off, A, "201"), Duration::ZERO);
        }
        assert_eq!(
            off.begin(Some(B), Some("201")).unwrap().wait(),
            Duration::ZERO
        );
    }

    #[test]
    fn an_ipv6_slash_64_is_one_address() {
        let a: Ipv6Addr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: Ipv6Addr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: Ipv6Addr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(key(a.into()), key(b.into()));
        assert_ne!(key(a.into()), key(c.into()));
        let mapped: Ipv6Addr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(key(mapped.into()), A);
    }
}
