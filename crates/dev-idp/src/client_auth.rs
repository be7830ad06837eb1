//! Client authentication at the back-channel endpoints (RFC 6749 §2.3):
//! `client_secret_basic`, `client_secret_post`, `private_key_jwt` (a client
//! assertion signed with a registered key, RFC 7523 §2.2 and §3, OIDC Core
//! §9, as Okta offers service apps), or `none` for public clients.

use std::time::Duration;

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::config::ClientConfig;
use crate::error::OAuthError;
use crate::params::Params;
use crate::provider::Provider;

/// Credentials from `Authorization: Basic` (RFC 6749 §2.3.1: both parts are
/// form-urlencoded before base64).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || OAuthError::invalid_client("The Authorization header is not valid client authentication.", true);
    let value = value.to_str().map_err(|_| malformed())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned()).unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// Authenticates the calling client.
pub(crate) fn authenticate<'p>(
    provider: &'p Provider,
    headers: &HeaderMap,
    params: &Params,
) -> Result<&'p ClientConfig, OAuthError> {
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    let assertion = params.get("client_assertion");
    let assertion_type = params.get("client_assertion_type");
    if assertion.is_some() || assertion_type.is_some() {
        if body_secret.is_some() || headers.contains_key(header::AUTHORIZATION) {
            return Err(OAuthError::invalid_request("Use one client authentication method, not two."));
        }
        return private_key_jwt(provider, body_id, assertion_type, assertion);
    }
    if let Some((id, secret)) = basic_credentials(headers)? {
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request("Use one client authentication method, not two."));
        }
        if body_id.is_some_and(|body_id| body_id != id) {
            return Err(OAuthError::invalid_request("client_id differs from the Authorization header."));
        }
        let client = provider.config().client(&id);
        return match client.and_then(|c| c.client_secret.as_ref().map(|s| (c, s))) {
            Some((client, expected)) if expected.matches(&secret) => Ok(client),
            _ => Err(OAuthError::invalid_client("Client authentication failed.", true)),
        };
    }
    let Some(id) = body_id else {
        return Err(OAuthError::invalid_client("Client authentication is required (client_id).", false));
    };
    let Some(client) = provider.config().client(id) else {
        return Err(OAuthError::invalid_client("Client authentication failed.", false));
    };
    match (&client.client_secret, body_secret) {
        (Some(expected), Some(secret)) if expected.matches(secret) => Ok(client),
        (None, None) if client.is_public() => Ok(client),
        (None, None) => Err(OAuthError::invalid_client(
            "This client authenticates with a signed client assertion (private_key_jwt).",
            false,
        )),
        (None, Some(_)) if client.is_public() => {
            Err(OAuthError::invalid_client("A public client must not send a client_secret.", false))
        }
        (None, Some(_)) => Err(OAuthError::invalid_client("Client authentication failed.", false)),
        (Some(_), _) => Err(OAuthError::invalid_client("Client authentication failed.", false)),
    }
}

/// `client_assertion_type` of a JWT client assertion (RFC 7523 §2.2).
pub(crate) const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How far in the future a client assertion's `exp` may be, in seconds
/// (Okta: at most an hour).
const MAX_ASSERTION_LIFETIME_SECS: u64 = 3600;

/// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
const ASSERTION_LEEWAY_SECS: u64 = 60;

/// The longest client assertion looked at; anything longer is refused unread.
const MAX_ASSERTION_BYTES: usize = 8192;

/// The longest `jti` accepted (the replay cache keeps them).
const MAX_JTI_BYTES: usize = 256;

/// The replay cache of client assertions: each `jti` is remembered for as
/// long as an assertion taken now could still be accepted.
pub(crate) fn assertion_replays() -> dpop::ReplayCache {
    dpop::ReplayCache::new(Duration::from_secs(MAX_ASSERTION_LIFETIME_SECS), Duration::from_secs(ASSERTION_LEEWAY_SECS))
}

/// The claims of a client assertion that are checked (RFC 7523 §3).
#[derive(Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<serde_json::Value>,
    exp: Option<u64>,
    nbf: Option<u64>,
    iat: Option<u64>,
    jti: Option<String>,
}

/// One base64url part of a compact JWT, as JSON.
fn json_part(jwt: &str, index: usize) -> Option<serde_json::Value> {
    let part = jwt.split('.').nth(index)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).ok()?).ok()
}

