//! A writer stalled on the disk stalls neither the runtime, nor reads, nor
//! `get_calls`: another connection holding the write lock stands in for a
//! disk that does not answer.

use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use pbx_storage_sqlite::Options;

use crate::support::{Demo, Scratch, open, string};

/// Polls `future` once.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    std::future::poll_fn(|cx| Poll::Ready(std::pin::Pin::new(&mut *future).poll(cx))).await
}

// One thread: a storage call that blocked its thread would block everything.
#[tokio::test(flavor = "current_thread")]
async fn a_stalled_write_blocks_neither_reads_nor_get_calls() {
    let scratch = Scratch::new();
    let mut options = Options::default();
    // Long enough that only the release below ends the wait.
    options.busy_timeout = Duration::from_secs(120);
    let demo = Demo::on(open(&scratch.dir, options)).await;
    let carol = &demo.carol;
    demo.ok(carol, "dict_set", vec![string("k"), string("before")])
        .await;

    let blocker = rusqlite::Connection::open(scratch.database()).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();

    let mut write = pin!(demo.call(carol, "dict_set", vec![string("k"), string("after")]));
    assert!(
        poll_once(&mut write).await.is_pending(),
        "the write waits for the lock"
    );

    demo.ok(carol, "get_calls", vec![]).await;
    demo.ok(carol, "get_extensions", vec![]).await;
    assert_eq!(
        demo.ok(carol, "dict_get", vec![string("k")]).await,
        string("before")
    );
    demo.ok(carol, "get_all", vec![]).await;
    demo.ok(carol, "get_favorites", vec![]).await;
    assert!(
        poll_once(&mut write).await.is_pending(),
        "still waiting for the lock"
    );

    blocker.execute_batch("ROLLBACK").unwrap();
    write
        .await
        .expect("the write goes through once the lock is free");
    assert_eq!(
        demo.ok(carol, "dict_get", vec![string("k")]).await,
        string("after")
    );
}
