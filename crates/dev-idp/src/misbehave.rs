//! Protocol faults dev-idp commits on purpose, so that tests can prove a
//! client refuses each one (the OpenID Foundation's relying-party test cases
//! and more). Set per provider with `Provider::misbehave` (feature
//! `testing`); a provider without faults — every running dev-idp outside
//! the tests — speaks the protocol exactly.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::keys::KeySet;

/// One fault. Several can be set at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Misbehavior {
    /// The ID token's signature does not match its content.
    IdTokenBadSignature,
    /// The ID token is unsigned: `alg: none`, no signature.
    IdTokenAlgNone,
    /// The ID token's header has no `kid` (signed with the active key).
    IdTokenWithoutKid,
    /// The ID token names another issuer.
    IdTokenWrongIssuer,
    /// The ID token is for another client.
    IdTokenWrongAudience,
    /// The ID token's `aud` holds the client and another party, with no `azp`.
    IdTokenExtraAudienceWithoutAzp,
    /// The ID token has no `sub`.
    IdTokenWithoutSub,
    /// The ID token has no `iat`.
    IdTokenWithoutIat,
    /// The ID token has no `exp`.
    IdTokenWithoutExp,
    /// The ID token expired an hour ago.
    IdTokenExpired,
    /// The ID token carries another `nonce` than the request's.
    IdTokenWrongNonce,
    /// The ID token is about another person (another `sub`): a refreshed
    /// one must not be (OIDC Core §12.2).
    IdTokenAnotherSubject,
    /// The ID token is signed with HS256 keyed with the provider's public
    /// key (the algorithm-confusion attack on verifiers that take `alg` from
    /// the token).
    IdTokenHs256WithPublicKey,
    /// Userinfo answers for another subject than the ID token's.
    UserinfoAnotherSubject,
    /// The discovery document names another issuer than the one it was
    /// fetched for.
    DiscoveryAnotherIssuer,
    /// The token response says `token_type: bearer`, in lower case (which
    /// RFC 6749 §5.1 allows: the value is case-insensitive).
    TokenTypeLowercase,
    /// The token response has no `token_type`.
    TokenTypeMissing,
    /// The authorization response has no `iss` although discovery says it
    /// sends one (RFC 9207).
    AuthorizationResponseWithoutIss,
    /// The authorization response's `iss` names another issuer.
    AuthorizationResponseWrongIss,
}

impl Misbehavior {
    /// Whether the fault is in the ID token.
    #[must_use]
    pub fn in_id_token(self) -> bool {
        matches!(
            self,
            Self::IdTokenBadSignature
                | Self::IdTokenAlgNone
                | Self::IdTokenWithoutKid
                | Self::IdTokenWrongIssuer
                | Self::IdTokenWrongAudience
                | Self::IdTokenExtraAudienceWithoutAzp
                | Self::IdTokenWithoutSub
                | Self::IdTokenWithoutIat
                | Self::IdTokenWithoutExp
                | Self::IdTokenExpired
                | Self::IdTokenWrongNonce
                | Self::IdTokenAnotherSubject
                | Self::IdTokenHs256WithPublicKey
        )
    }
}

/// The ID token with `claims` as `faults` spoil it; `None` when none of
/// them is about the ID token (it is then signed as usual).
pub(crate) fn spoil_id_token(keys: &KeySet, claims: &serde_json::Value, faults: &[Misbehavior]) -> Option<String> {
    if !faults.iter().any(|f| f.in_id_token()) {
        return None;
    }
    let mut claims = claims.clone();
    let mut header = serde_json::json!({ "alg": "RS256", "kid": keys.active_kid() });
    let now = claims["iat"].as_u64().unwrap_or(0);
    for fault in faults {
        let map = claims.as_object_mut()?;
        match fault {
            Misbehavior::IdTokenWrongIssuer => {
                let other = format!("{}-other", map["iss"].as_str().unwrap_or_default());
                map.insert("iss".into(), other.into());
            }
            Misbehavior::IdTokenWrongAudience => {
                map.insert("aud".into(), "someone-else".into());
            }
            Misbehavior::IdTokenExtraAudienceWithoutAzp => {
                let aud = map["aud"].clone();
                map.insert("aud".into(), serde_json::json!([aud, "someone-else"]));
                map.remove("azp");
            }
            Misbehavior::IdTokenAnotherSubject => {
                map.insert("sub".into(), "00u-someone-else".into());
            }
            Misbehavior::IdTokenWithoutSub => {
                map.remove("sub");
            }
            Misbehavior::IdTokenWithoutIat => {
                map.remove("iat");
            }
            Misbehavior::IdTokenWithoutExp => {
                map.remove("exp");
            }
            Misbehavior::IdTokenExpired => {
                map.insert("iat".into(), now.saturating_sub(7200).into());
                map.insert("auth_time".into(), now.saturating_sub(7200).into());
                map.insert("exp".into(), now.saturating_sub(3600).into());
            }
            Misbehavior::IdTokenWrongNonce => {
                map.insert("nonce".into(), "not-the-nonce-of-the-request".into());
            }
            Misbehavior::IdTokenWithoutKid => {
                header = serde_json::json!({ "alg": "RS256" });
            }
            _ => {}
        }
    }
    if faults.contains(&Misbehavior::IdTokenAlgNone) {
        let encode = |value: &serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
        return Some(format!("{}.{}.", encode(&serde_json::json!({ "alg": "none" })), encode(&claims)));
    }
    if faults.contains(&Misbehavior::IdTokenHs256WithPublicKey) {
        let encode = |value: &serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let header = serde_json::json!({ "alg": "HS256", "kid": keys.active_kid() });
        let message = format!("{}.{}", encode(&header), encode(&claims));
        // The public key as the HMAC secret, as published (its JWK's `n`).
        let secret = keys.jwks()["keys"][0]["n"].as_str().unwrap_or_default().to_owned();
        let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS256).ok()?;
        return Some(format!("{message}.{signature}"));
    }
    let token = keys.sign_raw(&header, &claims);
    if faults.contains(&Misbehavior::IdTokenBadSignature) {
        // Another valid-looking signature: its first byte changed.
        let (message, signature) = token.rsplit_once('.')?;
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).ok()?;
        *bytes.first_mut()? ^= 0x01;
        return Some(format!("{message}.{}", URL_SAFE_NO_PAD.encode(bytes)));
    }
    Some(token)
}