/// `private_key_jwt` (RFC 7523 §2.2, §3; OIDC Core §9): the client signs a
/// JWT with a key it registered (`jwks`), RS256 or ES256, whose `iss` and
/// `sub` are its client id, `aud` the token endpoint, `exp` present and at
/// most an hour away, and `jti` never seen within the assertion's life.
/// Every refusal is `invalid_client`.
fn private_key_jwt<'p>(
    provider: &'p Provider,
    body_id: Option<&str>,
    assertion_type: Option<&str>,
    assertion: Option<&str>,
) -> Result<&'p ClientConfig, OAuthError> {
    let refuse = |why: &str| OAuthError::invalid_client(format!("The client assertion was refused: {why}."), false);
    if assertion_type != Some(ASSERTION_TYPE) {
        return Err(refuse(&format!("client_assertion_type must be {ASSERTION_TYPE}")));
    }
    let assertion = assertion.ok_or_else(|| refuse("client_assertion is missing"))?;
    if assertion.len() > MAX_ASSERTION_BYTES {
        return Err(refuse("it is too long"));
    }
    let alg = match json_part(assertion, 0).as_ref().and_then(|h| h.get("alg")).and_then(|a| a.as_str()) {
        Some("RS256") => Algorithm::RS256,
        Some("ES256") => Algorithm::ES256,
        Some(_) => return Err(refuse("it must be signed with RS256 or ES256")),
        None => return Err(refuse("it is not a signed JWT")),
    };
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| refuse("it is not a signed JWT"))?;
    // Which client: the assertion's issuer (checked against the signature
    // of one of that client's keys below).
    let unverified = json_part(assertion, 1).ok_or_else(|| refuse("it is not a signed JWT"))?;
    let claimed = unverified.get("iss").and_then(|v| v.as_str()).ok_or_else(|| refuse("iss is missing"))?;
    if body_id.is_some_and(|id| id != claimed) {
        return Err(refuse("client_id differs from the assertion's iss"));
    }
    let client = provider.config().client(claimed).ok_or_else(|| refuse("the client is unknown"))?;
    let keys = client.jwks.as_ref().ok_or_else(|| refuse("the client has no registered keys (jwks)"))?;
    // The signature, with the client's keys (the one named by kid, when
    // named); times are checked below on the provider's clock.
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let verified = keys
        .keys
        .iter()
        .filter(|jwk| header.kid.is_none() || jwk.common.key_id == header.kid)
        .filter_map(|jwk| DecodingKey::from_jwk(jwk).ok())
        .find_map(|key| jsonwebtoken::decode::<AssertionClaims>(assertion, &key, &validation).ok())
        .ok_or_else(|| refuse("no key registered for the client verifies its signature"))?;
    let claims = verified.claims;
    let id = client.client_id.as_str();
    if claims.iss.as_deref() != Some(id) || claims.sub.as_deref() != Some(id) {
        return Err(refuse("iss and sub must both be the client id"));
    }
    let audience = provider.endpoint("token");
    let aud_matches = match &claims.aud {
        Some(serde_json::Value::String(aud)) => *aud == audience,
        Some(serde_json::Value::Array(auds)) => auds.iter().any(|aud| aud.as_str() == Some(audience.as_str())),
        _ => false,
    };
    if !aud_matches {
        return Err(refuse(&format!("aud must be the token endpoint, {audience}")));
    }
    let now = provider.now_unix();
    let exp = claims.exp.ok_or_else(|| refuse("exp is missing"))?;
    if exp.saturating_add(ASSERTION_LEEWAY_SECS) <= now {
        return Err(refuse("it has expired"));
    }
    if exp > now.saturating_add(MAX_ASSERTION_LIFETIME_SECS + ASSERTION_LEEWAY_SECS) {
        return Err(refuse("its exp is more than an hour away"));
    }
    if claims.nbf.is_some_and(|nbf| nbf > now.saturating_add(ASSERTION_LEEWAY_SECS)) {
        return Err(refuse("it is not valid yet (nbf)"));
    }
    if claims.iat.is_some_and(|iat| iat > now.saturating_add(ASSERTION_LEEWAY_SECS)) {
        return Err(refuse("it was issued in the future (iat)"));
    }
    let jti = claims.jti.filter(|jti| !jti.is_empty()).ok_or_else(|| refuse("jti is missing"))?;
    if jti.len() > MAX_JTI_BYTES {
        return Err(refuse("its jti is too long"));
    }
    provider.client_assertion_replays().remember(&format!("{id}\n{jti}"), now).map_err(|error| match error {
        dpop::ReplayError::Replayed => refuse("it was already used (jti)"),
        _ => refuse("too many assertions at once; try again"),
    })?;
    Ok(client)
}
