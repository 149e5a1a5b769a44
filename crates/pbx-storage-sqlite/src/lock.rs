//! The data directory's lock: an advisory lock on `switchboard.lock` and (on
//! Unix) on the directory itself, held for as long as the storage is open and
//! released by the kernel when the process ends, however it ends.
//!
//! The lock file alone is not enough: deleting it while a server runs would let
//! a second server create a new one, lock that, and write into the same
//! database. A directory cannot be deleted and recreated under the same
//! open descriptor, so the lock on the directory holds whatever happens to the
//! files inside it; the lock file stays for the holder's process id (and for
//! older servers, which lock only it).

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::Path;

use crate::OpenError;
use crate::open::LOCK_FILE;

/// The held locks; dropping them releases the directory.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
    _dir: Option<File>,
}

impl DirLock {
    /// Takes the locks of `dir`, or says who holds them.
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, OpenError> {
        let path = dir.join(LOCK_FILE);
        let inaccessible = |source| OpenError::Inaccessible {
            dir: dir.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(inaccessible)?;
        let locked = |holder| OpenError::Locked {
            dir: dir.to_path_buf(),
            holder,
        };
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                // The holder wrote its process id; say who it is when we can.
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = match text.trim().parse::<u32>() {
                    Ok(pid) => format!("{} (pid {pid})", path.display()),
                    Err(_) => path.display().to_string(),
                };
                return Err(locked(holder));
            }
            Err(fs4::TryLockError::Error(e)) => return Err(inaccessible(e)),
        }
        let dir_lock = lock_directory(dir).map_err(|e| match e {
            fs4::TryLockError::WouldBlock => locked(format!(
                "on the directory itself ({} was deleted or replaced while it ran)",
                path.display()
            )),
            fs4::TryLockError::Error(e) => inaccessible(e),
        })?;
        // Only for people reading the file: the lock itself is what counts, so a
        // failure to write the id is no reason to refuse to start.
        let _ = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| writeln!(file, "{}", std::process::id()));
        Ok(DirLock {
            _file: file,
            _dir: dir_lock,
        })
    }
}

/// `flock` on the directory's own descriptor.
#[cfg(unix)]
fn lock_directory(dir: &Path) -> Result<Option<File>, fs4::TryLockError> {
    let handle = File::open(dir).map_err(fs4::TryLockError::Error)?;
    fs4::FileExt::try_lock(&handle)?;
    Ok(Some(handle))
}

/// Windows does not let a file in use be deleted, so the lock file suffices.
#[cfg(not(unix))]
fn lock_directory(_dir: &Path) -> Result<Option<File>, fs4::TryLockError> {
    Ok(None)
}
