//! The read cache (`Options::cache_bytes`): reads answer from memory, and what
//! they answer is always what the database holds: the old value after a write
//! that failed or was refused, the new one once a write is acknowledged, and
//! the same after a restart.

use std::sync::Arc;

use pbx_model::{EntityId, EntityKind, EntityRef, Favorite, FavoriteSize};
use pbx_storage_sqlite::{Options, SqliteStorage};
use pbx_user_data::{Storage, StorageError, check_storage};

use crate::support::{Scratch, open};

fn with_cache(bytes: usize) -> Options {
    let mut options = Options::default();
    options.cache_bytes = bytes;
    options
}

async fn get(storage: &SqliteStorage, user: &str, key: &str) -> Option<String> {
    storage.get(user.into(), key.into()).await.unwrap()
}

fn favorite(slot: u32) -> Favorite {
    Favorite {
        entity: EntityRef {
            kind: EntityKind::Extension,
            id: EntityId(slot),
        },
        slot,
        size: FavoriteSize::Single,
    }
}

#[tokio::test]
async fn a_read_after_a_failed_commit_shows_the_old_value() {
    let scratch = Scratch::new();
    let mut options = Options::default();
    options.max_database_bytes = Some(160 * 1024);
    let storage = open(&scratch.dir, options);
    storage
        .set("203".into(), "k".into(), "old".into(), 100)
        .await
        .unwrap();
    // Read once, so that the user is held in memory.
    assert_eq!(get(&storage, "203", "k").await.as_deref(), Some("old"));

    // Overwrites that do not fit the capped database fail on commit.
    let big = "x".repeat(60_000);
    let mut failed = None;
    for i in 0..10 {
        let written = storage
            .set_many(
                "203".into(),
                vec![
                    ("k".into(), format!("new {i}")),
                    (format!("big {i}"), big.clone()),
                ],
                100,
            )
            .await;
        match written {
            Ok(()) => assert_eq!(get(&storage, "203", "k").await, Some(format!("new {i}"))),
            Err(e) => {
                failed = Some((i, e));
                break;
            }
        }
    }
    let Some((i, StorageError::Failed(_))) = failed else {
        panic!("the cap was never reached: {failed:?}");
    };
    let before = if i == 0 {
        "old".to_owned()
    } else {
        format!("new {}", i - 1)
    };
    assert_eq!(get(&storage, "203", "k").await, Some(before.clone()));
    assert_eq!(get(&storage, "203", &format!("big {i}")).await, None);
    drop(storage);
    let reopened = open(&scratch.dir, with_cache(0));
    assert_eq!(get(&reopened, "203", "k").await, Some(before));
}

#[tokio::test]
async fn a_read_after_a_refused_write_shows_the_old_value() {
    let scratch = Scratch::new();
    let storage = scratch.open();
    storage
        .set("203".into(), "k".into(), "old".into(), 100)
        .await
        .unwrap();
    storage
        .replace_favorites("G".into(), vec![favorite(1)])
        .await
        .unwrap();
    assert_eq!(get(&storage, "203", "k").await.as_deref(), Some("old"));
    assert_eq!(
        storage.favorites("G".into()).await.unwrap(),
        vec![favorite(1)]
    );

    // The witness refuses writes into a deleted directory; nothing is written.
    std::fs::remove_dir_all(&scratch.dir).unwrap();
    let refused = storage
        .set("203".into(), "k".into(), "new".into(), 100)
        .await;
    assert!(
        matches!(refused, Err(StorageError::Failed(_))),
        "{refused:?}"
    );
    let refused = storage.replace_favorites("G".into(), vec![]).await;
    assert!(
        matches!(refused, Err(StorageError::Failed(_))),
        "{refused:?}"
    );
    assert_eq!(get(&storage, "203", "k").await.as_deref(), Some("old"));
    assert_eq!(
        storage.favorites("G".into()).await.unwrap(),
        vec![favorite(1)]
    );
}

