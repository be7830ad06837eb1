//! DPoP in the sign-in core (RFC 9449): tokens bound to a key of this
//! device, so a refresh or access token copied elsewhere is of no use
//! without the key.
//!
//! - **When**: [`key_for`] makes a new P-256 key for a sign-in when the
//!   configuration asks for DPoP (`SIGNIN_DPOP`, `dpop = true`) and the
//!   provider's discovery offers ES256 proofs
//!   (`dpop_signing_alg_values_supported`); otherwise tokens stay bearer
//!   tokens.
//! - **Requests**: [`Sender`] sends requests to the provider with a fresh
//!   proof each (`htm`, `htu`, `iat`, `jti`; `ath` and the `DPoP` scheme for
//!   a request carrying an access token, as userinfo does). It keeps the
//!   `DPoP-Nonce` each origin sends and, answered `use_dpop_nonce`, tries once
//!   more with the new nonce, as Okta asks on the first token request.
//! - **Storage**: the key is saved with the refresh token in the account's
//!   one keyring entry ([`StoredGrant`](crate::store::StoredGrant)), written
//!   in one overwrite, so a token is never stored without its key or with
//!   another's. Never a file.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use ::dpop::DpopKey;
use openidconnect::{HttpRequest, HttpResponse, http};
use url::Url;

use super::error::SigninError;
use super::http::HttpError;
use super::provider::Provider;

/// The algorithm Tessera signs proofs with.
pub const ALGORITHM: &str = "ES256";

/// A new key for a sign-in, when `wanted` and `provider` offers DPoP with
/// [`ALGORITHM`]; `None` otherwise.
///
/// # Errors
/// [`SigninError::Dpop`] when no key can be made.
pub fn key_for(provider: &Provider, wanted: bool) -> Result<Option<Arc<DpopKey>>, SigninError> {
    if !wanted {
        return Ok(None);
    }
    if !provider.offers_dpop() {
        tracing::info!("DPoP is configured but the provider does not offer it: bearer tokens");
        return Ok(None);
    }
    DpopKey::generate().map(|key| Some(Arc::new(key))).map_err(|e| SigninError::Dpop(Box::new(e)))
}

/// Sends requests to the provider, with a DPoP proof each when it has a key
/// (see the [module docs](self)); without one, as the provider's
/// [`HttpClient`](super::http::HttpClient) does.
#[derive(Debug, Clone, Copy)]
pub struct Sender<'a> {
    provider: &'a Provider,
    key: Option<&'a DpopKey>,
}

impl<'a> Sender<'a> {
    /// A sender to `provider` with `key`, if any.
    #[must_use]
    pub fn new(provider: &'a Provider, key: Option<&'a DpopKey>) -> Self {
        Self { provider, key }
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let Some(key) = self.key else { return self.provider.http().exchange(request).await };
        let url = Url::parse(&request.uri().to_string()).map_err(|e| HttpError::Request(e.to_string()))?;
        let nonces = self.provider.dpop_nonces();
        let nonce = nonces.for_url(&url);
        let answer =
            self.provider.http().exchange(self.with_proof(key, copy(&request), &url, nonce.as_deref())?).await?;
        let headers = answer.headers();
        let fresh = headers.get("dpop-nonce").and_then(|v| v.to_str().ok());
        let challenges = headers.get_all(http::header::WWW_AUTHENTICATE).iter().filter_map(|v| v.to_str().ok());
        let asks = ::dpop::asks_for_nonce(answer.status().as_u16(), challenges, answer.body());
        match nonces.keep(&url, nonce.as_deref(), fresh, asks) {
            Some(fresh) => {
                tracing::debug!("the provider asked for a DPoP nonce: trying once more with it");
                self.provider.http().exchange(self.with_proof(key, request, &url, Some(&fresh))?).await
            }
            None => Ok(answer),
        }
    }

    /// `request` with a proof for it; an access token it carries as
    /// `Bearer` is sent with the `DPoP` scheme and hashed into the proof.
    fn with_proof(
        &self,
        key: &DpopKey,
        mut request: HttpRequest,
        url: &Url,
        nonce: Option<&str>,
    ) -> Result<HttpRequest, HttpError> {
        let bearer = request
            .headers()
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::to_owned);
        let proof = key
            .proof(request.method().as_str(), url, bearer.as_deref(), nonce, clock::unix_seconds(self.provider.now()))
            .map_err(|e| HttpError::Request(e.to_string()))?;
        let value = |text: String| {
            http::HeaderValue::from_str(&text).map_err(|_| HttpError::Request("not a header value".to_owned()))
        };
        if let Some(token) = bearer {
            request.headers_mut().insert(http::header::AUTHORIZATION, value(format!("DPoP {token}"))?);
        }
        request.headers_mut().insert("dpop", value(proof)?);
        Ok(request)
    }
}

/// A copy of `request` (`http::Request` is not `Clone`).
pub(super) fn copy(request: &HttpRequest) -> HttpRequest {
    let mut copy = http::Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.headers_mut() = request.headers().clone();
    *copy.version_mut() = request.version();
    copy
}

impl<'c, 'a> openidconnect::AsyncHttpClient<'c> for Sender<'a> {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
