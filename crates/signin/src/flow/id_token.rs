//! The ID token's checks (OIDC Core §3.1.3.7, §3.1.3.8), shared by
//! sign-ins and refreshes.

use std::time::{Duration, SystemTime};

use openidconnect::core::{
    CoreIdToken, CoreIdTokenClaims, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreTokenResponse,
};
use openidconnect::{
    AccessTokenHash, ClaimsVerificationError, ClientId, Nonce, OAuth2TokenResponse, SignatureVerificationError,
};

use super::error::SigninError;
use super::provider::Provider;

/// How far clocks may disagree when checking `auth_time`.
const AUTH_TIME_LEEWAY: Duration = Duration::from_secs(60);

/// OIDC Core §3.1.3.7 step 13: with `max_age` sent, `auth_time` must be
/// present and no older than `max_age` (plus a small leeway).
pub(super) fn check_auth_time(
    claims: &CoreIdTokenClaims,
    max_age: Duration,
    now: SystemTime,
) -> Result<(), SigninError> {
    let invalid =
        |message: &str| SigninError::InvalidIdToken(ClaimsVerificationError::InvalidAuthTime(message.to_owned()));
    let auth_time = claims.auth_time().ok_or_else(|| invalid("auth_time is missing although max_age was sent"))?;
    let now = clock::unix_seconds(now);
    let auth_time = u64::try_from(auth_time.timestamp()).unwrap_or(0);
    if now.saturating_sub(auth_time) > (max_age + AUTH_TIME_LEEWAY).as_secs() {
        return Err(invalid("the sign-in at the provider is older than max_age allows"));
    }
    Ok(())
}

/// OIDC Core §3.1.3.7 steps 4 and 5: an ID token with several audiences
/// must name its authorized party (`azp`), and an `azp`, when present, must
/// be our client: a token issued to another app (which listed us as an
/// audience, or was given our id as `aud`) is not a sign-in to this one.
/// Used for sign-ins and refreshed ID tokens alike (both go through
/// [`verify_id_token`]).
fn check_authorized_party(claims: &CoreIdTokenClaims, client_id: &ClientId) -> Result<(), SigninError> {
    match claims.authorized_party() {
        Some(azp) if azp != client_id => {
            Err(SigninError::AuthorizedPartyMismatch { expected: client_id.to_string(), got: azp.to_string() })
        }
        None if claims.audiences().len() > 1 => Err(SigninError::InvalidIdToken(
            ClaimsVerificationError::InvalidAudience("several audiences but no azp".to_owned()),
        )),
        _ => Ok(()),
    }
}

/// Verifies an ID token with the provider's keys; on an unknown `kid` (the
/// provider rotated its keys) fetches the JWKS once more and tries again,
/// then gives up (OIDC Core §10.1.1).
pub(crate) async fn verified_claims(
    provider: &Provider,
    client_id: &ClientId,
    id_token: &CoreIdToken,
    response: &CoreTokenResponse,
    nonce: Option<&Nonce>,
) -> Result<CoreIdTokenClaims, SigninError> {
    let received = Received { client_id, id_token, response, nonce };
    match verify_id_token(provider.keys(), provider, &received) {
        Err(SigninError::InvalidIdToken(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        ))) => {
            let keys = provider.refresh_keys().await?;
            verify_id_token(keys, provider, &received)
        }
        other => other,
    }
}

/// An ID token as received, with what it is checked against.
struct Received<'a> {
    client_id: &'a ClientId,
    id_token: &'a CoreIdToken,
    /// The token response it came in (its access token for `at_hash`).
    response: &'a CoreTokenResponse,
    /// The nonce sent, or `None` for grants without one.
    nonce: Option<&'a Nonce>,
}

/// OIDC Core §3.1.3.7 with openidconnect's verifier: signature with a key
/// of `keys`, `alg` RS256 only (never `none`), `iss` exact, `aud` has the
/// client and no other audience (step 3), `exp` in the future (on the
/// provider's clock), `nonce`; then, here, because openidconnect 4.1 leaves
/// steps 4 and 5 out: `azp`, when present, is the client, and several
/// audiences need it (see [`check_authorized_party`]); then `at_hash`
/// (§3.1.3.8) when present.
fn verify_id_token(
    keys: CoreJsonWebKeySet,
    provider: &Provider,
    received: &Received<'_>,
) -> Result<CoreIdTokenClaims, SigninError> {
    let Received { client_id, id_token, response, nonce } = *received;
    let verifier = CoreIdTokenVerifier::new_public_client(client_id.clone(), provider.issuer().clone(), keys)
        .set_allowed_algs([CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256])
        .set_time_fn(|| chrono::DateTime::<chrono::Utc>::from(provider.now()));
    let claims = match nonce {
        Some(nonce) => id_token.claims(&verifier, nonce),
        None => id_token.claims(&verifier, |_: Option<&Nonce>| Ok(())),
    }
    .map_err(SigninError::InvalidIdToken)?
    .clone();
    check_authorized_party(&claims, client_id)?;
    if let Some(expected) = claims.access_token_hash() {
        let signature = |e| SigninError::InvalidIdToken(ClaimsVerificationError::SignatureVerification(e));
        let alg = id_token.signing_alg().map_err(signature)?;
        let key = id_token.signing_key(&verifier).map_err(signature)?;
        let actual = AccessTokenHash::from_token(response.access_token(), alg, key)
            .map_err(|_| SigninError::AccessTokenHashMismatch)?;
        if &actual != expected {
            return Err(SigninError::AccessTokenHashMismatch);
        }
    }
    Ok(claims)
}
