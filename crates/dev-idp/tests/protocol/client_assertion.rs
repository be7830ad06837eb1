//! `private_key_jwt` (RFC 7523 §2.2 and §3, OIDC Core §9): a service signs a
//! client assertion with a key it registered, as Okta offers service apps
//! instead of a client secret. A good assertion gets client-credentials
//! tokens; a wrong audience, an expired or far-future one, a replayed `jti`,
//! another key, `alg: none`, a missing `jti` or `exp`, an `iss` other than
//! `sub` are each `invalid_client`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dev_idp::config::{ClientConfig, grant};
use jsonwebtoken::jwk::{AlgorithmParameters, CommonParameters, Jwk, JwkSet, RSAKeyParameters, RSAKeyType};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};

use crate::support::{Answer, Idp, claims, random, start_with};

const SERVICE: &str = "svc-reporting";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A signing key of the service's and its public JWK.
struct ServiceKey {
    encoding: EncodingKey,
    alg: Algorithm,
    jwk: Jwk,
}

fn ec_key() -> ServiceKey {
    let key = dpop::DpopKey::generate().unwrap();
    ServiceKey { encoding: EncodingKey::from_ec_der(key.pkcs8()), alg: Algorithm::ES256, jwk: key.public_jwk() }
}

fn rsa_key() -> ServiceKey {
    let private = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
    let der = private.to_pkcs1_der().unwrap();
    let jwk = Jwk {
        common: CommonParameters { key_id: Some("rsa-1".into()), ..CommonParameters::default() },
        algorithm: AlgorithmParameters::RSA(RSAKeyParameters {
            key_type: RSAKeyType::RSA,
            n: URL_SAFE_NO_PAD.encode(private.n().to_bytes_be()),
            e: URL_SAFE_NO_PAD.encode(private.e().to_bytes_be()),
        }),
    };
    ServiceKey { encoding: EncodingKey::from_rsa_der(der.as_bytes()), alg: Algorithm::RS256, jwk }
}

/// A provider with the service registered with `keys` (no secret).
async fn provider(keys: &[&ServiceKey]) -> Idp {
    let jwks = JwkSet { keys: keys.iter().map(|k| k.jwk.clone()).collect() };
    start_with(move |config| {
        let template = config.client(dev_idp::config::ITEMS_API_CLIENT_ID).unwrap().clone();
        config.clients.push(ClientConfig {
            client_id: SERVICE.into(),
            name: "Reporting service".into(),
            client_secret: None,
            jwks: Some(jwks),
            grant_types: vec![grant::CLIENT_CREDENTIALS.into()],
            allowed_scopes: Some(vec!["items:read".into()]),
            ..template
        });
    })
    .await
}

/// The claims of a good assertion at `idp`'s time.
fn good_claims(idp: &Idp) -> Value {
    let now = idp.idp.provider().now_unix();
    json!({
        "iss": SERVICE, "sub": SERVICE, "aud": idp.endpoint("token"),
        "iat": now, "exp": now + 300, "jti": random(),
    })
}

fn sign(key: &ServiceKey, claims: &Value) -> String {
    jsonwebtoken::encode(&Header::new(key.alg), claims, &key.encoding).unwrap()
}

async fn present(idp: &Idp, assertion: &str) -> Answer {
    idp.post(
        "token",
        &[
            ("grant_type", "client_credentials"),
            ("scope", "items:read"),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", assertion),
        ],
        None,
    )
    .await
}

#[track_caller]
fn assert_refused(answer: &Answer, what: &str, words: &str) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}: {}", answer.json);
    assert_eq!(answer.error(), "invalid_client", "{what}: {}", answer.json);
    let description = answer.json["error_description"].as_str().unwrap_or_default();
    assert!(description.contains(words), "{what}: {description:?} lacks {words:?}");
}

#[tokio::test]
async fn discovery_offers_private_key_jwt() {
    let idp = crate::support::start().await;
    let document = idp.discovery().await;
    let methods = document["token_endpoint_auth_methods_supported"].as_array().unwrap();
    for method in ["client_secret_basic", "client_secret_post", "private_key_jwt"] {
        assert!(methods.iter().any(|m| m == method), "{method} not in {methods:?}");
    }
    assert_eq!(document["token_endpoint_auth_signing_alg_values_supported"], json!(["RS256", "ES256"]));
}

