//! The session: signed-in accounts and their tokens, kept fresh.
//!
//! A [`Session`] ties the pieces together for the apps: the configuration,
//! the provider (discovered on first use), the [`TokenStore`] that keeps each
//! account's refresh token, the [`AccountBook`], and the access and ID tokens
//! of this process (in memory only). It carries the one refresh policy of
//! Tessera (practice 9):
//!
//! - an access token missing or expiring within [`REFRESH_MARGIN`] is
//!   refreshed with the stored refresh token; one refresh is in flight per
//!   account however many callers ask at once;
//! - a rotated refresh token replaces the stored one (one overwrite);
//! - `invalid_grant` (or a refreshed ID token about someone else, OIDC Core
//!   §12.2) drops the stored token, marks the account as needing a sign-in,
//!   and answers [`SessionError::SignInRequired`];
//! - after a sign-in the account is matched by (issuer, client id, subject):
//!   a known person is updated, a new one added, nobody overwritten.
//!
//! Sign-out revokes the refresh token (RFC 7009), forgets it, removes the
//! account, and answers the RP-initiated logout URL (OIDC RP-Initiated
//! Logout 1.0) for the desktop to open.
//!
//! A token goes only to the issuer that issued it: an account's revocation
//! and logout URL use the endpoints of the issuer in its own
//! [`AccountKey`] (discovered for it, with the client id it was issued to),
//! never those of the issuer configured now. An account of another issuer
//! than the configured one (the settings changed since it signed in) is
//! not refreshed or used at all ([`SessionError::OtherProvider`]): its
//! access tokens would go to an API set up for another provider. It can
//! still be signed out, at its own issuer.
//!
//! Keyring calls are blocking; the session runs them on Tokio's blocking
//! threads, so every method can be called from async code.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use oauth2::{AccessToken, RefreshToken};
use openidconnect::RedirectUrl;
use tokio::sync::{OnceCell, oneshot, watch};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::account::{AccountKey, IdTokenText, SignedIn, TokenSet};
use crate::accounts::{Account, AccountBook};
use crate::flow::SigninError;
use crate::flow::browser::{Browser, BrowserError};
use crate::flow::config::{RedirectKind, SigninConfig};
use crate::flow::device::{self, DeviceAuthorization, Sleep};
use crate::flow::dpop;
use crate::flow::login::{self, AuthOptions, Callback};
use crate::flow::loopback::{self, LoopbackRedirect};
use crate::flow::pending::Now;
use crate::flow::provider::{self, Provider};
use crate::flow::refresh;
use crate::store::{StoreError, TokenStore};

mod error;
#[cfg(test)]
mod tests;

pub use error::{ErrorKind, SessionError};

/// An access token expiring within this margin is refreshed before use.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The longest [`Session::keep_fresh`] asks to wait between checks.
pub const KEEP_FRESH_MAX_WAIT: Duration = Duration::from_secs(300);

/// How long [`Session::keep_fresh`] waits after a first failed refresh (the
/// provider unreachable) before trying again; each further failure in a row
/// doubles the wait, up to [`KEEP_FRESH_MAX_WAIT`], plus up to a fifth more
/// at random so that clients do not all come back at the same instant after
/// a provider's outage.
pub const KEEP_FRESH_RETRY: Duration = Duration::from_secs(5);

/// The active account's tokens cannot be refreshed for now (the provider is
/// unreachable or failing): the session is kept, and the refresh retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offline {
    /// When the first of the failed attempts in a row was made.
    pub since: SystemTime,
    /// How many attempts in a row failed.
    pub attempts: u32,
    /// When the next attempt is due.
    pub retry_at: SystemTime,
    /// What went wrong, for the person (the error and its causes).
    pub reason: String,
}

/// The wait before the next attempt after `attempts` failures in a row,
/// `jitter` (0 to 1) of the way into its random fifth.
#[must_use]
pub fn retry_wait(attempts: u32, jitter: f64) -> Duration {
    let doubled = KEEP_FRESH_RETRY.saturating_mul(1_u32 << attempts.saturating_sub(1).min(16));
    let wait = doubled.min(KEEP_FRESH_MAX_WAIT);
    wait.mul_f64(1.0 + jitter.clamp(0.0, 1.0) / 5.0)
}

/// A number from 0 to 1, different at each call (std's hasher keys are
/// random), for spreading retries; not for anything secret.
fn jitter() -> f64 {
    use std::hash::{BuildHasher as _, Hasher as _};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos());
    #[allow(clippy::cast_precision_loss)]
    let fraction = (hasher.finish() >> 11) as f64 / (1_u64 << 53) as f64;
    fraction
}

/// What the device grant shows the person: the user code and where to type it
/// (RFC 8628 §3.3).
pub type DeviceCodeInfo = DeviceAuthorization;

