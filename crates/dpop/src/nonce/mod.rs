//! Server nonces (RFC 9449 §8 at a token endpoint, §9 at a resource
//! server) that need no state: a nonce is a keyed hash of a time window, and
//! the current window's nonce and the previous one's are taken, so a nonce
//! handed out just before the window turns is not refused at once.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};

/// A server's nonces: one per `lifetime`, each taken in its own window and
/// the next. Each key makes other nonces, so two servers (or two instances
/// of one) do not take each other's. `Debug` leaves the key out.
pub struct NonceWindow {
    key: [u8; 32],
    /// Seconds, at least one.
    lifetime: u64,
}

impl std::fmt::Debug for NonceWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceWindow").field("lifetime", &self.lifetime).finish_non_exhaustive()
    }
}

impl NonceWindow {
    /// Nonces made with `key` (32 secret random bytes, made at start-up),
    /// each lasting `lifetime` (whole seconds, at least one).
    #[must_use]
    pub fn new(key: [u8; 32], lifetime: Duration) -> Self {
        Self { key, lifetime: lifetime.as_secs().max(1) }
    }

    /// The nonce of the `window`-th lifetime: the base64url SHA-256 of the
    /// key and the window's number (43 characters).
    fn of(&self, window: u64) -> String {
        let digest = Sha256::new().chain_update(self.key).chain_update(window.to_be_bytes()).finalize();
        URL_SAFE_NO_PAD.encode(digest)
    }

    /// The nonce to hand out at `now` (Unix seconds), in `DPoP-Nonce`.
    #[must_use]
    pub fn current(&self, now: u64) -> String {
        self.of(now / self.lifetime)
    }

    /// Whether a proof's `nonce` is taken at `now` (Unix seconds): the
    /// current window's or the previous one's; no nonce is never taken.
    #[must_use]
    pub fn accepts(&self, nonce: Option<&str>, now: u64) -> bool {
        let window = now / self.lifetime;
        nonce.is_some_and(|nonce| nonce == self.of(window) || nonce == self.of(window.saturating_sub(1)))
    }
}

#[cfg(test)]
mod tests;
