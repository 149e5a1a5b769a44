//! Whether the files the writer commits into are still the ones a restart will
//! open: the data directory, the database and its write-ahead log, by their
//! identity (device and inode) recorded at open, and the database by its size.
//!
//! SQLite writes through descriptors it opened at start. If the directory or a
//! file is deleted or replaced while the server runs, commits still succeed,
//! into files nobody will ever open again (or, emptied in place, into a file
//! whose pages are gone): every write acknowledged from then
//! on is lost at the next start. The writer asks [`Witness::check`] before and
//! after each batch, and refuses the batch instead.

use std::cell::Cell;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// The identity of the files at open, and our own handles on them.
#[derive(Debug)]
pub(crate) struct Witness {
    dir: Place,
    database: Place,
    wal: Place,
}

/// What went wrong with the files.
#[derive(Debug, Clone)]
pub(crate) struct Fault {
    /// One line for the log and the error.
    pub(crate) reason: String,
    /// A file or the directory is gone or replaced: it will not come back, so
    /// every later write is refused too. (A failed `stat` for another reason
    /// fails only the batch.)
    pub(crate) permanent: bool,
}

impl Witness {
    /// Records the identity of `dir`, `database` and `wal`, which must exist.
    pub(crate) fn new(dir: &Path, database: &Path, wal: &Path) -> io::Result<Witness> {
        Ok(Witness {
            dir: Place::new("the data directory", dir, false)?,
            database: Place::new("the database", database, true)?,
            wal: Place::new("the write-ahead log", wal, false)?,
        })
    }

    /// `Ok` while a restart would open the files the writer writes into.
    pub(crate) fn check(&self) -> Result<(), Fault> {
        // The directory first: when it is gone, that is the news, not its files.
        self.dir.check()?;
        self.database.check()?;
        self.wal.check()
    }
}

/// One file (or directory) as opened at start.
#[derive(Debug)]
struct Place {
    what: &'static str,
    path: PathBuf,
    /// Held open, so that its link count says whether it still has a name
    /// (Windows opens no directory as a `File`; there the path check serves).
    handle: Option<File>,
    id: Id,
    /// Watch for the file emptied in place: set for the database, which never
    /// shrinks to nothing once it holds pages (no VACUUM, no auto-vacuum),
    /// unlike the log, which a checkpoint may reset.
    watch_len: bool,
    /// It held pages: the database may start empty (its pages still in the log).
    had_pages: Cell<bool>,
}

impl Place {
    fn new(what: &'static str, path: &Path, watch_len: bool) -> io::Result<Place> {
        let handle = if cfg!(unix) {
            Some(File::open(path)?)
        } else {
            File::open(path).ok()
        };
        let meta = std::fs::metadata(path)?;
        Ok(Place {
            what,
            path: path.to_path_buf(),
            handle,
            id: Id::of(&meta),
            watch_len,
            had_pages: Cell::new(meta.len() > 0),
        })
    }

    fn check(&self) -> Result<(), Fault> {
        let gone = |how: &str| Fault {
            reason: format!("{} {} was {how}", self.what, self.path.display()),
            permanent: true,
        };
        let unsure = |e: io::Error| Fault {
            reason: format!("cannot check {} {}: {e}", self.what, self.path.display()),
            permanent: false,
        };
        match std::fs::metadata(&self.path) {
            Ok(meta) if Id::of(&meta) != self.id => return Err(gone("replaced")),
            Ok(meta) if self.watch_len => {
                if meta.len() > 0 {
                    self.had_pages.set(true);
                } else if self.had_pages.get() {
                    return Err(gone("truncated to nothing"));
                }
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(gone("deleted")),
            Err(e) => return Err(unsure(e)),
        }
        // A new file may get the deleted one's inode number: the link count of
        // the one we hold tells them apart.
        match self.handle.as_ref().map(File::metadata) {
            Some(Ok(meta)) if unlinked(&meta) => Err(gone("deleted")),
            Some(Ok(_)) | None => Ok(()),
            Some(Err(e)) => Err(unsure(e)),
        }
    }
}

/// Device and inode: what makes a file the same file, whatever its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Id {
    #[cfg(unix)]
    dev: u64,
    #[cfg(unix)]
    ino: u64,
}

impl Id {
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Id {
        use std::os::unix::fs::MetadataExt as _;
        Id {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    /// Windows refuses to delete or rename a file that is open, so the path
    /// check alone covers it.
    #[cfg(not(unix))]
    fn of(_meta: &std::fs::Metadata) -> Id {
        Id {}
    }
}

/// A file whose last name is gone (deleted, or its directory deleted).
#[cfg(unix)]
fn unlinked(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    meta.nlink() == 0
}

#[cfg(not(unix))]
fn unlinked(_meta: &std::fs::Metadata) -> bool {
    false
}
