//! DPoP-bound access tokens at the API (RFC 9449 §7).
//!
//! A token whose claims (or introspection answer) hold `cnf.jkt` is bound to
//! a key: it is taken only as `Authorization: DPoP <token>` with exactly one
//! `DPoP` header carrying a proof that passes every check of §4.3 for this
//! request (`htm`; `htu`, one of the API's configured public URLs
//! (`PUBLIC_URL`) and the request's path, never a URL made of the request's
//! `Host` or `X-Forwarded-Host`, which the client chooses (§4.3, §11.1); `iat`
//! within the window; `ath` of the token), whose key's thumbprint is the
//! token's `cnf.jkt`, and whose `jti` was not seen before. A bound token sent
//! as `Bearer` is refused (§7.2); so is an unbound token sent with the DPoP
//! scheme. Without a public URL, DPoP is not accepted at all.
//!
//! Nonces (§9, optional; `DPOP_NONCE_SECS`): when on, a proof must carry
//! the API's current nonce or the one before it; without it the answer is
//! `401` `use_dpop_nonce` with the nonce in `DPoP-Nonce`, and every answer
//! to a DPoP request hands out the current one. A nonce is a keyed hash of
//! the time window, so the API keeps no state for them. The key is
//! `DPOP_NONCE_KEY` (or the file `DPOP_NONCE_KEY_FILE`), the same on every
//! instance of a fleet so that a nonce handed out by one is taken by all;
//! without it, a key made at start-up, so each instance has its own nonces
//! (a client sent to another instance is asked once for that one's).
//!
//! Replays: each accepted proof is remembered until it would be too old
//! anyway, by a [`ReplayStore`]: the process's [`dpop::ReplayCache`] (swept
//! as it grows and capped, and a proof is refused while it is full, never
//! forgotten early, which would let a replay through), or, on PostgreSQL,
//! the database every instance shares ([`crate::store::DatabaseReplays`]).

use std::sync::Arc;
use std::time::Duration;

use axum::http::request::Parts;
use clock::{Clock, SystemClock};
use url::Url;

use crate::error::ApiError;

pub(crate) mod refusal;
pub mod replay;

pub use refusal::{BindingRefusal, ProofRefusal};
pub use replay::{ReplayFailure, ReplayStore};

/// How old a proof may be, by default.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_secs(60);
/// How far in the future a proof's `iat` may be (clock skew).
const LEEWAY_SECS: u64 = 5;

/// The DPoP settings, the replay cache and the clock proofs' times,
/// nonces and replays are judged by.
#[derive(Debug)]
pub struct DpopChecks {
    /// The URLs clients call the API at; empty: DPoP is not accepted.
    public_urls: Vec<Url>,
    max_age: Duration,
    nonces: Option<dpop::NonceWindow>,
    replays: Arc<dyn ReplayStore>,
    clock: Arc<dyn Clock>,
}

impl Default for DpopChecks {
    /// DPoP not accepted (no public URL to check proofs against).
    fn default() -> Self {
        Self::new(Vec::new(), DEFAULT_MAX_AGE)
    }
}

impl DpopChecks {
    /// Checks for an API reached at any of `public_urls` (scheme, host,
    /// port and any path prefix as clients call it), taking proofs up to
    /// `max_age` old, by the system clock. With no URL, every DPoP request
    /// is refused.
    #[must_use]
    pub fn new(public_urls: Vec<Url>, max_age: Duration) -> Self {
        let replays = Arc::new(dpop::ReplayCache::new(max_age, Duration::from_secs(LEEWAY_SECS)));
        Self { public_urls, max_age, nonces: None, replays, clock: Arc::new(SystemClock) }
    }

    /// How long an accepted proof must be remembered: its greatest age and
    /// the clock skew allowed.
    #[must_use]
    pub fn replay_window(&self) -> Duration {
        self.max_age + Duration::from_secs(LEEWAY_SECS)
    }

    /// The same checks, remembering accepted proofs in `replays` (the
    /// database the instances share) instead of this process's cache.
    #[must_use]
    pub fn with_replays(mut self, replays: Arc<dyn ReplayStore>) -> Self {
        self.replays = replays;
        self
    }

    /// The same checks, reading the time from `clock` (the validator's, so
    /// that tokens and proofs are judged at the same time).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Whether DPoP-bound tokens are accepted at all (a public URL is set).
    #[must_use]
    pub fn accepted(&self) -> bool {
        !self.public_urls.is_empty()
    }

    /// The same checks, asking for the API's own nonces, each good for
    /// `lifetime` (and the next one's), made with a key of this instance's.
    #[must_use]
    pub fn with_nonces(self, lifetime: Duration) -> Self {
        self.with_nonce_key(rand::random(), lifetime)
    }

