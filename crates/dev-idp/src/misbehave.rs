//! Protocol faults dev-idp commits on purpose, so that tests can prove a
//! client refuses each one (the OpenID Foundation's relying-party test cases
//! and more). Set per provider with `Provider::misbehave` (feature
//! `testing`); a provider without faults — every running dev-idp outside
//! the tests — speaks the protocol exactly.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::{StreamExt as _, stream};

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
    /// The token response arrives slowly, in eight pieces 200 ms apart (a
    /// slow network; well within any client's patience).
    TokenResponseSlow,
    /// The token response stops halfway and never ends (the connection
    /// stays open until the client gives up).
    TokenResponseStalled,
    /// The connection closes halfway through the token response (its
    /// `Content-Length` promised more).
    TokenResponseCutOff,
    /// The token response is valid JSON of 32 MiB (a padding member before
    /// the tokens), streamed without a `Content-Length`.
    TokenResponseHuge,
    /// The signing keys are rotated just before the token response's ID
    /// token is signed: it names a key the client has not seen yet.
    KeysRotatedBeforeSigning,
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

/// How long the huge token response is.
const HUGE_PADDING_BYTES: usize = 32 * 1024 * 1024;

/// The token endpoint's answer `json` as the delivery faults among `faults`
/// send it; `None` when none is set (it is then sent as usual).
pub(crate) fn deliver_token_response(json: Vec<u8>, faults: &[Misbehavior]) -> Option<Response> {
    let json = Bytes::from(json);
    let half = json.slice(..json.len() / 2);
    let full_length = json.len();
    let (body, length) = if faults.contains(&Misbehavior::TokenResponseSlow) {
        let piece = json.len().div_ceil(8).max(1);
        let pieces: Vec<Bytes> = json.chunks(piece).map(Bytes::copy_from_slice).collect();
        let slowly = stream::iter(pieces).then(|piece| async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok::<_, std::io::Error>(piece)
        });
        (Body::from_stream(slowly), Some(full_length))
    } else if faults.contains(&Misbehavior::TokenResponseStalled) {
        let stalled = stream::iter([Ok::<_, std::io::Error>(half)]).chain(stream::pending());
        (Body::from_stream(stalled), Some(full_length))
    } else if faults.contains(&Misbehavior::TokenResponseCutOff) {
        // The first half goes out (with the headers) before the connection drops.
        let cut = stream::iter([Ok(half), Err(std::io::Error::other("cut off on purpose"))]).then(|piece| async move {
            if piece.is_err() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            piece
        });
        (Body::from_stream(cut), Some(full_length))
    } else if faults.contains(&Misbehavior::TokenResponseHuge) {
        let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
        let padding = stream::repeat(chunk).take(HUGE_PADDING_BYTES / (64 * 1024));
        let rest = json.slice(1..);
        let huge = stream::iter([Bytes::from_static(b"{\"padding\":\"")])
            .chain(padding)
            .chain(stream::iter([Bytes::from_static(b"\","), rest]))
            .map(Ok::<_, std::io::Error>);
        (Body::from_stream(huge), None)
    } else {
        return None;
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    Some(response)
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