/// How to sign in.
#[derive(Clone)]
pub enum SignInMethod {
    /// The system browser, coming back by the configured redirect: a
    /// loopback listener (RFC 8252 §7.3), or a private-use URI scheme (§7.1)
    /// whose link the app hands to [`Session::deliver_deep_link`]. `on_url`
    /// is called with the authorization URL when no browser could be opened
    /// (print it; the sign-in keeps waiting).
    Browser {
        /// Opens the authorization URL.
        browser: Arc<dyn Browser>,
        /// Shows the URL when `browser` failed.
        on_url: Arc<dyn Fn(&Url) + Send + Sync>,
    },
    /// The device authorization grant (RFC 8628), for machines without a
    /// browser. `on_code` shows the user code and the verification URI.
    Device {
        /// Shows the code.
        on_code: Arc<dyn Fn(&DeviceCodeInfo) + Send + Sync>,
    },
}

impl std::fmt::Debug for SignInMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Browser { .. } => "SignInMethod::Browser",
            Self::Device { .. } => "SignInMethod::Device",
        })
    }
}

/// The active account as `whoami` shows it.
#[derive(Debug, Clone)]
pub struct WhoAmI {
    /// The account (identity, issuer, subject).
    pub account: Account,
    /// When the current access token expires.
    pub expires_at: SystemTime,
    /// The scopes granted (as the last token response said).
    pub scopes: Vec<String>,
    /// When this process last refreshed the account's tokens (`None`: not
    /// since the sign-in or the start).
    pub refreshed_at: Option<SystemTime>,
    /// The JWK thumbprint (RFC 7638) of the key the tokens are bound to
    /// (DPoP); `None` for bearer tokens. Public: it names the key, it is
    /// not the key.
    pub bound_key: Option<String>,
}

/// What a sign-out did.
#[derive(Debug)]
pub struct SignedOut {
    /// The account removed.
    pub account: Account,
    /// The RP-initiated logout URL to open in the browser, when the
    /// account's own issuer has an `end_session_endpoint`.
    pub logout_url: Option<Url>,
    /// Why the refresh token could not be revoked at the account's own
    /// issuer ([`SessionError::NotRevoked`], naming it); the local sign-out
    /// completed anyway.
    pub revocation_error: Option<SessionError>,
}

/// The signed-in accounts of this app and their tokens (see the [module
/// docs](self)). Share it as `Arc<Session>`.
pub struct Session {
    config: SigninConfig,
    store: Arc<dyn TokenStore>,
    book: Mutex<AccountBook>,
    provider: OnceCell<Arc<Provider>>,
    /// Issuers of accounts other than the configured one, discovered to
    /// sign those accounts out (by issuer).
    other_issuers: tokio::sync::Mutex<HashMap<String, Arc<Provider>>>,
    tokens: Mutex<HashMap<AccountKey, TokenSet>>,
    refresh_locks: Mutex<HashMap<AccountKey, Arc<tokio::sync::Mutex<()>>>>,
    now: Now,
    device_sleep: Sleep,
    post_logout_redirect: Option<Url>,
    cancel: Mutex<CancellationToken>,
    /// Sign-ins waiting for a deep link, by `state`.
    deep_links: Mutex<HashMap<String, oneshot::Sender<Url>>>,
    signing_in: AtomicBool,
    refreshed_at: Mutex<HashMap<AccountKey, SystemTime>>,
    offline: Mutex<Option<Offline>>,
    changes: watch::Sender<u64>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("issuer", &self.config.issuer.as_str()).finish_non_exhaustive()
    }
}

impl Session {
    /// A session over `store` and `book`, for the provider `config` names
    /// (discovered on first use).
    #[must_use]
    pub fn new(config: SigninConfig, store: Arc<dyn TokenStore>, book: AccountBook) -> Self {
        Self {
            config,
            store,
            book: Mutex::new(book),
            provider: OnceCell::new(),
            other_issuers: tokio::sync::Mutex::default(),
            tokens: Mutex::default(),
            refresh_locks: Mutex::default(),
            now: Arc::new(SystemTime::now),
            device_sleep: device::tokio_sleep(),
            post_logout_redirect: None,
            cancel: Mutex::new(CancellationToken::new()),
            deep_links: Mutex::default(),
            signing_in: AtomicBool::new(false),
            refreshed_at: Mutex::default(),
            offline: Mutex::default(),
            changes: watch::Sender::new(0),
        }
    }

    /// Changes of the accounts or their tokens: the value counts them. It
    /// moves after a sign-in, a switch, a refresh, an account needing a new
    /// sign-in, and a sign-out — what a UI listens to.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Whether a sign-in is under way.
    #[must_use]
    pub fn is_signing_in(&self) -> bool {
        self.signing_in.load(Ordering::SeqCst)
    }

    fn changed(&self) {
        self.changes.send_modify(|count| *count = count.wrapping_add(1));
    }

    /// Uses this clock to decide when access tokens expire (tests move it).
    #[must_use]
    pub fn with_clock(mut self, now: Now) -> Self {
        self.now = now;
        self
    }

    /// Uses an already discovered provider instead of discovering
    /// `config.issuer` on first use.
    #[must_use]
    pub fn with_provider(self, provider: Arc<Provider>) -> Self {
        // A fresh cell: `set` cannot fail.
        let cell = OnceCell::new_with(Some(provider));
        Self { provider: cell, ..self }
    }

