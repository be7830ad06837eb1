use base64::Engine as _;

use super::*;

/// A P-256 key in PKCS#8 PEM, as `openssl pkcs8 -topk8` writes one.
fn ec_pem() -> String {
    let key = dpop::DpopKey::generate().unwrap();
    let body = base64::engine::general_purpose::STANDARD.encode(key.pkcs8());
    format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n")
}

#[test]
fn an_ec_key_signs_es256_assertions_with_a_fresh_jti_each_time() {
    let key = ClientKey::from_pem(ec_pem().as_bytes(), "key.pem").unwrap();
    assert_eq!(key.algorithm(), "ES256");
    let claims = |jwt: &str| -> serde_json::Value {
        let part = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    let first = claims(&key.assertion("svc", "https://idp.example/v1/token", 1_000).unwrap());
    let second = claims(&key.assertion("svc", "https://idp.example/v1/token", 1_000).unwrap());
    assert_eq!(first["iss"], "svc");
    assert_eq!(first["sub"], "svc");
    assert_eq!(first["aud"], "https://idp.example/v1/token");
    assert_eq!(first["exp"], 1_000 + ASSERTION_LIFETIME.as_secs());
    assert_ne!(first["jti"], second["jti"]);
}

#[test]
fn what_is_not_a_private_key_is_refused_naming_the_file() {
    let refused = ClientKey::from_pem(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "svc.pem");
    let message = refused.unwrap_err().to_string();
    assert!(message.contains("svc.pem") && message.contains("PEM private key"), "{message}");
    let missing = ClientKey::load(std::path::Path::new("/nonexistent/tessera/key.pem")).unwrap_err().to_string();
    assert!(missing.contains("/nonexistent/tessera/key.pem"), "{missing}");
}

#[test]
fn neither_secret_nor_key_is_printed() {
    let secret = ClientAuth::Secret(ClientSecret::new("s3cr3t-value".to_owned()));
    assert!(!format!("{secret:?}").contains("s3cr3t"));
    let key = ClientAuth::PrivateKey(Arc::new(ClientKey::from_pem(ec_pem().as_bytes(), "k").unwrap()));
    assert_eq!(format!("{key:?}"), "ClientAuth::PrivateKey(ClientKey(ES256, [redacted]))");
}
