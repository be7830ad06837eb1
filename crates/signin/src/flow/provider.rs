//! The provider as discovered (OIDC Discovery 1.0 §4), its signing keys, and
//! the HTTP client every request to it goes through.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use clock::{Clock, SystemClock};

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType, CoreJsonWebKey,
    CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode,
    CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthUrl, ClientId, DeviceAuthorizationUrl, EndpointNotSet, EndpointSet, IssuerUrl,
    JsonWebKeySet, ProviderMetadata, TokenUrl, UserInfoUrl,
};
use serde::{Deserialize, Serialize};

use super::error::SigninError;

pub use super::http::{HttpClient, HttpError, ProviderFailure};

/// The provider's [`HttpClient`] with the default time limit and network
/// settings (the system's trust store, no proxy).
///
/// # Errors
/// When the TLS backend cannot be initialised.
pub fn http_client() -> Result<HttpClient, SigninError> {
    http_client_with(super::http::DEFAULT_TIMEOUT, &net::NetSettings::default())
}

/// The provider's [`HttpClient`] with `timeout` for each exchange, trusting
/// and proxying as `net` says ([`SigninConfig::net`](super::config::SigninConfig::net)).
///
/// # Errors
/// When the TLS backend cannot be initialised.
pub fn http_client_with(timeout: Duration, net: &net::NetSettings) -> Result<HttpClient, SigninError> {
    HttpClient::new(timeout, net).map_err(SigninError::HttpClient)
}

/// Discovery fields beyond OIDC Core's that Tessera uses.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExtraMetadata {
    /// RFC 8628 §4: the device authorization endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_endpoint: Option<DeviceAuthorizationUrl>,
    /// RFC 9207 §3: whether authorization responses carry `iss`.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 9126 §5: where authorization requests are pushed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushed_authorization_request_endpoint: Option<url::Url>,
    /// RFC 9126 §5: whether the provider takes pushed requests only.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// RFC 9449 §5.1: the algorithms the provider takes DPoP proofs in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// RFC 8414 §2: where tokens are revoked (RFC 7009).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<url::Url>,
    /// OIDC RP-Initiated Logout 1.0 §2.1: where the browser signs out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_session_endpoint: Option<url::Url>,
}

impl AdditionalProviderMetadata for ExtraMetadata {}

/// The discovery document with [`ExtraMetadata`].
pub type Metadata = ProviderMetadata<
    ExtraMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// A client for the code flow: authorization, token and userinfo endpoints set.
pub(crate) type CodeClient =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet, EndpointSet>;

/// A client for the device grant.
pub(crate) type DeviceClient =
    CoreClient<EndpointSet, EndpointSet, EndpointNotSet, EndpointNotSet, EndpointSet, EndpointSet>;

/// A discovered provider: its metadata, its current signing keys (refetched
/// when a token names an unknown `kid`), and the HTTP client.
#[derive(Debug)]
pub struct Provider {
    metadata: Metadata,
    keys: RwLock<CoreJsonWebKeySet>,
    http: HttpClient,
    /// The last `DPoP-Nonce` of each origin (RFC 9449 §8).
    dpop_nonces: dpop::ReceivedNonces,
    /// Where the time comes from: ID tokens' `exp` and `auth_time`, proofs'
    /// `iat`, a device code's expiry.
    clock: Arc<dyn Clock>,
}

fn cache() -> &'static Mutex<HashMap<String, Arc<Provider>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Provider>>>> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

impl Provider {
    /// Discovers `issuer` once per process: later calls for the same issuer
    /// answer the cached provider (its keys still refresh on an unknown `kid`).
    ///
    /// # Errors
    /// As [`Provider::discover_uncached`].
    pub async fn discover(issuer: &IssuerUrl, http: &HttpClient) -> Result<Arc<Self>, SigninError> {
        let key = issuer.as_str().to_owned();
        if let Some(found) = cache().lock().unwrap_or_else(PoisonError::into_inner).get(&key) {
            return Ok(found.clone());
        }
        let provider = Arc::new(Self::discover_uncached(issuer, http).await?);
        cache().lock().unwrap_or_else(PoisonError::into_inner).insert(key, provider.clone());
        Ok(provider)
    }

    /// Fetches `{issuer}/.well-known/openid-configuration` and the JWKS;
    /// openidconnect checks that the document's `issuer` is exactly `issuer`
    /// (OIDC Discovery §4.3).
    ///
    /// # Errors
    /// [`SigninError::Discovery`] when the provider is unreachable,
    /// [`SigninError::InvalidDiscovery`] when its document is missing or
    /// invalid (another issuer named, unparseable, an error status).
    pub async fn discover_uncached(issuer: &IssuerUrl, http: &HttpClient) -> Result<Self, SigninError> {
        let metadata = Metadata::discover_async(issuer.clone(), http).await.map_err(|e| match e {
            // Reached, and failing (HTTP 5xx).
            openidconnect::DiscoveryError::Request(HttpError::Failed(failure)) => SigninError::ProviderFailed(failure),
            openidconnect::DiscoveryError::Request(HttpError::RateLimited(limited)) => {
                SigninError::RateLimited(limited)
            }
            // Not reached: the network or the provider is down.
            openidconnect::DiscoveryError::Request(_) => {
                SigninError::Discovery { issuer: issuer.to_string(), source: Box::new(e) }
            }
            // Reached, but what it published cannot be used.
            _ => SigninError::InvalidDiscovery { issuer: issuer.to_string(), source: Box::new(e) },
        })?;
        Ok(Self::from_metadata(metadata, http.clone()))
    }

