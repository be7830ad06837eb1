//! Signing keys: RS256 key pairs with RFC 7638 thumbprints as `kid`, the JWKS
//! (RFC 7517) and rotation that keeps recently retired keys published.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::RsaPrivateKey;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

/// Why a key could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// RSA key generation failed.
    #[error("cannot generate an RSA key")]
    Generate(#[source] rsa::Error),
    /// The generated key could not be encoded for signing.
    #[error("cannot encode the RSA key")]
    Encode(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// One RS256 key pair.
struct KeyPair {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// The public JWK (`kty, alg, use, kid, n, e`).
    jwk: serde_json::Value,
}

impl KeyPair {
    fn generate() -> Result<Self, KeyError> {
        let private = RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(KeyError::Generate)?;
        let der = private.to_pkcs1_der().map_err(|e| KeyError::Encode(Box::new(e)))?;
        let encoding = EncodingKey::from_rsa_der(der.as_bytes());
        let n = private.n().to_bytes_be();
        let e = private.e().to_bytes_be();
        let decoding = DecodingKey::from_rsa_raw_components(&n, &e);
        let (n, e) = (URL_SAFE_NO_PAD.encode(n), URL_SAFE_NO_PAD.encode(e));
        // RFC 7638 §3: the members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        let jwk = serde_json::json!({
            "kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid, "n": n, "e": e,
        });
        Ok(Self { kid, encoding, decoding, jwk })
    }
}

/// The provider's keys: the first signs, all are published.
pub(crate) struct KeySet {
    keys: Vec<KeyPair>,
    published: usize,
}

impl KeySet {
    pub(crate) fn generate(published: usize) -> Result<Self, KeyError> {
        Ok(Self { keys: vec![KeyPair::generate()?], published: published.max(1) })
    }

    /// Takes the signing key of `fresh` as the new active key; the previous
    /// ones stay published until `published` keys are newer than them.
    pub(crate) fn adopt(&mut self, fresh: &mut KeySet) -> String {
        let key = fresh.keys.remove(0);
        let kid = key.kid.clone();
        self.keys.insert(0, key);
        self.keys.truncate(self.published);
        kid
    }

    pub(crate) fn active_kid(&self) -> &str {
        &self.keys[0].kid
    }

    /// The JWKS document (RFC 7517 §5).
    pub(crate) fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": self.keys.iter().map(|k| &k.jwk).collect::<Vec<_>>() })
    }

    /// Signs claims with the active key: header `{alg: RS256, kid}` as Okta's.
    pub(crate) fn sign<T: Serialize>(&self, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        let key = &self.keys[0];
        let mut header = Header::new(Algorithm::RS256);
        header.typ = None;
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding)
    }

    /// Signs any header and claims with the active key, verbatim (tests forge
    /// tokens with odd headers this way, and so do misbehaviours).
    pub(crate) fn sign_raw(&self, header: &serde_json::Value, claims: &serde_json::Value) -> String {
        let encode = |value: &serde_json::Value| URL_SAFE_NO_PAD.encode(value.to_string());
        let message = format!("{}.{}", encode(header), encode(claims));
        match jsonwebtoken::crypto::sign(message.as_bytes(), &self.keys[0].encoding, Algorithm::RS256) {
            Ok(signature) => format!("{message}.{signature}"),
            Err(error) => format!("{message}.signing-failed-{error}"),
        }
    }

    /// Verifies a token this provider signed with a published key. Only RS256
    /// is accepted, and only keys found by `kid`.
    pub(crate) fn verify<T: DeserializeOwned>(
        &self,
        token: &str,
        validation: &Validation,
    ) -> Result<T, jsonwebtoken::errors::Error> {
        use jsonwebtoken::errors::ErrorKind;
        let header = jsonwebtoken::decode_header(token)?;
        if header.alg != Algorithm::RS256 {
            return Err(ErrorKind::InvalidAlgorithm.into());
        }
        let kid = header.kid.ok_or(ErrorKind::InvalidToken)?;
        let key = self.keys.iter().find(|k| k.kid == kid).ok_or(ErrorKind::InvalidSignature)?;
        Ok(jsonwebtoken::decode::<T>(token, &key.decoding, validation)?.claims)
    }
}

/// A validation for RS256 tokens of `issuer` with no audience check; callers
/// add what they need.
pub(crate) fn validation(issuer: &str) -> Validation {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.validate_aud = false;
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "iss", "iat"]);
    validation
}
