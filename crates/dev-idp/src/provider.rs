//! The provider: configuration, keys, state and clock behind one handle.
//! The handlers take it as their state; the router that serves them is in
//! `router.rs`. Nothing here knows the handlers.

use crate::misbehave::Misbehavior;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};
use std::time::{Duration, SystemTime};

use crate::config::Config;
use crate::keys::{KeyError, KeySet};
use crate::state::State;
use clock::Clock;

/// The provider's shared parts. Cheap to clone.
#[derive(Clone)]
pub struct Provider {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    issuer: String,
    keys: RwLock<KeySet>,
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    /// Faults committed on purpose (tests only; empty otherwise).
    faults: RwLock<Vec<Misbehavior>>,
    /// Requests to userinfo, for tests that prove a client made none.
    userinfo_requests: AtomicUsize,
    refreshes: AtomicUsize,
    reused_refresh_tokens: AtomicUsize,
    /// The provider's DPoP nonces (RFC 9449 §8), with a key of its own.
    dpop_nonces: dpop::NonceWindow,
    /// DPoP proofs' `jti`s taken, against replays (RFC 9449 §11.1).
    dpop_replays: dpop::ReplayCache,
    /// Client assertions' `jti`s taken (RFC 7523 §3 point 7), against replays.
    client_assertions: dpop::ReplayCache,
    /// Requests counted against the rate limits (when on).
    rate_limiter: crate::rate_limit::RateLimiter,
    /// Authorization requests as received (tests read what clients sent).
    #[cfg(feature = "testing")]
    authorization_requests: Mutex<Vec<crate::testing::ReceivedRequest>>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider").field("issuer", &self.inner.issuer).finish_non_exhaustive()
    }
}

