//! # Refresh
//! The tokens this process holds, and the one refresh policy (see the
//! [session docs](super)): when a token is fresh enough, one refresh in
//! flight per account, a rotated refresh token saved in one overwrite, a
//! refused one dropped, and the background refresh's back-off.
//!
//! # Across processes
//! The desktop app and any number of `tessera` processes share an account's
//! store entry. A refresh runs under the account's in-process lock and then
//! its [`RefreshLock`] (a file lock beside the account book), held around
//! load → refresh → save only. Under it the process loads the entry again:
//! when another process has refreshed meanwhile, the entry's access token
//! ([`StoredAccess`]) is still fresh and is used as it is, and otherwise the
//! refresh token spent is the latest one, never one another process has
//! already spent. Each refresh saves the new access token with the grant,
//! so a process started later uses it while it is fresh: one refresh per
//! expiry, however many processes ask. A refused refresh token
//! (`invalid_grant`) is dropped only if the entry still holds it; when a
//! sign-in elsewhere (or a Tessera without this lock) has saved another one
//! meanwhile, that one is used instead.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use oauth2::AccessToken;
use url::Url;

use super::{Session, SessionError, lock};
use crate::account::{AccountKey, IdTokenText, Refreshed, Rotation, TokenSet};
use crate::accounts::{Account, RefreshLock, RefreshLockError};
use crate::flow::SigninError;
use crate::flow::dpop::DpopKey;
use crate::flow::refresh;
use crate::store::{StoreError, StoredAccess, StoredGrant};

/// An access token expiring within this margin is refreshed before use
/// (within half its lifetime, for tokens living less than twice as long).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// How long a refresh may hold the cross-process lock beyond its two
/// requests (discovery, the token request; each [`http_timeout`]) for the
/// keyring calls around them; a process waiting longer gives up with
/// [`SessionError::RefreshBusy`].
///
/// [`http_timeout`]: crate::flow::config::SigninConfig::http_timeout
pub const REFRESH_LOCK_ALLOWANCE: Duration = Duration::from_secs(2);

/// The longest [`Session::keep_fresh`] asks to wait between checks.
pub const KEEP_FRESH_MAX_WAIT: Duration = Duration::from_secs(300);

/// How long [`Session::keep_fresh`] waits after a first failed refresh (the
/// provider unreachable) before trying again; each further failure in a row
/// doubles the wait, up to [`KEEP_FRESH_MAX_WAIT`], plus up to a fifth more
/// at random so that clients do not all come back at the same instant after
/// a provider's outage.
pub const KEEP_FRESH_RETRY: Duration = Duration::from_secs(5);

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

/// The active account as `whoami` shows it.
#[derive(Debug, Clone)]
pub struct WhoAmI {
    /// The account (identity, issuer, subject).
    pub account: Account,
    /// When the current access token expires.
    pub expires_at: SystemTime,
    /// The scopes granted (as the last token response said).
    pub scopes: Vec<String>,
    /// When the account's tokens were last refreshed, by this process or
    /// by another one whose token this one took over (`None`: not since the
    /// sign-in or the start).
    pub refreshed_at: Option<SystemTime>,
    /// The JWK thumbprint (RFC 7638) of the key the tokens are bound to
    /// (DPoP); `None` for bearer tokens. Public: it names the key, it is
    /// not the key.
    pub bound_key: Option<String>,
}

/// An access token with the key it is bound to (DPoP, RFC 9449), if any:
/// what an API call needs, handed out together so nobody has to find the
/// key again.
#[derive(Debug, Clone)]
pub struct BoundToken {
    /// The access token (`Debug` prints `[redacted]`).
    pub access_token: AccessToken,
    /// The key it is bound to; `None` for a bearer token.
    pub dpop: Option<Arc<DpopKey>>,
}

/// A fresh access token with what a script needs to know of it
/// ([`Session::token_details`]).
#[derive(Debug, Clone)]
pub struct AccessTokenDetails {
    /// The access token and its DPoP key, if bound.
    pub token: BoundToken,
    /// When it expires (on the session's clock).
    pub expires_at: SystemTime,
    /// The scopes granted (as the last token response said).
    pub scopes: Vec<String>,
}

