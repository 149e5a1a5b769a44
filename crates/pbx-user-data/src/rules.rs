//! [`UserData`]: the `dict_*` and favorites rules of SPEC.md on top of any
//! [`Storage`], and [`UserDataError`], what they fail with.

use std::collections::HashSet;
use std::sync::Arc;

use pbx_model::{AdminGroupId, EntityRef, Favorite};

use crate::{MemoryStorage, Storage, StorageError, StorageLimits};

/// Why a user-data operation failed.
///
/// Its messages are safe to show to the caller: they name only what the
/// caller sent (a key, a slot, an entity's type and id) and the configured
/// limits. [`UserDataError::kind`] says which class of API error it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserDataError {
    /// An empty key (`dict_*`).
    #[error("empty key")]
    EmptyKey,
    /// A key longer than [`StorageLimits::max_key_bytes`].
    #[error("key longer than {max_bytes} bytes")]
    KeyTooLong {
        /// The limit.
        max_bytes: usize,
    },
    /// A value longer than [`StorageLimits::max_value_bytes`].
    #[error("value longer than {max_bytes} bytes")]
    ValueTooLong {
        /// The limit.
        max_bytes: usize,
    },
    /// `dict_get` of a key the user does not hold.
    #[error("no such key: {key}")]
    NoSuchKey {
        /// The key asked for.
        key: String,
    },
    /// The write would leave the user with more than
    /// [`StorageLimits::max_keys`] keys; nothing was written.
    #[error("storage quota reached: at most {max_keys} keys")]
    QuotaExceeded {
        /// The quota.
        max_keys: usize,
    },
    /// `get_all`: the user's keys and values together pass the bound asked for.
    #[error("the answer would exceed {max_bytes} bytes")]
    AnswerTooLarge {
        /// The bound.
        max_bytes: usize,
    },
    /// A favorite in slot 0 (slots start at 1).
    #[error("favorite slots start at 1")]
    SlotZero,
    /// Two favorites in one slot.
    #[error("slot {slot} is used twice")]
    DuplicateSlot {
        /// The slot.
        slot: u32,
    },
    /// A favorite naming an entity the group does not have (also one of
    /// another group: the two answer alike).
    #[error("no such {}: {}", entity.kind, entity.id)]
    NoSuchEntity {
        /// The entity named.
        entity: EntityRef,
    },
    /// The store failed. The detail is for the log, never for the caller.
    #[error("{0}")]
    Storage(#[source] StorageError),
}

/// The class of a [`UserDataError`], as the API tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A malformed argument: an empty key, slot 0, a slot used twice.
    InvalidInput,
    /// No such key, or no such entity in the group.
    NotFound,
    /// A size limit, the key quota, or the bound on an answer.
    LimitReached,
    /// The store failed: an internal error.
    Internal,
}

impl UserDataError {
    /// Which class of API error this is (for a backend's own error type).
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::EmptyKey | Self::SlotZero | Self::DuplicateSlot { .. } => ErrorKind::InvalidInput,
            Self::NoSuchKey { .. } | Self::NoSuchEntity { .. } => ErrorKind::NotFound,
            Self::KeyTooLong { .. }
            | Self::ValueTooLong { .. }
            | Self::QuotaExceeded { .. }
            | Self::AnswerTooLarge { .. } => ErrorKind::LimitReached,
            Self::Storage(_) => ErrorKind::Internal,
        }
    }
}

impl From<StorageError> for UserDataError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::QuotaExceeded { max_keys } => Self::QuotaExceeded { max_keys },
            StorageError::TooLarge { max_bytes } => Self::AnswerTooLarge { max_bytes },
            other => Self::Storage(other),
        }
    }
}

/// The user-data layer of a PBX: users' `dict_*` keys and admin groups'
/// favorites, with SPEC.md's rules (key and value sizes, the key quota,
/// favorites' slots and membership), on top of any [`Storage`].
///
/// A backend calls it from its `PbxBackend` methods with the caller's user
/// name (extension number) and admin group, after checking that the caller is
/// one of its users. Cheap to clone (the store is shared).
#[derive(Debug, Clone)]
pub struct UserData {
    storage: Arc<dyn Storage>,
    limits: StorageLimits,
}

impl Default for UserData {
    /// In memory, with the default limits.
    fn default() -> Self {
        Self::in_memory(StorageLimits::default())
    }
}

impl UserData {
    /// User data kept in `storage`, within `limits`.
    pub fn new(storage: Arc<dyn Storage>, limits: StorageLimits) -> Self {
        Self { storage, limits }
    }

    /// User data in a fresh [`MemoryStorage`], within `limits`.
    pub fn in_memory(limits: StorageLimits) -> Self {
        Self::new(Arc::new(MemoryStorage::new()), limits)
    }

    /// The same limits over another store.
    pub fn with_storage(self, storage: Arc<dyn Storage>) -> Self {
        Self { storage, ..self }
    }

    /// The store.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// The limits.
    pub fn limits(&self) -> StorageLimits {
        self.limits
    }

