//! The deep-link redirect of RFC 8252 §7.1: the provider sends the browser
//! to a private-use URI scheme (`com.example.tessera:/callback?code=…`),
//! the OS hands the link to the app, and the app hands it in with
//! [`DeepLinks::deliver`]. The sign-in waiting under the link's `state`
//! takes it; a link for no waiting sign-in, or for another path or scheme,
//! is refused there and a waiting sign-in keeps waiting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use openidconnect::RedirectUrl;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::error::SigninError;
use super::login::{Callback, PendingLogin};
use super::redirect::Redirect;

type Waiting = Arc<Mutex<HashMap<String, oneshot::Sender<Url>>>>;

/// The app's deep-link redirect: the sign-ins waiting for a link, by
/// `state`. Cheap to clone; every clone sees the same sign-ins.
#[derive(Clone)]
pub struct DeepLinks {
    redirect_uri: RedirectUrl,
    waiting: Waiting,
}

impl std::fmt::Debug for DeepLinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeepLinks")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("waiting", &self.lock().len())
            .finish()
    }
}

impl DeepLinks {
    /// Deep links to `redirect_uri` (the app's registered custom scheme).
    #[must_use]
    pub fn new(redirect_uri: RedirectUrl) -> Self {
        Self { redirect_uri, waiting: Waiting::default() }
    }

    /// The redirect of one sign-in.
    #[must_use]
    pub fn redirect(&self) -> DeepLinkRedirect {
        DeepLinkRedirect { links: self.clone(), state: None }
    }

    /// How many sign-ins wait for a link.
    #[must_use]
    pub fn waiting(&self) -> usize {
        self.lock().len()
    }

    /// Hands in a link the OS delivered: the sign-in waiting under its
    /// `state` completes with it (every check of the code flow still runs
    /// there).
    ///
    /// # Errors
    /// [`SigninError::BadCallback`] for a link that is not this redirect
    /// (another scheme or path), [`SigninError::MissingState`],
    /// [`SigninError::UnknownState`] when no sign-in waits under its
    /// `state` (already completed, timed out, or never begun).
    pub fn deliver(&self, link: &Url) -> Result<(), SigninError> {
        let expected = self.redirect_uri.url();
        if link.scheme() != expected.scheme() || link.path() != expected.path() {
            return Err(SigninError::BadCallback("the link is not this app's sign-in redirect".to_owned()));
        }
        let callback = Callback::from_url(link)?;
        let state = callback.state().ok_or(SigninError::MissingState)?;
        let sender = self.lock().remove(state).ok_or(SigninError::UnknownState)?;
        sender.send(link.clone()).map_err(|_| SigninError::UnknownState)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, oneshot::Sender<Url>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One sign-in's wait for its deep link (see [`DeepLinks`]). However the
/// sign-in ends (also when its future is dropped), the link is no longer
/// awaited.
#[derive(Debug)]
pub struct DeepLinkRedirect {
    links: DeepLinks,
    state: Option<(String, oneshot::Receiver<Url>)>,
}

impl Drop for DeepLinkRedirect {
    fn drop(&mut self) {
        if let Some((state, _)) = &self.state {
            self.links.lock().remove(state);
        }
    }
}

impl Redirect for DeepLinkRedirect {
    type Reply = ();

    fn redirect_uri(&self) -> &RedirectUrl {
        &self.links.redirect_uri
    }

    fn expect(&mut self, pending: &PendingLogin) -> Result<(), SigninError> {
        let (sender, receiver) = oneshot::channel();
        let state = pending.state().to_owned();
        self.links.lock().insert(state.clone(), sender);
        self.state = Some((state, receiver));
        Ok(())
    }

    async fn wait(
        mut self,
        pending: &PendingLogin,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<(Callback, ()), SigninError> {
        if self.state.is_none() {
            self.expect(pending)?;
        }
        let Some((_, receiver)) = self.state.as_mut() else { return Err(SigninError::UnknownState) };
        let link = tokio::select! {
            link = receiver => link.map_err(|_| SigninError::Cancelled)?,
            () = cancel.cancelled() => return Err(SigninError::Cancelled),
            () = tokio::time::sleep(timeout) => return Err(SigninError::TimedOut { after: timeout }),
        };
        Ok((Callback::from_url(&link)?, ()))
    }
}