impl BoundToken {
    /// The token type to send it with: `DPoP` when bound to a key (RFC
    /// 9449 §5), else `Bearer` (RFC 6750).
    #[must_use]
    pub fn token_type(&self) -> &'static str {
        if self.dpop.is_some() { "DPoP" } else { "Bearer" }
    }

    /// A DPoP proof (RFC 9449 §4, §7) for sending this token with
    /// `method` to `url`, carrying the server's `nonce` when it asked for
    /// one, made at `now` (Unix seconds); `None` for a bearer token.
    ///
    /// # Errors
    /// [`SigninError::Dpop`] when the proof cannot be signed.
    pub fn proof(&self, method: &str, url: &Url, nonce: Option<&str>, now: u64) -> Result<Option<String>, SigninError> {
        let Some(key) = &self.dpop else { return Ok(None) };
        key.proof(method, url, Some(self.access_token.secret()), nonce, now)
            .map(Some)
            .map_err(|e| SigninError::Dpop(Box::new(e)))
    }
}

/// The tokens this process holds for an account (never the refresh token:
/// the store has it), with the access token's times on the session's clock.
#[derive(Debug, Clone)]
pub(super) struct Held {
    pub(super) access_token: AccessToken,
    pub(super) received_at: SystemTime,
    pub(super) expires_at: SystemTime,
    pub(super) id_token: Option<IdTokenText>,
    pub(super) scopes: Vec<String>,
    pub(super) dpop: Option<Arc<DpopKey>>,
    /// When they were last refreshed (`None`: a sign-in's).
    pub(super) refreshed_at: Option<SystemTime>,
}

impl Held {
    /// Tokens received at `now`.
    pub(super) fn received(tokens: TokenSet, now: SystemTime) -> Self {
        Self {
            access_token: tokens.access_token,
            received_at: now,
            expires_at: now + tokens.expires_in,
            id_token: tokens.id_token,
            scopes: tokens.scopes,
            dpop: tokens.dpop,
            refreshed_at: None,
        }
    }

    /// The access token another process saved with `grant`, if any.
    fn shared(grant: &StoredGrant) -> Option<Self> {
        let access = grant.access.as_ref()?;
        Some(Self {
            access_token: access.access_token.clone(),
            received_at: access.received_at,
            expires_at: access.expires_at,
            id_token: grant.id_token.clone(),
            scopes: access.scopes.clone(),
            dpop: grant.dpop.clone(),
            refreshed_at: Some(access.received_at),
        })
    }

    /// When the access token is due for a refresh: [`REFRESH_MARGIN`]
    /// before it expires, or half-way through its life when it lives less
    /// than twice that.
    pub(super) fn refresh_due(&self) -> SystemTime {
        let lifetime = self.expires_at.duration_since(self.received_at).unwrap_or_default();
        let margin = REFRESH_MARGIN.min(lifetime / 2);
        self.expires_at.checked_sub(margin).unwrap_or(self.expires_at)
    }

    /// The access token to share through the store.
    fn to_share(&self) -> StoredAccess {
        StoredAccess {
            access_token: self.access_token.clone(),
            received_at: self.received_at,
            expires_at: self.expires_at,
            scopes: self.scopes.clone(),
        }
    }

    fn bound(&self) -> BoundToken {
        BoundToken { access_token: self.access_token.clone(), dpop: self.dpop.clone() }
    }
}

impl Session {
    /// A fresh access token for the active account, with its DPoP key when
    /// bound: the one in memory when it is valid for more than
    /// [`REFRESH_MARGIN`], else a refreshed one.
    ///
    /// # Errors
    /// [`SessionError::NoAccount`] when nobody is signed in,
    /// [`SessionError::SignInRequired`] when the saved sign-in is gone or
    /// refused, [`SessionError::OtherProvider`], [`SessionError::Store`],
    /// [`SessionError::Signin`] (network, provider).
    pub async fn token(&self) -> Result<BoundToken, SessionError> {
        let key = self.active_key()?;
        self.held_for(&key, None).await.map(|held| held.bound())
    }

