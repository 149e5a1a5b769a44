//! Opening a data directory: the directory checks, the lock, the connections
//! and their settings, the integrity and version checks, the migrations and a
//! first durable write, each failure turned into one [`OpenError`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

use crate::OpenError;
use crate::lock::DirLock;
use crate::schema::{self, Found, SCHEMA_VERSION};
use crate::witness::Witness;

/// The database's file name in the data directory (with `-wal` and `-shm`
/// files beside it while it is open).
pub const DATABASE_FILE: &str = "switchboard.db";

/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = "switchboard.lock";

/// A marker written beside the database once it holds the schema: its
/// presence says that the directory held a database, so that one found missing
/// or empty later is refused rather than silently started anew
/// ([`OpenError::EmptyDatabase`]).
pub const MARKER_FILE: &str = "switchboard.created";

/// Tuning for [`SqliteStorage::open_with`](crate::SqliteStorage::open_with);
/// [`Options::default`] suits a server.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Options {
    /// Reader threads, each with its own connection (default 4, at least 1).
    pub readers: usize,
    /// Most writes committed together in one transaction (default 256).
    pub max_batch: usize,
    /// How long a statement waits for a lock held by another connection, such
    /// as the `sqlite3` shell's, before failing (default 5 s).
    pub busy_timeout: Duration,
    /// Caps the database file's size; a write that would grow it further fails
    /// as on a full disk (default: no cap). Rounded down to whole pages.
    pub max_database_bytes: Option<u64>,
    /// Runs SQLite's `quick_check` over the whole file at open, so that damage
    /// is reported at start-up rather than by the first request that meets it
    /// (default on; it reads the whole file).
    pub verify_on_open: bool,
    /// Refuses to start when the data directory's file system has less room
    /// than this (default 1 MiB: a few of the largest writes and a checkpoint).
    /// On a full disk SQLite may still fit a small write into its log, so the
    /// free space is what tells that a server would soon fail its users.
    pub min_free_bytes: u64,
    /// Starts on a missing or empty database even though the directory shows
    /// it held one ([`MARKER_FILE`]); without it, such a start fails with
    /// [`OpenError::EmptyDatabase`] (default off: data lost outside the server
    /// must be noticed, not served as an empty PBX).
    pub accept_empty_database: bool,
    /// Called after every commit with its size and duration, on the writer
    /// thread (default: none), for a server's metrics.
    pub on_commit: Option<crate::CommitObserver>,
    /// Bytes of users' keys and groups' favorites held in memory for reads
    /// (default 32 MiB; 0 reads every time from the database). A user or
    /// group larger than an eighth of it is read from the database each time;
    /// the oldest loads are dropped to make room (`docs/storage.md`).
    pub cache_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            readers: 4,
            max_batch: 256,
            busy_timeout: Duration::from_secs(5),
            max_database_bytes: None,
            verify_on_open: true,
            min_free_bytes: 1024 * 1024,
            accept_empty_database: false,
            on_commit: None,
            cache_bytes: 32 * 1024 * 1024,
        }
    }
}

/// An opened data directory: the writer's connection, the readers', the lock.
pub(crate) struct Opened {
    pub(crate) path: PathBuf,
    pub(crate) writer: Connection,
    pub(crate) readers: Vec<Connection>,
    pub(crate) lock: DirLock,
    pub(crate) witness: Witness,
}

pub(crate) fn open(dir: &Path, options: &Options) -> Result<Opened, OpenError> {
    prepare_directory(dir)?;
    let lock = DirLock::acquire(dir)?;
    check_free_space(dir, options.min_free_bytes)?;
    let path = dir.join(DATABASE_FILE);
    let fail = Failure {
        dir,
        path: &path,
        min_free: options.min_free_bytes.max(1024 * 1024),
    };
    let created = !path.exists();
    let marker = dir.join(MARKER_FILE);
    let held_one = marker.exists() && !options.accept_empty_database;
    let empty = |state| OpenError::EmptyDatabase {
        path: path.clone(),
        state,
        marker: marker.clone(),
    };
    if created && held_one {
        // Refused before SQLite creates an empty file in its place.
        return Err(empty("missing"));
    }

    let mut writer = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| fail.classify(&e))?;
    configure_writer(&writer, options).map_err(|e| fail.classify(&e))?;
    if created {
        // The new file's directory entry must survive a power cut too.
        sync_directory(dir).map_err(|source| OpenError::Inaccessible {
            dir: dir.to_path_buf(),
            source,
        })?;
    }
    let version = match schema::check(&writer).map_err(|e| fail.classify(&e))? {
        Found::Ours { version } => version,
        Found::Newer { version } => {
            return Err(OpenError::NewerSchema {
                path,
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        Found::Foreign { detail } => return Err(OpenError::Corrupt { path, detail }),
    };
    if version == 0 && held_one {
        return Err(empty("empty"));
    }
    if options.verify_on_open && version > 0 {
        verify(&writer).map_err(|e| fail.classify(&e))?;
    }
    schema::migrate(&mut writer, version).map_err(|e| fail.classify(&e))?;
    // A first durable write: a disk that is full or read-only is reported now,
    // not by the first user who saves a setting.
    writer
        .execute(
            "INSERT INTO meta (name, value) VALUES ('last_opened_by_pid', ?1)
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            [std::process::id().to_string()],
        )
        .map_err(|e| fail.classify(&e))?;
    let inaccessible = |source| OpenError::Inaccessible {
        dir: dir.to_path_buf(),
        source,
    };
    write_marker(dir, &marker).map_err(inaccessible)?;
    // The log exists from the first write until the last connection closes.
    let wal = dir.join(format!("{DATABASE_FILE}-wal"));
    let witness = Witness::new(dir, &path, &wal).map_err(inaccessible)?;

    let readers = (0..options.readers.max(1))
        .map(|_| open_reader(&path, options))
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(|e| fail.classify(&e))?;
    Ok(Opened {
        path,
        writer,
        readers,
        lock,
        witness,
    })
}

/// Writes [`MARKER_FILE`] once the database holds the schema, durably: the
/// check it enables must survive the power cut that follows.
fn write_marker(dir: &Path, marker: &Path) -> std::io::Result<()> {
    use std::io::Write as _;
    if marker.exists() {
        return Ok(());
    }
    let mut file = std::fs::File::create(marker)?;
    writeln!(
        file,
        "This directory holds a switchboard database ({DATABASE_FILE}). While this \
         file exists, a server refuses to start on a missing or empty database \
         (see docs/storage.md)."
    )?;
    file.sync_all()?;
    sync_directory(dir)
}

/// Creates the directory if needed and checks that it is one we can use.
fn prepare_directory(dir: &Path) -> Result<(), OpenError> {
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            return Err(OpenError::NotADirectory {
                dir: dir.to_path_buf(),
            });
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDirectory {
                dir: dir.to_path_buf(),
                source,
            })?;
        }
        Err(source) => {
            return Err(OpenError::Inaccessible {
                dir: dir.to_path_buf(),
                source,
            });
        }
    }
    // Listing catches a directory we may enter but not read; the lock file,
    // created next, catches one we cannot write.
    std::fs::read_dir(dir)
        .map(drop)
        .map_err(|source| OpenError::Inaccessible {
            dir: dir.to_path_buf(),
            source,
        })
}