#[tokio::test]
async fn a_quota_refusal_leaves_the_held_keys_as_they_were() {
    let scratch = Scratch::new();
    let storage = scratch.open();
    storage
        .set("203".into(), "a".into(), "1".into(), 1)
        .await
        .unwrap();
    assert_eq!(get(&storage, "203", "a").await.as_deref(), Some("1"));
    let refused = storage
        .set_many(
            "203".into(),
            vec![("a".into(), "2".into()), ("b".into(), "2".into())],
            1,
        )
        .await;
    assert!(matches!(
        refused,
        Err(StorageError::QuotaExceeded { max_keys: 1 })
    ));
    assert_eq!(get(&storage, "203", "a").await.as_deref(), Some("1"));
    assert_eq!(get(&storage, "203", "b").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_after_an_acknowledged_write_shows_it() {
    let scratch = Scratch::new();
    // A small cache, so that users are dropped and loaded again meanwhile.
    let storage = Arc::new(open(&scratch.dir, with_cache(16 * 1024)));
    let mut tasks = Vec::new();
    for t in 0..8 {
        let storage = storage.clone();
        tasks.push(tokio::spawn(async move {
            // Two tasks per user: each sees its own write or a later one.
            let user = format!("u{}", t % 4);
            let key = format!("k{t}");
            for i in 0..40u32 {
                let value = format!("{i:04} {}", "v".repeat(300));
                storage
                    .set(user.clone(), key.clone(), value.clone(), 100)
                    .await
                    .unwrap();
                assert_eq!(get(&storage, &user, &key).await, Some(value));
                let all = storage.all(user.clone(), usize::MAX).await.unwrap();
                assert!(
                    all.iter()
                        .any(|(k, v)| *k == key && v[..4] == format!("{i:04}"))
                );
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test]
async fn a_reopened_database_shows_what_the_cache_showed() {
    let scratch = Scratch::new();
    let mut seen = Vec::new();
    {
        let storage = scratch.open();
        for user in ["u1", "u2", "u3"] {
            // Held before the writes, so that the writes update memory.
            storage.all(user.into(), usize::MAX).await.unwrap();
            storage
                .set(user.into(), "a".into(), "1".into(), 100)
                .await
                .unwrap();
            storage
                .set_many(
                    user.into(),
                    vec![("b".into(), "2".into()), ("a".into(), "3".into())],
                    100,
                )
                .await
                .unwrap();
            storage.delete(user.into(), "b".into()).await.unwrap();
            storage
                .set(user.into(), "Grüße".into(), "ü".into(), 100)
                .await
                .unwrap();
            seen.push(format!(
                "{user}: {:?}",
                storage.all(user.into(), usize::MAX).await.unwrap()
            ));
        }
        storage.favorites("G".into()).await.unwrap();
        storage
            .replace_favorites("G".into(), vec![favorite(2), favorite(1)])
            .await
            .unwrap();
        seen.push(format!(
            "G: {:?}",
            storage.favorites("G".into()).await.unwrap()
        ));
    }
    let storage = open(&scratch.dir, with_cache(0));
    let mut reread = Vec::new();
    for user in ["u1", "u2", "u3"] {
        reread.push(format!(
            "{user}: {:?}",
            storage.all(user.into(), usize::MAX).await.unwrap()
        ));
    }
    reread.push(format!(
        "G: {:?}",
        storage.favorites("G".into()).await.unwrap()
    ));
    assert_eq!(reread, seen);
    assert!(
        seen[0].contains(r#"("Grüße", "ü"), ("a", "3")"#),
        "{seen:?}"
    );
}

#[tokio::test]
async fn the_storage_checks_pass_without_a_cache_and_with_a_tiny_one() {
    for bytes in [0, 2048] {
        let scratch = Scratch::new();
        let storage = open(&scratch.dir, with_cache(bytes));
        if let Err(failure) = check_storage(&storage).await {
            panic!("cache_bytes {bytes}: {failure}");
        }
    }
}
