//! The issuer's verification keys: JWKS parsing (RFC 7517 §4, §5; RFC 7518
//! §6) into ready `DecodingKey`s, one algorithm per key (RFC 8725 §3.1), and
//! the cached snapshot the hot path reads.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::http::FetchError;
use super::refusal::Refusal;
use super::{AuthError, unavailable_without_keys};

/// Keys beyond this many in one JWKS are ignored.
const MAX_KEYS: usize = 64;
/// RSA moduli shorter than 2048 bits are ignored (RFC 7518 §3.3).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// A parsed public key and the one algorithm it verifies.
pub(super) struct VerifyKey {
    pub(super) alg: Algorithm,
    pub(super) decoding: DecodingKey,
    /// SHA-256 of the algorithm, key type, curve and public components: the
    /// same key in the next JWKS has the same one (the validated-token cache
    /// keeps a token only while the key that verified it is still published).
    pub(super) fingerprint: [u8; 32],
}

impl VerifyKey {
    /// This key, if its algorithm is the token's.
    pub(super) fn check_alg(self: &Arc<Self>, alg: Algorithm) -> Result<Arc<Self>, AuthError> {
        if self.alg == alg { Ok(Arc::clone(self)) } else { Err(AuthError::Invalid(Refusal::KeyAlgorithm)) }
    }
}

/// The keys as last fetched, replaced whole on every fetch attempt.
pub(super) struct KeySnapshot {
    /// Bumped by every fetch attempt, so that requests that waited behind a
    /// fetch see that one happened.
    pub(super) generation: u64,
    keys: HashMap<String, Arc<VerifyKey>>,
    /// Whether a JWKS was ever fetched.
    pub(super) loaded: bool,
    /// Until then, keys are used without asking the issuer (its `max-age`).
    fresh_until: SystemTime,
    /// Until then, keys serve even when a refresh fails (the cap).
    usable_until: SystemTime,
    /// Why the last attempt failed, if it did.
    pub(super) failure: Option<Arc<FetchError>>,
}

impl KeySnapshot {
    pub(super) fn empty() -> Self {
        Self {
            generation: 0,
            keys: HashMap::new(),
            loaded: false,
            fresh_until: SystemTime::UNIX_EPOCH,
            usable_until: SystemTime::UNIX_EPOCH,
            failure: None,
        }
    }

    pub(super) fn loaded(
        keys: HashMap<String, Arc<VerifyKey>>,
        fresh_until: SystemTime,
        usable_until: SystemTime,
    ) -> Self {
        Self { generation: 0, keys, loaded: true, fresh_until, usable_until, failure: None }
    }

    pub(super) fn with_generation(mut self, generation: u64) -> Self {
        self.generation = generation;
        self
    }

    /// The same keys after a failed refresh.
    pub(super) fn failed(&self, generation: u64, error: Arc<FetchError>) -> Self {
        Self {
            generation,
            keys: self.keys.clone(),
            loaded: self.loaded,
            fresh_until: self.fresh_until,
            usable_until: self.usable_until,
            failure: Some(error),
        }
    }

    pub(super) fn is_fresh(&self, now: SystemTime) -> bool {
        self.loaded && now < self.fresh_until
    }

    /// Whether the keys may still be used (fresh, or stale within the cap).
    pub(super) fn is_usable(&self, now: SystemTime) -> bool {
        self.loaded && now < self.usable_until
    }

    pub(super) fn get(&self, kid: &str) -> Option<&Arc<VerifyKey>> {
        self.keys.get(kid)
    }

    /// This snapshot, if its keys may be used; otherwise why not.
    pub(super) fn usable(self: &Arc<Self>, now: SystemTime) -> Result<Arc<Self>, AuthError> {
        if self.is_usable(now) {
            return Ok(Arc::clone(self));
        }
        match &self.failure {
            Some(error) => Err(AuthError::Unavailable(Box::new(Arc::clone(error)))),
            None => Err(unavailable_without_keys()),
        }
    }
}

