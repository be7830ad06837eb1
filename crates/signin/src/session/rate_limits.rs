//! The provider's "not before" for refreshes: after a 429 (HTTP "too many
//! requests") at its token endpoint, an account's refresh is not sent again
//! before the wait the provider asked for has passed; until then the session
//! answers the same error, with the time left.

use crate::account::AccountKey;
use crate::flow::rate_limit::RateLimited;

use super::{Session, lock};

impl Session {
    /// The wait left before `key`'s refresh may be sent again, when the
    /// provider limited the last one and its reset has not passed.
    pub(super) fn refresh_not_before(&self, key: &AccountKey) -> Option<RateLimited> {
        let now = self.now();
        let mut limited = lock(&self.rate_limited);
        match limited.get(key).map(|until| until.duration_since(now)) {
            Some(Ok(wait)) if !wait.is_zero() => Some(RateLimited { wait }),
            Some(_) => {
                limited.remove(key);
                None
            }
            None => None,
        }
    }

    /// The provider limited `key`'s refresh: not again before its wait.
    pub(super) fn refresh_limited(&self, key: &AccountKey, limited: RateLimited) {
        tracing::warn!(account = %key.id(), wait = ?limited.wait, "the provider is limiting refreshes");
        lock(&self.rate_limited).insert(key.clone(), self.now() + limited.wait);
    }
}
