//! Where refresh tokens live: the OS keyring ([`KeyringStore`]) or, when the
//! person chooses a memory-only session, process memory ([`MemoryStore`]).
//! Never a plain file: when no keyring is available, [`KeyringStore::open`]
//! and [`KeyringStore::probe`] fail with a clear [`StoreError`] kind
//! ([`StoreError::keyring_unavailable`]), and the app asks the person whether to
//! continue with a memory-only session.
//!
//! One entry per account, keyed by [`AccountKey`] (issuer, client id,
//! subject) so accounts coexist, holding a [`StoredGrant`]: the refresh
//! token, with the last ID token, the DPoP key and the latest access token
//! ([`StoredAccess`], shared by the account's processes) when there are ones.
//! [`StoredGrant`] alone knows how an entry is written. A service (client
//! credentials) keeps its client secret and latest access token in its
//! entry instead ([`StoredMachine`], [`TokenStore::load_machine`]).
//!
//! ```no_run
//! use std::sync::Arc;
//! use signin::store::{KeyringBackend, KeyringStore, MemoryStore, StoreError, TokenStore};
//!
//! fn token_store(ask_memory_only: impl Fn(&StoreError) -> bool) -> Result<Arc<dyn TokenStore>, StoreError> {
//!     let opened = KeyringStore::open(KeyringBackend::SecretService).and_then(|store| {
//!         store.probe()?; // finds a locked keyring too
//!         Ok(store)
//!     });
//!     match opened {
//!         Ok(store) => Ok(Arc::new(store)),
//!         // "No keyring available (…). Continue with a memory-only session?"
//!         Err(e) if e.keyring_unavailable() && ask_memory_only(&e) => Ok(Arc::new(MemoryStore::new())),
//!         Err(e) => Err(e),
//!     }
//! }
//! ```
//!
//! # Blocking
//!
//! [`TokenStore`] is synchronous: keyring calls are blocking D-Bus round trips
//! (the Secret Service) or system calls (the kernel keyring). Async callers run
//! them on a blocking thread, e.g.
//! `tokio::task::spawn_blocking(move || store.load(&key))`, and so is
//! [`KeyringStore::open`]. Calling a [`KeyringStore`] with the Secret Service
//! back end directly on a thread that drives async tasks panics ("Cannot start
//! a runtime from within a runtime": the D-Bus library blocks on a Tokio
//! runtime of its own). Dropping one there is fine: its connection is then
//! closed on a thread of its own.

use crate::AccountKey;

mod error;
mod grant;
mod keyring;
mod machine;
mod memory;
#[cfg(test)]
mod tests;

pub use error::StoreError;
pub use grant::{StoredAccess, StoredGrant};
pub use keyring::{KeyringBackend, KeyringStore};
pub use machine::StoredMachine;
pub use memory::MemoryStore;

/// Where an account's saved sign-in ([`StoredGrant`]) is kept.
///
/// Implementations are cheap to share (`Arc<dyn TokenStore>`) and safe to call
/// from several threads; each call is blocking (see the [module
/// docs](self#blocking)). Tokens never appear in logs or errors.
pub trait TokenStore: Send + Sync {
    /// The saved sign-in of `key`, or `Ok(None)` when there is none.
    ///
    /// # Errors
    ///
    /// When the store cannot be read, or the entry is damaged
    /// ([`StoreError::Unreadable`]; see [`StoreError`]).
    fn load(&self, key: &AccountKey) -> Result<Option<StoredGrant>, StoreError>;

    /// Saves `grant` as the sign-in of `key`, replacing any previous one.
    /// Writes only when something changed.
    ///
    /// A rotated refresh token replaces the old one in a single overwrite of
    /// the same entry, so another reader sees either the old or the new
    /// grant, never none and never a mix.
    ///
    /// # Errors
    ///
    /// When the store cannot be read or written (see [`StoreError`]).
    fn save(&self, key: &AccountKey, grant: &StoredGrant) -> Result<(), StoreError>;

    /// The saved credential of the service `key` ([`StoredMachine`]: a
    /// machine identity's, in the same entry a person's sign-in would
    /// have), or `Ok(None)` when there is none.
    ///
    /// # Errors
    ///
    /// As [`load`](Self::load); [`StoreError::Unreadable`] for an entry
    /// that is not a service's.
    fn load_machine(&self, key: &AccountKey) -> Result<Option<StoredMachine>, StoreError>;

    /// Saves `machine` as the credential of the service `key`, replacing
    /// any previous one; writes only when something changed.
    ///
    /// # Errors
    ///
    /// As [`save`](Self::save).
    fn save_machine(&self, key: &AccountKey, machine: &StoredMachine) -> Result<(), StoreError>;

    /// Forgets the saved sign-in (or service credential) of `key`. Deleting
    /// a missing entry succeeds.
    ///
    /// # Errors
    ///
    /// When the store cannot be written (see [`StoreError`]).
    fn delete(&self, key: &AccountKey) -> Result<(), StoreError>;
}
