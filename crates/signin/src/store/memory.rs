//! Saved sign-ins in process memory only.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{StoreError, StoredGrant, StoredMachine, TokenStore};
use crate::AccountKey;

/// Saved sign-ins kept in this process only: for a memory-only session the
/// person chose (no keyring available), and for tests. Everything is gone
/// when the process ends.
#[derive(Default)]
pub struct MemoryStore {
    /// Each entry's text, as a keyring would hold it ([`StoredGrant::encode`]).
    tokens: Mutex<HashMap<AccountKey, String>>,
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<AccountKey, String>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (each operation is a single insert or remove), so a poisoned lock
        // is still good.
        self.tokens.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl TokenStore for MemoryStore {
    fn load(&self, key: &AccountKey) -> Result<Option<StoredGrant>, StoreError> {
        self.lock().get(key).map(|text| StoredGrant::decode(text)).transpose()
    }

    fn save(&self, key: &AccountKey, grant: &StoredGrant) -> Result<(), StoreError> {
        self.write(key, grant.encode());
        Ok(())
    }

    fn load_machine(&self, key: &AccountKey) -> Result<Option<StoredMachine>, StoreError> {
        self.lock().get(key).map(|text| StoredMachine::decode(text)).transpose()
    }

    fn save_machine(&self, key: &AccountKey, machine: &StoredMachine) -> Result<(), StoreError> {
        self.write(key, machine.encode());
        Ok(())
    }

    fn delete(&self, key: &AccountKey) -> Result<(), StoreError> {
        self.lock().remove(key);
        Ok(())
    }
}

impl MemoryStore {
    /// Keeps `text` as `key`'s entry, counting a write only when it changed.
    fn write(&self, key: &AccountKey, text: String) {
        let mut tokens = self.lock();
        if tokens.get(key) == Some(&text) {
            return;
        }
        tokens.insert(key.clone(), text);
        self.writes.fetch_add(1, Ordering::SeqCst);
    }
}
