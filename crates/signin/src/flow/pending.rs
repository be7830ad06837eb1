//! Pending sign-ins for deep-link redirects (RFC 8252 §7.1): the desktop
//! shell's deep-link handler hands in a callback URL such as
//! `com.example.tessera:/callback?code=…&state=…`, and the sign-in waiting
//! under that `state` completes. Entries are taken once and expire.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use openidconnect::{ClientId, RedirectUrl};
use url::Url;

use super::error::SigninError;
use super::login::{self, AuthOptions, Callback, PendingLogin};
use super::provider::Provider;
use crate::account::SignedIn;

/// How long a deep-link sign-in may wait by default.
pub const DEFAULT_PENDING_TTL: Duration = Duration::from_secs(600);

/// A time source (tests move it).
pub type Now = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The registry of sign-ins waiting for a deep link, keyed by `state`.
pub struct PendingLogins {
    entries: Mutex<HashMap<String, PendingLogin>>,
    ttl: Duration,
    now: Now,
}

impl std::fmt::Debug for PendingLogins {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogins").field("len", &self.len()).field("ttl", &self.ttl).finish()
    }
}

impl Default for PendingLogins {
    fn default() -> Self {
        Self::new(DEFAULT_PENDING_TTL)
    }
}

impl PendingLogins {
    /// An empty registry whose entries live `ttl`.
    #[must_use]
    pub fn new(ttl: Duration) -> Self {
        Self::with_clock(ttl, Arc::new(SystemTime::now))
    }

    /// An empty registry with a given clock.
    #[must_use]
    pub fn with_clock(ttl: Duration, now: Now) -> Self {
        Self { entries: Mutex::default(), ttl, now }
    }

    /// Remembers a pending sign-in (its `created_at` is taken as now) and
    /// drops expired ones.
    pub fn insert(&self, pending: PendingLogin) {
        let now = (self.now)();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|_, p| !self.expired(p, now));
        let mut pending = pending;
        pending.set_created_at(now);
        entries.insert(pending.state().to_owned(), pending);
    }

    /// How many sign-ins are waiting (expired ones included until swept).
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether none is waiting.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn expired(&self, pending: &PendingLogin, now: SystemTime) -> bool {
        now.duration_since(pending.created_at()).is_ok_and(|age| age > self.ttl)
    }

    /// Begins a deep-link sign-in (`redirect_uri` is the app's custom scheme,
    /// RFC 8252 §7.1), remembers it, and returns the authorization URL to open.
    ///
    /// # Errors
    /// As [`login::begin`].
    pub fn begin(
        &self,
        provider: &Provider,
        client_id: &ClientId,
        redirect_uri: RedirectUrl,
        scopes: &[String],
        options: &AuthOptions,
    ) -> Result<Url, SigninError> {
        let (url, pending) = login::begin(provider, client_id, redirect_uri, scopes, options)?;
        self.insert(pending);
        Ok(url)
    }

    /// Takes the pending sign-in for `state` (once).
    ///
    /// # Errors
    /// [`SigninError::UnknownState`] when none waits under it,
    /// [`SigninError::ExpiredSignin`] when it waited too long.
    pub fn take(&self, state: &str) -> Result<PendingLogin, SigninError> {
        let now = (self.now)();
        let pending = self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(state)
            .ok_or(SigninError::UnknownState)?;
        if self.expired(&pending, now) {
            return Err(SigninError::ExpiredSignin);
        }
        Ok(pending)
    }

    /// Completes the sign-in a deep link answers: finds it by `state`, then
    /// runs every check of [`login::complete`].
    ///
    /// # Errors
    /// [`SigninError::MissingState`], [`SigninError::UnknownState`],
    /// [`SigninError::ExpiredSignin`], or any error of [`login::complete`].
    pub async fn complete_from_url(&self, provider: &Provider, callback_url: &Url) -> Result<SignedIn, SigninError> {
        let callback = Callback::from_url(callback_url)?;
        let state = callback.state().ok_or(SigninError::MissingState)?;
        let pending = self.take(state)?;
        let expected = pending.redirect_uri().url();
        if callback_url.scheme() != expected.scheme() || callback_url.path() != expected.path() {
            return Err(SigninError::BadCallback(
                "the link does not match the redirect URI of this sign-in".to_owned(),
            ));
        }
        login::complete(provider, pending, &callback).await
    }
}
