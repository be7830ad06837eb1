//! The account book on disk: read, locked, written atomically (mode 0600),
//! a damaged file kept aside (see the [module docs](super)).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{Account, AccountBook, AccountsError, FILE_NAME};
use crate::AccountKey;

/// The file format's version.
const FORMAT_VERSION: u32 = 1;

/// What is in the file.
#[derive(Debug, Default, Serialize, Deserialize)]
struct BookFile {
    version: u32,
    #[serde(default)]
    active: Option<AccountKey>,
    #[serde(default)]
    accounts: Vec<Account>,
}

impl AccountBook {
    /// [`load`](Self::load) without keeping another copy of a damaged file.
    pub(super) fn load_quietly(path: PathBuf) -> Result<Self, AccountsError> {
        Self::read(path, false)
    }

    pub(super) fn read(path: PathBuf, keep_damaged: bool) -> Result<Self, AccountsError> {
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::empty(path)),
            Err(source) => {
                return Err(AccountsError::Io { action: "read", path, source });
            }
        };
        let file: BookFile = match serde_json::from_slice(&bytes) {
            Ok(file) => file,
            Err(source) => {
                let backup = if keep_damaged { keep_corrupt_copy(&path, &bytes) } else { None };
                tracing::warn!(path = %path.display(), error = %source, "account book damaged");
                return Err(AccountsError::Corrupt { path, backup, source });
            }
        };
        if file.version > FORMAT_VERSION {
            return Err(AccountsError::NewerFormat { path, version: file.version });
        }
        let mut book = Self { path, accounts: file.accounts, active: file.active };
        // An active key must name a listed account.
        if book.active.as_ref().is_some_and(|key| book.position(key).is_none()) {
            book.active = None;
        }
        Ok(book)
    }

    /// Makes `change` to the book as it is on disk now, under the book's
    /// lock, and saves it; on success this book becomes the result, on
    /// failure it is left as it was.
    pub(super) fn change<T>(
        &mut self,
        change: impl FnOnce(&mut Self) -> Result<T, AccountsError>,
    ) -> Result<T, AccountsError> {
        let _lock = self.lock()?;
        let mut next = match Self::load_quietly(self.path.clone()) {
            Ok(on_disk) => on_disk,
            // A damaged file was reported (and kept) when this book was
            // loaded; starting over from this copy replaces it.
            Err(AccountsError::Corrupt { .. }) => self.clone(),
            Err(error) => return Err(error),
        };
        let result = change(&mut next)?;
        next.save()?;
        *self = next;
        Ok(result)
    }

    /// An exclusive lock on `<file>.lock` (mode 0600), held until dropped.
    /// The lock file itself is never removed (removing it would let two
    /// processes lock two different files).
    fn lock(&self) -> Result<fs::File, AccountsError> {
        let name = self.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let path = self.path.with_file_name(format!("{name}.lock"));
        let io = |source| AccountsError::Io { action: "lock", path: path.clone(), source };
        let file = open_lock_file(&path).map_err(io)?;
        file.lock().map_err(io)?;
        Ok(file)
    }

    /// Writes the book atomically: a new file (mode 0600) in the same folder,
    /// flushed, renamed over the old one, and the folder flushed.
    fn save(&self) -> Result<(), AccountsError> {
        let file = BookFile { version: FORMAT_VERSION, active: self.active.clone(), accounts: self.accounts.clone() };
        let mut json = serde_json::to_vec_pretty(&file).map_err(|e| AccountsError::Io {
            action: "encode",
            path: self.path.clone(),
            source: std::io::Error::other(e),
        })?;
        json.push(b'\n');
        write_atomically(&self.path, &json)
    }
}

/// Copies a damaged book to `<file>.corrupt` (or `.corrupt.N` when that
/// exists), mode 0600. Returns where, or `None` when the copy failed.
fn keep_corrupt_copy(path: &Path, bytes: &[u8]) -> Option<PathBuf> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    for n in 0..100 {
        let candidate = if n == 0 {
            path.with_file_name(format!("{name}.corrupt"))
        } else {
            path.with_file_name(format!("{name}.corrupt.{n}"))
        };
        match create_private(&candidate) {
            Ok(mut file) => {
                return match file.write_all(bytes).and_then(|()| file.sync_all()) {
                    Ok(()) => Some(candidate),
                    Err(e) => {
                        tracing::warn!(path = %candidate.display(), error = %e, "could not keep a copy of the damaged account book");
                        None
                    }
                };
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                tracing::warn!(path = %candidate.display(), error = %e, "could not keep a copy of the damaged account book");
                return None;
            }
        }
    }
    None
}

/// Creates a new file readable and writable by its owner only.
fn create_private(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

/// Creates `dir` and its parents, mode 0700 for those it creates.
/// Opens (creating it, mode 0600, in a private folder made as needed) the
/// lock file at `path`; never truncates or removes it.
pub(super) fn open_lock_file(path: &Path) -> std::io::Result<fs::File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options.open(path)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), AccountsError> {
    let io = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| AccountsError::Io { action, path, source }
    };
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir(&dir).map_err(io("create the folder of", &dir))?;

    let name = path.file_name().map_or_else(|| FILE_NAME.into(), |n| n.to_string_lossy().into_owned());
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let temp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let result = (|| {
        let mut file = create_private(&temp).map_err(io("create", &temp))?;
        file.write_all(bytes).map_err(io("write", &temp))?;
        file.sync_all().map_err(io("flush", &temp))?;
        drop(file);
        fs::rename(&temp, path).map_err(io("replace", path))?;
        // Make the rename itself durable.
        #[cfg(unix)]
        if let Ok(dir) = fs::File::open(&dir) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}
