//! Throttling failed logins: per client address and per user name, slowed down
//! after a few failures and then refused (429) for a while.
//!
//! Each address and each user name has its own record, so a password guesser
//! slows and locks out only itself and the names it tries: other addresses and
//! other users go on as before. Records forget failures older than the window
//! and their number is bounded, so that a flood of made-up user names cannot
//! exhaust memory. Time is tokio's, which tests can pause and advance.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// How failed logins are slowed down and refused. Part of
/// [`ServerConfig`](crate::ServerConfig).
///
/// After `slow_after` failures within `window` (from one address, or for one user
/// name), each further failure is answered only after a delay that starts at
/// `delay` and doubles up to `max_delay`; after `lock_after` failures, every
/// request from that address or for that user is refused with HTTP 429 and
/// `Retry-After` for `lockout`, without checking its password. A success for a
/// user forgets that user's failures.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThrottleConfig {
    /// Failures answered at once. Default 3.
    pub slow_after: u32,
    /// The delay after the first slowed-down failure. Default 500 ms.
    pub delay: Duration,
    /// The longest delay. Default 4 s.
    pub max_delay: Duration,
    /// Failures that lock the address or user out; 0 never locks. Default 10.
    pub lock_after: u32,
    /// How long a lockout lasts. Default 15 minutes.
    pub lockout: Duration,
    /// How long a failure counts. Default 15 minutes.
    pub window: Duration,
    /// The most addresses, and the most user names, tracked at once. Default 100,000.
    pub max_tracked: usize,
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
            max_tracked: 100_000,
        }
    }
}

