//! The JWS side of a JWT access token (RFC 7515, RFC 7519 §7.2, RFC 8725 §3):
//! splitting, the protected header, and the signature.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::AuthError;
use super::keys::VerifyKey;
use super::refusal::Refusal;

/// A JWS in compact serialization, its header checked, not yet verified.
#[derive(Debug)]
pub(super) struct Parsed<'a> {
    /// The key id: only ever a lookup key into the cached JWKS.
    pub(super) kid: String,
    /// The algorithm, already in the allow-list.
    pub(super) alg: Algorithm,
    /// `header.payload`, the signed bytes.
    message: &'a str,
    payload: &'a str,
    signature: &'a str,
}

/// Splits a compact JWS and checks its header (RFC 7515 §5.2, RFC 8725 §3.1).
///
/// `jku`, `x5u`, `jwk` and `x5c` are deliberately ignored: keys come from the
/// issuer's discovered JWKS only (RFC 8725 §3.10's advice against trusting
/// key references carried by the token itself).
pub(super) fn parse<'a>(token: &'a str, allowed: &[Algorithm]) -> Result<Parsed<'a>, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        // Not three parts: a JWE (five), an opaque token, or garbage.
        return Err(AuthError::Invalid(Refusal::Malformed));
    };
    if header.is_empty() || payload.is_empty() {
        return Err(AuthError::Invalid(Refusal::Malformed));
    }
    let message = &token[..header.len() + 1 + payload.len()];
    let header = decode_object(header)?;

    let alg = match header.get("alg") {
        Some(Value::String(alg)) => alg.as_str(),
        Some(_) => return Err(AuthError::Invalid(Refusal::Malformed)),
        None => return Err(AuthError::Invalid(Refusal::NoAlgorithm)),
    };
    // RFC 8725 §3.1, §2.1: `none` in any spelling is refused outright.
    if alg.eq_ignore_ascii_case("none") {
        return Err(AuthError::Invalid(Refusal::Unsigned));
    }
    // Exact, case-sensitive names (RFC 7518 §3.1); then the allow-list.
    let alg: Algorithm = alg.parse().map_err(|_| AuthError::Invalid(Refusal::BadAlgorithm))?;
    if !allowed.contains(&alg) {
        return Err(AuthError::Invalid(Refusal::BadAlgorithm));
    }
    // RFC 7515 §4.1.11: a recipient that does not understand every listed
    // extension must reject the JWS. We understand none (and an empty list
    // is not allowed either).
    if header.contains_key("crit") {
        return Err(AuthError::Invalid(Refusal::Critical));
    }
    // RFC 9068 §2.1, §4 step 1: `at+jwt` marks an access token; Okta sends no
    // `typ`; many issuers write `JWT`. Anything else (an ID token's, a
    // logout token's) is not an access token. Media types compare
    // case-insensitively (RFC 7515 §4.1.9).
    match header.get("typ") {
        None => {}
        Some(Value::String(typ)) => {
            let typ = typ.strip_prefix("application/").unwrap_or(typ);
            if !typ.eq_ignore_ascii_case("at+jwt") && !typ.eq_ignore_ascii_case("jwt") {
                return Err(AuthError::Invalid(Refusal::WrongType));
            }
        }
        Some(_) => return Err(AuthError::Invalid(Refusal::Malformed)),
    }
    let kid = match header.get("kid") {
        Some(Value::String(kid)) if !kid.is_empty() => kid.clone(),
        Some(Value::String(_)) | None => return Err(AuthError::Invalid(Refusal::NoKeyId)),
        Some(_) => return Err(AuthError::Invalid(Refusal::Malformed)),
    };
    Ok(Parsed { kid, alg, message, payload, signature })
}

impl Parsed<'_> {
    /// Verifies the signature with `key` (whose one algorithm was checked to
    /// be the header's), then decodes the claims: nothing of the payload is
    /// read before the signature holds.
    pub(super) fn verify(&self, key: &VerifyKey) -> Result<Map<String, Value>, AuthError> {
        if key.alg != self.alg {
            return Err(AuthError::Invalid(Refusal::KeyAlgorithm));
        }
        match jsonwebtoken::crypto::verify(self.signature, self.message.as_bytes(), &key.decoding, key.alg) {
            Ok(true) => decode_object(self.payload),
            Ok(false) | Err(_) => Err(AuthError::Invalid(Refusal::BadSignature)),
        }
    }
}

/// Whether `token` is shaped like a JWT: a JWS in compact serialization,
/// three parts of which the first is a base64url JSON object (RFC 7519 §7.2
/// steps 1–4, RFC 7515 §7.1). Okta's access tokens are; its refresh tokens
/// and other opaque tokens are not. Says nothing of the header's contents.
pub(super) fn is_jwt_shaped(token: &str) -> bool {
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(_), Some(_), None) => decode_object(header).is_ok(),
        _ => false,
    }
}

/// A base64url (no padding, RFC 7515 §2) JSON object.
fn decode_object(part: &str) -> Result<Map<String, Value>, AuthError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| AuthError::Invalid(Refusal::Malformed))?;
    serde_json::from_slice::<Map<String, Value>>(&bytes).map_err(|_| AuthError::Invalid(Refusal::Malformed))
}
