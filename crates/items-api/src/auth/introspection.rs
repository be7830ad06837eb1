//! The cache of introspection answers (RFC 7662 §4: a resource server may
//! cache answers, trading the freshness of revocation for fewer requests).
//!
//! Entries are keyed by the SHA-256 of the token, never the token itself, and
//! live until `min(exp, answered_at + cache_ttl)`. Only active answers that
//! passed every check are cached. The map is bounded: when full, expired
//! entries are dropped, and if it is still full the answer is not cached.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::{Claims, later};

/// The cache key of a token: its SHA-256.
pub(super) type CacheKey = [u8; 32];

/// SHA-256 of the token.
pub(super) fn cache_key(token: &str) -> CacheKey {
    Sha256::digest(token.as_bytes()).into()
}

struct Entry {
    claims: Claims,
    until: SystemTime,
}

/// Active introspection answers by token hash.
pub(super) struct AnswerCache {
    entries: Mutex<HashMap<CacheKey, Entry>>,
    capacity: usize,
}

impl AnswerCache {
    pub(super) fn new(capacity: usize) -> Self {
        Self { entries: Mutex::new(HashMap::new()), capacity }
    }

    /// The cached claims of a token whose entry has not ended.
    pub(super) fn get(&self, key: &CacheKey, now: SystemTime) -> Option<Claims> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(key) {
            Some(entry) if now < entry.until => Some(entry.claims.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Caches `claims` until `min(exp, now + ttl)`.
    pub(super) fn insert(&self, key: CacheKey, claims: &Claims, now: SystemTime, ttl: Duration) {
        let expiry = u64::try_from(claims.expires_at)
            .ok()
            .and_then(|secs| UNIX_EPOCH.checked_add(Duration::from_secs(secs)))
            .unwrap_or(UNIX_EPOCH);
        let until = expiry.min(later(now, ttl));
        if until <= now || self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, entry| now < entry.until);
            if entries.len() >= self.capacity {
                return;
            }
        }
        entries.insert(key, Entry { claims: claims.clone(), until });
    }

    /// How many entries are held (tests).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}
