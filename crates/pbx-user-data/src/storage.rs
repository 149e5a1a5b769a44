//! [`Storage`]: where users' key/value pairs and groups' favorites live.
//!
//! The trait is async and takes owned arguments so that a blocking database can
//! sit behind it (run each call on `spawn_blocking` or threads of its own).
//! [`MemoryStorage`] keeps everything in memory. Validation (key and value
//! sizes, favorites naming entities of the group) is [`UserData`](crate::UserData)'s
//! job; what a store must do itself is what only it can do atomically with its
//! data: the key quota (counted with the write) and the bound on
//! [`Storage::all`] (counted before anything is copied).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use pbx_model::Favorite;

/// Per-user storage limits (`dict_*`), from the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageLimits {
    /// Longest key, in bytes of UTF-8 (default 256).
    pub max_key_bytes: usize,
    /// Longest value, in bytes of UTF-8 (default 64 KiB).
    pub max_value_bytes: usize,
    /// Most keys one user may hold (default 10,000).
    pub max_keys: usize,
}

impl Default for StorageLimits {
    fn default() -> Self {
        Self {
            max_key_bytes: 256,
            max_value_bytes: 64 * 1024,
            max_keys: 10_000,
        }
    }
}

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The write would leave the user with more than `max_keys` keys; nothing was written.
    #[error("storage quota reached: at most {max_keys} keys per user")]
    QuotaExceeded {
        /// The quota.
        max_keys: usize,
    },
    /// [`Storage::all`]: the user's keys and values together take more than
    /// `max_bytes` bytes; nothing was copied.
    #[error("the answer would exceed {max_bytes} bytes")]
    TooLarge {
        /// The bound asked for.
        max_bytes: usize,
    },
    /// The store failed (I/O, a database error).
    #[error("storage failure: {0}")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Persistent user data: one key space per user, one favorites list per admin group.
///
/// Users are named by their extension number and groups by their name, so that
/// stored data survives a configuration that renumbers internal ids. Every
/// method is atomic: a failed write changes nothing. [`check_storage`](crate::check_storage)
/// checks an implementation against these promises.
#[async_trait]
pub trait Storage: Send + Sync + std::fmt::Debug + 'static {
    /// The value of `user`'s `key`, if any.
    async fn get(&self, user: String, key: String) -> Result<Option<String>, StorageError>;

    /// Stores `value` under `user`'s `key`. A write adding a key to a user who
    /// already holds `max_keys` fails with [`StorageError::QuotaExceeded`].
    async fn set(
        &self,
        user: String,
        key: String,
        value: String,
        max_keys: usize,
    ) -> Result<(), StorageError>;

    /// Stores every pair, all or nothing (a repeated key keeps its last value).
    /// Fails with [`StorageError::QuotaExceeded`] when the new keys would take
    /// the user beyond `max_keys`.
    async fn set_many(
        &self,
        user: String,
        entries: Vec<(String, String)>,
        max_keys: usize,
    ) -> Result<(), StorageError>;

    /// Removes `user`'s `key`; succeeds when it did not exist.
    async fn delete(&self, user: String, key: String) -> Result<(), StorageError>;

    /// Every key of `user`'s with its value, sorted by key (byte order), when
    /// the keys and values together take at most `max_bytes` bytes of UTF-8;
    /// else [`StorageError::TooLarge`], decided without copying the data (a
    /// full quota is hundreds of megabytes).
    async fn all(
        &self,
        user: String,
        max_bytes: usize,
    ) -> Result<Vec<(String, String)>, StorageError>;

    /// The favorites of admin group `group`, sorted by slot.
    async fn favorites(&self, group: String) -> Result<Vec<Favorite>, StorageError>;

    /// Replaces the whole favorites list of admin group `group`.
    async fn replace_favorites(
        &self,
        group: String,
        favorites: Vec<Favorite>,
    ) -> Result<(), StorageError>;

    /// Whether writes can succeed now, for a server's health check: `Err` with
    /// the reason when the store is known to refuse them (its files lost, its
    /// writer stopped). Called on every probe: it reports a state already known
    /// and writes nothing. By default always `Ok`.
    async fn health(&self) -> Result<(), StorageError> {
        Ok(())
    }
}

/// A [`Storage`] held in memory: everything is lost when the process ends.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    inner: Mutex<Data>,
}

#[derive(Debug, Default)]
struct Data {
    users: HashMap<String, BTreeMap<String, String>>,
    favorites: HashMap<String, Vec<Favorite>>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn data(&self) -> std::sync::MutexGuard<'_, Data> {
        // Every write below is a single insert or a checked batch, so a panic
        // elsewhere cannot leave the data half-written: recovering is safe.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Storage for MemoryStorage {
    async fn get(&self, user: String, key: String) -> Result<Option<String>, StorageError> {
        Ok(self
            .data()
            .users
            .get(&user)
            .and_then(|keys| keys.get(&key))
            .cloned())
    }

    async fn set(
        &self,
        user: String,
        key: String,
        value: String,
        max_keys: usize,
    ) -> Result<(), StorageError> {
        self.set_many(user, vec![(key, value)], max_keys).await
    }

    async fn set_many(
        &self,
        user: String,
        entries: Vec<(String, String)>,
        max_keys: usize,
    ) -> Result<(), StorageError> {
        let mut data = self.data();
        let keys = data.users.entry(user).or_default();
        let mut added: Vec<&str> = entries
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !keys.contains_key(*k))
            .collect();
        added.sort_unstable();
        added.dedup();
        if !added.is_empty() && keys.len() + added.len() > max_keys {
            return Err(StorageError::QuotaExceeded { max_keys });
        }
        keys.extend(entries);
        Ok(())
    }

    async fn delete(&self, user: String, key: String) -> Result<(), StorageError> {
        if let Some(keys) = self.data().users.get_mut(&user) {
            keys.remove(&key);
        }
        Ok(())
    }

    async fn all(
        &self,
        user: String,
        max_bytes: usize,
    ) -> Result<Vec<(String, String)>, StorageError> {
        let data = self.data();
        let Some(keys) = data.users.get(&user) else {
            return Ok(Vec::new());
        };
        // Counted first, under the same lock: nothing is copied for an
        // answer that will be refused.
        let mut total = 0usize;
        for (k, v) in keys {
            total = total.saturating_add(k.len()).saturating_add(v.len());
            if total > max_bytes {
                return Err(StorageError::TooLarge { max_bytes });
            }
        }
        Ok(keys.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    async fn favorites(&self, group: String) -> Result<Vec<Favorite>, StorageError> {
        Ok(self
            .data()
            .favorites
            .get(&group)
            .cloned()
            .unwrap_or_default())
    }

    async fn replace_favorites(
        &self,
        group: String,
        mut favorites: Vec<Favorite>,
    ) -> Result<(), StorageError> {
        favorites.sort_by_key(|f| f.slot);
        self.data().favorites.insert(group, favorites);
        Ok(())
    }
}
