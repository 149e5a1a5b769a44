//! [`OpenError`]: why a data directory could not be opened, in one line each.

use std::path::PathBuf;

/// Why [`SqliteStorage::open`](crate::SqliteStorage::open) failed. Each message
/// is one line that names the directory or file and what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The directory does not exist and cannot be created.
    #[error("cannot create the data directory {dir}: {source}")]
    CreateDirectory {
        /// The data directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The path exists but is not a directory.
    #[error("the data directory {dir} is not a directory")]
    NotADirectory {
        /// The data directory.
        dir: PathBuf,
    },
    /// The directory cannot be read or written.
    #[error("cannot use the data directory {dir}: {source}")]
    Inaccessible {
        /// The data directory.
        dir: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Another server (or another storage in this process) holds the directory.
    #[error(
        "the data directory {dir} is in use: another switchboard server holds its lock {holder}"
    )]
    Locked {
        /// The data directory.
        dir: PathBuf,
        /// Who holds it, for the message: `(pid 1234)` when the lock file says so.
        holder: String,
    },
    /// The database file is damaged, or is no switchboard database.
    #[error(
        "the database {path} is corrupt or not a switchboard database ({detail}); \
         restore it from a backup (docs/storage.md), or move it away and accept starting \
         empty (serve --accept-empty-database)"
    )]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What SQLite found.
        detail: String,
    },
    /// The database is missing or empty, but the directory held one before:
    /// its data was lost outside the server (deleted, truncated, a failed
    /// restore). Starting would silently serve nothing, so the server refuses
    /// unless [`Options::accept_empty_database`](crate::Options::accept_empty_database).
    #[error(
        "the database {path} is {state}, but {marker} shows that this directory held one: \
         restore it from a backup (docs/storage.md), or accept starting empty \
         (serve --accept-empty-database)"
    )]
    EmptyDatabase {
        /// The database file.
        path: PathBuf,
        /// `missing` or `empty`.
        state: &'static str,
        /// The marker file written when the database was first created.
        marker: PathBuf,
    },
    /// The database was written by a newer switchboard.
    #[error(
        "the database {path} has schema version {found}, newer than this switchboard's \
         {supported}: run the newer switchboard, or restore a backup made for this one"
    )]
    NewerSchema {
        /// The database file.
        path: PathBuf,
        /// Its schema version.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// The disk (or the database's size cap) is full.
    #[error("the disk holding {dir} is full ({detail}): free some space and start again")]
    DiskFull {
        /// The data directory.
        dir: PathBuf,
        /// What failed.
        detail: String,
    },
    /// Any other failure of the database.
    #[error("cannot open the database {path}: {detail}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        detail: String,
    },
}
