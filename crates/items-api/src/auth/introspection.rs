//! The cache of introspection answers (RFC 7662 §4: a resource server may
//! cache answers, trading the freshness of revocation for fewer requests).
//!
//! Entries are keyed by the SHA-256 of the token, never the token itself.
//! Active answers that passed every check live until
//! `min(exp, answered_at + cache_ttl)`. Refusals (inactive, or failing a
//! check) are remembered in a map of their own for `min(cache_ttl, 30 s)`, so
//! a client that keeps sending a revoked or expired token (a retry loop, a
//! replay) costs the issuer one request per 30 s rather than one per request;
//! tokens that differ each time are asked about each time. Each map is
//! bounded: when full, ended entries are dropped, and if it is still full the
//! answer is not cached (so refusals never crowd out active answers).
//!
//! The [`Bucket`] bounds how many tokens the validator could not check
//! itself (opaque ones) it asks about: made-up tokens that differ each time
//! cost the issuer at most the bucket, whatever their number.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::refusal::Refusal;
use super::{Claims, later};

/// The cache key of a token: its SHA-256.
pub(super) type CacheKey = [u8; 32];

/// SHA-256 of the token.
pub(super) fn cache_key(token: &str) -> CacheKey {
    Sha256::digest(token.as_bytes()).into()
}

struct Entry<T> {
    value: T,
    until: SystemTime,
}

/// Introspection answers by token hash: the claims of active tokens
/// ([`Claims`]), or the reasons tokens were refused ([`Refusal`]).
pub(super) struct AnswerCache<T> {
    entries: Mutex<HashMap<CacheKey, Entry<T>>>,
    capacity: usize,
}

impl<T: Clone> AnswerCache<T> {
    pub(super) fn new(capacity: usize) -> Self {
        Self { entries: Mutex::new(HashMap::new()), capacity }
    }

    /// The cached answer of a token whose entry has not ended.
    pub(super) fn get(&self, key: &CacheKey, now: SystemTime) -> Option<T> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(key) {
            Some(entry) if now < entry.until => Some(entry.value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Caches `value` until `until`; nothing when that has passed or the
    /// cache is full of entries that have not ended.
    fn insert_until(&self, key: CacheKey, value: T, now: SystemTime, until: SystemTime) {
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
        entries.insert(key, Entry { value, until });
    }

    /// How many entries are held (tests).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl AnswerCache<Claims> {
    /// Caches an active token's `claims` until `min(exp, now + ttl)`.
    pub(super) fn insert(&self, key: CacheKey, claims: &Claims, now: SystemTime, ttl: Duration) {
        let expiry = u64::try_from(claims.expires_at)
            .ok()
            .and_then(|secs| UNIX_EPOCH.checked_add(Duration::from_secs(secs)))
            .unwrap_or(UNIX_EPOCH);
        self.insert_until(key, claims.clone(), now, expiry.min(later(now, ttl)));
    }
}

/// The longest a refusal is remembered, whatever the cache's lifetime.
pub(super) const REFUSAL_TTL: Duration = Duration::from_secs(30);

impl AnswerCache<Refusal> {
    /// Remembers why a token was refused, for `min(ttl, REFUSAL_TTL)`.
    pub(super) fn insert_refusal(&self, key: CacheKey, reason: Refusal, now: SystemTime, ttl: Duration) {
        self.insert_until(key, reason, now, later(now, ttl.min(REFUSAL_TTL)));
    }
}

/// A token bucket (the classic rate limiter): `burst` introspections at once,
/// then one per `1 / per_second` seconds. It bounds what tokens the API
/// could not check itself (opaque ones, RFC 7662 §1) cost the issuer, whose
/// own rate limit is shared by everything else the organisation does.
pub(super) struct Bucket {
    burst: f64,
    per_second: f64,
    /// Tokens left, and when they were counted.
    state: Mutex<(f64, SystemTime)>,
}

impl Bucket {
    /// A full bucket of `burst`, refilled at `per_minute / 60` per second.
    pub(super) fn new(burst: u32, per_minute: u32, now: SystemTime) -> Self {
        let burst = f64::from(burst);
        Self { burst, per_second: f64::from(per_minute) / 60.0, state: Mutex::new((burst, now)) }
    }

    /// Takes one token if there is one.
    pub(super) fn take(&self, now: SystemTime) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (left, counted) = *state;
        // A clock that went backwards refills nothing (unlike the key
        // fetches' rate limit, where it must never block fetching).
        let earned = now.duration_since(counted).map_or(0.0, |d| d.as_secs_f64() * self.per_second);
        let left = (left + earned).min(self.burst);
        if left >= 1.0 {
            *state = (left - 1.0, now);
            true
        } else {
            *state = (left, now);
            false
        }
    }
}
