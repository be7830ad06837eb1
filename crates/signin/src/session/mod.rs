//! The session: signed-in accounts and their tokens, kept fresh.
//!
//! A [`Session`] owns the credential's life after the protocol: the flows
//! ([`crate::flow`]) answer facts (who signed in, the tokens, their
//! lifetime, whether a refresh token rotated), and the session decides what
//! to keep and when to refresh, over three edges: a [`Clock`], a
//! [`TokenStore`] (the keyring) and the [`AccountBook`]. Access and ID
//! tokens stay in memory; only the [`StoredGrant`] goes to the store.
//!
//! The refresh policy (practice 9), in [`tokens`](self#refresh):
//! - an access token missing or expiring within [`REFRESH_MARGIN`] is
//!   refreshed with the stored refresh token; one refresh is in flight per
//!   account however many callers ask at once;
//! - a rotated refresh token replaces the stored one (one overwrite);
//! - across processes (the desktop app, `tessera`), one refresh per expiry:
//!   a file lock per account beside the account book, the entry loaded again
//!   under it, and the access token another process saved there used while
//!   it is fresh (see [`tokens`](self#across-processes));
//! - `invalid_grant` (or a refreshed ID token about someone else, OIDC Core
//!   §12.2) drops the stored grant — only if it still holds the refused
//!   token — marks the account as needing a sign-in, and answers
//!   [`SessionError::SignInRequired`];
//! - a token goes only to the issuer that issued it: an account of another
//!   issuer than the configured one is neither refreshed nor used
//!   ([`SessionError::OtherProvider`]), and it is signed out at its own.
//!
//! # Public surface
//! Making one: [`Session::new`] over a configuration, a store and a book
//! (the apps get one from their builder), then [`with_clock`](Session::with_clock)
//! (read the time from this clock), [`with_provider`](Session::with_provider)
//! (use an already discovered provider),
//! [`with_post_logout_redirect`](Session::with_post_logout_redirect) (send
//! this `post_logout_redirect_uri` at sign-out) and
//! [`with_device_sleep`](Session::with_device_sleep) (wait between device
//! polls this way).
//!
//! Accounts:
//! - [`config`](Session::config): the sign-in settings it was made with.
//! - [`accounts`](Session::accounts): every account, most recently used first.
//! - [`active`](Session::active): the active account, if any.
//! - [`use_account`](Session::use_account): makes another account the active one.
//! - [`act_for`](Session::act_for): uses another account's tokens in this session only, leaving the active one as it is.
//! - [`subscribe`](Session::subscribe): a counter that moves at every change a UI shows.
//!
//! Signing in (one at a time):
//! - [`sign_in`](Session::sign_in): signs someone in by browser or device code, makes them active, and says when a switch brought back the same person.
//! - [`offers_device_sign_in`](Session::offers_device_sign_in): whether the provider offers the device grant (for machines with no browser).
//! - [`is_signing_in`](Session::is_signing_in): whether a sign-in is under way.
//! - [`cancel_sign_in`](Session::cancel_sign_in): ends the sign-in under way as cancelled.
//! - [`deliver_deep_link`](Session::deliver_deep_link): hands in the link the OS delivered for the sign-in waiting on it.
//! - [`sign_in_machine`](Session::sign_in_machine): signs a service in with its own identity (client credentials: a secret kept in the store, or a private key file); its tokens are fetched again when they expire.
//!
//! Tokens:
//! - [`token`](Session::token): the active account's fresh access token, with its DPoP key when bound.
//! - [`access_token`](Session::access_token): the same, the access token alone.
//! - [`token_details`](Session::token_details): the same with its expiry and scopes (`tessera token --json`).
//! - [`renew`](Session::renew): a new token for one the API refused (one refresh for many callers).
//! - [`whoami`](Session::whoami): the active account with its token's expiry, scopes and key.
//! - [`keep_fresh`](Session::keep_fresh): one background refresh step, answering when to come back.
//! - [`offline`](Session::offline): why the active account could not be refreshed lately, if so.
//!
//! Signing out:
//! - [`sign_out`](Session::sign_out): signs one account out and answers the logout URL to open.
//! - [`sign_out_account`](Session::sign_out_account): the same, answering everything it did.
//! - [`sign_out_all`](Session::sign_out_all): signs every account out, each at its own issuer.
//!
//! Keyring calls are blocking; the session runs them on Tokio's blocking
//! threads, so every method can be called from async code.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::SystemTime;

