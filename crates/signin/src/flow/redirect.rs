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

/// What to do when no browser can be opened: usually print the URL so the
/// person can open it by hand; the sign-in keeps waiting.
pub type NoBrowser<'a> = &'a (dyn Fn(&Url, &BrowserError) + Send + Sync);

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
/// When no browser could be opened, the URL handed to `no_browser` is for
/// the person to open by hand, maybe minutes later; a pushed request's link
/// dies with the request (a minute at Okta), so it is pushed again before
/// then and the new link handed to `no_browser`, for as long as the
/// sign-in waits. (An opened browser has loaded its link already.)
///
/// # Errors
/// Any [`SigninError`] of the redirect's wait or of [`login::complete`].
pub async fn sign_in<R: Redirect>(
    provider: &Provider,
    request: Request<'_>,
    mut redirect: R,
    browser: &dyn Browser,
    no_browser: NoBrowser<'_>,
    cancel: &CancellationToken,
) -> Result<SignedIn, SigninError> {
    let Request { client_id, scopes, options, timeout } = request;
    let (url, pending) = login::begin(provider, client_id, redirect.redirect_uri().clone(), scopes, options)?;
    let opened = login::push(provider, url.clone(), options.par).await?;
    redirect.expect(&pending)?;
    let shown = match browser.open(&opened.url) {
        Ok(()) => None,
        Err(error) => {
            tracing::warn!(%error, "could not open a browser");
            no_browser(&opened.url, &error);
            Some(error)
        }
    };
    let renewing = async {
        let (Some(error), Some(mut lifetime)) = (shown, opened.expires_in) else {
            return std::future::pending().await;
        };
        loop {
            tokio::time::sleep(renew_after(lifetime)).await;
            match login::push(provider, url.clone(), options.par).await {
                Ok(renewed) => {
                    tracing::info!("the sign-in link was about to expire: a new one");
                    no_browser(&renewed.url, &error);
                    lifetime = renewed.expires_in.unwrap_or(lifetime);
                }
                Err(error) => tracing::warn!(%error, "could not renew the sign-in link; the last one stays"),
            }
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
