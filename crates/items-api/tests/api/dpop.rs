//! DPoP-bound tokens at the API (RFC 9449 §7), in both validation modes:
//! dev-idp binds a client-credentials token to a key (its nonce asked for
//! and given, as Okta does), and each request carries a proof from it.

use dev_idp::config::{ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET};
use dpop::{DpopKey, ProofError, ReplayError};
use items_api::dpop::{BindingRefusal, ProofRefusal};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use std::time::Duration;

use crate::support::{Harness, Options, introspection, start, start_with, validator};

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

/// 401 `error` with `reason` as the DPoP challenge's `error_description`.
fn refused_for(sent: &Sent, error: &str, reason: &dyn std::fmt::Display) {
    refused(sent, error);
    let expected = format!("DPoP algs=\"ES256\", error=\"{error}\", error_description=\"{reason}\"");
    assert_eq!(sent.challenge.first(), Some(&expected), "{}", sent.json);
}

/// 401 `invalid_dpop_proof` for `refusal`.
fn bad_proof(sent: &Sent, refusal: ProofRefusal) {
    refused_for(sent, "invalid_dpop_proof", &refusal);
}

/// 401 `invalid_token` (DPoP scheme) for `refusal`.
fn bad_binding(sent: &Sent, refusal: BindingRefusal) {
    refused_for(sent, "invalid_token", &refusal);
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
    bad_proof(&send(h, Method::GET, items, &scheme, &[good]).await, ProofRefusal::Replay(ReplayError::Replayed));
    // For another method, another URL, without or with another token's hash,
    // too old, from the future.
    for (bad, why) in [
        (proof(h, &key, "DELETE", items, Some(&token), now()), ProofError::Method),
        (proof(h, &key, "GET", "/v1/me", Some(&token), now()), ProofError::Url),
        (
            key.proof("GET", &Url::parse(&format!("http://127.0.0.2:1{items}")).unwrap(), Some(&token), None, now())
                .unwrap(),
            ProofError::Url,
        ),
        (proof(h, &key, "GET", items, None, now()), ProofError::AccessTokenHash),
        (proof(h, &key, "GET", items, Some("another-token"), now()), ProofError::AccessTokenHash),
        (proof(h, &key, "GET", items, Some(&token), now() - 600), ProofError::Time),
        (proof(h, &key, "GET", items, Some(&token), now() + 600), ProofError::Time),
    ] {
        bad_proof(&send(h, Method::GET, items, &scheme, &[bad]).await, ProofRefusal::Check(why));
    }
    // No proof, or two.
    bad_proof(&send(h, Method::GET, items, &scheme, &[]).await, ProofRefusal::Missing);
    let two = [proof(h, &key, "GET", items, Some(&token), now()), proof(h, &key, "GET", items, Some(&token), now())];
    bad_proof(&send(h, Method::GET, items, &scheme, &two).await, ProofRefusal::Several);

    // A stolen token: with the thief's own key, or as a bearer token.
    let thief = DpopKey::generate().unwrap();
    bad_binding(
        &send(h, Method::GET, items, &scheme, &[proof(h, &thief, "GET", items, Some(&token), now())]).await,
        BindingRefusal::OtherKey,
    );
    let as_bearer = send(h, Method::GET, items, &format!("Bearer {token}"), &[]).await;
    bad_binding(&as_bearer, BindingRefusal::SentAsBearer);

    // An unbound token: as a bearer token only.
    let bearer = h.machine_token(SCOPE).await;
    assert_eq!(send(h, Method::GET, items, &format!("Bearer {bearer}"), &[]).await.status, StatusCode::OK);
    let as_dpop = proof(h, &key, "GET", items, Some(&bearer), now());
    bad_binding(&send(h, Method::GET, items, &format!("DPoP {bearer}"), &[as_dpop]).await, BindingRefusal::NotBound);
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
    bad_proof(&send(&h, Method::GET, items, &scheme, &[once]).await, ProofRefusal::Replay(ReplayError::Replayed));

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

/// Issue 14, item 3: `htu` is compared with the API's configured URLs
/// (`PUBLIC_URL`) only. A proof made for another API that shares the
/// audience is refused whatever the request's `Host` (or
/// `X-Forwarded-Host`, `Forwarded`) says, in any spelling; a proof for one
/// of ours is taken whatever the `Host`.
#[tokio::test]
async fn a_proof_for_another_url_is_refused_whatever_the_host_header_says() {
    use crate::support::raw_request;

    // Ours: the loopback address the test calls, and the address behind a
    // proxy that strips `/api`.
    let behind_proxy = Url::parse("https://items.example.com/api").unwrap();
    let h = start_with(Options { public_urls: vec![behind_proxy], ..Options::default() }).await;
    let key = DpopKey::generate().unwrap();
    let token = bound_token(&h, &key).await;
    let api = h.api;
    let port = api.port();
    let items = "/v1/items";
    // GET /v1/items with `headers`, a new proof for `htu`.
    let call = |htu: String, headers: String| {
        let proof = key.proof("GET", &Url::parse(&htu).unwrap(), Some(&token), None, now()).unwrap();
        let head = format!("GET {items} HTTP/1.1\r\n{headers}Authorization: DPoP {token}\r\nDPoP: {proof}\r\n");
        async move { raw_request(api, &head, "").await }
    };

    // Ours, whatever the Host says.
    for (htu, host) in [
        (format!("http://{api}{items}"), format!("{api}")),
        (format!("http://{api}{items}"), "other-api.example".to_owned()),
        (format!("https://items.example.com/api{items}"), "items.example.com".to_owned()),
        (format!("https://ITEMS.example.com:443/api{items}"), format!("{api}")),
    ] {
        let answer = call(htu.clone(), format!("Host: {host}\r\n")).await;
        assert_eq!(answer.status, 200, "{htu} with Host {host}: {}", answer.body);
    }

    // Another API's URL, the request's Host (and proxy headers) forged to
    // match it, in every spelling.
    let forged = [
        "other-api.example".to_owned(),
        "OTHER-API.EXAMPLE".to_owned(),
        "other-api.example.".to_owned(),
        "other-api.example:80".to_owned(),
        format!("other-api.example:{port}"),
        "items.example.com".to_owned(),
        "127.0.0.1".to_owned(),
        "127.0.0.1:80".to_owned(),
        format!("127.0.0.2:{port}"),
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
        format!("[::1]:{port}"),
        format!("127.0.0.1.:{port}"),
        format!("0x7f.0.0.1:{port}"),
    ];
    for host in &forged {
        let htu = format!("http://{host}{items}");
        if Url::parse(&htu).unwrap() == Url::parse(&format!("http://{api}{items}")).unwrap() {
            continue; // a spelling of our own URL
        }
        for headers in [
            format!("Host: {host}\r\n"),
            format!("Host: {api}\r\nX-Forwarded-Host: {host}\r\nX-Forwarded-Proto: http\r\n"),
            format!("Host: {api}\r\nForwarded: host=\"{host}\";proto=http\r\n"),
        ] {
            let answer = call(htu.clone(), headers.clone()).await;
            assert_eq!(answer.status, 401, "{htu} with {headers:?}: {}", answer.body);
            assert!(answer.body.contains("invalid_dpop_proof") && answer.body.contains("htu"), "{}", answer.body);
        }
    }
    // Ours in another scheme, without the proxy's path, with a path of its own.
    for htu in [
        format!("https://{api}{items}"),
        format!("http://{api}/api{items}"),
        format!("https://items.example.com{items}"),
        format!("http://items.example.com/api{items}"),
        format!("https://items.example.com/api/api{items}"),
    ] {
        let answer = call(htu.clone(), format!("Host: {api}\r\n")).await;
        assert_eq!(answer.status, 401, "{htu}: {}", answer.body);
    }
}

/// Without a public URL (`AppState::new`, or `ACCEPT_DPOP=false`), no DPoP
/// request is taken, not even one whose proof names the `Host` it was sent
/// with.
#[tokio::test]
async fn without_a_public_url_dpop_is_refused() {
    use items_api::auth::Mode;
    use items_api::store::Store;

    let h = start().await;
    let key = DpopKey::generate().unwrap();
    let token = bound_token(&h, &key).await;
    let validator = validator(h.idp.issuer(), Mode::Local);
    let store = crate::wait::within("opening the items database", Store::connect("sqlite::memory:")).await.unwrap();
    let app = items_api::router(items_api::AppState::new(validator, store, items_api::policy::Policy::None));
    let api = testkit::serve(app).await;
    let url = Url::parse(&format!("http://{api}/v1/items")).unwrap();
    let proof = key.proof("GET", &url, Some(&token), None, now()).unwrap();
    let response =
        h.http.get(url).header("authorization", format!("DPoP {token}")).header("dpop", proof).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_dpop_proof", "{body}");
}
