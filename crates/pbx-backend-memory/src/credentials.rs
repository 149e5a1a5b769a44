//! Users' passwords: argon2id hashes (PHC strings), plain text only where the
//! configuration allows it, and a cache of successful verifications.
//!
//! Checking an argon2 hash costs tens of milliseconds and megabytes of memory on
//! purpose; a keep-alive client sends the same credentials with every request.
//! So a successful verification is remembered, under an HMAC-SHA256 of user and
//! password with a key drawn at random for each [`Verifier`]: the cache holds
//! nothing from which a password could be recovered or tested offline. It is
//! bounded ([`CacheLimits::max_entries`]), entries expire
//! ([`CacheLimits::ttl`]), and it belongs to one `MemoryPbx`: a reloaded
//! configuration is a new PBX with an empty cache. Failures are never cached
//! (throttling them is the HTTP layer's job).
//!
//! Every failure costs the same whoever the user is: unknown users, extensions
//! without a password, plain-text users and users with a cheaper hash all pay
//! for one verification of a dummy hash with the strongest parameters found in
//! the configuration (a user with the strongest hash pays for its own).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore as _};
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

/// A user's secret as the configuration gives it.
#[derive(Clone)]
pub(crate) enum Credential {
    /// A plain password (only with `allow_plain_passwords`).
    Plain(String),
    /// A validated argon2 PHC string.
    Hash(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither a password nor a hash belongs in a log.
        f.write_str(match self {
            Self::Plain(_) => "Plain(<redacted>)",
            Self::Hash(_) => "Hash(<redacted>)",
        })
    }
}

/// The cost of an argon2id hash: memory in KiB, iterations, lanes.
///
/// The default is OWASP's recommendation for argon2id (19 MiB, 2 iterations,
/// 1 lane).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashCost {
    /// Memory, in KiB (at least 8 × `parallelism`).
    pub memory_kib: u32,
    /// Passes over the memory (at least 1).
    pub iterations: u32,
    /// Lanes (at least 1).
    pub parallelism: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

impl HashCost {
    fn params(self) -> Result<Params, String> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| format!("invalid argon2 cost: {e}"))
    }
}

/// Hashes `password` with argon2id at `cost` and a random salt: the PHC string
/// (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`) that goes into a
/// configuration's `password_hash`.
///
/// ```
/// use pbx_backend_memory::{HashCost, hash_password};
///
/// let cheap = HashCost { memory_kib: 64, iterations: 1, parallelism: 1 };
/// let phc = hash_password("s3cret", cheap).unwrap();
/// assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
/// ```
pub fn hash_password(password: &str, cost: HashCost) -> Result<String, String> {
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, cost.params()?);
    let salt = SaltString::generate(&mut OsRng);
    argon
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| format!("cannot hash the password: {e}"))
}

/// Checks that `phc` is an argon2 PHC string this crate can verify; the message
/// says what is wrong.
pub(crate) fn check_hash(phc: &str) -> Result<(), String> {
    let hash = PasswordHash::new(phc).map_err(|e| {
        format!("not a PHC password hash ({e}); make one with `switchboard hash-password`")
    })?;
    if Algorithm::try_from(hash.algorithm).is_err() {
        return Err(format!(
            "unsupported password hash algorithm {:?} (expected argon2id)",
            hash.algorithm.as_str()
        ));
    }
    Params::try_from(&hash).map_err(|e| format!("invalid argon2 parameters: {e}"))?;
    if hash.hash.is_none() {
        return Err("the password hash has no hash part".into());
    }
    Ok(())
}

/// Bounds of the verification cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// The most remembered verifications; when full, expired entries go first,
    /// then the oldest. 0 switches the cache off. Default 10,000.
    pub max_entries: usize,
    /// How long a verification is remembered. Default 5 minutes.
    pub ttl: Duration,
}

impl Default for CacheLimits {
    fn default() -> Self {
        Self {
            max_entries: 10_000,
            ttl: Duration::from_secs(300),
        }
    }
}

type Key = [u8; 32];

/// Remembered successful verifications: MAC of the credentials → expiry.
#[derive(Debug)]
pub(crate) struct VerifiedCache {
    mac_key: [u8; 32],
    limits: CacheLimits,
    entries: Mutex<HashMap<Key, Instant>>,
}