impl Provider {
    /// Makes a provider for `issuer` (which must end in
    /// `/oauth2/{authorization_server_id}`, or be the origin with
    /// `org_authorization_server`), generating its first signing key.
    ///
    /// # Errors
    /// When the signing key cannot be generated.
    pub fn new(config: Config, issuer: String, clock: Arc<dyn Clock>) -> Result<Self, KeyError> {
        let keys = KeySet::generate(config.keys.published_keys)?;
        let dpop_nonces = dpop::NonceWindow::new(rand::random(), Duration::from_secs(config.dpop.nonce_lifetime_secs));
        let dpop_replays = dpop::ReplayCache::new(
            Duration::from_secs(config.dpop.proof_max_age_secs),
            Duration::from_secs(crate::dpop::LEEWAY_SECS),
        );
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                issuer: issuer.trim_end_matches('/').to_owned(),
                keys: RwLock::new(keys),
                state: Mutex::new(State::default()),
                clock,
                faults: RwLock::new(Vec::new()),
                userinfo_requests: AtomicUsize::new(0),
                refreshes: AtomicUsize::new(0),
                reused_refresh_tokens: AtomicUsize::new(0),
                dpop_nonces,
                dpop_replays,
                client_assertions: crate::client_auth::assertion_replays(),
                rate_limiter: crate::rate_limit::RateLimiter::default(),
                #[cfg(feature = "testing")]
                authorization_requests: Mutex::default(),
            }),
        })
    }

    /// The issuer identifier, e.g. `http://127.0.0.1:18080/oauth2/default`.
    #[must_use]
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// Publishes a new signing key and signs with it from now on; the previous
    /// key stays in the JWKS (see `keys.published_keys`). Returns the new `kid`.
    ///
    /// # Errors
    /// When the key cannot be generated.
    pub fn rotate_keys(&self) -> Result<String, KeyError> {
        // Generate outside the lock: it takes a while.
        let mut fresh = KeySet::generate(1)?;
        let mut keys = self.inner.keys.write().unwrap_or_else(PoisonError::into_inner);
        let kid = keys.adopt(&mut fresh);
        tracing::info!(kid = %kid, "rotated signing keys");
        Ok(kid)
    }

    /// Commits `faults` from now on (none: speaks the protocol exactly
    /// again); see [`Misbehavior`].
    #[cfg(feature = "testing")]
    pub fn misbehave(&self, faults: &[Misbehavior]) {
        *self.inner.faults.write().unwrap_or_else(PoisonError::into_inner) = faults.to_vec();
    }

    /// How many requests reached userinfo (with a token or not).
    #[cfg(feature = "testing")]
    #[must_use]
    pub fn userinfo_requests(&self) -> usize {
        self.inner.userinfo_requests.load(Ordering::SeqCst)
    }

    /// How many refresh tokens were redeemed (new tokens issued for them,
    /// whether or not the answer reached the client).
    #[cfg(feature = "testing")]
    #[must_use]
    pub fn refreshes(&self) -> usize {
        self.inner.refreshes.load(Ordering::SeqCst)
    }

    /// Counts one redeemed refresh token.
    pub(crate) fn count_refresh(&self) {
        self.inner.refreshes.fetch_add(1, Ordering::SeqCst);
    }

    /// How many rotated refresh tokens were presented again after the grace
    /// period, each revoking its whole token family (as Okta does).
    #[cfg(feature = "testing")]
    #[must_use]
    pub fn reused_refresh_tokens(&self) -> usize {
        self.inner.reused_refresh_tokens.load(Ordering::SeqCst)
    }

    /// Counts one reuse of a rotated refresh token.
    pub(crate) fn count_reused_refresh_token(&self) {
        self.inner.reused_refresh_tokens.fetch_add(1, Ordering::SeqCst);
    }

    /// The authorization requests received, oldest first: their parameters
    /// as pushed (RFC 9126) or as the browser brought them.
    #[cfg(feature = "testing")]
    #[must_use]
    pub fn authorization_requests(&self) -> Vec<crate::testing::ReceivedRequest> {
        self.inner.authorization_requests.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Remembers an authorization request's parameters (only with the
    /// `testing` feature: tests read what clients sent).
    pub(crate) fn received_authorization_request(&self, pushed: bool, params: &crate::params::Params) {
        #[cfg(feature = "testing")]
        self.inner
            .authorization_requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(crate::testing::ReceivedRequest { pushed, params: params.pairs().to_vec() });
        #[cfg(not(feature = "testing"))]
        let _ = (pushed, params);
    }

    /// Counts one userinfo request.
    pub(crate) fn count_userinfo_request(&self) {
        self.inner.userinfo_requests.fetch_add(1, Ordering::SeqCst);
    }

    /// The faults set with `misbehave`.
    pub(crate) fn faults(&self) -> Vec<Misbehavior> {
        self.inner.faults.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Whether `fault` is set with `misbehave`.
    pub(crate) fn commits(&self, fault: Misbehavior) -> bool {
        self.inner.faults.read().unwrap_or_else(PoisonError::into_inner).contains(&fault)
    }

    /// The `iss` of authorization responses (RFC 9207): the issuer, unless
    /// a fault says otherwise.
    pub(crate) fn response_iss(&self) -> Option<String> {
        if self.commits(Misbehavior::AuthorizationResponseWithoutIss) {
            None
        } else if self.commits(Misbehavior::AuthorizationResponseWrongIss) {
            Some(format!("{}-other", self.issuer()))
        } else {
            Some(self.issuer().to_owned())
        }
    }

    /// Signs `header` and `claims` exactly as given with the active key (RS256),
    /// for tests that forge tokens: an unknown `crit`, a `jku`, an ID token
    /// presented as an access token.
    #[cfg(feature = "testing")]
    #[must_use]
    pub fn sign_raw(&self, header: &serde_json::Value, claims: &serde_json::Value) -> String {
        self.keys().sign_raw(header, claims)
    }

    /// The provider's current time in seconds since the epoch (its clock may
    /// be a test's `ManualClock`): DPoP's nonces and proof times, and tests
    /// that forge tokens or proofs.
    #[must_use]
    pub fn now_unix(&self) -> u64 {
        self.inner.clock.unix_seconds()
    }

    /// The `kid` of the key that signs new tokens.
    #[must_use]
    pub fn active_kid(&self) -> String {
        self.keys().active_kid().to_owned()
    }

    pub(crate) fn now(&self) -> SystemTime {
        self.inner.clock.now()
    }

    pub(crate) fn keys(&self) -> RwLockReadGuard<'_, KeySet> {
        self.inner.keys.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The provider's DPoP nonces.
    pub(crate) fn dpop_nonces(&self) -> &dpop::NonceWindow {
        &self.inner.dpop_nonces
    }

    /// The `jti`s of DPoP proofs taken.
    pub(crate) fn dpop_replays(&self) -> &dpop::ReplayCache {
        &self.inner.dpop_replays
    }

    /// The `jti`s of client assertions taken (`private_key_jwt`).
    pub(crate) fn client_assertion_replays(&self) -> &dpop::ReplayCache {
        &self.inner.client_assertions
    }

    /// The requests counted against the rate limits.
    pub(crate) fn rate_limiter(&self) -> &crate::rate_limit::RateLimiter {
        &self.inner.rate_limiter
    }

    /// `{base}/v1/{path}`: `{issuer}/v1/…` for a custom authorization
    /// server, `{origin}/oauth2/v1/…` for the org server.
    pub(crate) fn endpoint(&self, path: &str) -> String {
        format!("{}/v1/{path}", self.base())
    }

    /// `{base}/{path}`: the provider's own pages (sign-in form, consent).
    pub(crate) fn page(&self, path: &str) -> String {
        format!("{}/{path}", self.base())
    }

    /// The URL of the endpoints' base path (see [`Config::base_path`]): the
    /// issuer, or for the org server the origin's `/oauth2`.
    fn base(&self) -> String {
        if self.inner.config.org_authorization_server {
            format!("{}/oauth2", self.inner.issuer)
        } else {
            self.inner.issuer.clone()
        }
    }

    /// The `aud` of access tokens: [`Config::audience`] for a custom
    /// authorization server; the org (the issuer) for the org server, whose
    /// access tokens only the provider itself consumes.
    pub(crate) fn access_token_audience(&self) -> &str {
        if self.inner.config.org_authorization_server { &self.inner.issuer } else { &self.inner.config.audience }
    }

    /// The origin's device verification page (`/activate`, as on Okta).
    pub(crate) fn verification_uri(&self) -> String {
        let issuer = &self.inner.issuer;
        let base = issuer.find("/oauth2/").map_or(issuer.as_str(), |at| &issuer[..at]);
        format!("{base}/activate")
    }

    pub(crate) fn lifetime(secs: u64) -> Duration {
        Duration::from_secs(secs)
    }
}
