//! Durable storage for the simulated PBX: [`SqliteStorage`] keeps every user's
//! `dict_*` keys and every admin group's favorites in one SQLite database, and
//! acknowledges a write only once it is committed to disk.
//!
//! It implements the [`Storage`](pbx_backend_memory::Storage) trait of
//! `pbx-backend-memory`, so `MemoryPbx::with_storage` makes the simulated PBX
//! durable; it knows nothing of XML-RPC or HTTP. `docs/storage.md` describes the
//! design, the durability guarantees, the schema and how to back the data up.
//!
//! - **Durable acknowledgements**: the database runs in WAL mode with
//!   `synchronous=FULL`, so a commit returns after the log is fsynced; a write
//!   method returns only after its commit.
//! - **Group commit**: one writer thread drains every pending write into one
//!   transaction, each write in its own savepoint, so concurrent writers share an
//!   fsync and one failing write fails only itself.
//! - **Reads off the runtime**: reader threads with their own connections answer
//!   reads; an async caller only awaits a channel, even when the disk is slow.
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
//! - **Failures during operation** fail only the call: a write that meets a
//!   full disk or an I/O error returns
//!   [`StorageError::Failed`](pbx_backend_memory::StorageError::Failed) and changes
//!   nothing; reads go on.
//!
//! It must not know XML-RPC, HTTP or the PBX's live state: it stores strings
//! and favorites for named users and groups.
//!
//! ```
//! use std::sync::Arc;
//! use pbx_backend::PbxBackend;
//! use pbx_backend_memory::MemoryPbx;
//! use pbx_storage_sqlite::SqliteStorage;
//!
//! # let dir = tempfile::tempdir().unwrap();
//! # let data_dir = dir.path().join("data");
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let storage = SqliteStorage::open(&data_dir)?;
//! let pbx = MemoryPbx::demo().with_storage(Arc::new(storage));
//! let user = pbx.authenticate("203", "203").await?.expect("the demo user");
//! pbx.dict_set(&user, "crm.url", "https://crm.example/").await?;
//! drop(pbx); // closes the database and releases the directory
//!
//! // A new server on the same directory finds the key.
//! let pbx = MemoryPbx::demo().with_storage(Arc::new(SqliteStorage::open(&data_dir)?));
//! assert_eq!(pbx.dict_get(&user, "crm.url").await?, "https://crm.example/");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod error;
mod lock;
mod open;
mod ops;
mod schema;
mod storage;
mod threads;
mod witness;

pub use error::OpenError;
pub use open::{DATABASE_FILE, LOCK_FILE, MARKER_FILE, Options};
pub use schema::SCHEMA_VERSION;
pub use storage::SqliteStorage;

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
