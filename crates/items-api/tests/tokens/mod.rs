//! How the attack tests get their tokens: real ones from a person's sign-in
//! at dev-idp (code flow + PKCE S256, through dev-idp's test browser), and
//! forged ones signed by dev-idp's own key with any header or claim changed.
//!
//! Shared by `tests/auth.rs` (the validator on its own) and
//! `tests/under_attack/` (the API over HTTP), which include this file as a
//! module.

#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dev_idp::config::{DEMO_ALICE_PASSWORD, ITEMS_API_CLIENT_ID};
use dev_idp::testing::Browser;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

/// The audience of dev-idp's access tokens, and of the API.
pub const AUDIENCE: &str = "api://default";
/// A loopback redirect registered for the desktop client.
pub const LOOPBACK: &str = "http://127.0.0.1:8765/callback";

/// 24 random bytes, base64url.
pub fn random() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>())
}

/// Sets or (with `null`) removes members of `base`.
pub fn merge(base: &mut Value, changes: &Value) {
    for (name, value) in changes.as_object().expect("an object of changes") {
        if value.is_null() {
            base.as_object_mut().expect("an object").remove(name);
        } else {
            base[name] = value.clone();
        }
    }
}

/// A token signed by `provider`'s active key: an Okta access token of
/// `issuer` (client credentials shape), with header and claim changes.
pub fn forge_with(provider: &dev_idp::Provider, issuer: &str, header: &Value, claims: &Value) -> String {
    let now = provider.now_unix();
    let mut full_header = json!({ "alg": "RS256", "kid": provider.active_kid() });
    merge(&mut full_header, header);
    let mut full_claims = json!({
        "ver": 1, "jti": format!("AT.{}", random()), "iss": issuer, "aud": AUDIENCE, "iat": now,
        "exp": now + 3600, "cid": ITEMS_API_CLIENT_ID, "scp": ["items:read"], "sub": ITEMS_API_CLIENT_ID,
    });
    merge(&mut full_claims, claims);
    provider.sign_raw(&full_header, &full_claims)
}

/// One part of a compact JWS: base64url of the JSON.
pub fn jwt_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// The (unverified) claims of a JWT.
pub fn claims_of(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

/// Alice signs in at `issuer` as `client_id` with the test browser (code flow
/// and PKCE S256); the token response. `secret` makes it a confidential
/// client's exchange (HTTP Basic), otherwise `client_id` goes in the form.
pub async fn sign_in(
    http: &reqwest::Client,
    issuer: &str,
    client_id: &str,
    secret: Option<&str>,
    scope: &str,
) -> Value {
    let verifier = format!("{}{}", random(), random());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let state = random();
    let mut url = Url::parse(&format!("{issuer}/v1/authorize")).expect("the issuer is a URL");
    url.query_pairs_mut().extend_pairs([
        ("client_id", client_id),
        ("response_type", "code"),
        ("redirect_uri", LOOPBACK),
        ("scope", scope),
        ("state", &state),
        ("nonce", &random()),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let redirect = Browser::new().sign_in(url.as_str(), "alice", DEMO_ALICE_PASSWORD).await;
    let redirect = redirect.expect("signed in");
    let query = |name: &str| redirect.query_pairs().find(|(n, _)| n == name).map(|(_, v)| v.into_owned());
    assert_eq!(query("state").as_deref(), Some(state.as_str()));
    let code = query("code").expect("a code");
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", LOOPBACK),
        ("code_verifier", verifier.as_str()),
    ];
    let mut request = http.post(format!("{issuer}/v1/token"));
    match secret {
        Some(secret) => request = request.basic_auth(client_id, Some(secret)),
        None => form.push(("client_id", client_id)),
    }
    let response = request.form(&form).send().await.expect("the token endpoint answers");
    let status = response.status();
    let answer: Value = response.json().await.expect("a JSON token response");
    assert_eq!(status, 200, "{answer}");
    answer
}
