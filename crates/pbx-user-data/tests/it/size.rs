//! `get_all` within a bound: refused by the store before anything is copied.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use pbx_model::Favorite;
use pbx_user_data::{
    ErrorKind, MemoryStorage, Storage, StorageError, StorageLimits, UserData, UserDataError,
};

/// A store that counts the bytes of keys and values its `all` hands out.
#[derive(Debug, Default)]
struct Counting {
    inner: MemoryStorage,
    handed_out: AtomicUsize,
}

#[async_trait]
impl Storage for Counting {
    async fn get(&self, user: String, key: String) -> Result<Option<String>, StorageError> {
        self.inner.get(user, key).await
    }
    async fn set(&self, u: String, k: String, v: String, max: usize) -> Result<(), StorageError> {
        self.inner.set(u, k, v, max).await
    }
    async fn set_many(
        &self,
        user: String,
        entries: Vec<(String, String)>,
        max_keys: usize,
    ) -> Result<(), StorageError> {
        self.inner.set_many(user, entries, max_keys).await
    }
    async fn delete(&self, user: String, key: String) -> Result<(), StorageError> {
        self.inner.delete(user, key).await
    }
    async fn all(
        &self,
        user: String,
        max_bytes: usize,
    ) -> Result<Vec<(String, String)>, StorageError> {
        let all = self.inner.all(user, max_bytes).await?;
        let bytes: usize = all.iter().map(|(k, v)| k.len() + v.len()).sum();
        self.handed_out.fetch_add(bytes, Ordering::SeqCst);
        Ok(all)
    }
    async fn favorites(&self, group: String) -> Result<Vec<Favorite>, StorageError> {
        self.inner.favorites(group).await
    }
    async fn replace_favorites(&self, g: String, f: Vec<Favorite>) -> Result<(), StorageError> {
        self.inner.replace_favorites(g, f).await
    }
}

#[tokio::test]
async fn get_all_at_full_quota_does_not_copy_the_users_data() {
    // A full quota, scaled down: 100 keys of 64 KiB, 6.4 MB.
    let limits = StorageLimits {
        max_keys: 100,
        ..StorageLimits::default()
    };
    let store = Arc::new(Counting::default());
    let data = UserData::new(store.clone(), limits);
    let value = "v".repeat(limits.max_value_bytes);
    let entries = (0..limits.max_keys)
        .map(|i| (format!("key-{i:03}"), value.clone()))
        .collect();
    data.dict_set_many("203", entries).await.unwrap();

    let max = 1 << 20;
    let refused = data.get_all("203", max).await.unwrap_err();
    assert!(
        matches!(refused, UserDataError::AnswerTooLarge { max_bytes } if max_bytes == max),
        "{refused:?}"
    );
    assert_eq!(refused.kind(), ErrorKind::LimitReached);
    assert_eq!(refused.to_string(), "the answer would exceed 1048576 bytes");
    assert_eq!(store.handed_out.load(Ordering::SeqCst), 0);

    // Within a bound that holds it, the whole key space comes back.
    let all = data.get_all("203", 8 << 20).await.unwrap();
    assert_eq!(all.len(), limits.max_keys);
    assert!(store.handed_out.load(Ordering::SeqCst) > 100 * value.len());
}
