//! The threads that own the connections: one writer that commits pending writes
//! in groups, and a few readers. Async callers only send a job and await its
//! answer, so a slow disk never blocks the runtime.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use pbx_user_data::StorageError;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::cache::Cache;
use crate::open::one_line;
use crate::ops::{ApplyError, WriteOp};
use crate::witness::{Fault, Witness};
use crate::{Commit, CommitObserver};

/// A write and where its outcome goes.
pub(crate) struct WriteJob {
    pub(crate) op: WriteOp,
    pub(crate) reply: oneshot::Sender<Result<(), StorageError>>,
}

/// A read, as a closure over a reader's connection that sends its own answer.
pub(crate) type ReadJob = Box<dyn FnOnce(&Connection) + Send>;

/// A database failure, as the storage reports it (and the server logs it).
#[derive(Debug, thiserror::Error)]
#[error("{operation} failed on {path}: {detail}")]
pub(crate) struct DatabaseError {
    pub(crate) operation: &'static str,
    pub(crate) path: String,
    pub(crate) detail: String,
}

pub(crate) fn failed(operation: &'static str, path: &str, e: &rusqlite::Error) -> StorageError {
    StorageError::Failed(Box::new(DatabaseError {
        operation,
        path: path.to_owned(),
        detail: one_line(e),
    }))
}

/// The writer thread's loop: ends when every sender is gone and the queue is
/// empty, so every write sent before the storage was dropped is committed.
///
/// Each batch is checked against `witness` before it is applied and again
/// after its commit: a write is acknowledged only when its commit went into the
/// files a restart will open. Once they are gone or replaced, every write is
/// refused for as long as the storage stays open.
/// Who hears of each commit on the writer thread: the server's observer (its
/// metrics) and the read cache, which must learn what was committed before
/// anyone is answered.
pub(crate) struct Told {
    pub(crate) observer: Option<CommitObserver>,
    pub(crate) cache: Arc<Cache>,
}

pub(crate) fn write_loop(
    mut conn: Connection,
    mut jobs: mpsc::Receiver<WriteJob>,
    max_batch: usize,
    path: String,
    witness: Witness,
    refusing: Arc<OnceLock<String>>,
    told: Told,
) {
    let Told { observer, cache } = told;
    let mut lost: Option<String> = None;
    let mut batch = Vec::with_capacity(max_batch);
    while let Some(first) = jobs.blocking_recv() {
        batch.push(first);
        // Whatever queued up during the last commit goes into this one.
        while batch.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let ops: Vec<&WriteOp> = batch.iter().map(|j| &j.op).collect();
        let refusal = lost
            .clone()
            .or_else(|| noticed(&witness, &mut lost, &refusing));
        let outcomes = if let Some(reason) = refusal {
            refuse(&ops, &path, &reason)
        } else {
            let started = Instant::now();
            let committed = catch_unwind(AssertUnwindSafe(|| commit(&mut conn, &ops, &path)));
            if let (Some(observer), Ok(_)) = (&observer, &committed) {
                observer.committed(&Commit {
                    writes: ops.len(),
                    duration: started.elapsed(),
                });
            }
            match committed {
                // Gone between the check and the commit: not acknowledged either.
                Ok(outcomes) => {
                    // What the database holds now, told before anyone is
                    // answered: a read after an acknowledgement sees the write.
                    cache.committed(&ops, &outcomes);
                    match noticed(&witness, &mut lost, &refusing) {
                        None => outcomes,
                        Some(reason) => refuse(&ops, &path, &reason),
                    }
                }
                Err(_) => {
                    // A bug, not the disk: nothing of this batch is acknowledged.
                    cache.committed(&ops, &[]);
                    let _ = conn.execute_batch("ROLLBACK");
                    tracing::error!("the storage writer panicked; the batch was rolled back");
                    Vec::new()
                }
            }
        };
        let mut outcomes = outcomes.into_iter();
        for job in batch.drain(..) {
            // A dropped reply (the caller gave up) is fine: the write stands or not.
            if let Some(outcome) = outcomes.next() {
                let _ = job.reply.send(outcome);
            }
        }
    }
}

/// Asks `witness` whether the files are still in place; a permanent fault is
/// latched into `lost` (and `refusing`, which the health check reads) and
/// logged loudly, once.
fn noticed(
    witness: &Witness,
    lost: &mut Option<String>,
    refusing: &OnceLock<String>,
) -> Option<String> {
    let Fault { reason, permanent } = witness.check().err()?;
    if permanent {
        tracing::error!(
            "{reason} while the server ran: writes are refused from now on, since a \
             restart would not find them; stop the server, restore the data directory \
             from a backup (docs/storage.md) and start again"
        );
        *lost = Some(reason.clone());
        let _ = refusing.set(reason.clone());
    } else {
        tracing::warn!("{reason}: the writes of this batch are refused");
    }
    Some(reason)
}

/// The same refusal for every write of the batch.
fn refuse(ops: &[&WriteOp], path: &str, reason: &str) -> Vec<Result<(), StorageError>> {
    ops.iter()
        .map(|op| {
            Err(StorageError::Failed(Box::new(DatabaseError {
                operation: op.name(),
                path: path.to_owned(),
                detail: format!("{reason}; the write would not survive a restart"),
            })))
        })
        .collect()
}

