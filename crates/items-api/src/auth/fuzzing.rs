//! Entry points for the fuzz targets in `fuzz/` (and the tests that replay
//! their corpora): the parsing of bearer tokens and of key sets, with the
//! properties every input must keep. Not an API.

use std::sync::{Arc, OnceLock};

use jsonwebtoken::Algorithm;

use super::keys::{VerifyKey, parse_jwks};

/// The algorithms the fuzzed parsers allow.
const ALLOWED: [Algorithm; 2] = [Algorithm::RS256, Algorithm::ES256];

/// A real RSA public key (its private half was thrown away): no input the
/// fuzzer makes can carry a valid signature by it.
const JWKS: &str = r#"{"keys":[{"kty":"RSA","kid":"fuzz","use":"sig","alg":"RS256","e":"AQAB","n":"sWYOKCtIVQc9LSPiHbCqMjAGkDSxz3MS2A85Sf4aZA035FdTkZL82TyXLJHrDhYNsbBKC9A3dZdKUCn5JJrPu8jaOqbouzx16NJ9qpBUMsA3ihO5CFHawq9UxaaQ74BcHV1pAoXjh5cZkGksMMu7-zpg2QLkPI-0n2CN8Thk8jpJ0l2nKJdctUBLV4b8FR9EzN-Ht9fZ1IIDpjk0ZIdBsRD04hIoPOkcHq_3lynFY7wf4y243CiGHEjkoJkIWBivIBeyn4SBJScpMQL_Bpyzz9CTpJEfuLw8b3x1HQiBHE91mDetvsj5LAFfesE82Jn-CSd09n1aHpOn7ntk4JfmRw"}]}"#;

fn keys() -> &'static std::collections::HashMap<String, Arc<VerifyKey>> {
    static KEYS: OnceLock<std::collections::HashMap<String, Arc<VerifyKey>>> = OnceLock::new();
    KEYS.get_or_init(|| parse_jwks(JWKS.as_bytes(), &ALLOWED).unwrap_or_default())
}

/// A bearer token: parsing never panics, and whatever the parser accepts is
/// refused at the signature, under any key.
///
/// # Panics
/// When the property breaks (the fuzzer's finding).
pub fn token(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(parsed) = super::jwt::parse(text, &ALLOWED) else { return };
    assert!(!parsed.kid.is_empty(), "a token without kid passed the parser");
    for key in keys().values() {
        assert!(parsed.verify(key).is_err(), "a token nobody signed verified: {text:?}");
    }
}

/// A key set: parsing never panics, and only keys for an allowed algorithm
/// come out.
///
/// # Panics
/// When the property breaks (the fuzzer's finding).
pub fn jwks(data: &[u8]) {
    let Ok(keys) = parse_jwks(data, &ALLOWED) else { return };
    for key in keys.values() {
        assert!(ALLOWED.contains(&key.alg), "a key for {:?}", key.alg);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fixed_key_set_holds_its_key() {
        assert_eq!(super::keys().len(), 1);
    }
}
