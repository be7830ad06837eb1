//! DPoP — Demonstrating Proof of Possession (RFC 9449) — for Tessera's
//! three parts: the client makes proofs with a key of its own
//! ([`DpopKey::proof`]), and dev-idp and the items API check them
//! ([`verify`], the checks of §4.3) and bind tokens to the key's thumbprint
//! (RFC 7638, [`DpopKey::thumbprint`], `cnf.jkt`).
//!
//! Proofs are ES256 JWTs made and checked with `jsonwebtoken`; keys are
//! P-256 pairs from `ring`, kept as PKCS#8 (in the OS keyring, by the client).
//! What a verifier must still do itself: refuse a request with more than one
//! `DPoP` header, remember `jti`s to refuse replays (a [`ReplayCache`]), ask
//! for its nonces when it wants them (a [`NonceWindow`]), and compare
//! [`Verified::jkt`] with the token's `cnf.jkt`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters, EllipticCurveKeyType, Jwk,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use ring::rand::{SecureRandom as _, SystemRandom};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use url::Url;

mod client;
mod nonce;
mod replay;

pub use client::{ReceivedNonces, asks_for_nonce};
pub use nonce::NonceWindow;
pub use replay::{ReplayCache, ReplayError};

/// The `typ` of a DPoP proof (RFC 9449 §4.2).
pub const PROOF_TYPE: &str = "dpop+jwt";

/// The signing algorithms Tessera makes and accepts, for discovery's
/// `dpop_signing_alg_values_supported` and the `algs` of a challenge.
pub const ALGORITHMS: [&str; 1] = ["ES256"];

/// The largest proof looked at; anything longer is refused unread.
pub const MAX_PROOF_BYTES: usize = 4096;

/// The longest `jti` accepted (a replay cache keeps them).
const MAX_JTI_BYTES: usize = 256;

/// Why a key could not be made or loaded, or a proof made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The system's random source failed.
    #[error("the system could not make a random key")]
    Random,
    /// Stored key bytes are not a P-256 key in PKCS#8.
    #[error("the stored DPoP key is not a P-256 key in PKCS#8")]
    Invalid,
    /// Signing the proof failed.
    #[error("the DPoP proof could not be signed")]
    Signing(#[source] jsonwebtoken::errors::Error),
}

/// Why a proof was refused: the `error_description` of an
/// `invalid_dpop_proof` answer, or [`ProofError::UseNonce`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProofError {
    /// Longer than [`MAX_PROOF_BYTES`].
    #[error("the DPoP proof is too long")]
    TooLong,
    /// Not a JWT, or its header or claims are not what a proof holds.
    #[error("the DPoP proof is not a well-formed JWT: {0}")]
    Malformed(String),
    /// `typ` is not `dpop+jwt`.
    #[error("the DPoP proof's typ is not dpop+jwt")]
    WrongType,
    /// `alg` is not one of [`ALGORITHMS`].
    #[error("the DPoP proof's algorithm is not accepted (ES256 only)")]
    Algorithm,
    /// The `jwk` header is missing, not a P-256 public key, or holds a
    /// private key.
    #[error("the DPoP proof's jwk is not a P-256 public key: {0}")]
    Key(&'static str),
    /// The signature does not verify with the `jwk`.
    #[error("the DPoP proof's signature does not verify")]
    Signature,
    /// `htm` is not the request's method.
    #[error("the DPoP proof is for another method (htm)")]
    Method,
    /// `htu` is not the request's URL.
    #[error("the DPoP proof is for another URL (htu)")]
    Url,
    /// `iat` is too old or in the future.
    #[error("the DPoP proof was not made just now (iat)")]
    Time,
    /// `ath` is missing or not the hash of the access token sent with it.
    #[error("the DPoP proof is not for this access token (ath)")]
    AccessTokenHash,
    /// The server wants its nonce in the proof (RFC 9449 §8): answer
    /// `use_dpop_nonce` with a `DPoP-Nonce` header.
    #[error("the DPoP proof must carry the server's nonce")]
    UseNonce,
}

/// A P-256 key pair for DPoP, one per account. `Debug` shows only the
/// thumbprint.
pub struct DpopKey {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    x: String,
    y: String,
    thumbprint: String,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey").field("jkt", &self.thumbprint).finish_non_exhaustive()
    }
}