    /// `dict_set`: stores `value` under `user`'s `key`.
    pub async fn dict_set(&self, user: &str, key: &str, value: &str) -> Result<(), UserDataError> {
        self.check_key(key)?;
        self.check_value(value)?;
        self.storage
            .set(
                user.to_owned(),
                key.to_owned(),
                value.to_owned(),
                self.limits.max_keys,
            )
            .await
            .map_err(Into::into)
    }

    /// `dict_set_many`: stores every pair, all or nothing (a repeated key
    /// keeps its last value).
    pub async fn dict_set_many(
        &self,
        user: &str,
        entries: Vec<(String, String)>,
    ) -> Result<(), UserDataError> {
        for (key, value) in &entries {
            self.check_key(key)?;
            self.check_value(value)?;
        }
        if entries.is_empty() {
            return Ok(());
        }
        self.storage
            .set_many(user.to_owned(), entries, self.limits.max_keys)
            .await
            .map_err(Into::into)
    }

    /// `dict_get`: the value of `user`'s `key`.
    pub async fn dict_get(&self, user: &str, key: &str) -> Result<String, UserDataError> {
        if key.is_empty() {
            return Err(UserDataError::EmptyKey);
        }
        let missing = || UserDataError::NoSuchKey {
            key: key.to_owned(),
        };
        if self.unstorable(key) {
            return Err(missing());
        }
        self.storage
            .get(user.to_owned(), key.to_owned())
            .await?
            .ok_or_else(missing)
    }

    /// `dict_delete`: removes `user`'s `key`; succeeds when it did not exist.
    pub async fn dict_delete(&self, user: &str, key: &str) -> Result<(), UserDataError> {
        if key.is_empty() {
            return Err(UserDataError::EmptyKey);
        }
        if self.unstorable(key) {
            return Ok(());
        }
        self.storage
            .delete(user.to_owned(), key.to_owned())
            .await
            .map_err(Into::into)
    }

    /// `get_all`: every key of `user`'s with its value, sorted by key, when
    /// the keys and values together take at most `max_bytes` bytes; else
    /// [`UserDataError::AnswerTooLarge`], without copying them. An answer
    /// carries at least those bytes, so a server passes its bound on an
    /// answer's size and refuses nothing that would have fit.
    pub async fn get_all(
        &self,
        user: &str,
        max_bytes: usize,
    ) -> Result<Vec<(String, String)>, UserDataError> {
        self.storage
            .all(user.to_owned(), max_bytes)
            .await
            .map_err(Into::into)
    }

    /// Whether the store can write now, for a server's health probe: the state
    /// the store already knows ([`Storage::health`]), nothing written.
    pub async fn health(&self) -> Result<(), UserDataError> {
        self.storage.health().await.map_err(Into::into)
    }

    /// `get_favorites`: `group`'s favorites, by slot. Those naming an entity
    /// for which `is_member` is false (the group no longer has it: a list
    /// stored under an older configuration) are not shown.
    pub async fn get_favorites(
        &self,
        group: &AdminGroupId,
        is_member: impl Fn(EntityRef) -> bool,
    ) -> Result<Vec<Favorite>, UserDataError> {
        let mut favorites = self.storage.favorites(group.as_str().to_owned()).await?;
        favorites.retain(|f| is_member(f.entity));
        Ok(favorites)
    }

    /// `set_favorites`: replaces `group`'s whole list, or changes nothing.
    /// Slot 0 or a slot used twice is [`ErrorKind::InvalidInput`]; an entity
    /// for which `is_member` is false is [`UserDataError::NoSuchEntity`],
    /// whether it exists in another group or nowhere.
    pub async fn set_favorites(
        &self,
        group: &AdminGroupId,
        favorites: Vec<Favorite>,
        is_member: impl Fn(EntityRef) -> bool,
    ) -> Result<(), UserDataError> {
        let mut slots = HashSet::new();
        for f in &favorites {
            if f.slot == 0 {
                return Err(UserDataError::SlotZero);
            }
            if !slots.insert(f.slot) {
                return Err(UserDataError::DuplicateSlot { slot: f.slot });
            }
        }
        if let Some(f) = favorites.iter().find(|f| !is_member(f.entity)) {
            return Err(UserDataError::NoSuchEntity { entity: f.entity });
        }
        self.storage
            .replace_favorites(group.as_str().to_owned(), favorites)
            .await
            .map_err(Into::into)
    }

    fn check_key(&self, key: &str) -> Result<(), UserDataError> {
        if key.is_empty() {
            return Err(UserDataError::EmptyKey);
        }
        let max_bytes = self.limits.max_key_bytes;
        if key.len() > max_bytes {
            return Err(UserDataError::KeyTooLong { max_bytes });
        }
        Ok(())
    }

    fn check_value(&self, value: &str) -> Result<(), UserDataError> {
        let max_bytes = self.limits.max_value_bytes;
        if value.len() > max_bytes {
            return Err(UserDataError::ValueTooLong { max_bytes });
        }
        Ok(())
    }

    /// A key that could never have been stored: reads find nothing there.
    fn unstorable(&self, key: &str) -> bool {
        key.len() > self.limits.max_key_bytes
    }
}
