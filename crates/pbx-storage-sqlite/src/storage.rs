//! [`SqliteStorage`]: the [`Storage`] trait on the writer and reader threads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use async_trait::async_trait;
use pbx_model::Favorite;
use pbx_user_data::{Storage, StorageError};
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::OpenError;
use crate::cache::{self, Cache, Keys, Lookup, Ticket};
use crate::lock::DirLock;
use crate::open::{self, Opened, Options};
use crate::ops::{self, WriteOp};
use crate::threads::{self, DatabaseError, ReadJob, WriteJob};

/// Pending jobs a queue holds before senders wait (asynchronously) for room.
const QUEUE: usize = 1024;

/// Users' keys and groups' favorites in a SQLite database in a data directory.
///
/// A write method returns `Ok` only after its transaction is committed and
/// fsynced. Dropping the storage commits the writes already sent, closes the
/// database and releases the directory's lock (it waits for that).
pub struct SqliteStorage {
    path: PathBuf,
    dir: PathBuf,
    writes: Option<mpsc::Sender<WriteJob>>,
    reads: Option<mpsc::Sender<ReadJob>>,
    threads: Vec<JoinHandle<()>>,
    /// Set by the writer once it refuses every write (the files were lost
    /// while the server ran): what [`Storage::health`] reports.
    refusing: Arc<OnceLock<String>>,
    /// What reads answer from; the writer updates it after each commit.
    cache: Arc<Cache>,
    // Released last, after the connections are closed.
    _lock: DirLock,
}

impl SqliteStorage {
    /// Opens (creating it on first use) the data directory `dir` with
    /// [`Options::default`].
    pub fn open(dir: impl AsRef<Path>) -> Result<SqliteStorage, OpenError> {
        Self::open_with(dir, Options::default())
    }

    /// Opens the data directory `dir`: creates it and the database if needed,
    /// takes its lock, checks and migrates the database and makes a first
    /// durable write. Blocks while doing so; call it before serving.
    pub fn open_with(dir: impl AsRef<Path>, options: Options) -> Result<SqliteStorage, OpenError> {
        let dir = dir.as_ref().to_path_buf();
        let Opened {
            path,
            writer,
            readers,
            lock,
            witness,
        } = open::open(&dir, &options)?;
        let shown = path.display().to_string();

        let (writes, write_jobs) = mpsc::channel(QUEUE);
        let (reads, read_jobs) = mpsc::channel::<ReadJob>(QUEUE);
        let read_jobs = Arc::new(Mutex::new(read_jobs));
        let mut threads = Vec::with_capacity(readers.len() + 1);
        let spawn_failed = |e: std::io::Error| OpenError::Database {
            path: path.clone(),
            detail: format!("cannot start a storage thread: {e}"),
        };
        let max_batch = options.max_batch.max(1);
        let refusing = Arc::new(OnceLock::new());
        let latch = refusing.clone();
        let observer = options.on_commit.clone();
        let cache = Arc::new(Cache::new(options.cache_bytes));
        let told = cache.clone();
        threads.push(
            std::thread::Builder::new()
                .name("storage-writer".into())
                .spawn(move || {
                    threads::write_loop(
                        writer,
                        write_jobs,
                        max_batch,
                        shown,
                        witness,
                        latch,
                        threads::Told {
                            observer,
                            cache: told,
                        },
                    )
                })
                .map_err(spawn_failed)?,
        );
        for (i, conn) in readers.into_iter().enumerate() {
            let jobs = read_jobs.clone();
            threads.push(
                std::thread::Builder::new()
                    .name(format!("storage-reader-{i}"))
                    .spawn(move || threads::read_loop(conn, jobs))
                    .map_err(spawn_failed)?,
            );
        }
        tracing::debug!(database = %path.display(), "storage open");
        Ok(SqliteStorage {
            path,
            dir,
            writes: Some(writes),
            reads: Some(reads),
            threads,
            refusing,
            cache,
            _lock: lock,
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The database file.
    pub fn database(&self) -> &Path {
        &self.path
    }

    fn stopped(&self, operation: &'static str) -> StorageError {
        StorageError::Failed(Box::new(DatabaseError {
            operation,
            path: self.path.display().to_string(),
            detail: "the storage thread stopped".into(),
        }))
    }

    async fn write(&self, op: WriteOp) -> Result<(), StorageError> {
        let name = op.name();
        let (reply, outcome) = oneshot::channel();
        let sender = self.writes.as_ref().ok_or_else(|| self.stopped(name))?;
        sender
            .send(WriteJob { op, reply })
            .await
            .map_err(|_| self.stopped(name))?;
        outcome.await.map_err(|_| self.stopped(name))?
    }

    async fn read<T, F>(&self, operation: &'static str, f: F) -> Result<T, StorageError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, outcome) = oneshot::channel();
        let job: ReadJob = Box::new(move |conn| {
            let _ = reply.send(f(conn));
        });
        let sender = self.reads.as_ref().ok_or_else(|| self.stopped(operation))?;
        sender
            .send(job)
            .await
            .map_err(|_| self.stopped(operation))?;
        outcome
            .await
            .map_err(|_| self.stopped(operation))?
            .map_err(|e| threads::failed(operation, &self.path.display().to_string(), &e))
    }
}

impl SqliteStorage {
    /// Reads all of `user`'s keys (`None`: more than the cache holds for one
    /// user) through a reader thread and offers them to the cache.
    async fn load_user(
        &self,
        operation: &'static str,
        user: String,
        ticket: Ticket,
    ) -> Result<(String, Option<Keys>), StorageError> {
        let max = self.cache.max_entry_bytes();
        let (user, loaded) = self
            .read(operation, move |conn| {
                cache::load_user(conn, &user, max).map(|loaded| (user, loaded))
            })
            .await?;
        self.cache.keep_user(&user, ticket, &loaded);
        Ok((user, loaded))
    }
}

impl std::fmt::Debug for SqliteStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStorage")
            .field("database", &self.path)
            .finish_non_exhaustive()
    }
}

impl Drop for SqliteStorage {
    fn drop(&mut self) {
        // Closing the queues ends the threads once the queued jobs are done;
        // the writer commits what was sent, then each connection closes.
        self.writes = None;
        self.reads = None;
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn health(&self) -> Result<(), StorageError> {
        if let Some(reason) = self.refusing.get() {
            return Err(StorageError::Failed(Box::new(DatabaseError {
                operation: "write",
                path: self.path.display().to_string(),
                detail: format!("{reason}: every write is refused"),
            })));
        }
        match &self.writes {
            Some(sender) if !sender.is_closed() => Ok(()),
            _ => Err(self.stopped("write")),
        }
    }

    async fn get(&self, user: String, key: String) -> Result<Option<String>, StorageError> {
        let ticket = match self.cache.user(&user, |keys| keys.get(&key).cloned()) {
            Lookup::Hit(value) => return Ok(value),
            Lookup::Miss(ticket) => ticket,
            Lookup::Bypass => {
                return self
                    .read("get", move |conn| ops::get(conn, &user, &key))
                    .await;
            }
        };
        match self.load_user("get", user, ticket).await? {
            (_, Some(keys)) => Ok(keys.get(&key).cloned()),
            (user, None) => {
                self.read("get", move |conn| ops::get(conn, &user, &key))
                    .await
            }
        }
    }

    async fn set(
        &self,
        user: String,
        key: String,
        value: String,
        max_keys: usize,
    ) -> Result<(), StorageError> {
        self.write(WriteOp::Set {
            user,
            entries: vec![(key, value)],
            max_keys,
        })
        .await
    }

    async fn set_many(
        &self,
        user: String,
        entries: Vec<(String, String)>,
        max_keys: usize,
    ) -> Result<(), StorageError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.write(WriteOp::Set {
            user,
            entries,
            max_keys,
        })
        .await
    }

