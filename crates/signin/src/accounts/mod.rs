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
//! the book is kept, never overwritten with an older copy. Beside it, each
//! account has a [`RefreshLock`]: one refresh of its tokens at a time across
//! processes.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{AccountKey, Identity, SignedIn};

mod error;
mod file;
mod refresh_lock;

pub use error::AccountsError;
pub use refresh_lock::{RefreshLock, RefreshLockError};

/// The account book's file name, in the config folder.
pub const FILE_NAME: &str = "accounts.json";

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
    /// A service's own identity (client credentials, RFC 6749 §4.4) rather
    /// than a person's: its subject is its client id. `None` for people
    /// (and in books written before services could sign in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceAccount>,
}

/// How a service account gets its tokens again (it has no refresh token):
/// non-secret facts only. The client secret, when there is one, is in the
/// token store ([`StoredMachine`](crate::store::StoredMachine)); a private
/// key stays in its own file, of which only the path is kept here.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ServiceAccount {
    /// The PEM private key it signs client assertions with
    /// (`private_key_jwt`); `None`: a client secret, in the token store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<PathBuf>,
    /// The scopes it asks for.
    #[serde(default)]
    pub scopes: Vec<String>,
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
                        service: None,
                    });
                    next.accounts.len() - 1
                }
            };
            next.active = Some(key.clone());
            Ok(index)
        })
        .map(|index| &self.accounts[index])
    }

    /// Records a service that got its tokens (client credentials) as the
    /// account `key` (its subject is its client id), with how it gets them
    /// again, and makes it active. Saved at once.
    ///
    /// # Errors
    ///
    /// As [`upsert`](Self::upsert).
    pub fn upsert_service(
        &mut self,
        key: &AccountKey,
        service: &ServiceAccount,
        now: u64,
    ) -> Result<&Account, AccountsError> {
        let identity = Identity { name: Some(key.subject.clone()), ..Identity::default() };
        self.change(|next| {
            let index = match next.position(key) {
                Some(i) => i,
                None => {
                    next.accounts.push(Account {
                        key: key.clone(),
                        identity,
                        last_used: now,
                        needs_sign_in: false,
                        service: None,
                    });
                    next.accounts.len() - 1
                }
            };
            let account = &mut next.accounts[index];
            account.last_used = now;
            account.needs_sign_in = false;
            account.service = Some(service.clone());
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
}

fn merge(old: &mut Option<String>, new: &Option<String>) {
    if new.is_some() {
        old.clone_from(new);
    }
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