    /// [`token`](Self::token)'s access token alone.
    ///
    /// # Errors
    /// As [`token`](Self::token).
    pub async fn access_token(&self) -> Result<AccessToken, SessionError> {
        self.token().await.map(|token| token.access_token)
    }

    /// [`token`](Self::token) with its expiry and scopes.
    ///
    /// # Errors
    /// As [`token`](Self::token).
    pub async fn token_details(&self) -> Result<AccessTokenDetails, SessionError> {
        let key = self.active_key()?;
        let held = self.held_for(&key, None).await?;
        Ok(AccessTokenDetails { token: held.bound(), expires_at: held.expires_at, scopes: held.scopes })
    }

    /// The API refused `rejected` (401): when the current token is another
    /// one (someone already renewed it), answers it without a refresh;
    /// otherwise refreshes (one refresh in flight per account).
    ///
    /// # Errors
    /// As [`token`](Self::token).
    pub async fn renew(&self, rejected: &AccessToken) -> Result<BoundToken, SessionError> {
        let key = self.active_key()?;
        self.held_for(&key, Some(rejected)).await.map(|held| held.bound())
    }

    /// The active account's identity and token expiry, for `whoami`
    /// (refreshes the access token when needed).
    ///
    /// # Errors
    /// As [`token`](Self::token).
    pub async fn whoami(&self) -> Result<WhoAmI, SessionError> {
        let key = self.active_key()?;
        let held = self.held_for(&key, None).await?;
        let account = self.book().get(&key).cloned().ok_or(SessionError::NoAccount)?;
        Ok(WhoAmI {
            account,
            expires_at: held.expires_at,
            scopes: held.scopes,
            refreshed_at: held.refreshed_at,
            bound_key: held.dpop.as_ref().map(|key| key.thumbprint().to_owned()),
        })
    }

