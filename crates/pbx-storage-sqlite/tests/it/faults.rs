//! Data lost outside the server is noticed: a write into a data directory, a
//! database or a log deleted or replaced while the storage runs is refused
//! (fault 1), never acknowledged; a deleted lock file lets no second storage
//! in; a database found missing or empty where the directory held one stops
//! the start unless accepted.

use std::path::Path;

use pbx_storage_sqlite::{
    DATABASE_FILE, LOCK_FILE, MARKER_FILE, OpenError, Options, SqliteStorage,
};
use pbx_user_data::{Storage, StorageError};

use crate::support::{Demo, Scratch, open, string};

/// `set` of `key` must be refused with a message saying why.
async fn refused(storage: &SqliteStorage, key: &str, why: &str) {
    match storage.set("203".into(), key.into(), "v".into(), 100).await {
        Err(StorageError::Failed(e)) => {
            let message = e.to_string();
            assert!(message.contains(why), "{why:?} in {message:?}");
            assert!(message.contains("would not survive a restart"), "{message}");
        }
        other => panic!("expected a refused write, got {other:?}"),
    }
}

fn open_fails(dir: &Path, options: Options) -> OpenError {
    match SqliteStorage::open_with(dir, options) {
        Ok(storage) => panic!("expected a failure, opened {storage:?}"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn writes_are_refused_when_the_data_directory_is_deleted() {
    let scratch = Scratch::new();
    let demo = Demo::on(scratch.open()).await;
    let carol = &demo.carol;
    demo.ok(carol, "dict_set", vec![string("before"), string("v")])
        .await;
    std::fs::remove_dir_all(&scratch.dir).unwrap();

    // Every write from now on is fault 1, and none of them is acknowledged.
    for i in 0..20 {
        let fault = demo
            .call(
                carol,
                "dict_set",
                vec![string(&format!("k{i}")), string("v")],
            )
            .await
            .expect_err("a write into a deleted directory is refused");
        assert_eq!(fault.code, 1, "{fault:?}");
    }
    let fault = demo
        .call(
            carol,
            "set_favorites",
            vec![xmlrpc_codec::Value::Array(vec![])],
        )
        .await
        .expect_err("favorites too");
    assert_eq!(fault.code, 1, "{fault:?}");
}

#[tokio::test]
async fn writes_are_refused_after_the_directory_is_recreated_in_its_place() {
    let scratch = Scratch::new();
    let storage = scratch.open();
    storage
        .set("203".into(), "a".into(), "v".into(), 100)
        .await
        .unwrap();
    std::fs::remove_dir_all(&scratch.dir).unwrap();
    std::fs::create_dir(&scratch.dir).unwrap();
    refused(&storage, "b", "the data directory").await;
    refused(&storage, "c", "was replaced").await;
}

#[tokio::test]
async fn writes_are_refused_when_the_database_file_is_replaced() {
    let scratch = Scratch::new();
    let storage = scratch.open();
    storage
        .set("203".into(), "a".into(), "v".into(), 100)
        .await
        .unwrap();
    // A copy renamed over the original: same name, another file.
    let copy = scratch.dir.join("copy.db");
    std::fs::copy(scratch.database(), &copy).unwrap();
    std::fs::rename(&copy, scratch.database()).unwrap();
    refused(&storage, "b", "the database").await;
    refused(&storage, "c", "was replaced").await;
}

#[tokio::test]
async fn writes_are_refused_when_the_write_ahead_log_is_deleted() {
    let scratch = Scratch::new();
    let storage = scratch.open();
    storage
        .set("203".into(), "a".into(), "v".into(), 100)
        .await
        .unwrap();
    std::fs::remove_file(scratch.dir.join(format!("{DATABASE_FILE}-wal"))).unwrap();
    refused(&storage, "b", "the write-ahead log").await;
}

#[tokio::test]
async fn writes_are_refused_when_the_database_is_truncated_while_open() {
    let scratch = Scratch::new();
    drop(scratch.open()); // closing checkpoints: the database file holds pages
    let storage = scratch.open();
    storage
        .set("203".into(), "a".into(), "v".into(), 100)
        .await
        .unwrap();
    std::fs::File::create(scratch.database()).unwrap(); // truncates in place
    refused(&storage, "b", "was truncated to nothing").await;
}

#[tokio::test]
async fn writes_go_on_while_the_files_stay_in_place() {
    // The check must not refuse what is fine: many batches, then a restart.
    let scratch = Scratch::new();
    let storage = scratch.open();
    for i in 0..50 {
        storage
            .set("203".into(), format!("k{i}"), "v".into(), 100)
            .await
            .unwrap();
    }
    drop(storage);
    let storage = scratch.open();
    assert_eq!(
        storage.all("203".into(), usize::MAX).await.unwrap().len(),
        50
    );
}

#[test]
fn a_deleted_lock_file_does_not_let_a_second_server_start() {
    let scratch = Scratch::new();
    let first = scratch.open();
    std::fs::remove_file(scratch.dir.join(LOCK_FILE)).unwrap();
    let error = open_fails(&scratch.dir, Options::default());
    assert!(matches!(error, OpenError::Locked { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("in use: another switchboard server"),
        "{message}"
    );
    assert!(message.contains("was deleted or replaced"), "{message}");
    // Once the first is gone, the directory is free again.
    drop(first);
    drop(scratch.open());
}

#[tokio::test]
async fn a_database_truncated_to_nothing_is_refused_at_start() {
    let scratch = Scratch::new();
    let storage = scratch.open();
    storage
        .set("203".into(), "a".into(), "v".into(), 100)
        .await
        .unwrap();
    drop(storage);
    assert!(scratch.dir.join(MARKER_FILE).is_file());
    std::fs::File::create(scratch.database()).unwrap(); // truncates
    let error = open_fails(&scratch.dir, Options::default());
    assert!(
        matches!(error, OpenError::EmptyDatabase { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    for part in [
        &scratch.database().display().to_string(),
        " is empty, ",
        MARKER_FILE,
        "restore it from a backup",
        "--accept-empty-database",
    ] {
        assert!(message.contains(part), "{part:?} in {message:?}");
    }
    assert!(!message.contains('\n'), "{message}");
    // Refused again, however often it is tried.
    assert!(matches!(
        open_fails(&scratch.dir, Options::default()),
        OpenError::EmptyDatabase { .. }
    ));

    // Accepted when asked: an empty database, which later starts as usual.
    let mut accept = Options::default();
    accept.accept_empty_database = true;
    let storage = open(&scratch.dir, accept);
    assert!(
        storage
            .all("203".into(), usize::MAX)
            .await
            .unwrap()
            .is_empty()
    );
    drop(storage);
    drop(scratch.open());
}

#[test]
fn a_deleted_database_is_refused_at_start_and_not_recreated() {
    let scratch = Scratch::new();
    drop(scratch.open());
    std::fs::remove_file(scratch.database()).unwrap();
    let error = open_fails(&scratch.dir, Options::default());
    assert!(
        matches!(error, OpenError::EmptyDatabase { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains(" is missing, "), "{error}");
    assert!(
        !scratch.database().exists(),
        "no empty file left in its place"
    );
}

#[test]
fn a_database_from_before_the_marker_gets_one() {
    let scratch = Scratch::new();
    drop(scratch.open());
    let marker = scratch.dir.join(MARKER_FILE);
    std::fs::remove_file(&marker).unwrap();
    drop(scratch.open());
    assert!(marker.is_file(), "written at the next start");
    // And a first start on a fresh directory is no loss.
    let fresh = Scratch::new();
    drop(fresh.open());
}

#[tokio::test]
async fn health_reports_a_storage_that_refuses_writes() {
    let scratch = Scratch::new();
    let storage = scratch.open();
    storage.health().await.expect("a fresh storage is healthy");
    storage
        .set("203".into(), "a".into(), "v".into(), 100)
        .await
        .unwrap();
    storage.health().await.expect("still healthy after a write");
    std::fs::remove_dir_all(&scratch.dir).unwrap();
    refused(&storage, "b", "the data directory").await;
    // From the write that noticed on, every probe says so (without writing).
    for _ in 0..2 {
        match storage.health().await {
            Err(StorageError::Failed(e)) => {
                let message = e.to_string();
                assert!(message.contains("the data directory"), "{message}");
                assert!(message.contains("every write is refused"), "{message}");
            }
            other => panic!("expected an unhealthy storage, got {other:?}"),
        }
    }
}
