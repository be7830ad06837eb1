//! One browser sign-in (RFC 8252 §6), whatever way the browser comes back:
//! [`sign_in`] makes the authorization request, opens the system browser,
//! waits on a [`Redirect`] for this sign-in's answer, checks and exchanges
//! it ([`login::complete`]) and tells the browser how it went.
//!
//! A [`Redirect`] is the one part that differs: a loopback listener
//! ([`LoopbackRedirect`](super::loopback::LoopbackRedirect), §7.3) or a
//! private-use URI scheme the OS hands to the app
//! ([`DeepLinkRedirect`](super::deep_link::DeepLinkRedirect), §7.1). A new
//! way back (say, a claimed `https` URL, §7.2) is one more implementation.

use std::future::Future;
use std::time::Duration;

use openidconnect::{ClientId, RedirectUrl};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::browser::{Browser, BrowserError};
use super::error::SigninError;
use super::login::{self, AuthOptions, Callback, PendingLogin};
use super::provider::Provider;
use crate::account::SignedIn;

/// Where the provider sends the browser back, for one sign-in.
pub trait Redirect: Send {
    /// What the browser is answered with once the sign-in is over.
    type Reply: Reply;

    /// The `redirect_uri` to send (and register at the provider).
    fn redirect_uri(&self) -> &RedirectUrl;

    /// Starts expecting the answer to `pending`, before the browser is
    /// opened, so that an answer arriving at once is not lost.
    ///
    /// # Errors
    /// When the redirect cannot expect it (another sign-in holds it).
    fn expect(&mut self, pending: &PendingLogin) -> Result<(), SigninError>;

    /// Waits for the answer to `pending` (only one carrying its `state`
    /// ends the wait, RFC 8252 §8.9), for at most `timeout` or until
    /// `cancel` fires.
    ///
    /// # Errors
    /// [`SigninError::TimedOut`], [`SigninError::Cancelled`], or the
    /// redirect's own failure.
    fn wait(
        self,
        pending: &PendingLogin,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> impl Future<Output = Result<(Callback, Self::Reply), SigninError>> + Send;
}

/// Tells the browser how the sign-in went (a page for a loopback redirect;
/// nothing for a deep link, whose browser tab has already been left).
pub trait Reply: Send {
    /// Answers and lets go of the browser.
    fn send(self, outcome: Result<&SignedIn, &SigninError>) -> impl Future<Output = ()> + Send;
}

/// No answer to give: the OS handed the link over, the browser is done.
impl Reply for () {
    async fn send(self, _: Result<&SignedIn, &SigninError>) {}
}

/// Whether the system browser was sent to a [`Link`].
#[derive(Debug, Clone, Copy)]
pub enum Opening<'a> {
    /// The browser was sent to the first link (each renewal keeps saying
    /// so): the person signs in there, the links are for another browser or
    /// a closed page.
    Opened,
    /// No browser could be opened: the person opens the link by hand.
    Failed(&'a BrowserError),
}

/// The link to sign in with, as it stands: the first one and each renewal.
/// An authorization URL carries no secret (PKCE keeps the verifier here; a
/// pushed request's link only names the request).
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    /// The authorization URL to open.
    pub url: &'a Url,
    /// Whether the browser was opened.
    pub browser: Opening<'a>,
    /// A new link replacing the one shown before (its pushed request was
    /// about to expire, or the browser spent it).
    pub renewed: bool,
}

/// What a shell did with the first [`Link`]: only a link someone can see is
/// kept alive. Renewing a link nobody sees (the CLI's, once the browser has
/// the page) would push requests to the provider for nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// Shown to the person (printed, or kept for *Copy link* and *Open
    /// again*): renewed while the sign-in waits.
    Yes,
    /// Not shown: never renewed.
    No,
}

