//! Signing in: one at a time, through the system browser (a loopback or a
//! deep-link redirect, one flow for both) or the device grant, recorded by
//! (issuer, client id, subject).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use url::Url;

use super::{Session, SessionError, lock};
use crate::account::SignedIn;
use crate::accounts::Account;
use crate::flow::SigninError;
use crate::flow::browser::Browser;
use crate::flow::config::RedirectKind;
use crate::flow::device::{self, DeviceAuthorization};
use crate::flow::login::AuthOptions;
use crate::flow::loopback::LoopbackRedirect;
use crate::flow::provider::Provider;
use crate::flow::redirect::{self, Link, Request};
use crate::store::StoredGrant;

/// How long a new sign-in waits for a cancelled one to wind down ("Try
/// again" right after "Cancel") before it is refused as busy.
pub const CANCEL_GRACE: Duration = Duration::from_secs(5);

/// What the device grant shows the person: the user code and where to type it
/// (RFC 8628 §3.3).
pub type DeviceCodeInfo = DeviceAuthorization;

/// How to sign in.
#[derive(Clone)]
pub enum SignInMethod {
    /// The system browser, coming back by the configured redirect: a
    /// loopback listener (RFC 8252 §7.3), or a private-use URI scheme (§7.1)
    /// whose link the app hands to [`Session::deliver_deep_link`]. `on_link`
    /// is handed the link to sign in with, the first one and each renewal
    /// ([`redirect::sign_in`]), saying whether the browser opened (print it
    /// when not; keep the latest to copy; the sign-in keeps waiting); it
    /// answers whether it showed the first link ([`redirect::Shown`]): only
    /// then are links renewed.
    Browser {
        /// Opens the authorization URL.
        browser: Arc<dyn Browser>,
        /// Shows the link: the first one and each renewal.
        on_link: Arc<dyn Fn(Link<'_>) -> redirect::Shown + Send + Sync>,
    },
    /// The device authorization grant (RFC 8628), for machines without a
    /// browser. `on_code` shows the user code and the verification URI;
    /// `on_wait` is told how long polling pauses when the provider limits
    /// requests (HTTP 429), before it waits.
    Device {
        /// Shows the code.
        on_code: Arc<dyn Fn(&DeviceCodeInfo) + Send + Sync>,
        /// Says that the provider asked to wait, and how long.
        on_wait: Arc<dyn Fn(Duration) + Send + Sync>,
    },
}

/// A completed sign-in, as the session recorded it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SignedInAccount {
    /// The account signed in, now the active one.
    pub account: Account,
    /// Adding or switching accounts was asked for, but the provider signed
    /// in someone who was already signed in here: it reused its browser
    /// session (`prompt=consent` alone does that at Okta). To really
    /// switch, sign in with `prompt=login`, or sign out of the provider in
    /// the browser first. The shells say so.
    pub same_person_again: bool,
}

impl std::fmt::Debug for SignInMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Browser { .. } => "SignInMethod::Browser",
            Self::Device { .. } => "SignInMethod::Device",
        })
    }
}

impl Session {
    /// Whether a sign-in is under way.
    #[must_use]
    pub fn is_signing_in(&self) -> bool {
        self.signing_in.try_lock().is_err()
    }

    /// Whether the configured provider offers signing in with a code on
    /// another device: its discovery names a device authorization endpoint
    /// (RFC 8628 §4). Discovers the provider when not done yet.
    ///
    /// # Errors
    /// [`SessionError::Signin`] when the provider cannot be discovered.
    pub async fn offers_device_sign_in(&self) -> Result<bool, SessionError> {
        let provider = self.providers.configured().await?;
        Ok(provider.metadata().additional_metadata().device_authorization_endpoint.is_some())
    }

    /// Cancels the sign-in in progress, if any (it fails with
    /// [`SigninError::Cancelled`]).
    pub fn cancel_sign_in(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        lock(&self.cancel).cancel();
    }

