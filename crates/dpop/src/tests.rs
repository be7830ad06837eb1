// Test code: a failed step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use super::*;

const NOW: u64 = 1_800_000_000;

fn url(text: &str) -> Url {
    Url::parse(text).unwrap()
}

fn expected<'a>(method: &'a str, url: &'a Url) -> Expected<'a> {
    Expected { method, url, access_token: None, nonce: None, now: NOW, max_age: 300, leeway: 60 }
}

/// A proof with `header` and `claims` exactly as given, signed by `key`.
fn forge(key: &DpopKey, header: &Value, claims: &Value) -> String {
    let encode = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let message = format!("{}.{}", encode(header), encode(claims));
    let signature = key.sign(message.as_bytes()).unwrap();
    format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn good_header(key: &DpopKey) -> Value {
    json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": serde_json::to_value(key.public_jwk()).unwrap() })
}

fn good_claims() -> Value {
    json!({ "jti": "a-unique-id", "htm": "POST", "htu": "https://idp.example/oauth2/default/v1/token", "iat": NOW })
}

#[test]
fn a_proof_verifies_and_names_its_key() {
    let key = DpopKey::generate().unwrap();
    let token_url = url("https://idp.example/oauth2/default/v1/token");
    let proof = key.proof("POST", &token_url, None, None, NOW).unwrap();
    let verified = verify(&proof, &expected("POST", &token_url)).unwrap();
    assert_eq!(verified.jkt, key.thumbprint());
    assert_eq!(verified.iat, NOW);
    assert!(verified.jti.len() >= 16);
    // Each proof has its own jti.
    let again = verify(&key.proof("POST", &token_url, None, None, NOW).unwrap(), &expected("POST", &token_url));
    assert_ne!(again.unwrap().jti, verified.jti);
}

#[test]
fn the_thumbprint_is_rfc_7638s() {
    // RFC 9449 §4.1's example key and the jkt §6.1 gives for it.
    let x = "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs";
    let y = "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA";
    assert_eq!(ec_thumbprint(x, y), "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I");
}

#[test]
fn a_key_survives_its_pkcs8_and_bad_bytes_are_refused() {
    let key = DpopKey::generate().unwrap();
    let loaded = DpopKey::from_pkcs8(key.pkcs8()).unwrap();
    assert_eq!(loaded.thumbprint(), key.thumbprint());
    assert_ne!(DpopKey::generate().unwrap().thumbprint(), key.thumbprint());
    assert!(matches!(DpopKey::from_pkcs8(b"not a key"), Err(KeyError::Invalid)));
    let printed = format!("{key:?}");
    assert!(printed.contains(key.thumbprint()) && !printed.contains(&URL_SAFE_NO_PAD.encode(key.pkcs8())));
}

#[test]
fn resource_requests_carry_the_access_token_hash_and_the_nonce() {
    let key = DpopKey::generate().unwrap();
    let items = url("http://127.0.0.1:8081/v1/items?limit=5");
    let proof = key.proof("GET", &items, Some("the-access-token"), Some("n-1"), NOW).unwrap();
    let want = Expected { access_token: Some("the-access-token"), nonce: Some("n-1"), ..expected("GET", &items) };
    assert!(verify(&proof, &want).is_ok());
    // RFC 9449 §4.2: ath is the base64url SHA-256 of the token.
    assert_eq!(ath("the-access-token"), URL_SAFE_NO_PAD.encode(Sha256::digest(b"the-access-token")));

    let other_token = Expected { access_token: Some("another-token"), ..want };
    assert_eq!(verify(&proof, &other_token), Err(ProofError::AccessTokenHash));
    let without_ath = key.proof("GET", &items, None, Some("n-1"), NOW).unwrap();
    assert_eq!(verify(&without_ath, &want), Err(ProofError::AccessTokenHash));
    let new_nonce = Expected { nonce: Some("n-2"), ..want };
    assert_eq!(verify(&proof, &new_nonce), Err(ProofError::UseNonce));
    let without_nonce = key.proof("GET", &items, Some("the-access-token"), None, NOW).unwrap();
    assert_eq!(verify(&without_nonce, &want), Err(ProofError::UseNonce));
}

#[test]
fn htm_htu_and_iat_must_match_the_request() {
    let key = DpopKey::generate().unwrap();
    let token_url = url("https://idp.example/oauth2/default/v1/token");
    let proof = key.proof("POST", &token_url, None, None, NOW).unwrap();
    assert_eq!(verify(&proof, &expected("GET", &token_url)), Err(ProofError::Method));
    for other in [
        "https://idp.example/oauth2/default/v1/par",
        "http://idp.example/oauth2/default/v1/token",
        "https://idp.example:8443/oauth2/default/v1/token",
        "https://other.example/oauth2/default/v1/token",
    ] {
        assert_eq!(verify(&proof, &expected("POST", &url(other))), Err(ProofError::Url), "{other}");
    }
    // The same URL in other spellings, or with a query, is the same htu.
    for same in [
        "HTTPS://IDP.example:443/oauth2/default/v1/token",
        "https://idp.example/oauth2/default/./v1/token",
        "https://idp.example/oauth2/default/v1/token?x=1#f",
    ] {
        assert!(verify(&proof, &expected("POST", &url(same))).is_ok(), "{same}");
    }
    let old = key.proof("POST", &token_url, None, None, NOW - 301).unwrap();
    assert_eq!(verify(&old, &expected("POST", &token_url)), Err(ProofError::Time));
    let future = key.proof("POST", &token_url, None, None, NOW + 61).unwrap();
    assert_eq!(verify(&future, &expected("POST", &token_url)), Err(ProofError::Time));
    let skewed = key.proof("POST", &token_url, None, None, NOW + 59).unwrap();
    assert!(verify(&skewed, &expected("POST", &token_url)).is_ok());
}

#[test]
fn forged_and_malformed_proofs_are_refused() {
    let key = DpopKey::generate().unwrap();
    let token_url = url("https://idp.example/oauth2/default/v1/token");
    let want = expected("POST", &token_url);
    assert!(verify(&forge(&key, &good_header(&key), &good_claims()), &want).is_ok(), "the forger works");

    let with = |change: &dyn Fn(&mut Value)| {
        let mut header = good_header(&key);
        change(&mut header);
        verify(&forge(&key, &header, &good_claims()), &want)
    };
    assert_eq!(with(&|h| h["typ"] = json!("JWT")), Err(ProofError::WrongType));
    assert_eq!(with(&|h| h.as_object_mut().unwrap().remove("typ").map(drop).unwrap()), Err(ProofError::WrongType));
    for alg in ["none", "HS256", "RS256", "ES384", "es256"] {
        assert_eq!(with(&|h| h["alg"] = json!(alg)), Err(ProofError::Algorithm), "{alg}");
    }
    assert!(matches!(with(&|h| h.as_object_mut().unwrap().remove("jwk").map(drop).unwrap()), Err(ProofError::Key(_))));
    assert!(matches!(with(&|h| h["jwk"]["d"] = json!("c2VjcmV0")), Err(ProofError::Key(_))));
    assert!(matches!(with(&|h| h["jwk"]["crv"] = json!("P-384")), Err(ProofError::Key(_))));
    assert!(matches!(with(&|h| h["jwk"]["kty"] = json!("RSA")), Err(ProofError::Key(_))));
    assert!(matches!(with(&|h| h["jwk"]["x"] = json!("not base64url!")), Err(ProofError::Key(_))));
    // Another key in the header than the one that signed.
    let other = DpopKey::generate().unwrap();
    assert_eq!(with(&|h| h["jwk"] = serde_json::to_value(other.public_jwk()).unwrap()), Err(ProofError::Signature));

    // Claims changed under the signature.
    let proof = key.proof("POST", &token_url, None, None, NOW).unwrap();
    let mut parts: Vec<String> = proof.split('.').map(str::to_owned).collect();
    let mut claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["htm"] = json!("GET");
    parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_eq!(verify(&parts.join("."), &expected("GET", &token_url)), Err(ProofError::Signature));

    let mut no_jti = good_claims();
    no_jti.as_object_mut().unwrap().remove("jti");
    assert!(matches!(verify(&forge(&key, &good_header(&key), &no_jti), &want), Err(ProofError::Malformed(_))));
    let mut empty_jti = good_claims();
    empty_jti["jti"] = json!("");
    assert!(matches!(verify(&forge(&key, &good_header(&key), &empty_jti), &want), Err(ProofError::Malformed(_))));
    for garbage in ["", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30.e30"] {
        assert!(verify(garbage, &want).is_err(), "{garbage:?}");
    }
    assert_eq!(verify(&"a".repeat(MAX_PROOF_BYTES + 1), &want), Err(ProofError::TooLong));
}