/// Shows the sign-in link, the first one and each renewal: the CLI prints
/// it when no browser opened, the desktop's waiting view keeps the latest
/// for *Copy link*. The sign-in keeps waiting meanwhile. What it answers
/// for the first link decides whether links are renewed.
pub type ShowLink<'a> = &'a (dyn Fn(Link<'_>) -> Shown + Send + Sync);

/// What one browser sign-in asks for.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The app's client id.
    pub client_id: &'a ClientId,
    /// The scopes.
    pub scopes: &'a [String],
    /// `prompt`, `login_hint`, `max_age`, DPoP.
    pub options: &'a AuthOptions,
    /// How long the person has.
    pub timeout: Duration,
}

/// A whole browser sign-in over `redirect`: the request (pushed first when
/// the provider takes pushed requests and `options.par` allows, RFC 9126),
/// the system browser opened only once the redirect expects the answer
/// (practice 10), the answer checked and exchanged, the browser told.
///
/// Every link the person may use is handed to `show`: first the one the
/// browser was sent to (or could not be: [`Opening::Failed`]), then, when
/// `show` answered [`Shown::Yes`] for it and
/// the provider gave the pushed request a lifetime, a new one before the
/// last dies (pushed again at three quarters of its lifetime; a minute at
/// Okta), for as long as the sign-in waits. When the browser opened, a new
/// one is pushed at once: the browser spent its link, and a `request_uri`
/// is for one use (RFC 9126 §4), so the link to copy is a fresh one. Every
/// link carries the same `state` and PKCE challenge: whichever the person
/// uses, the same sign-in completes. A plain request (no push, no
/// lifetime) is never renewed.
///
/// # Errors
/// Any [`SigninError`] of the redirect's wait or of [`login::complete`].
pub async fn sign_in<R: Redirect>(
    provider: &Provider,
    request: Request<'_>,
    mut redirect: R,
    browser: &dyn Browser,
    show: ShowLink<'_>,
    cancel: &CancellationToken,
) -> Result<SignedIn, SigninError> {
    let Request { client_id, scopes, options, timeout } = request;
    let (url, pending) = login::begin(provider, client_id, redirect.redirect_uri().clone(), scopes, options)?;
    let opened = login::push(provider, url.clone(), options.par).await?;
    redirect.expect(&pending)?;
    let failed = browser.open(&opened.url).err();
    let opening = match &failed {
        None => Opening::Opened,
        Some(error) => {
            tracing::warn!(%error, "could not open a browser");
            Opening::Failed(error)
        }
    };
    let shown = show(Link { url: &opened.url, browser: opening, renewed: false });
    let renewing = async {
        let (Some(mut lifetime), Shown::Yes) = (opened.expires_in, shown) else {
            return std::future::pending().await;
        };
        let mut wait = match opening {
            Opening::Opened => Duration::ZERO,
            Opening::Failed(_) => renew_after(lifetime),
        };
        loop {
            tokio::time::sleep(wait).await;
            match login::push(provider, url.clone(), options.par).await {
                Ok(renewed) => {
                    tracing::info!("a new sign-in link (the last one was spent or about to expire)");
                    show(Link { url: &renewed.url, browser: opening, renewed: true });
                    lifetime = renewed.expires_in.unwrap_or(lifetime);
                }
                Err(error) => tracing::warn!(%error, "could not renew the sign-in link; the last one stays"),
            }
            wait = renew_after(lifetime);
        }
    };
    let (callback, reply) = tokio::select! {
        answer = redirect.wait(&pending, timeout, cancel) => answer?,
        never = renewing => match never {},
    };
    let result = tokio::select! {
        () = cancel.cancelled() => Err(SigninError::Cancelled),
        result = login::complete(provider, pending, &callback) => result,
    };
    reply.send(result.as_ref()).await;
    result
}

/// When to push a pushed request again: at three quarters of its lifetime,
/// and not more often than once a second.
fn renew_after(lifetime: Duration) -> Duration {
    (lifetime * 3 / 4).max(Duration::from_secs(1))
}
