//! The cache of introspection answers (RFC 7662 §4: a resource server may
//! cache answers, trading the freshness of revocation for fewer requests).
//!
//! Entries are keyed by the SHA-256 of the token, never the token itself.
//! Active answers that passed every check live until
//! `min(exp, answered_at + cache_ttl)`. Refusals (inactive, or failing a
//! check) are remembered in a map of their own for `min(cache_ttl, 30 s)`, so
//! a client that keeps sending a revoked or expired token (a retry loop, a
//! replay) costs the issuer one request per 30 s rather than one per request;
//! tokens that differ each time are asked about each time. Both maps are
//! [`TokenCache`]s, the validated-token cache's type: bounded, a full one
//! drops its ended entries and then the one that ends soonest (refusals live
//! in their own map, so they never crowd out active answers).
//!
//! The [`Bucket`] bounds how many tokens the validator could not check
//! itself (opaque ones) it asks about: made-up tokens that differ each time
//! cost the issuer at most the bucket, whatever their number.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use super::cache::{TokenCache, TokenHash, expiry};
use super::refusal::Refusal;
use super::{Claims, later};

/// Caches an active token's `claims` until `min(exp, now + ttl)`.
pub(super) fn remember_active(
    answers: &TokenCache<Arc<Claims>>,
    key: TokenHash,
    claims: &Claims,
    now: SystemTime,
    ttl: Duration,
) {
    answers.insert(key, Arc::new(claims.clone()), now, expiry(claims).min(later(now, ttl)));
}

/// The longest a refusal is remembered, whatever the cache's lifetime.
pub(super) const REFUSAL_TTL: Duration = Duration::from_secs(30);

/// Remembers why a token was refused, for `min(ttl, REFUSAL_TTL)`.
pub(super) fn remember_refusal(
    refusals: &TokenCache<Refusal>,
    key: TokenHash,
    reason: Refusal,
    now: SystemTime,
    ttl: Duration,
) {
    refusals.insert(key, reason, now, later(now, ttl.min(REFUSAL_TTL)));
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