    /// Signs someone in and makes their account active. One sign-in at a
    /// time: another one under way is refused
    /// ([`SessionError::SignInInProgress`]), unless it was just cancelled,
    /// which this one waits for (up to [`CANCEL_GRACE`]).
    ///
    /// `switching` (add an account, switch users): sends the configured
    /// `prompt` (default `login consent`, so the provider asks for
    /// credentials even when its session is alive). A `login_hint` is sent
    /// when the active account needs a new sign-in (its login or email).
    ///
    /// The result is matched by (issuer, client id, subject): a known account
    /// is updated, a new one added, never a different person overwritten. Only
    /// the [`StoredGrant`] is saved in the store; access and ID tokens stay in
    /// memory. When `switching` brought back someone already signed in here,
    /// [`SignedInAccount::same_person_again`] says so.
    ///
    /// # Errors
    /// [`SessionError::SignInInProgress`], [`SessionError::Signin`] for any
    /// failure of the flow (cancelled, timed out, refused, a failed check),
    /// [`SessionError::Store`] when the grant cannot be saved,
    /// [`SessionError::Accounts`] when the book cannot.
    pub async fn sign_in(&self, method: SignInMethod, switching: bool) -> Result<SignedInAccount, SessionError> {
        let _one_at_a_time = match self.signing_in.try_lock() {
            Ok(guard) => guard,
            Err(_) if self.cancelled.load(Ordering::SeqCst) => {
                tokio::time::timeout(CANCEL_GRACE, self.signing_in.lock())
                    .await
                    .map_err(|_| SessionError::SignInInProgress)?
            }
            Err(_) => return Err(SessionError::SignInInProgress),
        };
        self.cancelled.store(false, Ordering::SeqCst);
        let cancel = {
            let mut slot = lock(&self.cancel);
            *slot = CancellationToken::new();
            slot.clone()
        };
        let provider = self.providers.configured().await?;
        let options = self.auth_options(switching);
        let signed_in = match method {
            SignInMethod::Browser { browser, on_link } => {
                self.browser_sign_in(&provider, &options, browser.as_ref(), &*on_link, &cancel).await?
            }
            SignInMethod::Device { on_code, on_wait } => {
                let authorization = device::start(&provider, &self.config.client_id, &self.config.scopes)
                    .await?
                    .with_dpop(&provider, self.config.dpop)?;
                on_code(&authorization);
                device::finish_reporting(&provider, authorization, self.device_sleep.clone(), &cancel, &*on_wait)
                    .await?
            }
        };
        let known = self.book().get(&signed_in.key).is_some();
        let account = self.record(signed_in).await?;
        let same_person_again = switching && known;
        if same_person_again {
            tracing::info!(account = %account.id(), "the provider signed in someone already signed in here");
        }
        Ok(SignedInAccount { account, same_person_again })
    }

    /// Hands in a deep link (`com.example.tessera:/callback?code=…&state=…`)
    /// the OS delivered to the app: the browser sign-in waiting under its
    /// `state` completes with it (every check of the code flow still runs
    /// there). A link for no waiting sign-in, or to another path or scheme,
    /// is refused here and the waiting sign-in, if any, keeps waiting.
    ///
    /// # Errors
    /// [`SigninError::BadCallback`] for a link that is not this app's
    /// redirect (or when the app does not sign in through links),
    /// [`SigninError::MissingState`], [`SigninError::UnknownState`] when no
    /// sign-in waits under its `state`.
    pub fn deliver_deep_link(&self, link: &Url) -> Result<(), SessionError> {
        let links = self
            .deep_links
            .as_ref()
            .ok_or_else(|| SigninError::BadCallback("this app does not sign in through links".to_owned()))?;
        Ok(links.deliver(link)?)
    }

    /// Records a completed sign-in: saves its grant, updates the book,
    /// makes the account active and keeps the access and ID tokens in
    /// memory. Only sign-ins at this session's provider
    /// ([`SigninError::IssuerMismatch`] otherwise).
    async fn record(&self, signed_in: SignedIn) -> Result<Account, SessionError> {
        let key = signed_in.key.clone();
        // Only sign-ins at this session's provider are recorded.
        if key.issuer != self.config.issuer.as_str() {
            return Err(SigninError::IssuerMismatch {
                expected: self.config.issuer.to_string(),
                got: key.issuer.clone(),
            }
            .into());
        }
        if let Some(refresh_token) = &signed_in.refresh_token {
            let grant = StoredGrant {
                refresh_token: refresh_token.clone(),
                id_token: signed_in.tokens.id_token.clone(),
                dpop: signed_in.tokens.dpop.clone(),
                // The sign-in's access token stays with this process; the
                // first refresh shares its own through the entry.
                access: None,
            };
            self.save_grant(&key, grant).await?;
        }
        let account = self.book().upsert(&signed_in)?.clone();
        self.hold(&key, signed_in.tokens);
        tracing::info!(account = %account.id(), "signed in");
        self.changed();
        Ok(account)
    }

    /// The authorization request's options: `prompt` when switching, a
    /// `login_hint` naming the active account when it needs a new sign-in
    /// at this provider, DPoP as configured.
    fn auth_options(&self, switching: bool) -> AuthOptions {
        let hint = self
            .book()
            .active()
            .filter(|a| a.needs_sign_in && a.key.issuer == self.config.issuer.as_str())
            .and_then(|a| a.identity.preferred_username.clone().or_else(|| a.identity.email.clone()));
        let prompt = if switching { self.config.prompt.clone() } else { None };
        AuthOptions { prompt, login_hint: hint, max_age: None, dpop: self.config.dpop, par: self.config.par }
    }

    /// A browser sign-in over the configured redirect.
    async fn browser_sign_in(
        &self,
        provider: &Provider,
        options: &AuthOptions,
        browser: &dyn Browser,
        on_link: redirect::ShowLink<'_>,
        cancel: &CancellationToken,
    ) -> Result<SignedIn, SessionError> {
        let request = Request {
            client_id: &self.config.client_id,
            scopes: &self.config.scopes,
            options,
            timeout: self.config.timeout,
        };
        let signed_in = match (&self.config.redirect, &self.deep_links) {
            (RedirectKind::Custom(_), Some(links)) => {
                redirect::sign_in(provider, request, links.redirect(), browser, on_link, cancel).await?
            }
            (redirect_kind, _) => {
                let listener = LoopbackRedirect::for_redirect(redirect_kind).await?;
                redirect::sign_in(provider, request, listener, browser, on_link, cancel).await?
            }
        };
        Ok(signed_in)
    }
}
