//! The device authorization grant (RFC 8628) for machines without a browser:
//! [`start`] asks for a user code and verification URL to show, [`finish`]
//! polls the token endpoint until the person approves on another device.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use openidconnect::core::CoreDeviceAuthorizationResponse;
use openidconnect::{
    AsyncHttpClient, ClientId, DeviceCodeErrorResponseType, HttpRequest, HttpResponse, RequestTokenError, Scope,
};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::dpop::{DpopKey, Sender, copy};
use super::error::SigninError;
use super::http::HttpError;
use super::login::{Checks, finish as finish_tokens, token_error};
use super::provider::Provider;
use super::rate_limit::RateLimited;
use crate::account::SignedIn;

/// How the poller waits between polls (tests move a clock instead of sleeping).
pub type Sleep = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// The real sleep: `tokio::time::sleep`.
#[must_use]
pub fn tokio_sleep() -> Sleep {
    Arc::new(|duration| Box::pin(tokio::time::sleep(duration)))
}

/// A started device authorization (RFC 8628 §3.2): what to show the person.
#[derive(Debug)]
pub struct DeviceAuthorization {
    details: CoreDeviceAuthorizationResponse,
    client_id: ClientId,
    scopes: Vec<String>,
    dpop: Option<Arc<DpopKey>>,
    /// The code the person types (`user_code`).
    pub user_code: String,
    /// Where to type it (`verification_uri`).
    pub verification_uri: Url,
    /// A URL with the code already in it (`verification_uri_complete`), if any.
    pub verification_uri_complete: Option<Url>,
    /// When the code stops working (`expires_in`).
    pub expires_at: SystemTime,
    /// The poll interval the provider asked for (`interval`, 5 s by default).
    pub interval: Duration,
}

/// Asks the device authorization endpoint for a code (RFC 8628 §3.1).
///
/// # Errors
/// [`SigninError::DeviceNotSupported`] when discovery has no device endpoint;
/// [`SigninError::TokenEndpoint`] when the provider refuses (e.g. `invalid_scope`).
pub async fn start(
    provider: &Provider,
    client_id: &ClientId,
    scopes: &[String],
) -> Result<DeviceAuthorization, SigninError> {
    let client = provider.device_client(client_id)?;
    let mut request = client.exchange_device_code();
    // openidconnect adds `openid` itself.
    for scope in scopes.iter().filter(|s| s.as_str() != "openid") {
        request = request.add_scope(Scope::new(scope.clone()));
    }
    let details: CoreDeviceAuthorizationResponse = request.request_async(provider.http()).await.map_err(token_error)?;
    let verification_uri = details.verification_uri().url().clone();
    let verification_uri_complete =
        details.verification_uri_complete().and_then(|complete| Url::parse(complete.secret()).ok());
    Ok(DeviceAuthorization {
        user_code: details.user_code().secret().clone(),
        verification_uri,
        verification_uri_complete,
        expires_at: provider.now() + details.expires_in(),
        interval: details.interval(),
        details,
        client_id: client_id.clone(),
        scopes: scopes.to_vec(),
        dpop: None,
    })
}

impl DeviceAuthorization {
    /// Binds the tokens to a new DPoP key when `wanted` and the provider
    /// offers DPoP ([`key_for`](super::dpop::key_for)).
    ///
    /// # Errors
    /// [`SigninError::Dpop`] when no key can be made.
    pub fn with_dpop(mut self, provider: &Provider, wanted: bool) -> Result<Self, SigninError> {
        self.dpop = super::dpop::key_for(provider, wanted)?;
        Ok(self)
    }
}

/// Polls the token endpoint (RFC 8628 §3.4, §3.5): waits `interval` between
/// polls, adds 5 s on each `slow_down`, stops on `access_denied`,
/// `expired_token` or cancellation, then verifies the tokens as the code
/// flow does (without a nonce, which this grant does not carry).
///
/// [`finish_reporting`] with nobody told of a provider's rate limit.
///
/// # Errors
/// As [`finish_reporting`].
pub async fn finish(
    provider: &Provider,
    authorization: DeviceAuthorization,
    sleep: Sleep,
    cancel: &CancellationToken,
) -> Result<SignedIn, SigninError> {
    finish_reporting(provider, authorization, sleep, cancel, &|_| {}).await
}