impl DpopKey {
    /// A new random key.
    ///
    /// # Errors
    /// [`KeyError::Random`] when the system's random source fails.
    pub fn generate() -> Result<Self, KeyError> {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(|_| KeyError::Random)?;
        Self::from_pkcs8(pkcs8.as_ref())
    }

    /// The key stored as [`DpopKey::pkcs8`].
    ///
    /// # Errors
    /// [`KeyError::Invalid`] when `pkcs8` is not a P-256 key.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, KeyError> {
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8, &SystemRandom::new())
            .map_err(|_| KeyError::Invalid)?;
        // An uncompressed point: 0x04, then x and y, 32 bytes each.
        let point = pair.public_key().as_ref();
        let (x, y) = match point {
            [0x04, rest @ ..] if rest.len() == 64 => rest.split_at(32),
            _ => return Err(KeyError::Invalid),
        };
        let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
        let thumbprint = ec_thumbprint(&x, &y);
        Ok(Self { pair, pkcs8: pkcs8.to_vec(), x, y, thumbprint })
    }

    /// The private key as PKCS#8, to keep in the OS keyring. Secret.
    #[must_use]
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public key's JWK thumbprint (RFC 7638, SHA-256): the `jkt` a
    /// bound token's `cnf` names.
    #[must_use]
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// The public key as a JWK.
    #[must_use]
    pub fn public_jwk(&self) -> Jwk {
        Jwk {
            common: CommonParameters::default(),
            algorithm: AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: EllipticCurveKeyType::EC,
                curve: EllipticCurve::P256,
                x: self.x.clone(),
                y: self.y.clone(),
            }),
        }
    }

    /// A proof for one request (RFC 9449 §4.2): `method` and `url` (its
    /// query and fragment left out), made at `now` (Unix seconds), with
    /// `ath` when an access token goes with it and the server's `nonce`
    /// when it gave one.
    ///
    /// # Errors
    /// [`KeyError`] when no random `jti` can be made or signing fails.
    pub fn proof(
        &self,
        method: &str,
        url: &Url,
        access_token: Option<&str>,
        nonce: Option<&str>,
        now: u64,
    ) -> Result<String, KeyError> {
        let mut jti = [0u8; 16];
        SystemRandom::new().fill(&mut jti).map_err(|_| KeyError::Random)?;
        let claims = ProofClaims {
            jti: URL_SAFE_NO_PAD.encode(jti),
            htm: method.to_owned(),
            htu: htu(url),
            iat: now,
            ath: access_token.map(ath),
            nonce: nonce.map(str::to_owned),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some(PROOF_TYPE.to_owned());
        header.jwk = Some(self.public_jwk());
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ec_der(&self.pkcs8)).map_err(KeyError::Signing)
    }

    /// Signs `message` (ES256, fixed-length `r || s`), for tests that forge
    /// proofs with odd headers.
    ///
    /// # Errors
    /// [`KeyError::Random`] when signing fails.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let signature = self.pair.sign(&SystemRandom::new(), message).map_err(|_| KeyError::Random)?;
        Ok(signature.as_ref().to_vec())
    }
}

/// The claims of a proof (RFC 9449 §4.2).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProofClaims {
    /// A unique identifier (replays are refused by it).
    pub jti: String,
    /// The request's method.
    pub htm: String,
    /// The request's URL without query and fragment.
    pub htu: String,
    /// When the proof was made (Unix seconds).
    pub iat: u64,
    /// The access token's hash, when one goes with the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ath: Option<String>,
    /// The server's nonce, when it gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

/// What a request a proof must match looks like.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The request's method.
    pub method: &'a str,
    /// The request's URL as the server knows itself (scheme, host, port, path).
    pub url: &'a Url,
    /// The access token sent with the proof (resource requests).
    pub access_token: Option<&'a str>,
    /// The nonce the server requires, when it does.
    pub nonce: Option<&'a str>,
    /// Now, in Unix seconds.
    pub now: u64,
    /// How old a proof may be, in seconds.
    pub max_age: u64,
    /// How far in the future `iat` may be (clock skew), in seconds.
    pub leeway: u64,
}

