//! The account book: who has signed in, at which provider, and which account
//! is active. Non-secret metadata only, in a small JSON file beside the
//! configuration; refresh tokens live in a [`TokenStore`](crate::store::TokenStore).
//!
//! Every change is written at once and atomically (a temporary file in the
//! same folder, flushed to disk, then renamed over the old one), with mode
//! 0600. A file that cannot be read as an account book is never silently
//! dropped: [`AccountBook::load`] keeps a copy beside it (`accounts.json.corrupt`)
//! and reports [`AccountsError::Corrupt`].
//!
//! The CLI and the desktop app share the book. Each change is made to the
//! book as it is on disk at that moment, under an exclusive lock on
//! `accounts.json.lock`: a change another process made since this one read
//! the book is kept, never overwritten with an older copy.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{AccountKey, Identity, SignedIn};

/// The account book's file name, in the config folder.
pub const FILE_NAME: &str = "accounts.json";

/// The file format version written.
const FORMAT_VERSION: u32 = 1;

/// One account: non-secret facts only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Who, where, for which app: also names the account's keyring entry.
    pub key: AccountKey,
    /// What the provider said about the person.
    pub identity: Identity,
    /// When the account was last signed in to or made active (Unix seconds).
    pub last_used: u64,
    /// The refresh token stopped working (`invalid_grant`, or it is gone):
    /// the person has to sign in again.
    #[serde(default)]
    pub needs_sign_in: bool,
}

impl Account {
    /// The account's printable id ([`AccountKey::id`]).
    #[must_use]
    pub fn id(&self) -> String {
        self.key.id()
    }

    /// A short name for people: the email, else the login, else the name,
    /// else the subject.
    #[must_use]
    pub fn display_name(&self) -> &str {
        self.identity
            .email
            .as_deref()
            .or(self.identity.preferred_username.as_deref())
            .or(self.identity.name.as_deref())
            .unwrap_or(&self.key.subject)
    }
}

/// An account book failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AccountsError {
    /// No home or config folder could be determined for this user.
    #[error("no folder for Tessera's account book could be determined (is HOME set?)")]
    NoDataDir,
    /// Reading or writing the file failed.
    #[error("could not {action} the account book {}", path.display())]
    Io {
        /// What was being done: `read`, `write`, ….
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not an account book. It was left in place, and a copy
    /// kept at `backup` (when the copy could be made).
    #[error(
        "the account book {} is damaged{}; start over with an empty one to continue",
        path.display(),
        backup.as_ref().map(|b| format!(" (a copy is kept at {})", b.display())).unwrap_or_default()
    )]
    Corrupt {
        /// The damaged file.
        path: PathBuf,
        /// Where its copy was kept.
        backup: Option<PathBuf>,
        /// Why it could not be read (position only, never its content).
        #[source]
        source: serde_json::Error,
    },
    /// The file was written by a newer Tessera.
    #[error("the account book {} has format version {version}, newer than this Tessera understands", path.display())]
    NewerFormat {
        /// The file.
        path: PathBuf,
        /// Its version.
        version: u32,
    },
    /// No account matches.
    #[error("no account matches \"{query}\"")]
    NoSuchAccount {
        /// What was looked for.
        query: String,
    },
    /// Several accounts match; the person has to say which.
    #[error("\"{query}\" matches several accounts: {}", candidates.join(", "))]
    AmbiguousAccount {
        /// What was looked for.
        query: String,
        /// The matching accounts' ids.
        candidates: Vec<String>,
    },
}

/// What is in the file.
#[derive(Debug, Default, Serialize, Deserialize)]
struct BookFile {
    version: u32,
    #[serde(default)]
    active: Option<AccountKey>,
    #[serde(default)]
    accounts: Vec<Account>,
}

/// The account book, loaded from its file; each change is saved at once.
#[derive(Debug, Clone)]
pub struct AccountBook {
    path: PathBuf,
    accounts: Vec<Account>,
    active: Option<AccountKey>,
}