/// [`finish`], and when the provider limits the polls (HTTP 429), waits
/// until it says it may be asked again (`Retry-After`, `X-Rate-Limit-Reset`)
/// before the next poll, telling `on_wait` how long first: the sign-in goes
/// on, unless that wait passes the code's expiry.
///
/// # Errors
/// [`SigninError::DeviceDenied`], [`SigninError::DeviceExpired`],
/// [`SigninError::Cancelled`], [`SigninError::RateLimited`] when the
/// provider's wait passes the code's expiry, or any token verification
/// error.
pub async fn finish_reporting(
    provider: &Provider,
    authorization: DeviceAuthorization,
    sleep: Sleep,
    cancel: &CancellationToken,
    on_wait: &(dyn Fn(Duration) + Send + Sync),
) -> Result<SignedIn, SigninError> {
    let client = provider.device_client(&authorization.client_id)?;
    let poller = Poller {
        sender: provider.sender(authorization.dpop.as_deref()),
        provider,
        sleep: sleep.clone(),
        on_wait,
        expires_at: authorization.expires_at,
        gave_up: Mutex::new(None),
    };
    let poll = client.exchange_device_access_token(&authorization.details).request_async(
        &poller,
        move |duration| sleep(duration),
        None,
    );
    let response = tokio::select! {
        () = cancel.cancelled() => return Err(SigninError::Cancelled),
        response = poll => response,
    };
    if let Some(limited) = *poller.gave_up.lock().unwrap_or_else(PoisonError::into_inner) {
        return Err(SigninError::RateLimited(limited));
    }
    let response = response.map_err(|error| match error {
        RequestTokenError::ServerResponse(ref response) => match response.error() {
            DeviceCodeErrorResponseType::AccessDenied => SigninError::DeviceDenied,
            DeviceCodeErrorResponseType::ExpiredToken => SigninError::DeviceExpired,
            _ => token_error(error),
        },
        other => token_error(other),
    })?;
    let checks = Checks { nonce: None, max_age: None, scopes: &authorization.scopes };
    finish_tokens(provider, &authorization.client_id, &response, checks, authorization.dpop.clone()).await
}

/// The token endpoint as the device poller sees it. oauth2's polling loop
/// takes any failed request for a network error and polls again sooner than
/// a limiting provider allows; here a 429 waits for the provider's reset
/// (told to `on_wait` first) and asks again. When that wait would pass the
/// code's expiry, the poll answers `expired_token` to end the loop, and
/// `gave_up` keeps the real reason.
struct Poller<'a> {
    sender: Sender<'a>,
    provider: &'a Provider,
    sleep: Sleep,
    on_wait: &'a (dyn Fn(Duration) + Send + Sync),
    expires_at: SystemTime,
    gave_up: Mutex<Option<RateLimited>>,
}

impl Poller<'_> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        loop {
            match self.sender.call(copy(&request)).await {
                Err(HttpError::RateLimited(limited)) => {
                    if self.provider.now() + limited.wait >= self.expires_at {
                        tracing::warn!(wait = ?limited.wait, "the provider limits the device polls past the code's expiry");
                        *self.gave_up.lock().unwrap_or_else(PoisonError::into_inner) = Some(limited);
                        return expired_token();
                    }
                    tracing::info!(wait = ?limited.wait, "the provider limits the device polls: waiting");
                    (self.on_wait)(limited.wait);
                    (self.sleep)(limited.wait).await;
                }
                other => return other,
            }
        }
    }
}

/// RFC 8628 §3.5's `expired_token`, as the token endpoint would answer it.
fn expired_token() -> Result<HttpResponse, HttpError> {
    let body = br#"{"error":"expired_token","error_description":"the provider's rate limit outlasts the code"}"#;
    openidconnect::http::Response::builder()
        .status(400)
        .header(openidconnect::http::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec())
        .map_err(HttpError::Response)
}

impl<'c> AsyncHttpClient<'c> for Poller<'_> {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