#[tokio::test]
async fn a_good_assertion_gets_tokens_for_the_service_with_either_algorithm() {
    let (ec, rsa) = (ec_key(), rsa_key());
    let idp = provider(&[&ec, &rsa]).await;
    for key in [&ec, &rsa] {
        let answer = present(&idp, &sign(key, &good_claims(&idp))).await;
        assert_eq!(answer.status, StatusCode::OK, "{:?}: {}", key.alg, answer.json);
        let at = claims(answer.json["access_token"].as_str().unwrap());
        assert_eq!(at["sub"], SERVICE);
        assert_eq!(at["cid"], SERVICE);
        assert_eq!(at["scp"], json!(["items:read"]));
        assert!(answer.json.get("refresh_token").is_none());
    }
    // client_id in the body too, as long as it is the assertion's.
    let answer = idp
        .post(
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", SERVICE),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &sign(&ec, &good_claims(&idp))),
            ],
            None,
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    // An audience list naming the token endpoint is taken.
    let mut listed = good_claims(&idp);
    listed["aud"] = json!(["https://elsewhere.example", idp.endpoint("token")]);
    assert_eq!(present(&idp, &sign(&ec, &listed)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn bad_assertions_are_invalid_client() {
    let (key, other) = (ec_key(), ec_key());
    let idp = provider(&[&key]).await;
    let with = |change: &dyn Fn(&mut Value)| {
        let mut claims = good_claims(&idp);
        change(&mut claims);
        claims
    };
    let now = idp.idp.provider().now_unix();
    let cases: Vec<(&str, String, &str)> = vec![
        ("wrong aud", sign(&key, &with(&|c| c["aud"] = json!(idp.issuer()))), "aud must be the token endpoint"),
        ("expired", sign(&key, &with(&|c| c["exp"] = json!(now - 120))), "expired"),
        ("exp far away", sign(&key, &with(&|c| c["exp"] = json!(now + 7200))), "more than an hour"),
        ("no exp", sign(&key, &with(&|c| drop(c.as_object_mut().unwrap().remove("exp")))), "exp is missing"),
        ("no jti", sign(&key, &with(&|c| drop(c.as_object_mut().unwrap().remove("jti")))), "jti is missing"),
        ("another key", sign(&other, &good_claims(&idp)), "verifies its signature"),
        ("sub is not iss", sign(&key, &with(&|c| c["sub"] = json!("someone-else"))), "iss and sub"),
        ("unknown client", sign(&key, &with(&|c| c["iss"] = json!("nobody"))), "unknown"),
    ];
    for (what, assertion, words) in cases {
        assert_refused(&present(&idp, &assertion).await, what, words);
    }
    // alg none: an unsigned token with the right claims.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(good_claims(&idp).to_string());
    assert_refused(&present(&idp, &format!("{header}.{body}.")).await, "alg none", "RS256 or ES256");
    // HS256 keyed with anything: refused before any key is tried.
    let hs =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &good_claims(&idp), &EncodingKey::from_secret(b"guess"))
            .unwrap();
    assert_refused(&present(&idp, &hs).await, "HS256", "RS256 or ES256");
    // The wrong assertion type, and a secret beside the assertion.
    let good = sign(&key, &good_claims(&idp));
    let answer = idp
        .post(
            "token",
            &[("grant_type", "client_credentials"), ("client_assertion_type", "jwt"), ("client_assertion", &good)],
            None,
        )
        .await;
    assert_refused(&answer, "assertion type", "client_assertion_type");
    let answer = idp
        .post(
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", "x"),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &good),
            ],
            None,
        )
        .await;
    assert_eq!(answer.error(), "invalid_request", "{}", answer.json);
    // A client registered with keys only is no public client: client_id
    // alone does not authenticate it.
    let answer = idp.post("token", &[("grant_type", "client_credentials"), ("client_id", SERVICE)], None).await;
    assert_refused(&answer, "client_id alone", "private_key_jwt");
}

#[tokio::test]
async fn an_assertion_is_taken_once_and_expires_on_the_providers_clock() {
    let key = ec_key();
    let idp = provider(&[&key]).await;
    let assertion = sign(&key, &good_claims(&idp));
    assert_eq!(present(&idp, &assertion).await.status, StatusCode::OK);
    assert_refused(&present(&idp, &assertion).await, "replayed jti", "already used");
    // The same jti in a new assertion is still a replay.
    let mut again = good_claims(&idp);
    again["jti"] = claims(&assertion)["jti"].clone();
    assert_refused(&present(&idp, &sign(&key, &again)).await, "reused jti", "already used");
    // An unused assertion, presented after its exp (and the leeway).
    let late = sign(&key, &good_claims(&idp));
    idp.advance(300 + 61);
    assert_refused(&present(&idp, &late).await, "presented late", "expired");
}