    /// Sends `post_logout_redirect_uri` (a URI registered at the provider)
    /// in the logout URLs [`sign_out`](Self::sign_out) answers.
    #[must_use]
    pub fn with_post_logout_redirect(mut self, uri: Url) -> Self {
        self.post_logout_redirect = Some(uri);
        self
    }

    /// How the device grant waits between polls (tests shorten it).
    #[must_use]
    pub fn with_device_sleep(mut self, sleep: Sleep) -> Self {
        self.device_sleep = sleep;
        self
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &SigninConfig {
        &self.config
    }

    /// Every account, most recently used first.
    #[must_use]
    pub fn accounts(&self) -> Vec<Account> {
        self.book().list().into_iter().cloned().collect()
    }

    /// The active account, if any.
    #[must_use]
    pub fn active(&self) -> Option<Account> {
        self.book().active().cloned()
    }

    /// Makes the account `selector` names ([`AccountBook::find`]: id, email,
    /// login or a unique prefix) the active one.
    ///
    /// # Errors
    /// [`SessionError::Accounts`] when no account or several match, or the
    /// book cannot be saved; [`SessionError::OtherProvider`] for an account
    /// of another issuer than the configured one.
    pub fn use_account(&self, selector: &str) -> Result<Account, SessionError> {
        let mut book = self.book();
        let account = book.find(selector)?;
        self.check_issuer(account)?;
        let key = account.key.clone();
        book.set_active(&key)?;
        let account = book.get(&key).cloned().ok_or(SessionError::NoAccount)?;
        drop(book);
        self.changed();
        Ok(account)
    }

    /// Cancels the sign-in in progress, if any (it fails with
    /// [`SigninError::Cancelled`]).
    pub fn cancel_sign_in(&self) {
        self.cancel.lock().unwrap_or_else(PoisonError::into_inner).cancel();
    }

    /// Signs someone in and makes their account active.
    ///
    /// `switching` (add an account, switch users): sends the configured
    /// `prompt` (default `login consent`, so the provider asks for
    /// credentials even when its session is alive). A `login_hint` is sent
    /// when the active account needs a new sign-in (its login or email).
    ///
    /// The result is matched by (issuer, client id, subject): a known account
    /// is updated, a new one added, never a different person overwritten. Only
    /// the refresh token is saved in the store; access and ID tokens stay in
    /// memory.
    ///
    /// # Errors
    /// [`SessionError::Signin`] for any failure of the flow (cancelled, timed
    /// out, refused, a failed check), [`SessionError::Store`] when the refresh
    /// token cannot be saved, [`SessionError::Accounts`] when the book cannot.
    pub async fn sign_in(&self, method: SignInMethod, switching: bool) -> Result<Account, SessionError> {
        self.signing_in.store(true, Ordering::SeqCst);
        // Cleared however the sign-in ends, also when its future is dropped.
        let _clear = ClearOnDrop(&self.signing_in);
        self.sign_in_inner(method, switching).await
    }

    async fn sign_in_inner(&self, method: SignInMethod, switching: bool) -> Result<Account, SessionError> {
        let provider = self.provider().await?;
        // A login hint names someone at this provider only.
        let hint = self
            .book()
            .active()
            .filter(|a| a.needs_sign_in && a.key.issuer == self.config.issuer.as_str())
            .and_then(|a| a.identity.preferred_username.clone().or_else(|| a.identity.email.clone()));
        let options = if switching {
            AuthOptions {
                dpop: self.config.dpop,
                ..AuthOptions::switching_account(self.config.prompt.as_deref(), hint.as_deref())
            }
        } else {
            AuthOptions { login_hint: hint, dpop: self.config.dpop, ..AuthOptions::default() }
        };
        let cancel = {
            let mut slot = self.cancel.lock().unwrap_or_else(PoisonError::into_inner);
            *slot = CancellationToken::new();
            slot.clone()
        };
        let signed_in = match (method, &self.config.redirect) {
            (SignInMethod::Browser { browser, on_url }, RedirectKind::Custom(redirect_uri)) => {
                self.deep_link_sign_in(&provider, redirect_uri.clone(), &options, browser.as_ref(), &*on_url, &cancel)
                    .await?
            }
            (SignInMethod::Browser { browser, on_url }, RedirectKind::Loopback { .. }) => {
                let listener = LoopbackRedirect::for_redirect(&self.config.redirect).await?;
                let no_browser = move |url: &Url, _: &BrowserError| on_url(url);
                loopback::sign_in(
                    &provider,
                    &self.config.client_id,
                    &self.config.scopes,
                    &options,
                    listener,
                    browser.as_ref(),
                    &no_browser,
                    self.config.timeout,
                    &cancel,
                )
                .await?
            }
            (SignInMethod::Device { on_code }, _) => {
                let authorization = device::start(&provider, &self.config.client_id, &self.config.scopes)
                    .await?
                    .with_dpop(&provider, self.config.dpop)?;
                on_code(&authorization);
                device::finish(&provider, authorization, self.device_sleep.clone(), &cancel).await?
            }
        };
        self.record(signed_in).await
    }

    /// Records a completed sign-in (also one completed elsewhere, e.g. a deep
    /// link through [`PendingLogins`](crate::flow::pending::PendingLogins)):
    /// saves the refresh token, updates the book, makes the account active
    /// and keeps the access and ID tokens in memory.
    ///
    /// # Errors
    /// [`SessionError::Store`], [`SessionError::Accounts`].
    pub async fn record(&self, signed_in: SignedIn) -> Result<Account, SessionError> {
        let key = signed_in.key.clone();
        // Only sign-ins at this session's provider are recorded.
        if key.issuer != self.config.issuer.as_str() {
            return Err(SigninError::IssuerMismatch {
                expected: self.config.issuer.to_string(),
                got: key.issuer.clone(),
            }
            .into());
        }
        if let Some(refresh_token) = &signed_in.tokens.refresh_token {
            // With its DPoP key, if bound: one entry, one write.
            let sealed = dpop::seal(refresh_token, signed_in.tokens.dpop.as_deref());
            let (store, key) = (self.store.clone(), key.clone());
            blocking(move || store.save(&key, &sealed)).await?;
        }
        let account = self.book().upsert(&signed_in)?.clone();
        let tokens = self.in_memory(signed_in.tokens);
        self.tokens().insert(key.clone(), tokens);
        self.refreshed_at().remove(&key);
        tracing::info!(account = %account.id(), "signed in");
        self.changed();
        Ok(account)
    }

    /// A fresh access token for the active account: the one in memory when
    /// it is valid for more than [`REFRESH_MARGIN`], else a refreshed one.
    ///
    /// # Errors
    /// [`SessionError::NoAccount`] when nobody is signed in,
    /// [`SessionError::SignInRequired`] when the refresh token is gone or
    /// refused, [`SessionError::Store`], [`SessionError::Signin`] (network,
    /// provider).
    pub async fn access_token(&self) -> Result<AccessToken, SessionError> {
        let key = self.active_key()?;
        self.token_for(&key, None).await.map(|t| t.access_token)
    }

    /// The API refused `rejected` (401): when the current token is another
    /// one (someone already renewed it), answers it without a refresh;
    /// otherwise refreshes (one refresh in flight per account).
    ///
    /// # Errors
    /// As [`access_token`](Self::access_token).
    pub async fn renew(&self, rejected: &AccessToken) -> Result<AccessToken, SessionError> {
        let key = self.active_key()?;
        self.token_for(&key, Some(rejected)).await.map(|t| t.access_token)
    }

    /// The active account's identity and token expiry, for `whoami`
    /// (refreshes the access token when needed).
    ///
    /// # Errors
    /// As [`access_token`](Self::access_token).
    pub async fn whoami(&self) -> Result<WhoAmI, SessionError> {
        let key = self.active_key()?;
        let tokens = self.token_for(&key, None).await?;
        let account = self.book().get(&key).cloned().ok_or(SessionError::NoAccount)?;
        let refreshed_at = self.refreshed_at().get(&key).copied();
        let bound_key = tokens.dpop.as_ref().map(|key| key.thumbprint().to_owned());
        Ok(WhoAmI { account, expires_at: tokens.expires_at, scopes: tokens.scopes, refreshed_at, bound_key })
    }

    /// Hands in a deep link (`com.example.tessera:/callback?code=…&state=…`)
    /// the OS delivered to the app: the browser sign-in waiting under its
    /// `state` completes with it (every check of the code flow still runs
    /// there). A link for no waiting sign-in, or to another path or scheme,
    /// is refused here and the waiting sign-in, if any, keeps waiting.
    ///
    /// # Errors
    /// [`SigninError::BadCallback`] for a link that is not this app's
    /// redirect, [`SigninError::MissingState`], [`SigninError::UnknownState`]
    /// when no sign-in waits under its `state`.
    pub fn deliver_deep_link(&self, link: &Url) -> Result<(), SessionError> {
        let RedirectKind::Custom(expected) = &self.config.redirect else {
            return Err(SigninError::BadCallback("this app does not sign in through links".to_owned()).into());
        };
        let expected = expected.url();
        if link.scheme() != expected.scheme() || link.path() != expected.path() {
            return Err(SigninError::BadCallback("the link is not this app's sign-in redirect".to_owned()).into());
        }
        let callback = Callback::from_url(link)?;
        let state = callback.state().ok_or(SigninError::MissingState)?;
        let waiting = self.deep_links.lock().unwrap_or_else(PoisonError::into_inner).remove(state);
        let sender = waiting.ok_or(SigninError::UnknownState)?;
        sender.send(link.clone()).map_err(|_| SessionError::Signin(SigninError::UnknownState))
    }

    /// Keeps the active account's access token fresh in the background:
    /// refreshes it when it expires within [`REFRESH_MARGIN`], and answers
    /// how long to wait before calling again (until the next refresh is
    /// due, at most [`KEEP_FRESH_MAX_WAIT`]). After a failure such as the
    /// provider being unreachable the session is kept, [`Session::offline`]
    /// says so (subscribers hear of it), and the wait grows with each
    /// failure in a row ([`retry_wait`]). An account whose refresh token was
    /// refused is marked as needing a sign-in (subscribers hear of it).
    pub async fn keep_fresh(&self) -> Duration {
        let Ok(key) = self.active_key() else {
            self.set_offline(None);
            return KEEP_FRESH_MAX_WAIT;
        };
        if self.book().get(&key).is_some_and(|a| a.needs_sign_in) {
            self.set_offline(None);
            return KEEP_FRESH_MAX_WAIT;
        }
        match self.token_for(&key, None).await {
            Ok(tokens) => {
                self.set_offline(None);
                let due = tokens.expires_at.checked_sub(REFRESH_MARGIN).unwrap_or(tokens.expires_at);
                let wait = due.duration_since((self.now)()).unwrap_or(Duration::ZERO);
                wait.clamp(Duration::from_secs(1), KEEP_FRESH_MAX_WAIT)
            }
            Err(SessionError::SignInRequired { .. } | SessionError::OtherProvider { .. }) => {
                self.set_offline(None);
                KEEP_FRESH_MAX_WAIT
            }
            Err(error) => {
                let now = (self.now)();
                let previous = self.offline();
                let attempts = previous.as_ref().map_or(0, |o| o.attempts).saturating_add(1);
                let wait = retry_wait(attempts, jitter());
                tracing::warn!(kind = ?error.kind(), %error, attempts, retry_in = ?wait, "background refresh failed; will retry");
                self.set_offline(Some(Offline {
                    since: previous.map_or(now, |o| o.since),
                    attempts,
                    retry_at: now + wait,
                    reason: crate::error_chain(&error),
                }));
                wait
            }
        }
    }

    /// Whether the active account's tokens could not be refreshed at the
    /// last attempt, and since when; `None` when all is well.
    #[must_use]
    pub fn offline(&self) -> Option<Offline> {
        self.offline.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn set_offline(&self, offline: Option<Offline>) {
        let changed = {
            let mut current = self.offline.lock().unwrap_or_else(PoisonError::into_inner);
            let changed = *current != offline;
            *current = offline;
            changed
        };
        if changed {
            self.changed();
        }
    }

    /// Signs one account out (`selector`, else the active one): revokes its
    /// refresh token (RFC 7009; when the provider cannot be reached this is
    /// logged and the local sign-out still completes), deletes the stored
    /// token, removes the account, and answers the RP-initiated logout URL
    /// to open in the browser (see [`sign_out_account`](Self::sign_out_account)).
    ///
    /// # Errors
    /// [`SessionError::NoAccount`], [`SessionError::Accounts`] (no such
    /// account), [`SessionError::Store`] when the stored token cannot be
    /// deleted (the account is then kept).
    pub async fn sign_out(&self, selector: Option<&str>) -> Result<Option<Url>, SessionError> {
        let signed_out = self.sign_out_account(selector).await?;
        if let Some(error) = &signed_out.revocation_error {
            tracing::warn!(kind = ?error.kind(), %error, "the sign-in could not be revoked at the provider");
        }
        Ok(signed_out.logout_url)
    }

    /// [`sign_out`](Self::sign_out), answering everything it did, including
    /// a failed revocation.
    ///
    /// The logout URL is the provider's `end_session_endpoint` with
    /// `client_id`, `id_token_hint` when this process still holds the
    /// account's ID token, and `post_logout_redirect_uri` when configured
    /// ([`with_post_logout_redirect`](Self::with_post_logout_redirect)).
    ///
    /// # Errors
    /// As [`sign_out`](Self::sign_out).
    pub async fn sign_out_account(&self, selector: Option<&str>) -> Result<SignedOut, SessionError> {
        let account = {
            let book = self.book();
            match selector {
                Some(selector) => book.find(selector)?.clone(),
                None => book.active().cloned().ok_or(SessionError::NoAccount)?,
            }
        };
        self.sign_out_known(account).await
    }

    /// Signs every account out ("sign out everywhere"): each is revoked at
    /// its own issuer, forgotten and removed; one failure does not stop the
    /// others. Answers what was done for each account signed out (a failed
    /// revocation in its [`SignedOut::revocation_error`]).
    ///
    /// # Errors
    /// The first failure to forget an account (the keyring, the book),
    /// after trying every account.
    pub async fn sign_out_all(&self) -> Result<Vec<SignedOut>, SessionError> {
        let mut first_error = None;
        let mut done = Vec::new();
        for account in self.accounts() {
            match self.sign_out_known(account).await {
                Ok(signed_out) => {
                    if let Some(error) = &signed_out.revocation_error {
                        tracing::warn!(kind = ?error.kind(), %error, "the sign-in could not be revoked");
                    }
                    done.push(signed_out);
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(done), Err)
    }

    // -----------------------------------------------------------------------

    async fn sign_out_known(&self, account: Account) -> Result<SignedOut, SessionError> {
        let key = account.key.clone();
        // No refresh of this account may run while it is signed out.
        let lock = self.refresh_lock(&key);
        let _guard = lock.lock().await;
        let stored = {
            let (store, key) = (self.store.clone(), key.clone());
            blocking(move || store.load(&key)).await
        };
        // The account's own issuer, whatever is configured now: its tokens
        // go there or nowhere.
        let (provider, unreachable) = match self.provider_of(&key.issuer).await {
            Ok(provider) => (Some(provider), None),
            Err(error) => (None, Some(error)),
        };
        let revocation_error = match (stored, &provider) {
            (Ok(Some(sealed)), Some(provider)) => {
                let refresh_token = dpop::open(&sealed).map_or(sealed, |(token, _)| token);
                self.revoke(provider, &key, &refresh_token).await.err()
            }
            (Ok(Some(_)), None) => unreachable,
            (Ok(None), _) => None,
            (Err(error), _) => Some(error),
        }
        .map(|source| SessionError::NotRevoked { issuer: key.issuer.clone(), source: Box::new(source) });
        {
            let (store, key) = (self.store.clone(), key.clone());
            blocking(move || store.delete(&key)).await?;
        }
        let id_token = self.tokens().remove(&key).and_then(|t| t.id_token);
        let logout_url = provider.and_then(|provider| self.logout_url(&provider, &key, id_token.as_ref()));
        let account = self.book().remove(&key)?;
        self.refresh_locks.lock().unwrap_or_else(PoisonError::into_inner).remove(&key);
        self.refreshed_at().remove(&key);
        tracing::info!(account = %account.id(), "signed out");
        self.changed();
        Ok(SignedOut { account, logout_url, revocation_error })
    }

    /// Revokes `key`'s refresh token at `provider`, the issuer that issued
    /// it (RFC 7009 §2.1; a public client identifies itself with the
    /// `client_id` the token was issued to).
    async fn revoke(
        &self,
        provider: &Provider,
        key: &AccountKey,
        refresh_token: &RefreshToken,
    ) -> Result<(), SessionError> {
        if provider.issuer().as_str() != key.issuer {
            // Not reached: `provider_of` discovered this very issuer.
            return Err(SigninError::IssuerMismatch {
                expected: key.issuer.clone(),
                got: provider.issuer().to_string(),
            }
            .into());
        }
        let url = provider.revocation_endpoint().cloned().ok_or(SigninError::MissingEndpoint("revocation"))?;
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("token", refresh_token.secret())
            .append_pair("token_type_hint", "refresh_token")
            .append_pair("client_id", &key.client_id)
            .finish();
        let http = provider.http();
        let request = http
            .reqwest()
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body);
        let (response, _) = http.send(request).await.map_err(|e| match e {
            provider::HttpError::Failed(failure) => SessionError::Signin(SigninError::ProviderFailed(failure)),
            other => SessionError::Revocation(Box::new(other)),
        })?;
        let status = response.status();
        if status.is_success() { Ok(()) } else { Err(SessionError::RevocationRefused { status: status.as_u16() }) }
    }

    /// The RP-initiated logout URL of `key`'s own issuer (`provider`), with
    /// the client id the account signed in with; `post_logout_redirect_uri`
    /// only for this app's configured client at the configured issuer
    /// (where it is registered).
    fn logout_url(&self, provider: &Provider, key: &AccountKey, id_token: Option<&IdTokenText>) -> Option<Url> {
        if provider.issuer().as_str() != key.issuer {
            return None;
        }
        let mut url = provider.end_session_endpoint()?.clone();
        {
            let mut query = url.query_pairs_mut();
            if let Some(id_token) = id_token {
                query.append_pair("id_token_hint", id_token.secret());
            }
            query.append_pair("client_id", &key.client_id);
            let configured =
                key.issuer == self.config.issuer.as_str() && key.client_id == self.config.client_id.as_str();
            if let Some(redirect) = self.post_logout_redirect.as_ref().filter(|_| configured) {
                query.append_pair("post_logout_redirect_uri", redirect.as_str());
            }
        }
        Some(url)
    }

    /// Refuses an account of another issuer than the configured one (see
    /// the [module docs](self)).
    fn check_issuer(&self, account: &Account) -> Result<(), SessionError> {
        if account.key.issuer == self.config.issuer.as_str() {
            return Ok(());
        }
        Err(SessionError::OtherProvider {
            account: account.display_name().to_owned(),
            issuer: account.key.issuer.clone(),
            configured: self.config.issuer.to_string(),
        })
    }

    /// The current tokens of `key`, refreshed when they are missing,
    /// expiring, or the very token the API `rejected`.
    async fn token_for(&self, key: &AccountKey, rejected: Option<&AccessToken>) -> Result<TokenSet, SessionError> {
        let account = self.book().get(key).cloned();
        if let Some(account) = account {
            self.check_issuer(&account)?;
        }
        let usable = |tokens: &TokenSet| {
            self.fresh(tokens) && rejected.is_none_or(|r| r.secret() != tokens.access_token.secret())
        };
        if let Some(tokens) = self.current(key).filter(usable) {
            return Ok(tokens);
        }
        let lock = self.refresh_lock(key);
        let _guard = lock.lock().await;
        // Another caller may have refreshed while this one waited.
        if let Some(tokens) = self.current(key).filter(usable) {
            return Ok(tokens);
        }
        self.refresh(key).await
    }

    /// One refresh of `key`'s tokens (the caller holds its refresh lock).
    async fn refresh(&self, key: &AccountKey) -> Result<TokenSet, SessionError> {
        let stored = {
            let (store, key) = (self.store.clone(), key.clone());
            blocking(move || store.load(&key)).await?
        };
        let Some(sealed) = stored else {
            return Err(self.needs_sign_in(key, None).await);
        };
        let (refresh_token, key_pair) = match dpop::open(&sealed) {
            Ok(opened) => opened,
            Err(error) => return Err(self.needs_sign_in(key, Some(error)).await),
        };
        let provider = self.provider().await?;
        tracing::debug!(account = %key.id(), dpop = key_pair.is_some(), "refreshing the access token");
        match refresh::refresh(&provider, key, &refresh_token, None, key_pair).await {
            Ok(mut tokens) => {
                let rotated = tokens.refresh_token.clone().filter(|t| t.secret() != refresh_token.secret());
                {
                    let mut memory = self.tokens();
                    if tokens.id_token.is_none() {
                        // No new ID token is normal: keep the old one for `id_token_hint`.
                        tokens.id_token = memory.get(key).and_then(|old| old.id_token.clone());
                    }
                    tokens = self.in_memory(tokens);
                    memory.insert(key.clone(), tokens.clone());
                }
                if let Some(rotated) = rotated {
                    // One overwrite of the account's entry (TokenStore::save),
                    // the DPoP key with it.
                    let rotated = dpop::seal(&rotated, tokens.dpop.as_deref());
                    let (store, key) = (self.store.clone(), key.clone());
                    blocking(move || store.save(&key, &rotated)).await?;
                }
                self.refreshed_at().insert(key.clone(), (self.now)());
                self.changed();
                Ok(tokens)
            }
            Err(error @ (SigninError::RefreshTokenRejected { .. } | SigninError::IdentityChanged)) => {
                Err(self.needs_sign_in(key, Some(error)).await)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// The refresh token of `key` is gone or refused: forget it and the
    /// tokens in memory, mark the account, and say the person must sign in.
    async fn needs_sign_in(&self, key: &AccountKey, cause: Option<SigninError>) -> SessionError {
        tracing::info!(account = %key.id(), "the saved sign-in is no longer valid");
        self.tokens().remove(key);
        let deleted = {
            let (store, key) = (self.store.clone(), key.clone());
            blocking(move || store.delete(&key)).await
        };
        if let Err(error) = deleted {
            tracing::warn!(%error, "could not delete the refused refresh token");
        }
        let account = {
            let mut book = self.book();
            if let Err(error) = book.mark_needs_sign_in(key) {
                tracing::warn!(%error, "could not mark the account as needing a sign-in");
            }
            book.get(key).map_or_else(|| key.subject.clone(), |a| a.display_name().to_owned())
        };
        self.changed();
        SessionError::SignInRequired { account, source: cause.map(Box::new) }
    }

    /// Keeps tokens in memory: without the refresh token (the store has it),
    /// with the expiry on this session's clock.
    fn in_memory(&self, mut tokens: TokenSet) -> TokenSet {
        let lifetime = tokens.expires_at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
        tokens.expires_at = (self.now)() + lifetime;
        tokens.refresh_token = None;
        tokens
    }

    fn fresh(&self, tokens: &TokenSet) -> bool {
        tokens.expires_at > (self.now)() + REFRESH_MARGIN
    }

    fn current(&self, key: &AccountKey) -> Option<TokenSet> {
        self.tokens().get(key).cloned()
    }

    fn active_key(&self) -> Result<AccountKey, SessionError> {
        self.book().active().map(|a| a.key.clone()).ok_or(SessionError::NoAccount)
    }

    fn refresh_lock(&self, key: &AccountKey) -> Arc<tokio::sync::Mutex<()>> {
        self.refresh_locks.lock().unwrap_or_else(PoisonError::into_inner).entry(key.clone()).or_default().clone()
    }

    fn book(&self) -> MutexGuard<'_, AccountBook> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn tokens(&self) -> MutexGuard<'_, HashMap<AccountKey, TokenSet>> {
        self.tokens.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn refreshed_at(&self) -> MutexGuard<'_, HashMap<AccountKey, SystemTime>> {
        self.refreshed_at.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A browser sign-in coming back through a deep link: the authorization
    /// request is made for `redirect_uri`, the browser opened, and the
    /// sign-in waits (for the timeout, or until cancelled) for
    /// [`deliver_deep_link`](Self::deliver_deep_link) to hand in the link
    /// carrying its `state`.
    async fn deep_link_sign_in(
        &self,
        provider: &Provider,
        redirect_uri: RedirectUrl,
        options: &AuthOptions,
        browser: &dyn Browser,
        on_url: &(dyn Fn(&Url) + Send + Sync),
        cancel: &CancellationToken,
    ) -> Result<SignedIn, SessionError> {
        let (url, pending) =
            login::begin(provider, &self.config.client_id, redirect_uri, &self.config.scopes, options)?;
        let url = login::push(provider, url).await?;
        let (sender, receiver) = oneshot::channel();
        let state = pending.state().to_owned();
        self.deep_links.lock().unwrap_or_else(PoisonError::into_inner).insert(state.clone(), sender);
        // However this ends, the link for this sign-in is no longer awaited.
        let _forget = ForgetOnDrop { links: &self.deep_links, state };
        if let Err(error) = browser.open(&url) {
            tracing::warn!(%error, "could not open the browser");
            on_url(&url);
        }
        let timeout = self.config.timeout;
        let link = tokio::select! {
            link = receiver => link.map_err(|_| SigninError::Cancelled)?,
            () = cancel.cancelled() => return Err(SigninError::Cancelled.into()),
            () = tokio::time::sleep(timeout) => return Err(SigninError::TimedOut { after: timeout }.into()),
        };
        let callback = Callback::from_url(&link)?;
        Ok(login::complete(provider, pending, &callback).await?)
    }

    async fn provider(&self) -> Result<Arc<Provider>, SessionError> {
        let provider = self
            .provider
            .get_or_try_init(|| async {
                let http = provider::http_client_with(self.config.http_timeout)?;
                Provider::discover_uncached(&self.config.issuer, &http).await.map(Arc::new)
            })
            .await?;
        Ok(provider.clone())
    }

    /// The provider of `issuer`: the configured one, or another issuer
    /// (an account signed in before the settings changed) discovered for it
    /// (OIDC Discovery §4.3: the document must name exactly `issuer`).
    async fn provider_of(&self, issuer: &str) -> Result<Arc<Provider>, SessionError> {
        if issuer == self.config.issuer.as_str() {
            return self.provider().await;
        }
        let mut others = self.other_issuers.lock().await;
        if let Some(provider) = others.get(issuer) {
            return Ok(provider.clone());
        }
        let url = openidconnect::IssuerUrl::new(issuer.to_owned()).map_err(|e| SigninError::InvalidSetting {
            setting: "the account's issuer".to_owned(),
            message: e.to_string(),
        })?;
        let http = provider::http_client_with(self.config.http_timeout)?;
        let provider = Arc::new(Provider::discover_uncached(&url, &http).await?);
        others.insert(issuer.to_owned(), provider.clone());
        Ok(provider)
    }
}

/// Removes a deep-link waiter when its sign-in ends (also when the sign-in's
/// future is dropped).
struct ForgetOnDrop<'a> {
    links: &'a Mutex<HashMap<String, oneshot::Sender<Url>>>,
    state: String,
}

impl Drop for ForgetOnDrop<'_> {
    fn drop(&mut self) {
        self.links.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.state);
    }
}

/// Clears a flag when dropped.
struct ClearOnDrop<'a>(&'a AtomicBool);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

/// Runs a blocking store call on Tokio's blocking threads.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, SessionError> {
    tokio::task::spawn_blocking(call).await.map_err(SessionError::Task)?.map_err(SessionError::Store)
}

impl Session {
    /// A DPoP proof (RFC 9449 §4) for sending `token` with `method` to
    /// `url`, from the key the token is bound to; `None` for a bearer token.
    ///
    /// # Errors
    /// [`SigninError::Dpop`] when the proof cannot be signed.
    pub fn proof(
        &self,
        token: &AccessToken,
        method: &str,
        url: &Url,
        nonce: Option<&str>,
    ) -> Result<Option<String>, SessionError> {
        let key =
            self.tokens().values().find(|t| t.access_token.secret() == token.secret()).and_then(|t| t.dpop.clone());
        let Some(key) = key else { return Ok(None) };
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        key.proof(method, url, Some(token.secret()), nonce, now)
            .map(Some)
            .map_err(|e| SessionError::Signin(SigninError::Dpop(Box::new(e))))
    }
}

impl items_client::TokenSource for Session {
    type Error = SessionError;

    async fn token(&self) -> Result<AccessToken, SessionError> {
        self.access_token().await
    }

    async fn renew(&self, rejected: &AccessToken) -> Result<AccessToken, SessionError> {
        Session::renew(self, rejected).await
    }

    fn proof(
        &self,
        token: &AccessToken,
        method: &str,
        url: &Url,
        nonce: Option<&str>,
    ) -> Result<Option<String>, SessionError> {
        Session::proof(self, token, method, url, nonce)
    }
}

impl items_client::TokenSource for &Session {
    type Error = SessionError;

    async fn token(&self) -> Result<AccessToken, SessionError> {
        items_client::TokenSource::token(*self).await
    }

    async fn renew(&self, rejected: &AccessToken) -> Result<AccessToken, SessionError> {
        items_client::TokenSource::renew(*self, rejected).await
    }

    fn proof(
        &self,
        token: &AccessToken,
        method: &str,
        url: &Url,
        nonce: Option<&str>,
    ) -> Result<Option<String>, SessionError> {
        items_client::TokenSource::proof(*self, token, method, url, nonce)
    }
}