/// A proof that passed every check of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The thumbprint of the proof's key (compare with `cnf.jkt`).
    pub jkt: String,
    /// The proof's identifier (remember it to refuse replays).
    pub jti: String,
    /// When it was made.
    pub iat: u64,
    /// The nonce it carries, for servers that accept more than one (the
    /// current and the previous).
    pub nonce: Option<String>,
}

/// Checks a proof as RFC 9449 §4.3 says, but for the checks left to the
/// caller (one `DPoP` header, `jti` replays, the token's `cnf.jkt`).
///
/// # Errors
/// The first check that fails, as a [`ProofError`].
pub fn verify(proof: &str, expected: &Expected<'_>) -> Result<Verified, ProofError> {
    if proof.len() > MAX_PROOF_BYTES {
        return Err(ProofError::TooLong);
    }
    let mut parts = proof.split('.');
    let (Some(header), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(ProofError::Malformed("not three parts".to_owned()));
    };
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ProofError::Malformed("the header is not base64url JSON".to_owned()))?;
    if header.get("typ").and_then(serde_json::Value::as_str) != Some(PROOF_TYPE) {
        return Err(ProofError::WrongType);
    }
    if !header.get("alg").and_then(serde_json::Value::as_str).is_some_and(|alg| ALGORITHMS.contains(&alg)) {
        return Err(ProofError::Algorithm);
    }
    let jwk = header.get("jwk").and_then(serde_json::Value::as_object).ok_or(ProofError::Key("no jwk"))?;
    if jwk.contains_key("d") {
        return Err(ProofError::Key("it holds a private key"));
    }
    let member = |name: &str| jwk.get(name).and_then(serde_json::Value::as_str);
    if member("kty") != Some("EC") || member("crv") != Some("P-256") {
        return Err(ProofError::Key("not an EC P-256 key"));
    }
    let (Some(x), Some(y)) = (member("x"), member("y")) else {
        return Err(ProofError::Key("no x or y"));
    };
    let key = DecodingKey::from_ec_components(x, y).map_err(|_| ProofError::Key("x or y is not base64url"))?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let claims = match jsonwebtoken::decode::<ProofClaims>(proof, &key, &validation) {
        Ok(data) => data.claims,
        Err(error) => {
            return Err(match error.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature
                | jsonwebtoken::errors::ErrorKind::InvalidEcdsaKey
                | jsonwebtoken::errors::ErrorKind::Crypto(_) => ProofError::Signature,
                _ => ProofError::Malformed(error.to_string()),
            });
        }
    };
    if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_BYTES {
        return Err(ProofError::Malformed("jti is empty or too long".to_owned()));
    }
    if claims.htm != expected.method {
        return Err(ProofError::Method);
    }
    if !same_htu(&claims.htu, expected.url) {
        return Err(ProofError::Url);
    }
    if claims.iat > expected.now.saturating_add(expected.leeway)
        || claims.iat < expected.now.saturating_sub(expected.max_age)
    {
        return Err(ProofError::Time);
    }
    if let Some(nonce) = expected.nonce
        && claims.nonce.as_deref() != Some(nonce)
    {
        return Err(ProofError::UseNonce);
    }
    if let Some(token) = expected.access_token
        && claims.ath.as_deref() != Some(ath(token).as_str())
    {
        return Err(ProofError::AccessTokenHash);
    }
    Ok(Verified { jkt: ec_thumbprint(x, y), jti: claims.jti, iat: claims.iat, nonce: claims.nonce })
}

/// `htu` for `url`: without its query and fragment (RFC 9449 §4.2).
#[must_use]
pub fn htu(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.into()
}

/// Whether `claimed` names `url` (RFC 9449 §4.3 point 9: compared after
/// the normalisation URL parsing does — case of scheme and host, default
/// ports, dot segments — and without query and fragment).
fn same_htu(claimed: &str, url: &Url) -> bool {
    Url::parse(claimed).is_ok_and(|claimed| htu(&claimed) == htu(url))
}

/// `ath` for `access_token`: the base64url SHA-256 of its ASCII text.
#[must_use]
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(access_token.as_bytes()))
}

/// The RFC 7638 thumbprint of an EC P-256 public key: the SHA-256 of its
/// required members in lexicographic order, without spaces.
fn ec_thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests;
