//! The device authorization grant (RFC 8628) for machines without a browser:
//! [`start`] asks for a user code and verification URL to show, [`finish`]
//! polls the token endpoint until the person approves on another device.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use openidconnect::core::CoreDeviceAuthorizationResponse;
use openidconnect::{ClientId, DeviceCodeErrorResponseType, RequestTokenError, Scope};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::dpop::DpopKey;
use super::error::SigninError;
use super::login::{Checks, finish as finish_tokens, token_error};
use super::provider::Provider;
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
/// # Errors
/// [`SigninError::DeviceDenied`], [`SigninError::DeviceExpired`],
/// [`SigninError::Cancelled`], or any token verification error.
pub async fn finish(
    provider: &Provider,
    authorization: DeviceAuthorization,
    sleep: Sleep,
    cancel: &CancellationToken,
) -> Result<SignedIn, SigninError> {
    let client = provider.device_client(&authorization.client_id)?;
    let sender = provider.sender(authorization.dpop.as_deref());
    let poll = client.exchange_device_access_token(&authorization.details).request_async(
        &sender,
        move |duration| sleep(duration),
        None,
    );
    let response = tokio::select! {
        () = cancel.cancelled() => return Err(SigninError::Cancelled),
        response = poll => response,
    };
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