    /// Keeps the active account's access token fresh in the background:
    /// refreshes it when it expires within [`REFRESH_MARGIN`] (or uses the
    /// one another process refreshed), and answers how long to wait before
    /// calling again (until the next refresh is due, at most
    /// [`KEEP_FRESH_MAX_WAIT`]). After a failure such as the
    /// provider being unreachable the session is kept, [`Session::offline`]
    /// says so (subscribers hear of it), and the wait grows with each
    /// failure in a row ([`retry_wait`]), or is the provider's own when it
    /// limited the refresh (HTTP 429). An account whose refresh token was
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
        match self.held_for(&key, None).await {
            Ok(held) => {
                self.set_offline(None);
                let wait = held.refresh_due().duration_since(self.now()).unwrap_or(Duration::ZERO);
                wait.clamp(Duration::from_secs(1), KEEP_FRESH_MAX_WAIT)
            }
            Err(SessionError::SignInRequired { .. } | SessionError::OtherProvider { .. }) => {
                self.set_offline(None);
                KEEP_FRESH_MAX_WAIT
            }
            Err(error) => {
                let now = self.now();
                let previous = self.offline();
                let attempts = previous.as_ref().map_or(0, |o| o.attempts).saturating_add(1);
                let wait = match &error {
                    // The provider said when (HTTP 429): then, and up to a second later.
                    SessionError::Signin(SigninError::RateLimited(limited)) => {
                        limited.wait + Duration::from_secs(1).mul_f64(jitter())
                    }
                    _ => retry_wait(attempts, jitter()),
                };
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
    /// last attempt (the provider unreachable or failing), since when, and
    /// when the next attempt is due; `None` when all is well.
    #[must_use]
    pub fn offline(&self) -> Option<Offline> {
        lock(&self.offline).clone()
    }

    fn set_offline(&self, offline: Option<Offline>) {
        let changed = {
            let mut current = lock(&self.offline);
            let changed = *current != offline;
            *current = offline;
            changed
        };
        if changed {
            self.changed();
        }
    }

    /// Keeps a sign-in's tokens in memory.
    pub(super) fn hold(&self, key: &AccountKey, tokens: TokenSet) {
        let held = Held::received(tokens, self.now());
        self.held().insert(key.clone(), held);
    }

    /// The tokens of `key`, refreshed when they are missing, expiring, or
    /// hold the very token the API `rejected`.
    async fn held_for(&self, key: &AccountKey, rejected: Option<&AccessToken>) -> Result<Held, SessionError> {
        let account = self.book().get(key).cloned();
        if let Some(account) = &account {
            self.check_issuer(account)?;
        }
        let now = || self.now();
        let usable = |held: &Held| {
            held.refresh_due() > now() && rejected.is_none_or(|r| r.secret() != held.access_token.secret())
        };
        let current = || self.held().get(key).cloned();
        if let Some(held) = current().filter(usable) {
            return Ok(held);
        }
        let lock = self.refresh_lock(key);
        let _guard = lock.lock().await;
        // Another caller may have refreshed while this one waited.
        if let Some(held) = current().filter(usable) {
            return Ok(held);
        }
        let _across_processes = self.lock_across_processes(key).await?;
        // A service has no refresh token: it asks again (client credentials).
        if let Some(service) = account.and_then(|a| a.service) {
            return self.machine_tokens(key, &service, &usable).await;
        }
        self.refresh(key, &usable).await
    }

    /// Takes `key`'s refresh lock across processes (the caller holds its
    /// in-process one), waiting as long as one refresh may take.
    pub(super) async fn lock_across_processes(&self, key: &AccountKey) -> Result<RefreshLock, SessionError> {
        let path = RefreshLock::path(self.book().path(), key);
        let wait = self.config.http_timeout.saturating_mul(2).saturating_add(REFRESH_LOCK_ALLOWANCE);
        let locked =
            tokio::task::spawn_blocking(move || RefreshLock::acquire(&path, wait)).await.map_err(SessionError::Task)?;
        locked.map_err(|error| match error {
            RefreshLockError::Busy { waited } => {
                let account = self.display_name(key);
                tracing::warn!(account = %key.id(), ?waited, "another process holds the refresh lock");
                SessionError::RefreshBusy { account, waited }
            }
            other => SessionError::RefreshLock(other),
        })
    }

    /// One refresh of `key`'s tokens, under its refresh locks (in this
    /// process and across processes). The entry is loaded here, under the
    /// locks: when its access token is `usable`, another process refreshed
    /// meanwhile, and it is taken as it is.
    async fn refresh(&self, key: &AccountKey, usable: &(dyn Fn(&Held) -> bool + Sync)) -> Result<Held, SessionError> {
        let mut grant = match self.load_grant(key).await {
            Ok(Some(grant)) => grant,
            Ok(None) => return Err(self.needs_sign_in(key, None).await),
            Err(SessionError::Store(StoreError::Unreadable)) => {
                tracing::warn!(account = %key.id(), "the saved sign-in is damaged");
                return Err(self.needs_sign_in(key, None).await);
            }
            Err(error) => return Err(error),
        };
        // At most one more try, with a grant saved elsewhere while the
        // previous one was refused.
        let mut retried = false;
        loop {
            if let Some(shared) = Held::shared(&grant).filter(|held| usable(held)) {
                tracing::debug!(account = %key.id(), "using the access token another process refreshed");
                self.held().insert(key.clone(), shared.clone());
                self.changed();
                return Ok(shared);
            }
            let refused = match self.refresh_with(key, &grant).await {
                Ok(held) => return Ok(held),
                Err(Refusal::Refused(error)) => error,
                Err(Refusal::Failed(error)) => return Err(error),
            };
            // Dropped only if the entry still holds the refused token.
            match self.load_grant(key).await {
                Ok(Some(newer)) if newer.refresh_token.secret() != grant.refresh_token.secret() => {
                    tracing::info!(account = %key.id(), "the refused sign-in was replaced meanwhile; using the new one");
                    if !retried {
                        (grant, retried) = (newer, true);
                        continue;
                    }
                    // Replaced twice while refreshing: leave it to the next call.
                    self.held().remove(key);
                    let account = self.display_name(key);
                    return Err(SessionError::SignInRequired { account, source: Some(Box::new(refused)) });
                }
                Ok(_) => return Err(self.needs_sign_in(key, Some(refused)).await),
                // Unknown: keep the entry (the next call asks again).
                Err(error) => return Err(error),
            }
        }
    }

    /// Refreshes with `grant` and saves the result: the rotated refresh
    /// token (or the same one), the ID token and the new access token, in
    /// one overwrite of the account's entry.
    async fn refresh_with(&self, key: &AccountKey, grant: &StoredGrant) -> Result<Held, Refusal> {
        let provider = self.providers.configured().await.map_err(Refusal::Failed)?;
        if let Some(limited) = self.refresh_not_before(key) {
            return Err(Refusal::Failed(SigninError::RateLimited(limited).into()));
        }
        tracing::debug!(account = %key.id(), dpop = grant.dpop.is_some(), "refreshing the access token");
        match refresh::refresh(&provider, key, &grant.refresh_token, None, grant.dpop.clone()).await {
            Ok(Refreshed { tokens, refresh_token }) => {
                let mut held = Held::received(tokens, self.now());
                held.refreshed_at = Some(held.received_at);
                if held.id_token.is_none() {
                    // No new ID token is normal: keep the last one for `id_token_hint`.
                    held.id_token =
                        self.held().get(key).and_then(|old| old.id_token.clone()).or(grant.id_token.clone());
                }
                let refresh_token = match refresh_token {
                    Rotation::Rotated(rotated) => rotated,
                    Rotation::Unchanged => grant.refresh_token.clone(),
                };
                // One overwrite of the account's entry, its key, last ID
                // token and new access token with it.
                let saved = StoredGrant {
                    refresh_token,
                    id_token: held.id_token.clone(),
                    dpop: grant.dpop.clone(),
                    access: Some(held.to_share()),
                };
                self.save_grant(key, saved).await.map_err(Refusal::Failed)?;
                self.held().insert(key.clone(), held.clone());
                self.changed();
                Ok(held)
            }
            Err(error @ (SigninError::RefreshTokenRejected { .. } | SigninError::IdentityChanged)) => {
                Err(Refusal::Refused(error))
            }
            Err(SigninError::RateLimited(limited)) => {
                self.refresh_limited(key, limited);
                Err(Refusal::Failed(SigninError::RateLimited(limited).into()))
            }
            Err(error) => Err(Refusal::Failed(error.into())),
        }
    }

    /// The saved sign-in of `key` is gone or refused: forget it and the
    /// tokens in memory, mark the account, and say the person must sign in.
    pub(super) async fn needs_sign_in(&self, key: &AccountKey, cause: Option<SigninError>) -> SessionError {
        tracing::info!(account = %key.id(), "the saved sign-in is no longer valid");
        self.held().remove(key);
        if let Err(error) = self.delete_grant(key).await {
            tracing::warn!(%error, "could not delete the refused sign-in");
        }
        if let Err(error) = self.book().mark_needs_sign_in(key) {
            tracing::warn!(%error, "could not mark the account as needing a sign-in");
        }
        let account = self.display_name(key);
        self.changed();
        SessionError::SignInRequired { account, source: cause.map(Box::new) }
    }

    /// The account's name for people (its subject when it is not in the book).
    fn display_name(&self, key: &AccountKey) -> String {
        self.book().get(key).map_or_else(|| key.subject.clone(), |a| a.display_name().to_owned())
    }
}

/// Why [`Session::refresh_with`] got no tokens.
enum Refusal {
    /// The provider refused the refresh token (`invalid_grant`), or the
    /// refreshed ID token is about someone else: the grant is of no use.
    Refused(SigninError),
    /// Anything else (network, store): the grant is kept.
    Failed(SessionError),
}