impl ThrottleConfig {
    /// No throttling at all (for trusted networks and tests).
    pub fn off() -> Self {
        Self {
            slow_after: u32::MAX,
            lock_after: 0,
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Record {
    failures: u32,
    /// When the first failure counted in `failures` happened.
    since: Instant,
    locked_until: Option<Instant>,
}

/// Failure records keyed by address or by user name.
#[derive(Debug)]
struct Table<K> {
    records: Mutex<HashMap<K, Record>>,
}

impl<K: Hash + Eq + Clone> Table<K> {
    fn new() -> Self {
        Self {
            records: Mutex::new(HashMap::new()),
        }
    }

    fn locked_until(&self, key: &K, now: Instant) -> Option<Instant> {
        let records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        records
            .get(key)
            .and_then(|r| r.locked_until)
            .filter(|&until| now < until)
    }

    /// Counts a failure; the number of failures within the window.
    fn fail(&self, key: K, config: &ThrottleConfig, now: Instant) -> u32 {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        if records.len() >= config.max_tracked && !records.contains_key(&key) {
            records.retain(|_, r| !is_stale(r, config, now));
            if records.len() >= config.max_tracked {
                // Every record is live: the oldest goes.
                let oldest = records
                    .iter()
                    .min_by_key(|(_, r)| r.since)
                    .map(|(k, _)| k.clone());
                if let Some(oldest) = oldest {
                    records.remove(&oldest);
                }
            }
        }
        let record = records.entry(key).or_insert(Record {
            failures: 0,
            since: now,
            locked_until: None,
        });
        if is_stale(record, config, now) {
            *record = Record {
                failures: 0,
                since: now,
                locked_until: None,
            };
        }
        record.failures = record.failures.saturating_add(1);
        if config.lock_after > 0 && record.failures >= config.lock_after {
            record.locked_until = Some(now + config.lockout);
        }
        record.failures
    }

    fn forget(&self, key: &K) {
        let mut records = self.records.lock().unwrap_or_else(PoisonError::into_inner);
        if records.get(key).is_some_and(|r| r.locked_until.is_none()) {
            records.remove(key);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Whether a record no longer matters: its window has passed and it is not locked.
fn is_stale(record: &Record, config: &ThrottleConfig, now: Instant) -> bool {
    let window_over = now.saturating_duration_since(record.since) >= config.window;
    let unlocked = record.locked_until.is_none_or(|until| now >= until);
    window_over && unlocked
}

/// The failed-login bookkeeping of one server.
#[derive(Debug)]
pub(crate) struct Throttle {
    config: ThrottleConfig,
    addresses: Table<IpAddr>,
    users: Table<String>,
}

impl Throttle {
    pub(crate) fn new(config: ThrottleConfig) -> Self {
        Self {
            config,
            addresses: Table::new(),
            users: Table::new(),
        }
    }

    /// `Err(retry_after)` when the address or the user is locked out.
    pub(crate) fn check(
        &self,
        address: Option<IpAddr>,
        user: Option<&str>,
    ) -> Result<(), Duration> {
        let now = Instant::now();
        let address = address.and_then(|a| self.addresses.locked_until(&key(a), now));
        let user = user.and_then(|u| self.users.locked_until(&u.to_owned(), now));
        match address.max(user) {
            Some(until) => Err(until - now),
            None => Ok(()),
        }
    }

    /// Counts a failed login; how long to wait before answering it.
    pub(crate) fn failure(&self, address: Option<IpAddr>, user: Option<&str>) -> Duration {
        let now = Instant::now();
        let by_address = address.map_or(0, |a| self.addresses.fail(key(a), &self.config, now));
        let by_user = user.map_or(0, |u| self.users.fail(u.to_owned(), &self.config, now));
        self.delay(by_address.max(by_user))
    }

    /// A successful login of `user`: its failures are forgotten (not a lockout).
    pub(crate) fn success(&self, user: &str) {
        self.users.forget(&user.to_owned());
    }

    fn delay(&self, failures: u32) -> Duration {
        let Some(beyond) = failures.checked_sub(self.config.slow_after) else {
            return Duration::ZERO;
        };
        if beyond == 0 {
            return Duration::ZERO;
        }
        let factor = 1u32.checked_shl(beyond - 1).unwrap_or(u32::MAX);
        self.config
            .delay
            .checked_mul(factor)
            .unwrap_or(Duration::MAX)
            .min(self.config.max_delay)
    }
}

/// IPv6 clients usually own a whole /64: count it as one address.
fn key(address: IpAddr) -> IpAddr {
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
    use std::net::Ipv6Addr;

    use super::*;

    fn config() -> ThrottleConfig {
        ThrottleConfig {
            slow_after: 2,
            delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(250),
            lock_after: 5,
            lockout: Duration::from_secs(60),
            window: Duration::from_secs(30),
            max_tracked: 3,
        }
    }

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[tokio::test(start_paused = true)]
    async fn failures_slow_down_then_lock_out_only_the_guilty() {
        let t = Throttle::new(config());
        let delays: Vec<u128> = (0..5)
            .map(|_| t.failure(Some(A), Some("201")).as_millis())
            .collect();
        assert_eq!(delays, [0, 0, 100, 200, 250]);
        assert_eq!(t.check(Some(A), Some("202")), Err(Duration::from_secs(60)));
        assert_eq!(t.check(Some(B), Some("201")), Err(Duration::from_secs(60)));
        // Another address with another user is not affected.
        assert_eq!(t.check(Some(B), Some("202")), Ok(()));
        assert_eq!(t.check(Some(B), None), Ok(()));
        // A success does not lift a lockout; time does.
        t.success("201");
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(t.check(None, Some("201")), Err(Duration::from_secs(1)));
        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(t.check(Some(A), Some("201")), Ok(()));
        // After the window, failures count from zero again.
        assert_eq!(t.failure(Some(A), Some("201")), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_success_forgets_the_users_failures_and_old_failures_expire() {
        let t = Throttle::new(config());
        for _ in 0..3 {
            t.failure(None, Some("201"));
        }
        t.success("201");
        assert_eq!(t.failure(None, Some("201")), Duration::ZERO);
        t.failure(Some(A), None);
        t.failure(Some(A), None);
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(t.failure(Some(A), None), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn tracking_is_bounded() {
        let t = Throttle::new(config());
        for i in 0..100 {
            t.failure(None, Some(&format!("user{i}")));
            assert!(t.users.len() <= 3);
        }
        let off = Throttle::new(ThrottleConfig::off());
        for _ in 0..100 {
            assert_eq!(off.failure(Some(A), Some("201")), Duration::ZERO);
        }
        assert_eq!(off.check(Some(A), Some("201")), Ok(()));
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