impl AccountBook {
    /// Where the account book lives by default: `accounts.json` beside the
    /// configuration file, in the platform config folder
    /// (`~/.config/tessera` on Linux, as `ProjectDirs::from("com", "example",
    /// "tessera")` says).
    ///
    /// # Errors
    ///
    /// [`AccountsError::NoDataDir`] when there is no home folder.
    pub fn default_path() -> Result<PathBuf, AccountsError> {
        directories::ProjectDirs::from("com", "example", "tessera")
            .map(|dirs| dirs.config_dir().join(FILE_NAME))
            .ok_or(AccountsError::NoDataDir)
    }

    /// An empty book that will be saved at `path` on the first change, for
    /// starting over after [`AccountsError::Corrupt`].
    #[must_use]
    pub fn empty(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), accounts: Vec::new(), active: None }
    }

    /// Reads the book at `path`; a missing file is an empty book.
    ///
    /// # Errors
    ///
    /// [`AccountsError::Io`] when the file cannot be read,
    /// [`AccountsError::Corrupt`] when it is not an account book (a copy is
    /// kept as `<file>.corrupt` and the file is left as it is),
    /// [`AccountsError::NewerFormat`] for a file from a newer Tessera.
    pub fn load(path: impl Into<PathBuf>) -> Result<Self, AccountsError> {
        Self::read(path.into(), true)
    }

    /// [`load`](Self::load) without keeping another copy of a damaged file.
    fn load_quietly(path: PathBuf) -> Result<Self, AccountsError> {
        Self::read(path, false)
    }

    fn read(path: PathBuf, keep_damaged: bool) -> Result<Self, AccountsError> {
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

    /// The file this book is saved to.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every account, most recently used first.
    #[must_use]
    pub fn list(&self) -> Vec<&Account> {
        let mut accounts: Vec<&Account> = self.accounts.iter().collect();
        accounts.sort_by(|a, b| b.last_used.cmp(&a.last_used).then_with(|| a.key.cmp(&b.key)));
        accounts
    }

    /// The active account, if any.
    #[must_use]
    pub fn active(&self) -> Option<&Account> {
        let key = self.active.as_ref()?;
        self.get(key)
    }

    /// The account with this key, if known.
    #[must_use]
    pub fn get(&self, key: &AccountKey) -> Option<&Account> {
        self.position(key).map(|i| &self.accounts[i])
    }

    /// Records a completed sign-in and makes its account active.
    ///
    /// The account is matched by (issuer, client id, subject) only: the same
    /// person again updates their account (identity, last used, clears
    /// [`needs_sign_in`](Account::needs_sign_in)); anyone else — even with the
    /// same name or email — gets a new account, so a different person is
    /// never overwritten. Identity fields the new sign-in lacks keep their
    /// old values. Saved at once.
    ///
    /// # Errors
    ///
    /// [`AccountsError::Io`] when the book cannot be saved (the change is
    /// then not kept in memory either).
    pub fn upsert(&mut self, signed_in: &SignedIn) -> Result<&Account, AccountsError> {
        self.upsert_identity(&signed_in.key, &signed_in.identity, unix_now())
    }

    /// [`upsert`](Self::upsert) from parts, at the given time (Unix seconds).
    ///
    /// # Errors
    ///
    /// As [`upsert`](Self::upsert).
    pub fn upsert_identity(
        &mut self,
        key: &AccountKey,
        identity: &Identity,
        now: u64,
    ) -> Result<&Account, AccountsError> {
        self.change(|next| {
            let index = match next.position(key) {
                Some(i) => {
                    let account = &mut next.accounts[i];
                    merge(&mut account.identity.name, &identity.name);
                    merge(&mut account.identity.email, &identity.email);
                    merge(&mut account.identity.preferred_username, &identity.preferred_username);
                    account.last_used = now;
                    account.needs_sign_in = false;
                    i
                }
                None => {
                    next.accounts.push(Account {
                        key: key.clone(),
                        identity: identity.clone(),
                        last_used: now,
                        needs_sign_in: false,
                    });
                    next.accounts.len() - 1
                }
            };
            next.active = Some(key.clone());
            Ok(index)
        })
        .map(|index| &self.accounts[index])
    }

    /// Makes `key` the active account (and marks it used now). Saved at once.
    ///
    /// # Errors
    ///
    /// [`AccountsError::NoSuchAccount`] for an unknown account,
    /// [`AccountsError::Io`] when the book cannot be saved.
    pub fn set_active(&mut self, key: &AccountKey) -> Result<(), AccountsError> {
        self.change(|next| {
            let i = next.position(key).ok_or_else(|| AccountsError::NoSuchAccount { query: key.id() })?;
            next.accounts[i].last_used = unix_now().max(next.accounts[i].last_used);
            next.active = Some(key.clone());
            Ok(())
        })
    }

    /// Removes an account and returns it; its [`key`](Account::key) names the
    /// keyring entry the caller must now delete. When it was the active
    /// account, no account is active afterwards (the person chooses).
    /// Saved at once.
    ///
    /// # Errors
    ///
    /// [`AccountsError::NoSuchAccount`] for an unknown account,
    /// [`AccountsError::Io`] when the book cannot be saved.
    pub fn remove(&mut self, key: &AccountKey) -> Result<Account, AccountsError> {
        self.change(|next| {
            let i = next.position(key).ok_or_else(|| AccountsError::NoSuchAccount { query: key.id() })?;
            let removed = next.accounts.remove(i);
            if next.active.as_ref() == Some(key) {
                next.active = None;
            }
            Ok(removed)
        })
    }

    /// Marks an account as needing a new sign-in (its refresh token was
    /// refused or is gone). Saved at once; a no-op when already marked.
    ///
    /// # Errors
    ///
    /// [`AccountsError::NoSuchAccount`] for an unknown account,
    /// [`AccountsError::Io`] when the book cannot be saved.
    pub fn mark_needs_sign_in(&mut self, key: &AccountKey) -> Result<(), AccountsError> {
        if self.get(key).is_some_and(|a| a.needs_sign_in) {
            return Ok(());
        }
        self.change(|next| {
            let i = next.position(key).ok_or_else(|| AccountsError::NoSuchAccount { query: key.id() })?;
            next.accounts[i].needs_sign_in = true;
            Ok(())
        })
    }

    /// Finds the account a person means: an exact account id, email or login
    /// (case-insensitive for email and login), else the one account whose id,
    /// email, login or name starts with `query`.
    ///
    /// # Errors
    ///
    /// [`AccountsError::NoSuchAccount`] when nothing matches,
    /// [`AccountsError::AmbiguousAccount`] when several do.
    pub fn find(&self, query: &str) -> Result<&Account, AccountsError> {
        let query_lower = query.to_lowercase();
        let exact: Vec<&Account> = self
            .accounts
            .iter()
            .filter(|a| {
                a.id() == query
                    || a.identity.email.as_deref().is_some_and(|e| e.to_lowercase() == query_lower)
                    || a.identity.preferred_username.as_deref().is_some_and(|u| u.to_lowercase() == query_lower)
            })
            .collect();
        let candidates = if exact.is_empty() {
            self.accounts
                .iter()
                .filter(|a| {
                    !query.is_empty()
                        && (a.id().starts_with(query)
                            || [&a.identity.email, &a.identity.preferred_username, &a.identity.name]
                                .into_iter()
                                .flatten()
                                .any(|v| v.to_lowercase().starts_with(&query_lower)))
                })
                .collect()
        } else {
            exact
        };
        match candidates.as_slice() {
            [one] => Ok(one),
            [] => Err(AccountsError::NoSuchAccount { query: query.to_owned() }),
            many => Err(AccountsError::AmbiguousAccount {
                query: query.to_owned(),
                candidates: many.iter().map(|a| a.id()).collect(),
            }),
        }
    }

    fn position(&self, key: &AccountKey) -> Option<usize> {
        self.accounts.iter().position(|a| &a.key == key)
    }

    /// Makes `change` to the book as it is on disk now, under the book's
    /// lock, and saves it; on success this book becomes the result, on
    /// failure it is left as it was.
    fn change<T>(&mut self, change: impl FnOnce(&mut Self) -> Result<T, AccountsError>) -> Result<T, AccountsError> {
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
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(io)?;
        }
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(io)?;
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

fn merge(old: &mut Option<String>, new: &Option<String>) {
    if new.is_some() {
        old.clone_from(new);
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
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