/// Commits `ops` as one transaction, each in a savepoint: one write's failure
/// rolls back only that write. When the transaction as a whole fails after
/// writes were applied (the commit, or an error that makes SQLite roll back
/// everything, such as a full disk), each write is retried alone, so that every
/// write gets the outcome it would have had on its own.
fn commit(conn: &mut Connection, ops: &[&WriteOp], path: &str) -> Vec<Result<(), StorageError>> {
    match commit_together(conn, ops, path) {
        Ok(outcomes) => outcomes,
        Err(Whole::Begin(e)) => ops
            .iter()
            .map(|op| Err(failed(op.name(), path, &e)))
            .collect(),
        Err(Whole::Later(e)) if ops.len() == 1 => vec![Err(failed(ops[0].name(), path, &e))],
        Err(Whole::Later(e)) => {
            tracing::warn!(writes = ops.len(), error = %one_line(&e), "group commit failed; committing one by one");
            ops.iter()
                .map(|op| match commit_together(conn, &[op], path) {
                    Ok(mut one) => one.pop().unwrap_or(Ok(())),
                    Err(Whole::Begin(e) | Whole::Later(e)) => Err(failed(op.name(), path, &e)),
                })
                .collect()
        }
    }
}

/// How a whole transaction failed.
enum Whole {
    /// Before any write: nothing to retry.
    Begin(rusqlite::Error),
    /// After writes were applied: the transaction is gone.
    Later(rusqlite::Error),
}

fn commit_together(
    conn: &mut Connection,
    ops: &[&WriteOp],
    path: &str,
) -> Result<Vec<Result<(), StorageError>>, Whole> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(Whole::Begin)?;
    let mut outcomes = Vec::with_capacity(ops.len());
    for op in ops {
        let outcome = conn
            .execute_batch("SAVEPOINT write")
            .map_err(ApplyError::Sql)
            .and_then(|()| op.apply(conn));
        match outcome {
            Ok(()) => {
                conn.execute_batch("RELEASE write")
                    .map_err(|e| abandon(conn, e))?;
                outcomes.push(Ok(()));
            }
            // SQLite rolled the whole transaction back (a full disk, I/O).
            Err(ApplyError::Sql(e)) if conn.is_autocommit() => return Err(Whole::Later(e)),
            Err(error) => {
                conn.execute_batch("ROLLBACK TO write; RELEASE write")
                    .map_err(|e| abandon(conn, e))?;
                outcomes.push(Err(match error {
                    ApplyError::Quota { max_keys } => StorageError::QuotaExceeded { max_keys },
                    ApplyError::Sql(e) => {
                        tracing::debug!(operation = op.name(), error = %one_line(&e), "write rolled back");
                        failed(op.name(), path, &e)
                    }
                }));
            }
        }
    }
    conn.execute_batch("COMMIT").map_err(|e| abandon(conn, e))?;
    Ok(outcomes)
}

/// Ends a transaction that cannot go on, keeping the error that ended it.
fn abandon(conn: &Connection, error: rusqlite::Error) -> Whole {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    Whole::Later(error)
}

/// A reader thread's loop: takes the next read from the shared queue; ends
/// when the storage is dropped.
pub(crate) fn read_loop(conn: Connection, jobs: Arc<Mutex<mpsc::Receiver<ReadJob>>>) {
    loop {
        // The lock is held only while waiting for the next job, not while
        // running it, so the other readers run jobs meanwhile.
        let job = jobs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .blocking_recv();
        let Some(job) = job else { return };
        // A panicking read drops its reply (the caller sees a failure); the
        // connection is only read from, so it stays usable.
        if catch_unwind(AssertUnwindSafe(|| job(&conn))).is_err() {
            tracing::error!("a storage read panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use pbx_model::{EntityId, EntityKind, EntityRef, Favorite, FavoriteSize};

    use super::*;
    use crate::open::{Options, open};

    fn set(user: &str, entries: &[(&str, &str)], max_keys: usize) -> WriteOp {
        WriteOp::Set {
            user: user.into(),
            entries: entries
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
            max_keys,
        }
    }

    #[test]
    fn one_failing_write_does_not_fail_the_others_committed_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let options = Options {
            readers: 1,
            max_database_bytes: Some(64 * 1024),
            ..Options::default()
        };
        let mut conn = open(dir.path(), &options).unwrap().writer;
        let seed = set("u", &[("keep", "1")], 2);
        assert!(matches!(commit(&mut conn, &[&seed], "db")[..], [Ok(())]));

        let big = "x".repeat(200_000);
        let favorite = Favorite {
            entity: EntityRef {
                kind: EntityKind::Queue,
                id: EntityId(3),
            },
            slot: 1,
            size: FavoriteSize::Double,
        };
        let ops = [
            set("u", &[("keep", "2")], 2),
            set("u", &[("x", "1"), ("y", "1")], 2),
            set("v", &[("big", &big)], 2),
            WriteOp::ReplaceFavorites {
                group: "G".into(),
                favorites: vec![favorite.clone()],
            },
            WriteOp::Delete {
                user: "u".into(),
                key: "nothing".into(),
            },
        ];
        let refs: Vec<&WriteOp> = ops.iter().collect();
        let outcomes = commit(&mut conn, &refs, "db");
        assert!(
            matches!(
                &outcomes[..],
                [
                    Ok(()),
                    Err(StorageError::QuotaExceeded { max_keys: 2 }),
                    Err(StorageError::Failed(_)),
                    Ok(()),
                    Ok(())
                ]
            ),
            "{outcomes:?}"
        );
        let Err(full) = &outcomes[2] else {
            unreachable!()
        };
        assert!(full.to_string().contains("full"), "{full}");

        assert_eq!(
            crate::ops::get(&conn, "u", "keep").unwrap().as_deref(),
            Some("2")
        );
        assert_eq!(crate::ops::get(&conn, "u", "x").unwrap(), None);
        assert_eq!(crate::ops::get(&conn, "v", "big").unwrap(), None);
        assert_eq!(crate::ops::favorites(&conn, "G").unwrap(), vec![favorite]);
    }
}