    /// A provider from metadata obtained elsewhere (the JWKS it carries is
    /// the starting key set).
    #[must_use]
    pub fn from_metadata(metadata: Metadata, http: HttpClient) -> Self {
        let keys = RwLock::new(metadata.jwks().clone());
        Self { metadata, keys, http, dpop_nonces: dpop::ReceivedNonces::default(), clock: Arc::new(SystemClock) }
    }

    /// Reads the time from `clock` (tests move it with the provider's).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The time now, on this provider's clock.
    pub(crate) fn now(&self) -> std::time::SystemTime {
        self.clock.now()
    }

    /// The metadata.
    #[must_use]
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The issuer identifier.
    #[must_use]
    pub fn issuer(&self) -> &IssuerUrl {
        self.metadata.issuer()
    }

    /// The HTTP client (no redirects).
    #[must_use]
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// Whether authorization responses must carry `iss` (RFC 9207 §3).
    #[must_use]
    pub fn iss_parameter_supported(&self) -> bool {
        self.metadata.additional_metadata().authorization_response_iss_parameter_supported
    }

    /// Where authorization requests are pushed (RFC 9126), when the
    /// provider takes pushed requests.
    #[must_use]
    pub fn par_endpoint(&self) -> Option<&url::Url> {
        self.metadata.additional_metadata().pushed_authorization_request_endpoint.as_ref()
    }

    /// Whether the provider takes pushed authorization requests only (RFC 9126 §5).
    #[must_use]
    pub fn requires_par(&self) -> bool {
        self.metadata.additional_metadata().require_pushed_authorization_requests
    }

    /// Where this provider revokes its tokens (RFC 7009), when it says.
    #[must_use]
    pub fn revocation_endpoint(&self) -> Option<&url::Url> {
        self.metadata.additional_metadata().revocation_endpoint.as_ref()
    }

    /// Where the browser signs out of this provider (OIDC RP-Initiated
    /// Logout 1.0 §2.1), when it says.
    #[must_use]
    pub fn end_session_endpoint(&self) -> Option<&url::Url> {
        self.metadata.additional_metadata().end_session_endpoint.as_ref()
    }

    /// Whether the provider takes DPoP proofs signed with ES256 (RFC 9449 §5.1).
    #[must_use]
    pub fn offers_dpop(&self) -> bool {
        self.metadata
            .additional_metadata()
            .dpop_signing_alg_values_supported
            .iter()
            .any(|alg| alg == super::dpop::ALGORITHM)
    }

    /// The last `DPoP-Nonce` each origin of this provider handed out.
    pub(crate) fn dpop_nonces(&self) -> &dpop::ReceivedNonces {
        &self.dpop_nonces
    }

    /// Sends requests to this provider with DPoP proofs from `key`, or
    /// plainly without one.
    #[must_use]
    pub fn sender<'a>(&'a self, key: Option<&'a super::dpop::DpopKey>) -> super::dpop::Sender<'a> {
        super::dpop::Sender::new(self, key)
    }

    /// The signing keys as last fetched.
    #[must_use]
    pub fn keys(&self) -> CoreJsonWebKeySet {
        self.keys.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Fetches the JWKS again (a token named a `kid` we do not know: the
    /// provider rotated its keys, OIDC Core §10.1.1).
    ///
    /// # Errors
    /// [`SigninError::Keys`] when the fetch fails.
    pub async fn refresh_keys(&self) -> Result<CoreJsonWebKeySet, SigninError> {
        let fresh = JsonWebKeySet::fetch_async(self.metadata.jwks_uri(), &self.http)
            .await
            .map_err(|e| SigninError::Keys(Box::new(e)))?;
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = fresh.clone();
        Ok(fresh)
    }

    fn token_url(&self) -> Result<TokenUrl, SigninError> {
        self.metadata.token_endpoint().cloned().ok_or(SigninError::MissingEndpoint("token"))
    }

    fn userinfo_url(&self) -> Result<UserInfoUrl, SigninError> {
        self.metadata.userinfo_endpoint().cloned().ok_or(SigninError::MissingEndpoint("userinfo"))
    }

    fn auth_url(&self) -> AuthUrl {
        self.metadata.authorization_endpoint().clone()
    }

    /// An openidconnect client for the code flow.
    pub(crate) fn code_client(&self, client_id: &ClientId) -> Result<CodeClient, SigninError> {
        Ok(CoreClient::new(client_id.clone(), self.issuer().clone(), self.keys())
            .set_auth_uri(self.auth_url())
            .set_token_uri(self.token_url()?)
            .set_user_info_url(self.userinfo_url()?))
    }

    /// An openidconnect client for the device grant.
    pub(crate) fn device_client(&self, client_id: &ClientId) -> Result<DeviceClient, SigninError> {
        let device = self
            .metadata
            .additional_metadata()
            .device_authorization_endpoint
            .clone()
            .ok_or(SigninError::DeviceNotSupported)?;
        Ok(self.code_client(client_id)?.set_device_authorization_url(device))
    }
}