use clock::{Clock, SystemClock};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::account::AccountKey;
use crate::accounts::{Account, AccountBook};
use crate::flow::config::{RedirectKind, SigninConfig};
use crate::flow::deep_link::DeepLinks;
use crate::flow::device::{self, Sleep};
use crate::flow::provider::Provider;
use crate::store::{StoreError, StoredGrant, TokenStore};

mod error;
mod machine;
mod providers;
mod rate_limits;
mod sign_in;
mod sign_out;
#[cfg(test)]
mod tests;
mod tokens;

pub use error::{ErrorKind, SessionError};
pub use machine::{MachineCredential, MachineSignIn};
pub use sign_in::{CANCEL_GRACE, DeviceCodeInfo, SignInMethod, SignedInAccount};
pub use sign_out::SignedOut;
pub use tokens::{
    AccessTokenDetails, BoundToken, KEEP_FRESH_MAX_WAIT, KEEP_FRESH_RETRY, Offline, REFRESH_MARGIN, WhoAmI, retry_wait,
};

use providers::Providers;
use tokens::Held;

/// The signed-in accounts of this app and their tokens (see the [module
/// docs](self)). Share it as `Arc<Session>`.
pub struct Session {
    config: SigninConfig,
    store: Arc<dyn TokenStore>,
    book: Mutex<AccountBook>,
    providers: Providers,
    clock: Arc<dyn Clock>,
    device_sleep: Sleep,
    post_logout_redirect: Option<Url>,
    /// The tokens of this process, by account (never the refresh token).
    held: Mutex<HashMap<AccountKey, Held>>,
    /// One refresh in flight per account.
    refresh_locks: Mutex<HashMap<AccountKey, Arc<tokio::sync::Mutex<()>>>>,
    offline: Mutex<Option<Offline>>,
    /// Until when the provider asked not to be sent a refresh (HTTP 429),
    /// by account.
    rate_limited: Mutex<HashMap<AccountKey, SystemTime>>,
    /// The account this session acts for instead of the active one
    /// ([`act_for`](Session::act_for)); the book is not changed.
    acting_for: Mutex<Option<AccountKey>>,
    /// One sign-in at a time.
    signing_in: tokio::sync::Mutex<()>,
    /// Cancels the sign-in under way; `cancelled` says it was.
    cancel: Mutex<CancellationToken>,
    cancelled: AtomicBool,
    /// The sign-ins waiting for a deep link (a custom-scheme redirect only).
    deep_links: Option<DeepLinks>,
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
        let deep_links = match &config.redirect {
            RedirectKind::Custom(redirect_uri) => Some(DeepLinks::new(redirect_uri.clone())),
            RedirectKind::Loopback { .. } => None,
        };
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let post_logout_redirect = config.post_logout_redirect.clone();
        Self {
            providers: Providers::new(config.issuer.clone(), config.http_timeout, config.net.clone(), clock.clone()),
            config,
            store,
            book: Mutex::new(book),
            clock,
            device_sleep: device::tokio_sleep(),
            post_logout_redirect,
            held: Mutex::default(),
            refresh_locks: Mutex::default(),
            offline: Mutex::default(),
            rate_limited: Mutex::default(),
            acting_for: Mutex::default(),
            signing_in: tokio::sync::Mutex::new(()),
            cancel: Mutex::new(CancellationToken::new()),
            cancelled: AtomicBool::new(false),
            deep_links,
            changes: watch::Sender::new(0),
        }
    }

    /// Reads the time from `clock` (when access tokens expire, when a
    /// refresh happened, when to retry, and in the providers it discovers:
    /// ID tokens' `exp`, proofs' `iat`); tests move it.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.providers = self.providers.with_clock(clock.clone());
        self.clock = clock;
        self
    }

    /// Uses an already discovered provider instead of discovering
    /// `config.issuer` on first use.
    #[must_use]
    pub fn with_provider(mut self, provider: Arc<Provider>) -> Self {
        self.providers = self.providers.with_configured(provider);
        self
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

    /// The sign-in settings.
    #[must_use]
    pub fn config(&self) -> &SigninConfig {
        &self.config
    }

    /// Changes of the accounts or their tokens: the value counts them. It
    /// moves after a sign-in, a switch, a refresh, an account needing a new
    /// sign-in, a change of [`offline`](Self::offline), and a sign-out — what
    /// a UI listens to.
    #[must_use]
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
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

    /// Acts for the account `selector` names ([`AccountBook::find`]: id,
    /// email, login or a unique prefix) instead of the active one, in this
    /// session only: [`token`](Self::token), [`token_details`](Self::token_details),
    /// [`renew`](Self::renew), [`whoami`](Self::whoami) and
    /// [`keep_fresh`](Self::keep_fresh) use it. The account book's active
    /// account stays as it is (a command run for another account, as
    /// `tessera token --account` does). `None`: back to the active account.
    ///
    /// # Errors
    /// As [`use_account`](Self::use_account); then nothing changes.
    pub fn act_for(&self, selector: Option<&str>) -> Result<Option<Account>, SessionError> {
        let account = match selector {
            Some(selector) => {
                let account = self.book().find(selector)?.clone();
                self.check_issuer(&account)?;
                Some(account)
            }
            None => None,
        };
        *lock(&self.acting_for) = account.as_ref().map(|a| a.key.clone());
        self.changed();
        Ok(account)
    }

    // --- shared by the parts --------------------------------------------

    fn changed(&self) {
        self.changes.send_modify(|count| *count = count.wrapping_add(1));
    }

    fn now(&self) -> SystemTime {
        self.clock.now()
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

    /// The account tokens are for: the one [`act_for`](Self::act_for)
    /// chose, else the active one.
    fn active_key(&self) -> Result<AccountKey, SessionError> {
        if let Some(key) = lock(&self.acting_for).clone() {
            return Ok(key);
        }
        self.book().active().map(|a| a.key.clone()).ok_or(SessionError::NoAccount)
    }

    fn book(&self) -> MutexGuard<'_, AccountBook> {
        lock(&self.book)
    }

    fn held(&self) -> MutexGuard<'_, HashMap<AccountKey, Held>> {
        lock(&self.held)
    }

    fn refresh_lock(&self, key: &AccountKey) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.refresh_locks).entry(key.clone()).or_default().clone()
    }

    /// The saved sign-in of `key` (on a blocking thread).
    async fn load_grant(&self, key: &AccountKey) -> Result<Option<StoredGrant>, SessionError> {
        let (store, key) = (self.store.clone(), key.clone());
        blocking(move || store.load(&key)).await
    }

    /// Saves the sign-in of `key`: one overwrite of its entry, skipped by
    /// the store when nothing changed.
    async fn save_grant(&self, key: &AccountKey, grant: StoredGrant) -> Result<(), SessionError> {
        let (store, key) = (self.store.clone(), key.clone());
        blocking(move || store.save(&key, &grant)).await
    }

    async fn delete_grant(&self, key: &AccountKey) -> Result<(), SessionError> {
        let (store, key) = (self.store.clone(), key.clone());
        blocking(move || store.delete(&key)).await
    }
}

/// A lock whose holder cannot leave its value half-changed (each use is
/// one insert, remove or read), so a poisoned one is still good.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs a blocking store call on Tokio's blocking threads.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, SessionError> {
    tokio::task::spawn_blocking(call).await.map_err(SessionError::Task)?.map_err(SessionError::Store)
}
