//! Durable user data for any PBX backend: [`SqliteStorage`] keeps every user's
//! `dict_*` keys and every admin group's favorites in one SQLite database, and
//! acknowledges a write only once it is committed to disk.
//!
//! It implements the [`Storage`](pbx_user_data::Storage) trait of
//! `pbx-user-data`, so `UserData::new` puts the `dict_*` and favorites rules
//! on top of it for any backend, and `MemoryPbx::with_storage` makes the
//! simulated PBX durable; it depends on neither the simulator, nor XML-RPC,
//! nor HTTP. `docs/storage.md` describes the design, the durability
//! guarantees, the schema and how to back the data up.
//!
//! - **Durable acknowledgements**: the database runs in WAL mode with
//!   `synchronous=FULL`, so a commit returns after the log is fsynced; a write
//!   method returns only after its commit.
//! - **Group commit**: one writer thread drains every pending write into one
//!   transaction, each write in its own savepoint, so concurrent writers share an
//!   fsync and one failing write fails only itself.
//! - **Reads from memory**: a bounded read cache ([`Options::cache_bytes`])
//!   holds the users and groups read lately, loaded by reader threads with
//!   their own connections and updated by the writer after each commit (never
//!   before), so a read answers from memory and an async caller awaits a
//!   channel only for a user's first read, even when the disk is slow.
//! - **One server per directory**: an advisory lock on `switchboard.lock` and
//!   on the directory itself, so deleting the lock file lets no second server in.
//! - **Data lost outside the server is noticed**: a write is refused (and the
//!   refusal logged once, at error level) when the data directory, the database
//!   or its log was deleted or replaced while the server ran, since a restart
//!   would not find it; a database found missing or empty where the directory
//!   held one ([`MARKER_FILE`]) stops the start with
//!   [`OpenError::EmptyDatabase`] unless [`Options::accept_empty_database`].
//! - **Clear start-up failures** ([`OpenError`]): an unusable directory, a
//!   database that is corrupt, foreign or from a newer version, a full disk
//!   (less free space than [`Options::min_free_bytes`], or a first write that
//!   does not fit). Schema versions are kept in `PRAGMA user_version` and
//!   migrated forward.
//! - **Bounded reads**: `all` sums the sizes of a user's keys and values in
//!   SQL first and refuses ([`StorageError::TooLarge`](pbx_user_data::StorageError::TooLarge))
//!   without copying them when they pass the bound asked for.
//! - **Failures during operation** fail only the call: a write that meets a
//!   full disk or an I/O error returns
//!   [`StorageError::Failed`](pbx_user_data::StorageError::Failed) and changes
//!   nothing; reads go on.
//!
//! It must not know XML-RPC, HTTP or the PBX's live state: it stores strings
//! and favorites for named users and groups.
//!
//! ```
//! use std::sync::Arc;
//! use pbx_storage_sqlite::SqliteStorage;
//! use pbx_user_data::{StorageLimits, UserData};
//!
//! # let dir = tempfile::tempdir().unwrap();
//! # let data_dir = dir.path().join("data");
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let storage = Arc::new(SqliteStorage::open(&data_dir)?);
//! let data = UserData::new(storage, StorageLimits::default());
//! data.dict_set("203", "crm.url", "https://crm.example/").await?;
//! drop(data); // closes the database and releases the directory
//!
//! // A new server on the same directory finds the key.
//! let storage = Arc::new(SqliteStorage::open(&data_dir)?);
//! let data = UserData::new(storage, StorageLimits::default());
//! assert_eq!(data.dict_get("203", "crm.url").await?, "https://crm.example/");
//!
//! // The simulated PBX takes it the same way:
//! // `MemoryPbx::demo().with_storage(Arc::new(SqliteStorage::open(&data_dir)?))`.
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod cache;
mod error;
mod lock;
mod observe;
mod open;
mod ops;
mod schema;
mod storage;
mod threads;
mod witness;

pub use error::OpenError;
pub use observe::{Commit, CommitObserver};
pub use open::{DATABASE_FILE, LOCK_FILE, MARKER_FILE, Options};
pub use schema::SCHEMA_VERSION;
pub use storage::SqliteStorage;

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
