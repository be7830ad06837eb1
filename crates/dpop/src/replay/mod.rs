//! The `jti` replay cache of a server that checks DPoP proofs (RFC 9449
//! §11.1; §4.3 point 12): each accepted proof's `jti` is remembered until
//! the proof would be refused as too old anyway. The cache is swept at most
//! once a second (or when full) and capped: while it is full, proofs are
//! refused — never forgotten early, which would let a replay through.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

/// The most `jti`s remembered at once.
const MAX_REMEMBERED: usize = 200_000;

/// Why a proof's `jti` was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The `jti` was taken before, within its window: a replay.
    #[error("this DPoP proof was already used")]
    Replayed,
    /// The cache is full until older proofs expire; the proof may be new.
    #[error("too many DPoP proofs at once; try again")]
    Full,
}

/// Proofs' `jti`s taken, each until its proof's window ends.
#[derive(Debug)]
pub struct ReplayCache {
    /// How long, in seconds, a proof taken now could still be accepted.
    window: u64,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// `jti` → when it may be forgotten (Unix seconds).
    until: HashMap<String, u64>,
    /// When the cache was last swept.
    swept: u64,
}

impl ReplayCache {
    /// A cache for proofs accepted up to `max_age` old and `leeway` in the
    /// future (clock skew): a proof taken now is remembered for the sum.
    #[must_use]
    pub fn new(max_age: Duration, leeway: Duration) -> Self {
        Self { window: max_age.as_secs().saturating_add(leeway.as_secs()), seen: Mutex::default() }
    }

    /// Takes a verified proof's `jti` at `now` (Unix seconds), or refuses
    /// it. Keyed on the `jti` alone, whichever key signed the proof (the
    /// stricter reading of §4.3 point 12: unique within the window).
    ///
    /// # Errors
    /// [`ReplayError::Replayed`] for a `jti` taken within its window,
    /// [`ReplayError::Full`] while the cache is full.
    pub fn remember(&self, jti: &str, now: u64) -> Result<(), ReplayError> {
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        // Sweep once a second at most, or when full.
        if seen.swept != now || seen.until.len() >= MAX_REMEMBERED {
            seen.until.retain(|_, until| *until >= now);
            seen.swept = now;
        }
        if seen.until.contains_key(jti) {
            return Err(ReplayError::Replayed);
        }
        if seen.until.len() >= MAX_REMEMBERED {
            return Err(ReplayError::Full);
        }
        seen.until.insert(jti.to_owned(), now.saturating_add(self.window));
        Ok(())
    }
}

#[cfg(test)]
mod tests;
