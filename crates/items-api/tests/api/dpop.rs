//! DPoP-bound tokens at the API (RFC 9449 §7), in both validation modes:
//! dev-idp binds a client-credentials token to a key (its nonce asked for
//! and given, as Okta does), and each request carries a proof from it.

use dev_idp::config::{ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET};
use dpop::DpopKey;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use std::time::Duration;

use crate::support::{Harness, Options, introspection, start, start_with};

const SCOPE: &str = "items:read items:write";

/// A client-credentials token bound to `key`.
async fn bound_token(h: &Harness, key: &DpopKey) -> String {
    let url = Url::parse(&format!("{}/v1/token", h.idp.issuer())).unwrap();
    let mut nonce: Option<String> = None;
    loop {
        let proof = key.proof("POST", &url, None, nonce.as_deref(), h.idp.provider().now_unix()).unwrap();
        let response = h
            .http
            .post(url.clone())
            .basic_auth(ITEMS_API_CLIENT_ID, Some(ITEMS_API_DEMO_SECRET))
            .header("DPoP", proof)
            .form(&[("grant_type", "client_credentials"), ("scope", SCOPE)])
            .send()
            .await
            .unwrap();
        let fresh = response.headers().get("dpop-nonce").map(|v| v.to_str().unwrap().to_owned());
        let body: Value = response.json().await.unwrap();
        if body["error"] == "use_dpop_nonce" && nonce.is_none() {
            nonce = fresh;
            continue;
        }
        assert_eq!(body["token_type"], "DPoP", "{body}");
        return body["access_token"].as_str().unwrap().to_owned();
    }
}

struct Sent {
    status: StatusCode,
    challenge: Vec<String>,
    /// The `DPoP-Nonce` handed out, if any.
    nonce: Option<String>,
    json: Value,
}

