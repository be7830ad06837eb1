//! DPoP at the token endpoint (RFC 9449 §5, §8): the proof of a token
//! request is checked with `tessera-dpop`, its `jti` remembered against
//! replays, and the server nonce asked for. Nonces need no state: each is
//! the hash of the provider's secret and a time window, and the current and
//! previous windows' nonces are taken.

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::error::{ErrorCode, OAuthError};
use crate::provider::Provider;

/// The nonce of the `window`-th nonce lifetime.
fn nonce_of(provider: &Provider, window: u64) -> String {
    let digest = Sha256::digest(format!("{}:{window}", provider.dpop_secret()).as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..18])
}

fn window(provider: &Provider) -> u64 {
    provider.now_unix() / provider.config().dpop.nonce_lifetime_secs.max(1)
}

/// The nonce clients should put in their next proof, when nonces are required.
pub(crate) fn current_nonce(provider: &Provider) -> Option<String> {
    provider.config().dpop.require_nonce.then(|| nonce_of(provider, window(provider)))
}

fn accepts_nonce(provider: &Provider, nonce: Option<&str>) -> bool {
    if !provider.config().dpop.require_nonce {
        return true;
    }
    let now = window(provider);
    nonce.is_some_and(|nonce| nonce == nonce_of(provider, now) || nonce == nonce_of(provider, now.saturating_sub(1)))
}

/// The DPoP proof of a request to `endpoint` (POST): `None` when none was
/// sent, the thumbprint of its key when it passes every check.
///
/// # Errors
/// `invalid_dpop_proof` (several headers, a proof that fails a check of
/// RFC 9449 §4.3, a replay) or `use_dpop_nonce`, each with the current
/// nonce in `DPoP-Nonce` when nonces are required.
pub(crate) fn proof_of(provider: &Provider, headers: &HeaderMap, endpoint: &str) -> Result<Option<String>, OAuthError> {
    check(provider, headers, "POST", endpoint, None)
}

/// The DPoP proof of a resource request (RFC 9449 §7: userinfo) with
/// `method` to `endpoint`, carrying `access_token`: as [`proof_of`], with
/// the proof's `ath` checked against the token.
///
/// # Errors
/// As [`proof_of`].
pub(crate) fn resource_proof(
    provider: &Provider,
    headers: &HeaderMap,
    method: &str,
    endpoint: &str,
    access_token: &str,
) -> Result<Option<String>, OAuthError> {
    check(provider, headers, method, endpoint, Some(access_token))
}

fn check(
    provider: &Provider,
    headers: &HeaderMap,
    method: &str,
    endpoint: &str,
    access_token: Option<&str>,
) -> Result<Option<String>, OAuthError> {
    let invalid =
        |text: &str| OAuthError::new(ErrorCode::InvalidDpopProof, text).with_dpop_nonce(current_nonce(provider));
    let mut values = headers.get_all("dpop").iter();
    let Some(value) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(invalid("Send one DPoP header, not several."));
    }
    let proof = value.to_str().map_err(|_| invalid("The DPoP proof is not a JWT."))?;
    let url = Url::parse(endpoint).map_err(|_| OAuthError::new(ErrorCode::ServerError, "bad endpoint URL"))?;
    let max_age = provider.config().dpop.proof_max_age_secs;
    let expected =
        dpop::Expected { method, url: &url, access_token, nonce: None, now: provider.now_unix(), max_age, leeway: 60 };
    let verified = dpop::verify(proof, &expected).map_err(|error| invalid(&error.to_string()))?;
    // Nonces are asked for at the token endpoint only: userinfo is a
    // resource, whose own nonces RFC 9449 §9 leaves optional.
    if access_token.is_none() && !accepts_nonce(provider, verified.nonce.as_deref()) {
        return Err(OAuthError::new(ErrorCode::UseDpopNonce, "Put the server's nonce (DPoP-Nonce) in the DPoP proof.")
            .with_dpop_nonce(current_nonce(provider)));
    }
    let now = provider.now();
    let mut state = provider.state();
    if state.dpop_jtis.contains_key(&verified.jti) {
        return Err(invalid("This DPoP proof was already used."));
    }
    state.dpop_jtis.insert(verified.jti, now + Provider::lifetime(max_age + 60));
    state.sweep(now);
    Ok(Some(verified.jkt))
}
