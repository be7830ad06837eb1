//! DPoP at the token endpoint (RFC 9449 §5, §8): the proof of a token
//! request is checked with `tessera-dpop`, its `jti` remembered against
//! replays (the provider's [`dpop::ReplayCache`]), and the server nonce asked
//! for. Nonces need no state: each is a keyed hash of a time window, and the
//! current and previous windows' nonces are taken (the provider's
//! [`dpop::NonceWindow`]).

use axum::http::HeaderMap;
use url::Url;

use crate::error::{ErrorCode, OAuthError};
use crate::provider::Provider;

/// How far in the future a proof's `iat` may be (clock skew), in seconds.
pub(crate) const LEEWAY_SECS: u64 = 60;

/// The nonce clients should put in their next proof, when nonces are required.
pub(crate) fn current_nonce(provider: &Provider) -> Option<String> {
    provider.config().dpop.require_nonce.then(|| provider.dpop_nonces().current(provider.now_unix()))
}

fn accepts_nonce(provider: &Provider, nonce: Option<&str>) -> bool {
    !provider.config().dpop.require_nonce || provider.dpop_nonces().accepts(nonce, provider.now_unix())
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
    let now = provider.now_unix();
    let expected = dpop::Expected { method, url: &url, access_token, nonce: None, now, max_age, leeway: LEEWAY_SECS };
    let verified = dpop::verify(proof, &expected).map_err(|error| invalid(&error.to_string()))?;
    // Nonces are asked for at the token endpoint only: userinfo is a
    // resource, whose own nonces RFC 9449 §9 leaves optional.
    if access_token.is_none() && !accepts_nonce(provider, verified.nonce.as_deref()) {
        return Err(OAuthError::new(ErrorCode::UseDpopNonce, "Put the server's nonce (DPoP-Nonce) in the DPoP proof.")
            .with_dpop_nonce(current_nonce(provider)));
    }
    provider.dpop_replays().remember(&verified.jti, now).map_err(|error| match error {
        dpop::ReplayError::Replayed => invalid("This DPoP proof was already used."),
        _ => invalid("Too many DPoP proofs at once; try again."),
    })?;
    Ok(Some(verified.jkt))
}
