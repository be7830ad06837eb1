//! Refresh tokens in process memory only.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use oauth2::RefreshToken;

use super::{StoreError, TokenStore};
use crate::AccountKey;

/// Refresh tokens kept in this process only: for a memory-only session the
/// person chose (no keyring available), and for tests. Everything is gone
/// when the process ends.
#[derive(Default)]
pub struct MemoryStore {
    tokens: Mutex<HashMap<AccountKey, RefreshToken>>,
    writes: AtomicUsize,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").field("accounts", &self.lock().len()).field("writes", &self.writes()).finish()
    }
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// How many times a token was actually written (saves that changed
    /// nothing do not count): lets tests check "write only on change".
    #[must_use]
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }

    /// How many accounts have a token.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no account has a token.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AccountKey, RefreshToken>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (each operation is a single insert or remove), so a poisoned lock
        // is still good.
        self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl TokenStore for MemoryStore {
    fn load(&self, key: &AccountKey) -> Result<Option<RefreshToken>, StoreError> {
        Ok(self.lock().get(key).cloned())
    }

    fn save(&self, key: &AccountKey, token: &RefreshToken) -> Result<(), StoreError> {
        let mut tokens = self.lock();
        if tokens.get(key).is_some_and(|old| old.secret() == token.secret()) {
            return Ok(());
        }
        tokens.insert(key.clone(), token.clone());
        self.writes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn delete(&self, key: &AccountKey) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }
}