    async fn delete(&self, user: String, key: String) -> Result<(), StorageError> {
        self.write(WriteOp::Delete { user, key }).await
    }

    async fn all(
        &self,
        user: String,
        max_bytes: usize,
    ) -> Result<Vec<(String, String)>, StorageError> {
        let ticket = match self.cache.user(&user, |keys| cache::all(keys, max_bytes)) {
            Lookup::Hit(all) => return all.ok_or(StorageError::TooLarge { max_bytes }),
            Lookup::Miss(ticket) => Some(ticket),
            Lookup::Bypass => None,
        };
        let user = match ticket {
            Some(ticket) => match self.load_user("all", user, ticket).await? {
                (_, Some(keys)) => {
                    return cache::all(&keys, max_bytes)
                        .ok_or(StorageError::TooLarge { max_bytes });
                }
                (user, None) => user,
            },
            None => user,
        };
        self.read("all", move |conn| ops::all(conn, &user, max_bytes))
            .await?
            .ok_or(StorageError::TooLarge { max_bytes })
    }

    async fn favorites(&self, group: String) -> Result<Vec<Favorite>, StorageError> {
        match self.cache.group(&group) {
            Lookup::Hit(list) => Ok(list),
            Lookup::Bypass => {
                self.read("favorites", move |conn| ops::favorites(conn, &group))
                    .await
            }
            Lookup::Miss(ticket) => {
                let (group, list) = self
                    .read("favorites", move |conn| {
                        ops::favorites(conn, &group).map(|list| (group, list))
                    })
                    .await?;
                self.cache.keep_group(&group, ticket, &list);
                Ok(list)
            }
        }
    }

    async fn replace_favorites(
        &self,
        group: String,
        favorites: Vec<Favorite>,
    ) -> Result<(), StorageError> {
        self.write(WriteOp::ReplaceFavorites { group, favorites })
            .await
    }
}
