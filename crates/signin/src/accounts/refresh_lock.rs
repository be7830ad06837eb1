//! One refresh at a time per account across processes: an advisory lock on
//! a file of the account's own beside the account book (as MSAL's token
//! cache does), so that the desktop app and any number of `tessera`
//! processes never spend the same refresh token twice.
//!
//! The lock file is `refresh-locks/<hash>.lock` in the book's folder, named
//! by a hash of the account's key (issuer, client id, subject): a safe file
//! name whatever the subject holds, and nothing secret (the file is empty).
//! It is created with mode 0600 in a folder of mode 0700 and never removed
//! (removing it would let two processes lock two different files).
//!
//! The lock belongs to an open file (`flock` on Unix, `LockFileEx` on
//! Windows), not to a task: a process takes it once, under its own
//! in-process lock, and only around the load → refresh → save sequence.
//! Waiting is bounded: [`RefreshLock::acquire`] gives up after the time it
//! is given rather than hang behind a stuck process. The operating system
//! lets the lock go when its holder ends, however it ends.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::AccountKey;

/// The folder of the lock files, beside the account book.
pub const FOLDER: &str = "refresh-locks";

/// How often a waiting process tries the lock again.
const RETRY: Duration = Duration::from_millis(20);

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshLockError {
    /// Another process held the lock for longer than the wait allowed.
    #[error("another Tessera program has been refreshing this sign-in for more than {} s", waited.as_secs())]
    Busy {
        /// How long this process waited.
        waited: Duration,
    },
    /// The lock file could not be created or locked.
    #[error("cannot lock {}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// The cross-process refresh lock of one account, held until dropped.
#[derive(Debug)]
pub struct RefreshLock {
    /// The locked file: closing it releases the lock.
    _file: File,
}

impl RefreshLock {
    /// Where the refresh lock of `key` lives for the account book at `book`:
    /// `<book's folder>/refresh-locks/<32 hex digits>.lock`.
    #[must_use]
    pub fn path(book: &Path, key: &AccountKey) -> PathBuf {
        use sha2::{Digest as _, Sha256};
        let folder = match book.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let digest = Sha256::digest(format!("{}\n{}\n{}", key.issuer, key.client_id, key.subject).as_bytes());
        let name: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        folder.join(FOLDER).join(format!("{name}.lock"))
    }

    /// Takes the lock at `path` (from [`path`](Self::path)), waiting at most
    /// `wait` for another process to let it go. Blocks: async callers run
    /// it on a blocking thread.
    ///
    /// # Errors
    /// [`RefreshLockError::Busy`] when it is still held after `wait`;
    /// [`RefreshLockError::Io`] when the file cannot be created or locked.
    pub fn acquire(path: &Path, wait: Duration) -> Result<Self, RefreshLockError> {
        let io = |source| RefreshLockError::Io { path: path.to_path_buf(), source };
        let file = super::file::open_lock_file(path).map_err(io)?;
        let started = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self { _file: file }),
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(source)) => return Err(io(source)),
            }
            let waited = started.elapsed();
            if waited >= wait {
                return Err(RefreshLockError::Busy { waited });
            }
            std::thread::sleep(RETRY.min(wait - waited));
        }
    }
}

#[cfg(test)]
mod tests;
