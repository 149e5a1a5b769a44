//! Concurrent writers: every write gets its own outcome, the quota holds under
//! a race, and writes committed together do not fail together.

use std::sync::Arc;

use pbx_user_data::{Storage, StorageError};

use crate::support::Scratch;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_all_get_their_own_acknowledgement() {
    let scratch = Scratch::new();
    let storage = Arc::new(scratch.open());
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let storage = storage.clone();
            tokio::spawn(async move {
                let user = format!("u{}", i % 4);
                storage
                    .set(user, format!("k{i:02}"), format!("v{i}"), 100)
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("every write is acknowledged");
    }
    for u in 0..4 {
        let all = storage.all(format!("u{u}"), usize::MAX).await.unwrap();
        assert_eq!(all.len(), 16, "{all:?}");
        for (k, v) in all {
            assert_eq!(v, format!("v{}", k[1..].parse::<u32>().unwrap()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_holds_when_writers_race_for_the_last_keys() {
    let scratch = Scratch::new();
    let storage = Arc::new(scratch.open());
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let storage = storage.clone();
            tokio::spawn(async move {
                storage
                    .set_many(
                        "203".into(),
                        vec![(format!("a{i}"), "1".into()), (format!("b{i}"), "2".into())],
                        20,
                    )
                    .await
            })
        })
        .collect();
    let mut accepted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => accepted += 1,
            Err(StorageError::QuotaExceeded { max_keys: 20 }) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(accepted, 10);
    let all = storage.all("203".into(), usize::MAX).await.unwrap();
    assert_eq!(all.len(), 20);
    // Each accepted set_many is whole.
    for (k, _) in &all {
        let twin = if let Some(n) = k.strip_prefix('a') {
            format!("b{n}")
        } else {
            format!("a{}", &k[1..])
        };
        assert!(
            all.iter().any(|(other, _)| *other == twin),
            "{k} without {twin}"
        );
    }
}
