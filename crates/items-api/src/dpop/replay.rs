//! Where the API remembers the proofs it accepted (RFC 9449 §11.1: replay
//! detection across everything that accepts a proof).
//!
//! [`ReplayStore`] is the one question the proof checker asks — "take this
//! proof, or say it was seen" — whoever answers it: the process's own
//! [`dpop::ReplayCache`] (SQLite, one process by construction, or
//! `DPOP_REPLAY=memory`), or the database every instance shares
//! ([`crate::store::DatabaseReplays`], PostgreSQL's default).

use std::fmt;
use std::future::Future;
use std::pin::Pin;

/// What [`ReplayStore::remember`] answers, in the future it returns.
pub type Remembering<'a> = Pin<Box<dyn Future<Output = Result<(), ReplayFailure>> + Send + 'a>>;

/// Why a proof was not taken by a [`ReplayStore`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayFailure {
    /// The proof was seen before (or cannot be remembered now).
    #[error(transparent)]
    Refused(#[from] dpop::ReplayError),
    /// The shared store could not be asked: the proof is neither taken nor
    /// refused as a replay.
    #[error("the DPoP replay store could not be asked")]
    Unavailable(#[source] crate::store::StoreError),
}

/// Remembers accepted proofs, each for its window, and refuses a proof seen
/// before within it.
pub trait ReplayStore: fmt::Debug + Send + Sync {
    /// Takes the proof `jti` made with the key whose thumbprint is `jkt`, at
    /// `now` (Unix seconds), remembering it for as long as it could still be
    /// accepted; or refuses it.
    ///
    /// # Errors
    /// [`ReplayFailure::Refused`] with [`dpop::ReplayError::Replayed`] for a
    /// proof seen before, [`dpop::ReplayError::Full`] while the store cannot
    /// remember more; [`ReplayFailure::Unavailable`] when the store could not
    /// be asked.
    fn remember<'a>(&'a self, jkt: &'a str, jti: &'a str, now: u64) -> Remembering<'a>;
}

/// The process's own cache: keyed on the `jti` alone (whichever key signed
/// the proof), so `jkt` is not needed.
impl ReplayStore for dpop::ReplayCache {
    fn remember<'a>(&'a self, _jkt: &'a str, jti: &'a str, now: u64) -> Remembering<'a> {
        let taken = dpop::ReplayCache::remember(self, jti, now).map_err(ReplayFailure::Refused);
        Box::pin(std::future::ready(taken))
    }
}