/// Sends `method path` with `authorization` and the `proofs` as DPoP headers.
async fn send(h: &Harness, method: Method, path: &str, authorization: &str, proofs: &[String]) -> Sent {
    let mut request = h.http.request(method, h.url(path)).header("authorization", authorization);
    for proof in proofs {
        request = request.header("DPoP", proof);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let challenge =
        response.headers().get_all("www-authenticate").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let nonce = response.headers().get("dpop-nonce").map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    Sent { status, challenge, nonce, json: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn proof(h: &Harness, key: &DpopKey, method: &str, path: &str, token: Option<&str>, iat: u64) -> String {
    key.proof(method, &Url::parse(&h.url(path)).unwrap(), token, None, iat).unwrap()
}

fn refused(sent: &Sent, error: &str) {
    assert_eq!(sent.status, StatusCode::UNAUTHORIZED, "{}", sent.json);
    assert_eq!(sent.json["error"], error, "{}", sent.json);
    let challenge = sent.challenge.first().expect("a challenge");
    assert!(challenge.starts_with("DPoP algs=\"ES256\", error=\"") && challenge.contains(error), "{challenge}");
}

async fn every_rule(h: &Harness) {
    let key = DpopKey::generate().unwrap();
    let token = bound_token(h, &key).await;
    let scheme = format!("DPoP {token}");
    let items = "/v1/items";

    // The owner: a fresh proof per request.
    let good = proof(h, &key, "GET", items, Some(&token), now());
    let answer = send(h, Method::GET, items, &scheme, std::slice::from_ref(&good)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    let created = send(h, Method::POST, items, &scheme, &[proof(h, &key, "POST", items, Some(&token), now())]).await;
    // No body: the request got past authentication to validation.
    assert_ne!(created.status, StatusCode::UNAUTHORIZED, "{}", created.json);
    // A query string is not part of htu.
    let queried = "/v1/items?limit=1";
    let answer = send(h, Method::GET, queried, &scheme, &[proof(h, &key, "GET", items, Some(&token), now())]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);

    // The same proof again: a replay.
    refused(&send(h, Method::GET, items, &scheme, &[good]).await, "invalid_dpop_proof");
    // For another method, another URL, without or with another token's hash,
    // too old, from the future.
    for bad in [
        proof(h, &key, "DELETE", items, Some(&token), now()),
        proof(h, &key, "GET", "/v1/me", Some(&token), now()),
        key.proof("GET", &Url::parse(&format!("http://127.0.0.2:1{items}")).unwrap(), Some(&token), None, now())
            .unwrap(),
        proof(h, &key, "GET", items, None, now()),
        proof(h, &key, "GET", items, Some("another-token"), now()),
        proof(h, &key, "GET", items, Some(&token), now() - 600),
        proof(h, &key, "GET", items, Some(&token), now() + 600),
    ] {
        refused(&send(h, Method::GET, items, &scheme, &[bad]).await, "invalid_dpop_proof");
    }
    // No proof, or two.
    refused(&send(h, Method::GET, items, &scheme, &[]).await, "invalid_dpop_proof");
    let two = [proof(h, &key, "GET", items, Some(&token), now()), proof(h, &key, "GET", items, Some(&token), now())];
    refused(&send(h, Method::GET, items, &scheme, &two).await, "invalid_dpop_proof");

    // A stolen token: with the thief's own key, or as a bearer token.
    let thief = DpopKey::generate().unwrap();
    refused(
        &send(h, Method::GET, items, &scheme, &[proof(h, &thief, "GET", items, Some(&token), now())]).await,
        "invalid_token",
    );
    refused(&send(h, Method::GET, items, &format!("Bearer {token}"), &[]).await, "invalid_token");

    // An unbound token: as a bearer token only.
    let bearer = h.machine_token(SCOPE).await;
    assert_eq!(send(h, Method::GET, items, &format!("Bearer {bearer}"), &[]).await.status, StatusCode::OK);
    let as_dpop = proof(h, &key, "GET", items, Some(&bearer), now());
    refused(&send(h, Method::GET, items, &format!("DPoP {bearer}"), &[as_dpop]).await, "invalid_token");
}

#[tokio::test]
async fn dpop_bound_tokens_need_a_fresh_proof_from_their_key_with_local_keys() {
    every_rule(&start().await).await;
}

#[tokio::test]
async fn dpop_bound_tokens_need_a_fresh_proof_from_their_key_with_introspection() {
    every_rule(&start_with(Options { mode: introspection(), ..Options::default() }).await).await;
}

#[tokio::test]
async fn no_credentials_get_a_challenge_for_each_scheme() {
    let h = start().await;
    let response = h.http.get(h.url("/v1/items")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenges: Vec<&str> =
        response.headers().get_all("www-authenticate").iter().map(|v| v.to_str().unwrap()).collect();
    assert_eq!(challenges, ["Bearer realm=\"items\"", "DPoP algs=\"ES256\""]);
}

#[tokio::test]
async fn with_nonces_on_a_proof_must_carry_the_apis_nonce() {
    let h = start_with(Options { dpop_nonce: Some(Duration::from_secs(300)), ..Options::default() }).await;
    let key = DpopKey::generate().unwrap();
    let token = bound_token(&h, &key).await;
    let scheme = format!("DPoP {token}");
    let items = "/v1/items";
    let url = Url::parse(&h.url(items)).unwrap();
    let with_nonce = |nonce: Option<&str>| key.proof("GET", &url, Some(&token), nonce, now()).unwrap();

    // RFC 9449 §9: without the API's nonce, or with one it did not make,
    // the answer asks for it and hands it out.
    let first = send(&h, Method::GET, items, &scheme, &[with_nonce(None)]).await;
    refused(&first, "use_dpop_nonce");
    let nonce = first.nonce.clone().expect("DPoP-Nonce with use_dpop_nonce");
    assert_eq!(nonce.len(), 43, "{nonce}");
    let made_up = send(&h, Method::GET, items, &scheme, &[with_nonce(Some("made-up"))]).await;
    refused(&made_up, "use_dpop_nonce");
    assert_eq!(made_up.nonce.as_deref(), Some(nonce.as_str()));
    // The dev-idp's nonce is not the API's.
    let other = send(&h, Method::GET, items, &scheme, &[with_nonce(Some(&"A".repeat(43)))]).await;
    refused(&other, "use_dpop_nonce");

    // With it: served, and the nonce handed out again for the next proof.
    let served = send(&h, Method::GET, items, &scheme, &[with_nonce(Some(&nonce))]).await;
    assert_eq!(served.status, StatusCode::OK, "{}", served.json);
    assert_eq!(served.nonce.as_deref(), Some(nonce.as_str()));
    // Every other rule still holds: the same proof again is a replay.
    let once = with_nonce(Some(&nonce));
    assert_eq!(send(&h, Method::GET, items, &scheme, std::slice::from_ref(&once)).await.status, StatusCode::OK);
    refused(&send(&h, Method::GET, items, &scheme, &[once]).await, "invalid_dpop_proof");

    // Bearer requests are not asked for nonces, and get none.
    let bearer = h.machine_token(SCOPE).await;
    let plain = send(&h, Method::GET, items, &format!("Bearer {bearer}"), &[]).await;
    assert_eq!((plain.status, plain.nonce), (StatusCode::OK, None));
}

#[tokio::test]
async fn without_nonces_the_api_hands_out_none() {
    let h = start().await;
    let key = DpopKey::generate().unwrap();
    let token = bound_token(&h, &key).await;
    let items = "/v1/items";
    let sent =
        send(&h, Method::GET, items, &format!("DPoP {token}"), &[proof(&h, &key, "GET", items, Some(&token), now())])
            .await;
    assert_eq!((sent.status, sent.nonce), (StatusCode::OK, None));
}