    /// The same checks, asking for nonces made with `key` (secret; the same
    /// on every instance that should take each other's nonces), each good
    /// for `lifetime` (and the next one's).
    #[must_use]
    pub fn with_nonce_key(mut self, key: [u8; 32], lifetime: Duration) -> Self {
        self.nonces = Some(dpop::NonceWindow::new(key, lifetime));
        self
    }

    /// The nonce clients should put in their next proof, when nonces are
    /// asked for.
    #[must_use]
    pub fn current_nonce(&self) -> Option<String> {
        self.nonces.as_ref().map(|nonces| nonces.current(self.clock.unix_seconds()))
    }

    /// The URL `parts` was sent to at `public_url`, as a proof must name it
    /// (RFC 9449 §4.3 point 9): the configured URL and the request's path;
    /// no header of the request takes part.
    fn request_url(public_url: &Url, parts: &Parts) -> Url {
        let mut url = public_url.clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}{}", parts.uri.path()));
        url.set_query(None);
        url.set_fragment(None);
        url
    }

    /// Checks the `DPoP` proof of `parts` for `token` (all but the key
    /// binding and replays, which [`DpopChecks::accept`] checks once the
    /// token is known good): done first, so a request without a good proof
    /// costs no token validation (and no introspection).
    ///
    /// # Errors
    /// [`ApiError::InvalidDpopProof`] for a missing, repeated or invalid
    /// proof, [`ApiError::UseDpopNonce`] for one without the current nonce.
    pub fn verify(&self, parts: &Parts, token: &str) -> Result<dpop::Verified, ApiError> {
        let mut proofs = parts.headers.get_all("dpop").iter();
        let proof = proofs.next().ok_or(ApiError::InvalidDpopProof(ProofRefusal::Missing))?;
        if proofs.next().is_some() {
            return Err(ApiError::InvalidDpopProof(ProofRefusal::Several));
        }
        let proof = proof.to_str().map_err(|_| ApiError::InvalidDpopProof(ProofRefusal::NotText))?;
        if self.public_urls.is_empty() {
            return Err(ApiError::InvalidDpopProof(ProofRefusal::NotAccepted));
        }
        let now = self.clock.unix_seconds();
        // The proof must name one of our URLs; another URL of ours is tried
        // only when the proof failed on `htu` alone (checked after its
        // signature, `typ`, `alg`, `jwk` and `htm`).
        let mut verified = Err(dpop::ProofError::Url);
        for public_url in &self.public_urls {
            let url = Self::request_url(public_url, parts);
            let expected = dpop::Expected {
                method: parts.method.as_str(),
                url: &url,
                access_token: Some(token),
                nonce: None,
                now,
                max_age: self.max_age.as_secs(),
                leeway: LEEWAY_SECS,
            };
            verified = dpop::verify(proof, &expected);
            if !matches!(verified, Err(dpop::ProofError::Url)) {
                break;
            }
        }
        let verified = verified.map_err(|e| ApiError::InvalidDpopProof(ProofRefusal::Check(e)))?;
        if let Some(nonces) = &self.nonces
            && !nonces.accepts(verified.nonce.as_deref(), now)
        {
            return Err(ApiError::UseDpopNonce);
        }
        Ok(verified)
    }

    /// Accepts a [verified](DpopChecks::verify) proof for a token bound to
    /// `jkt`: the proof's key must be the token's, and the proof new.
    ///
    /// # Errors
    /// [`ApiError::DpopInvalidToken`] when the proof's key is not the
    /// token's, [`ApiError::InvalidDpopProof`] for a replay,
    /// [`ApiError::StoreUnavailable`] when the shared replay store cannot
    /// be asked (the proof is then neither taken nor refused as a replay).
    pub async fn accept(&self, verified: &dpop::Verified, jkt: &str) -> Result<(), ApiError> {
        if verified.jkt != jkt {
            return Err(ApiError::DpopInvalidToken(BindingRefusal::OtherKey));
        }
        match self.replays.remember(&verified.jkt, &verified.jti, self.clock.unix_seconds()).await {
            Ok(()) => Ok(()),
            Err(ReplayFailure::Refused(error)) => {
                if error == dpop::ReplayError::Full {
                    tracing::warn!("the DPoP replay cache is full: refusing proofs until it empties");
                }
                Err(ApiError::InvalidDpopProof(ProofRefusal::Replay(error)))
            }
            Err(ReplayFailure::Unavailable(error)) if error.is_unavailable() => {
                tracing::warn!(error = ?error, "the DPoP replay store is unavailable");
                Err(ApiError::StoreUnavailable)
            }
            Err(ReplayFailure::Unavailable(error)) => {
                tracing::error!(error = ?error, "the DPoP replay store failed");
                Err(ApiError::Internal)
            }
        }
    }
}

#[cfg(test)]
mod tests;
