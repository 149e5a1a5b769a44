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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_commit_observer_sees_every_write_and_a_panicking_one_costs_none() {
    use pbx_storage_sqlite::{CommitObserver, Options};
    use std::sync::Mutex;

    let scratch = Scratch::new();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let observed = seen.clone();
    let mut options = Options::default();
    options.on_commit = Some(CommitObserver::new(move |commit| {
        observed.lock().unwrap().push(*commit);
    }));
    let storage = Arc::new(crate::support::open(&scratch.dir, options));
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let storage = storage.clone();
            tokio::spawn(async move {
                storage
                    .set("u".into(), format!("k{i}"), "v".into(), 100)
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().expect("acknowledged");
    }
    let commits = seen.lock().unwrap().clone();
    assert!(!commits.is_empty());
    // The open's own first write is no commit of the writer's: only these 20.
    assert_eq!(
        commits.iter().map(|c| c.writes).sum::<usize>(),
        20,
        "{commits:?}"
    );
    assert!(commits.iter().all(|c| !c.duration.is_zero()), "{commits:?}");
    drop(storage);

    let mut options = Options::default();
    options.on_commit = Some(CommitObserver::new(|_| panic!("a broken observer")));
    let storage = crate::support::open(&scratch.dir, options);
    storage
        .set("u".into(), "after".into(), "1".into(), 100)
        .await
        .expect("the write stands");
    storage
        .set("u".into(), "again".into(), "1".into(), 100)
        .await
        .expect("and the writer goes on");
    assert_eq!(
        storage
            .get("u".into(), "after".into())
            .await
            .unwrap()
            .as_deref(),
        Some("1")
    );
}