fn check_free_space(dir: &Path, min_free_bytes: u64) -> Result<(), OpenError> {
    // A file system that cannot say is given the benefit of the doubt: the
    // first write below still reports a full disk.
    match fs4::available_space(dir) {
        Ok(free) if free < min_free_bytes => Err(OpenError::DiskFull {
            dir: dir.to_path_buf(),
            detail: format!(
                "{} KiB free, at least {} KiB needed",
                free / 1024,
                min_free_bytes.div_ceil(1024)
            ),
        }),
        _ => Ok(()),
    }
}

fn configure_writer(conn: &Connection, options: &Options) -> rusqlite::Result<()> {
    conn.busy_timeout(options.busy_timeout)?;
    // WAL: a commit is one append and one fsync of the log, and readers never
    // wait for the writer. FULL: that fsync happens at every commit, so a
    // committed transaction survives a power cut (NORMAL would not promise it).
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!(
                "the file system does not support SQLite's write-ahead log \
                 (journal mode stayed {mode}); use a local disk"
            )),
        ));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    // macOS: fsync alone does not reach the platter; F_FULLFSYNC does. No-op elsewhere.
    conn.pragma_update(None, "fullfsync", true)?;
    conn.pragma_update(None, "checkpoint_fullfsync", true)?;
    // Keep the log from staying large after a burst of writes.
    conn.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    if let Some(bytes) = options.max_database_bytes {
        let page_size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let page_size = u64::try_from(page_size).unwrap_or(4096).max(1);
        let pages = i64::try_from(bytes / page_size).unwrap_or(i64::MAX).max(1);
        conn.pragma_update(None, "max_page_count", pages)?;
    }
    Ok(())
}

fn open_reader(path: &Path, options: &Options) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(options.busy_timeout)?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

/// `quick_check`: every page and index entry is well-formed.
fn verify(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("PRAGMA quick_check(1)")?;
    let problems: Vec<String> = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<_>>()?;
    if problems.len() == 1 && problems[0] == "ok" {
        return Ok(());
    }
    Err(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
        Some(format!("quick_check: {}", problems.join("; "))),
    ))
}

#[cfg(unix)]
fn sync_directory(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_directory(_dir: &Path) -> std::io::Result<()> {
    // Windows makes a new file's directory entry durable with the file.
    Ok(())
}

/// Turns an SQLite error at open into the [`OpenError`] a person can act on.
struct Failure<'a> {
    dir: &'a Path,
    path: &'a Path,
    min_free: u64,
}

impl Failure<'_> {
    fn classify(&self, error: &rusqlite::Error) -> OpenError {
        let detail = one_line(error);
        match error.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => OpenError::Corrupt {
                path: self.path.to_path_buf(),
                detail,
            },
            Some(ErrorCode::DiskFull) => OpenError::DiskFull {
                dir: self.dir.to_path_buf(),
                detail,
            },
            // SQLite reports some writes on a full disk as plain I/O errors (the
            // WAL index cannot grow, a write comes up short): ask the disk.
            Some(ErrorCode::SystemIoFailure)
                if fs4::available_space(self.dir).is_ok_and(|free| free < self.min_free) =>
            {
                OpenError::DiskFull {
                    dir: self.dir.to_path_buf(),
                    detail: format!(
                        "{detail}, with {} KiB free",
                        fs4::available_space(self.dir).unwrap_or(0) / 1024
                    ),
                }
            }
            _ => OpenError::Database {
                path: self.path.to_path_buf(),
                detail,
            },
        }
    }
}

/// SQLite's message with its extended code, on one line.
pub(crate) fn one_line(error: &rusqlite::Error) -> String {
    let text = match error {
        rusqlite::Error::SqliteFailure(code, Some(message)) => {
            format!("{message} (SQLite error {})", code.extended_code)
        }
        rusqlite::Error::SqliteFailure(code, None) => {
            format!("{code} (SQLite error {})", code.extended_code)
        }
        other => other.to_string(),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