impl VerifiedCache {
    pub(crate) fn new(limits: CacheLimits) -> Self {
        let mut mac_key = [0; 32];
        OsRng.fill_bytes(&mut mac_key);
        Self {
            mac_key,
            limits,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn key(&self, user: &str, password: &str) -> Key {
        let mut mac = <Hmac<Sha256>>::new_from_slice(&self.mac_key).expect("HMAC takes any key");
        // Length-prefixed, so that ("1", "23") and ("12", "3") differ.
        mac.update(&(user.len() as u64).to_le_bytes());
        mac.update(user.as_bytes());
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Whether `user` with `password` was verified and has not expired at `now`.
    pub(crate) fn contains(&self, user: &str, password: &str, now: Instant) -> bool {
        if self.limits.max_entries == 0 {
            return false;
        }
        let key = self.key(user, password);
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(&key) {
            Some(&expires) if now < expires => true,
            Some(_) => {
                entries.remove(&key);
                false
            }
            None => false,
        }
    }

    /// Remembers a successful verification from `now` on.
    pub(crate) fn insert(&self, user: &str, password: &str, now: Instant) {
        if self.limits.max_entries == 0 {
            return;
        }
        let key = self.key(user, password);
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.limits.max_entries && !entries.contains_key(&key) {
            entries.retain(|_, &mut expires| now < expires);
            if entries.len() >= self.limits.max_entries {
                // All live: the oldest (soonest to expire) makes room.
                if let Some(oldest) = entries.iter().min_by_key(|(_, e)| **e).map(|(k, _)| *k) {
                    entries.remove(&oldest);
                }
            }
        }
        entries.insert(key, now + self.limits.ttl);
    }

    /// Forgets every verification.
    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Checks passwords against the configured credentials.
#[derive(Debug)]
pub(crate) struct Verifier {
    cache: VerifiedCache,
    /// The costliest parameters among the configured hashes, if any.
    dummy_params: Option<Params>,
    dummy: OnceLock<Option<String>>,
    /// Verifications run at the strongest cost (the work a failure must cost).
    strongest_checks: AtomicUsize,
}

impl Verifier {
    /// A verifier for a configuration holding `credentials`.
    pub(crate) fn new<'a>(
        credentials: impl IntoIterator<Item = &'a Credential>,
        limits: CacheLimits,
    ) -> Self {
        let dummy_params = credentials
            .into_iter()
            .filter_map(|c| match c {
                Credential::Hash(phc) => Params::try_from(&PasswordHash::new(phc).ok()?).ok(),
                Credential::Plain(_) => None,
            })
            .max_by_key(cost);
        Self {
            cache: VerifiedCache::new(limits),
            dummy_params,
            dummy: OnceLock::new(),
            strongest_checks: AtomicUsize::new(0),
        }
    }

    /// Whether `password` is right for `user`, whose credential is `expected`
    /// (`None`: no such user, or no password). Blocks for the cost of a hash on a
    /// cache miss: call it off the async workers.
    ///
    /// Every failure costs at least one verification at the strongest configured
    /// cost, whoever the user: a wrong password for a plain-text user, or for a
    /// user with a cheaper hash, also pays for the dummy hash, so that timing does
    /// not tell users apart.
    pub(crate) fn verify(
        &self,
        user: &str,
        expected: Option<&Credential>,
        password: &str,
        now: Instant,
    ) -> bool {
        let (ok, paid) = match expected {
            Some(Credential::Plain(p)) => (p.as_bytes().ct_eq(password.as_bytes()).into(), false),
            Some(Credential::Hash(phc)) => {
                if self.cache.contains(user, password, now) {
                    return true;
                }
                let ok = self.check_hash(phc, password);
                if ok {
                    self.cache.insert(user, password, now);
                }
                (ok, self.is_strongest(phc))
            }
            None => (false, false),
        };
        if !ok && !paid {
            // Spend what the strongest user costs, and answer no.
            match self.dummy() {
                Some(phc) => {
                    let _ = self.check_hash(phc, password);
                }
                None => {
                    let _ = b"\0no such user".ct_eq(password.as_bytes());
                }
            }
        }
        ok
    }

    /// Verifies against `phc`, counting the verifications at the strongest cost.
    fn check_hash(&self, phc: &str, password: &str) -> bool {
        if self.is_strongest(phc) {
            self.strongest_checks.fetch_add(1, Ordering::Relaxed);
        }
        verify_hash(phc, password)
    }

    /// Whether `phc` costs as much as the dummy hash.
    fn is_strongest(&self, phc: &str) -> bool {
        let params = PasswordHash::new(phc)
            .ok()
            .and_then(|hash| Params::try_from(&hash).ok());
        match (params, &self.dummy_params) {
            (Some(params), Some(strongest)) => cost(&params) >= cost(strongest),
            _ => false,
        }
    }

    /// Whether verifying `expected` may take long (a hash not in the cache, or
    /// the dummy hash that a failure pays for).
    pub(crate) fn is_costly(&self, expected: Option<&Credential>) -> bool {
        match expected {
            Some(Credential::Hash(_)) => true,
            Some(Credential::Plain(_)) | None => self.dummy_params.is_some(),
        }
    }

    /// Forgets every remembered verification.
    pub(crate) fn clear_cache(&self) {
        self.cache.clear();
    }

    fn dummy(&self) -> Option<&str> {
        self.dummy
            .get_or_init(|| {
                let params = self.dummy_params.clone()?;
                let cost = HashCost {
                    memory_kib: params.m_cost(),
                    iterations: params.t_cost(),
                    parallelism: params.p_cost(),
                };
                let mut secret = [0u8; 16];
                OsRng.fill_bytes(&mut secret);
                hash_password(&format!("{secret:?}"), cost).ok()
            })
            .as_deref()
    }
}

/// How much an argon2 verification costs, for comparing parameters.
fn cost(params: &Params) -> (u64, u32) {
    (
        u64::from(params.m_cost()) * u64::from(params.t_cost()),
        params.p_cost(),
    )
}

/// Verifies `password` against a PHC string (constant-time comparison inside).
fn verify_hash(phc: &str, password: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashCost = HashCost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn hashes_verify_and_only_with_the_right_password() {
        let phc = hash_password("s3cret", CHEAP).unwrap();
        check_hash(&phc).unwrap();
        assert!(verify_hash(&phc, "s3cret"));
        assert!(!verify_hash(&phc, "s3cret "));
        assert!(!verify_hash(&phc, ""));
    }

    #[test]
    fn only_argon2_phc_strings_are_accepted() {
        for bad in [
            "s3cret",
            "$argon2id$v=19$m=64,t=1,p=1",
            "$pbkdf2-sha256$i=1000$c2FsdA$aGFzaA",
            "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
        ] {
            assert!(check_hash(bad).is_err(), "{bad}");
        }
        // The default cost is OWASP's.
        assert_eq!(
            HashCost::default(),
            HashCost {
                memory_kib: 19456,
                iterations: 2,
                parallelism: 1
            }
        );
    }

    #[test]
    fn the_cache_remembers_successes_until_they_expire() {
        let phc = hash_password("pw", CHEAP).unwrap();
        let credential = Credential::Hash(phc);
        let limits = CacheLimits {
            max_entries: 2,
            ttl: Duration::from_secs(60),
        };
        let verifier = Verifier::new([&credential], limits);
        let t0 = Instant::now();
        assert!(!verifier.cache.contains("201", "pw", t0));
        assert!(verifier.verify("201", Some(&credential), "pw", t0));
        assert!(verifier.cache.contains("201", "pw", t0));
        // Another password or user is another key; a failure is not remembered.
        assert!(!verifier.cache.contains("201", "pw2", t0));
        assert!(!verifier.cache.contains("20", "1pw", t0));
        assert!(!verifier.verify("201", Some(&credential), "wrong", t0));
        assert_eq!(verifier.cache.len(), 1);
        // Expired at ttl.
        assert!(!verifier.cache.contains("201", "pw", t0 + limits.ttl));
        assert_eq!(verifier.cache.len(), 0);
        verifier.verify("201", Some(&credential), "pw", t0);
        verifier.clear_cache();
        assert_eq!(verifier.cache.len(), 0);
    }

    #[test]
    fn the_cache_stays_within_its_bound() {
        let cache = VerifiedCache::new(CacheLimits {
            max_entries: 3,
            ttl: Duration::from_secs(60),
        });
        let t0 = Instant::now();
        for i in 0..10u64 {
            cache.insert(&i.to_string(), "pw", t0 + Duration::from_secs(i));
            assert!(cache.len() <= 3);
        }
        // The newest stay.
        assert!(cache.contains("9", "pw", t0 + Duration::from_secs(10)));
        assert!(!cache.contains("0", "pw", t0 + Duration::from_secs(10)));
        let off = VerifiedCache::new(CacheLimits {
            max_entries: 0,
            ttl: Duration::from_secs(60),
        });
        off.insert("1", "pw", t0);
        assert!(!off.contains("1", "pw", t0));
    }

    #[test]
    fn unknown_users_pay_for_a_dummy_hash_of_the_strongest_cost() {
        let weak = Credential::Hash(hash_password("a", CHEAP).unwrap());
        let strong_cost = HashCost {
            memory_kib: 128,
            iterations: 2,
            parallelism: 1,
        };
        let strong = Credential::Hash(hash_password("b", strong_cost).unwrap());
        let verifier = Verifier::new([&weak, &strong], CacheLimits::default());
        assert!(!verifier.verify("999", None, "b", Instant::now()));
        let dummy = verifier.dummy().expect("a dummy hash");
        assert!(
            dummy.starts_with("$argon2id$v=19$m=128,t=2,p=1$"),
            "{dummy}"
        );
        assert!(verifier.is_costly(None));
        // Plain-text configurations compare in constant time, without a hash.
        let plain = Credential::Plain("pw".into());
        let verifier = Verifier::new([&plain], CacheLimits::default());
        assert!(verifier.dummy().is_none());
        assert!(verifier.verify("201", Some(&plain), "pw", Instant::now()));
        assert!(!verifier.verify("201", Some(&plain), "pw ", Instant::now()));
        assert!(!verifier.verify("999", None, "pw", Instant::now()));
    }

    #[test]
    fn every_failed_login_costs_the_same_whoever_the_user_is() {
        let strong_cost = HashCost {
            memory_kib: 128,
            iterations: 2,
            parallelism: 1,
        };
        let plain = Credential::Plain("p".into());
        let weak = Credential::Hash(hash_password("w", CHEAP).unwrap());
        let strong = Credential::Hash(hash_password("s", strong_cost).unwrap());
        let verifier = Verifier::new([&plain, &weak, &strong], CacheLimits::default());
        let now = Instant::now();
        let strongest = || verifier.strongest_checks.load(Ordering::Relaxed);
        // The defect: 131 µs for a plain-text user, 4.3 ms for a cheaper hash,
        // 21 ms for an unknown user. Each now pays for one strongest verification.
        for (who, expected) in [
            ("plain", Some(&plain)),
            ("cheaper hash", Some(&weak)),
            ("strongest hash", Some(&strong)),
            ("unknown", None),
        ] {
            assert!(verifier.is_costly(expected), "{who}");
            let before = strongest();
            assert!(!verifier.verify("201", expected, "wrong", now), "{who}");
            assert_eq!(strongest() - before, 1, "{who}");
        }
        // A success pays only for its own check.
        let before = strongest();
        assert!(verifier.verify("201", Some(&plain), "p", now));
        assert!(verifier.verify("202", Some(&weak), "w", now));
        assert_eq!(strongest(), before);
        assert!(verifier.verify("203", Some(&strong), "s", now));
        assert_eq!(strongest(), before + 1);
    }

    #[tokio::test]
    async fn a_pbx_with_hashed_passwords_lets_only_the_right_password_in() {
        use pbx_backend::PbxBackend as _;

        let phc = hash_password("s3cret", CHEAP).unwrap();
        let toml = format!(
            "[[group]]\nname = \"Acme\"\n\n[[group.extension]]\nnumber = \"201\"\n\
             name = \"Alice\"\npassword_hash = \"{phc}\"\n\n[[group.extension]]\n\
             number = \"202\"\nname = \"Bob\"\n"
        );
        let pbx = crate::MemoryPbx::from_toml_str(&toml, "test.toml").unwrap();
        let caller = pbx.authenticate("201", "s3cret").await.unwrap();
        assert_eq!(
            caller.map(|c| c.number().to_owned()).as_deref(),
            Some("201")
        );
        // Cached now; the cache answers, and forgets when told.
        assert!(pbx.authenticate("201", "s3cret").await.unwrap().is_some());
        pbx.clear_credential_cache();
        assert!(pbx.authenticate("201", "s3cret").await.unwrap().is_some());
        for (user, password) in [
            ("201", "wrong"),
            ("201", ""),
            ("202", "s3cret"),
            ("999", "s3cret"),
        ] {
            assert!(
                pbx.authenticate(user, password).await.unwrap().is_none(),
                "{user}"
            );
        }
        // Without a runtime (a blocking caller), the check runs in place.
        let pbx = pbx.with_credential_cache(CacheLimits {
            max_entries: 0,
            ttl: Duration::ZERO,
        });
        let outcome = std::thread::spawn(move || {
            let waker = std::task::Waker::noop();
            let mut cx = std::task::Context::from_waker(waker);
            let mut future = std::pin::pin!(pbx.authenticate("201", "s3cret"));
            match future.as_mut().poll(&mut cx) {
                std::task::Poll::Ready(result) => result.unwrap().is_some(),
                std::task::Poll::Pending => false,
            }
        })
        .join()
        .unwrap();
        assert!(outcome);
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let text = format!(
            "{:?} {:?}",
            Credential::Plain("s3cret".into()),
            Credential::Hash("$argon2id$x".into())
        );
        assert!(
            !text.contains("s3cret") && !text.contains("argon2"),
            "{text}"
        );
    }
}