/// Parses a JWKS, keeping the signature keys usable with an allowed
/// algorithm. Unusable keys are skipped, not fatal: the issuer may publish
/// encryption keys or algorithms we do not use.
pub(super) fn parse_jwks(body: &[u8], allowed: &[Algorithm]) -> Result<HashMap<String, Arc<VerifyKey>>, FetchError> {
    let document: Value = serde_json::from_slice(body).map_err(|source| FetchError::Json { what: "JWKS", source })?;
    let Some(Value::Array(list)) = document.get("keys") else {
        return Err(FetchError::Malformed { what: "JWKS", reason: "no keys array" });
    };
    let mut keys = HashMap::new();
    for jwk in list.iter().take(MAX_KEYS) {
        let Value::Object(jwk) = jwk else { continue };
        let Some(kid) = jwk.get("kid").and_then(Value::as_str) else { continue };
        if keys.contains_key(kid) {
            // Two keys under one kid: keep the first; never guess between them.
            tracing::warn!("the JWKS has two keys with one kid; the second is ignored");
            continue;
        }
        if let Some(key) = parse_jwk(jwk, allowed) {
            keys.insert(kid.to_owned(), Arc::new(key));
        }
    }
    Ok(keys)
}

/// One JWK, if it is a signature key for an allowed algorithm.
fn parse_jwk(jwk: &Map<String, Value>, allowed: &[Algorithm]) -> Option<VerifyKey> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    // RFC 7517 §4.2, §4.3: only keys meant for verifying signatures.
    if text("use").is_some_and(|u| u != "sig") {
        return None;
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops.as_array().is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return None;
        }
    }
    let kty = text("kty")?;
    let fits = |alg: &Algorithm| family_fits(kty, text("crv"), *alg);
    // RFC 7517 §4.4 + RFC 8725 §3.1: the key's `alg`, when given, is its only
    // algorithm; without one, the first allowed algorithm of its type.
    let alg = match text("alg") {
        Some(name) => {
            let alg: Algorithm = name.parse().ok()?;
            (allowed.contains(&alg) && fits(&alg)).then_some(alg)?
        }
        None => *allowed.iter().find(|alg| fits(alg))?,
    };
    let decoding = match kty {
        "RSA" => {
            let n = URL_SAFE_NO_PAD.decode(text("n")?).ok()?;
            let e = URL_SAFE_NO_PAD.decode(text("e")?).ok()?;
            let significant = n.iter().skip_while(|b| **b == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES || e.is_empty() {
                return None;
            }
            DecodingKey::from_rsa_raw_components(&n, &e)
        }
        "EC" => DecodingKey::from_ec_components(text("x")?, text("y")?).ok()?,
        "OKP" => DecodingKey::from_ed_components(text("x")?).ok()?,
        // `oct` (symmetric) keys are never used, whatever they say.
        _ => return None,
    };
    let mut digest = Sha256::new();
    for part in [
        format!("{alg:?}").as_str(),
        kty,
        text("crv").unwrap_or(""),
        text("n").unwrap_or(""),
        text("e").unwrap_or(""),
        text("x").unwrap_or(""),
        text("y").unwrap_or(""),
    ] {
        // Length-prefixed, so that no two lists of parts hash alike.
        digest.update((part.len() as u64).to_be_bytes());
        digest.update(part.as_bytes());
    }
    Some(VerifyKey { alg, decoding, fingerprint: digest.finalize().into() })
}

/// Whether a key of type `kty` (and curve `crv`) can verify `alg`.
fn family_fits(kty: &str, crv: Option<&str>, alg: Algorithm) -> bool {
    match alg {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => kty == "RSA",
        Algorithm::ES256 => kty == "EC" && crv == Some("P-256"),
        Algorithm::ES384 => kty == "EC" && crv == Some("P-384"),
        Algorithm::EdDSA => kty == "OKP" && crv == Some("Ed25519"),
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => false,
    }
}
