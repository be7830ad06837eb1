//! DPoP at the token endpoint (RFC 9449 §5, §8): proofs checked, the
//! server's nonce asked for, replays refused, access tokens bound to the
//! key (`cnf.jkt`, `token_type: DPoP`), refresh tokens usable only with a
//! proof from the same key.

use dev_idp::testing::Browser;
use dpop::DpopKey;
use reqwest::StatusCode;
use url::Url;

use crate::support::{ALICE, Answer, DESKTOP, FULL_SCOPE, Idp, claims, query, start, start_with};

/// POSTs `form` to the token endpoint with `proofs` as DPoP headers.
async fn token(idp: &Idp, form: &[(&str, &str)], proofs: &[String]) -> Answer {
    send(idp, "token", form, proofs).await
}

/// POSTs `form` to the endpoint `path` with `proofs` as DPoP headers.
async fn send(idp: &Idp, path: &str, form: &[(&str, &str)], proofs: &[String]) -> Answer {
    let mut request = idp.http.post(idp.endpoint(path)).form(form);
    for proof in proofs {
        request = request.header("DPoP", proof);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let json = response.json().await.unwrap();
    Answer { status, headers, json }
}

fn proof(idp: &Idp, key: &DpopKey, nonce: Option<&str>) -> String {
    proof_to(idp, "token", key, nonce)
}

/// A proof for a POST to the endpoint `path`.
fn proof_to(idp: &Idp, path: &str, key: &DpopKey, nonce: Option<&str>) -> String {
    key.proof("POST", &Url::parse(&idp.endpoint(path)).unwrap(), None, nonce, idp.idp.provider().now_unix()).unwrap()
}

fn nonce_of(answer: &Answer) -> String {
    answer.headers.get("dpop-nonce").expect("a DPoP-Nonce header").to_str().unwrap().to_owned()
}

/// Alice signs in; the code's exchange form.
async fn code_form(idp: &Idp) -> Vec<(String, String)> {
    code_form_with(idp, &[]).await
}

/// Alice signs in through an authorization request with `extra`
/// parameters; the code's exchange form.
async fn code_form_with(idp: &Idp, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let request = idp.request(FULL_SCOPE, extra);
    let redirect = Browser::new().sign_in(&request.url, ALICE.0, ALICE.1).await.unwrap();
    exchange_form(&request, &redirect)
}

/// The token request's form for the code in `redirect`.
fn exchange_form(request: &crate::support::Request, redirect: &Url) -> Vec<(String, String)> {
    vec![
        ("grant_type".into(), "authorization_code".into()),
        ("client_id".into(), DESKTOP.into()),
        ("code".into(), query(redirect, "code").unwrap()),
        ("redirect_uri".into(), request.redirect_uri.clone()),
        ("code_verifier".into(), request.pkce.verifier.clone()),
    ]
}

fn borrowed(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

/// A DPoP-bound sign-in: the nonce asked for, then given. Answers the
/// token response and the nonce.
async fn bound_sign_in(idp: &Idp, key: &DpopKey) -> (Answer, String) {
    let form = code_form(idp).await;
    let first = token(idp, &borrowed(&form), &[proof(idp, key, None)]).await;
    assert_eq!((first.status, first.error()), (StatusCode::BAD_REQUEST, "use_dpop_nonce"), "{}", first.json);
    let nonce = nonce_of(&first);
    let answer = token(idp, &borrowed(&form), &[proof(idp, key, Some(&nonce))]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    (answer, nonce)
}

#[tokio::test]
async fn discovery_announces_dpop() {
    let idp = start().await;
    let document = idp.discovery().await;
    assert_eq!(document["dpop_signing_alg_values_supported"], serde_json::json!(["ES256"]));
}

#[tokio::test]
async fn a_proof_with_the_servers_nonce_gets_tokens_bound_to_its_key() {
    let idp = start().await;
    let key = DpopKey::generate().unwrap();
    let (answer, _) = bound_sign_in(&idp, &key).await;
    assert_eq!(answer.json["token_type"], "DPoP");
    assert!(answer.headers.contains_key("dpop-nonce"), "the next nonce");
    let access = answer.json["access_token"].as_str().unwrap();
    assert_eq!(claims(access)["cnf"]["jkt"], key.thumbprint());
    // The ID token is not bound (RFC 9449 §6).
    assert!(claims(answer.json["id_token"].as_str().unwrap()).get("cnf").is_none());
    let introspected = idp.post("introspect", &[("token", access), ("client_id", DESKTOP)], None).await;
    assert_eq!(introspected.json["token_type"], "DPoP");
    assert_eq!(introspected.json["cnf"]["jkt"], key.thumbprint());
}

#[tokio::test]
async fn without_dpop_tokens_stay_bearer_tokens() {
    let idp = start().await;
    let form = code_form(&idp).await;
    let answer = token(&idp, &borrowed(&form), &[]).await;
    assert_eq!(answer.json["token_type"], "Bearer");
    assert!(claims(answer.json["access_token"].as_str().unwrap()).get("cnf").is_none());
    assert!(!answer.headers.contains_key("dpop-nonce"));
}

#[tokio::test]
async fn a_bound_refresh_token_needs_a_proof_from_its_key() {
    let idp = start().await;
    let key = DpopKey::generate().unwrap();
    let (answer, nonce) = bound_sign_in(&idp, &key).await;
    let refresh = answer.json["refresh_token"].as_str().unwrap().to_owned();
    let form = [("grant_type", "refresh_token"), ("client_id", DESKTOP), ("refresh_token", refresh.as_str())];

    // Stolen without the key: refused.
    let bare = token(&idp, &form, &[]).await;
    assert_eq!((bare.status, bare.error()), (StatusCode::BAD_REQUEST, "invalid_dpop_proof"), "{}", bare.json);
    let thief = DpopKey::generate().unwrap();
    let other = token(&idp, &form, &[proof(&idp, &thief, Some(&nonce))]).await;
    assert_eq!((other.status, other.error()), (StatusCode::BAD_REQUEST, "invalid_grant"), "{}", other.json);

    // With the key: a new bound access token.
    let renewed = token(&idp, &form, &[proof(&idp, &key, Some(&nonce))]).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.json);
    assert_eq!(renewed.json["token_type"], "DPoP");
    assert_eq!(claims(renewed.json["access_token"].as_str().unwrap())["cnf"]["jkt"], key.thumbprint());
}

#[tokio::test]
async fn replayed_and_mismatched_proofs_are_refused() {
    let idp = start().await;
    let key = DpopKey::generate().unwrap();
    let (answer, nonce) = bound_sign_in(&idp, &key).await;
    let refresh = answer.json["refresh_token"].as_str().unwrap().to_owned();
    let form = [("grant_type", "refresh_token"), ("client_id", DESKTOP), ("refresh_token", refresh.as_str())];
    let now = idp.idp.provider().now_unix();
    let token_url = Url::parse(&idp.endpoint("token")).unwrap();

    let once = proof(&idp, &key, Some(&nonce));
    assert_eq!(token(&idp, &form, std::slice::from_ref(&once)).await.status, StatusCode::OK);
    let replay = token(&idp, &form, &[once]).await;
    assert_eq!(replay.error(), "invalid_dpop_proof", "a replay: {}", replay.json);
    assert!(replay.json["error_description"].as_str().unwrap().contains("already used"));

    let par_url = Url::parse(&idp.endpoint("par")).unwrap();
    for (what, bad) in [
        ("another URL", key.proof("POST", &par_url, None, Some(&nonce), now).unwrap()),
        ("another method", key.proof("GET", &token_url, None, Some(&nonce), now).unwrap()),
        ("made 10 minutes ago", key.proof("POST", &token_url, None, Some(&nonce), now - 600).unwrap()),
        ("not a JWT", "not-a-proof".to_owned()),
    ] {
        let answer = token(&idp, &form, &[bad]).await;
        assert_eq!((answer.status, answer.error()), (StatusCode::BAD_REQUEST, "invalid_dpop_proof"), "{what}");
    }
    let two = token(&idp, &form, &[proof(&idp, &key, Some(&nonce)), proof(&idp, &key, Some(&nonce))]).await;
    assert_eq!(two.error(), "invalid_dpop_proof", "two DPoP headers");
    let wrong_nonce = token(&idp, &form, &[proof(&idp, &key, Some("made-up"))]).await;
    assert_eq!(wrong_nonce.error(), "use_dpop_nonce");
}

#[tokio::test]
async fn nonces_rotate_and_the_previous_one_is_still_taken() {
    let idp = start().await;
    let key = DpopKey::generate().unwrap();
    let (answer, nonce) = bound_sign_in(&idp, &key).await;
    let refresh = answer.json["refresh_token"].as_str().unwrap().to_owned();
    let form = [("grant_type", "refresh_token"), ("client_id", DESKTOP), ("refresh_token", refresh.as_str())];
    // One lifetime later the previous nonce is still good, and a new one is handed out.
    idp.advance(300);
    let renewed = token(&idp, &form, &[proof(&idp, &key, Some(&nonce))]).await;
    assert_eq!(renewed.status, StatusCode::OK, "{}", renewed.json);
    let next = nonce_of(&renewed);
    assert_ne!(next, nonce);
    // Two lifetimes later it is not.
    idp.advance(300);
    let refresh = renewed.json["refresh_token"].as_str().unwrap().to_owned();
    let form = [("grant_type", "refresh_token"), ("client_id", DESKTOP), ("refresh_token", refresh.as_str())];
    let stale = token(&idp, &form, &[proof(&idp, &key, Some(&nonce))]).await;
    assert_eq!(stale.error(), "use_dpop_nonce", "{}", stale.json);
    let fresh = token(&idp, &form, &[proof(&idp, &key, Some(&nonce_of(&stale)))]).await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.json);
}

#[tokio::test]
async fn a_client_that_requires_dpop_gets_no_bearer_tokens() {
    let idp = start_with(|config| {
        for client in &mut config.clients {
            client.dpop_bound_access_tokens = true;
        }
    })
    .await;
    let form = code_form(&idp).await;
    let answer = token(&idp, &borrowed(&form), &[]).await;
    assert_eq!((answer.status, answer.error()), (StatusCode::BAD_REQUEST, "invalid_dpop_proof"), "{}", answer.json);
    let key = DpopKey::generate().unwrap();
    let first = token(&idp, &borrowed(&form), &[proof(&idp, &key, None)]).await;
    let bound = token(&idp, &borrowed(&form), &[proof(&idp, &key, Some(&nonce_of(&first)))]).await;
    assert_eq!(bound.json["token_type"], "DPoP", "{}", bound.json);
}

#[tokio::test]
async fn without_required_nonces_the_first_proof_is_enough() {
    let idp = start_with(|config| config.dpop.require_nonce = false).await;
    let key = DpopKey::generate().unwrap();
    let form = code_form(&idp).await;
    let answer = token(&idp, &borrowed(&form), &[proof(&idp, &key, None)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.json["token_type"], "DPoP");
    assert!(!answer.headers.contains_key("dpop-nonce"));
}

/// GETs userinfo with `authorization` and `proof`; answers the status and
/// the `WWW-Authenticate` challenge.
async fn userinfo(idp: &Idp, authorization: &str, proof: Option<&str>) -> (StatusCode, String) {
    let mut request = idp.http.get(idp.endpoint("userinfo")).header("authorization", authorization);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    let response = request.send().await.unwrap();
    let challenge =
        response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (response.status(), challenge)
}

#[tokio::test]
async fn userinfo_takes_a_bound_token_only_with_a_proof_from_its_key() {
    let idp = start().await;
    let key = DpopKey::generate().unwrap();
    let (answer, _) = bound_sign_in(&idp, &key).await;
    let access = answer.json["access_token"].as_str().unwrap().to_owned();
    let url = Url::parse(&idp.endpoint("userinfo")).unwrap();
    let now = idp.idp.provider().now_unix();
    let scheme = format!("DPoP {access}");

    // The owner: the DPoP scheme and a proof for this request and token.
    let good = key.proof("GET", &url, Some(&access), None, now).unwrap();
    assert_eq!(userinfo(&idp, &scheme, Some(&good)).await.0, StatusCode::OK);
    // The same proof again: a replay.
    let (status, challenge) = userinfo(&idp, &scheme, Some(&good)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.starts_with("DPoP ") && challenge.contains("invalid_dpop_proof"), "{challenge}");
    // Proofs for another method, another URL, another token, or none.
    let other_url = Url::parse(&idp.endpoint("introspect")).unwrap();
    for proof in [
        Some(key.proof("POST", &url, Some(&access), None, now).unwrap()),
        Some(key.proof("GET", &other_url, Some(&access), None, now).unwrap()),
        Some(key.proof("GET", &url, Some("another-token"), None, now).unwrap()),
        Some(key.proof("GET", &url, None, None, now).unwrap()),
        None,
    ] {
        let (status, challenge) = userinfo(&idp, &scheme, proof.as_deref()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{proof:?}");
        assert!(challenge.contains("invalid_dpop_proof"), "{challenge}");
    }
    // A thief's own key: the token is not bound to it.
    let thief = DpopKey::generate().unwrap();
    let theirs = thief.proof("GET", &url, Some(&access), None, now).unwrap();
    let (status, challenge) = userinfo(&idp, &scheme, Some(&theirs)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("invalid_token"), "{challenge}");
    // As a bearer token: refused (RFC 9449 §7.2).
    let (status, challenge) = userinfo(&idp, &format!("Bearer {access}"), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.starts_with("DPoP ") && challenge.contains("invalid_token"), "{challenge}");
}

#[tokio::test]
async fn userinfo_refuses_the_dpop_scheme_for_a_bearer_token() {
    let idp = start().await;
    let form = code_form(&idp).await;
    let answer = token(&idp, &borrowed(&form), &[]).await;
    let access = answer.json["access_token"].as_str().unwrap().to_owned();
    assert_eq!(userinfo(&idp, &format!("Bearer {access}"), None).await.0, StatusCode::OK);
    let key = DpopKey::generate().unwrap();
    let url = Url::parse(&idp.endpoint("userinfo")).unwrap();
    let proof = key.proof("GET", &url, Some(&access), None, idp.idp.provider().now_unix()).unwrap();
    let (status, challenge) = userinfo(&idp, &format!("DPoP {access}"), Some(&proof)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(challenge.contains("invalid_token"), "{challenge}");
}

#[tokio::test]
async fn a_code_bound_with_dpop_jkt_is_exchanged_only_with_a_proof_from_that_key() {
    let idp = start().await;
    let key = DpopKey::generate().unwrap();
    let thief = DpopKey::generate().unwrap();
    let bound = [("dpop_jkt", key.thumbprint())];
    let nonce = nonce_of(&token(&idp, &borrowed(&code_form(&idp).await), &[proof(&idp, &key, None)]).await);

    // RFC 9449 §10: without a proof, or with another key's, the code is refused.
    let form = code_form_with(&idp, &bound).await;
    let bare = token(&idp, &borrowed(&form), &[]).await;
    assert_eq!((bare.status, bare.error()), (StatusCode::BAD_REQUEST, "invalid_grant"), "{}", bare.json);
    assert!(bare.json["error_description"].as_str().unwrap().contains("dpop_jkt"), "{}", bare.json);
    let form = code_form_with(&idp, &bound).await;
    let other = token(&idp, &borrowed(&form), &[proof(&idp, &thief, Some(&nonce))]).await;
    assert_eq!((other.status, other.error()), (StatusCode::BAD_REQUEST, "invalid_grant"), "{}", other.json);
    // A refused code is spent: the right key cannot use it afterwards either.
    let after = token(&idp, &borrowed(&form), &[proof(&idp, &key, Some(&nonce))]).await;
    assert_eq!(after.error(), "invalid_grant", "{}", after.json);

    // With the key it names: tokens bound to it.
    let form = code_form_with(&idp, &bound).await;
    let answer = token(&idp, &borrowed(&form), &[proof(&idp, &key, Some(&nonce))]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(claims(answer.json["access_token"].as_str().unwrap())["cnf"]["jkt"], key.thumbprint());
}

#[tokio::test]
async fn a_malformed_dpop_jkt_is_refused() {
    let idp = start().await;
    for bad in ["short", &"A".repeat(44), &format!("{}=", &"A".repeat(42)), &"+".repeat(43)] {
        let request = idp.request(FULL_SCOPE, &[("dpop_jkt", bad)]);
        let form: Vec<(String, String)> = Url::parse(&request.url).unwrap().query_pairs().into_owned().collect();
        let answer = send(&idp, "par", &borrowed(&form), &[]).await;
        assert_eq!((answer.status, answer.error()), (StatusCode::BAD_REQUEST, "invalid_request"), "{bad}");
        assert!(answer.json["error_description"].as_str().unwrap().contains("dpop_jkt"), "{}", answer.json);
    }
}

/// `request`'s parameters, with `extra` added, as a pushed request's form.
fn pushed_form(request: &crate::support::Request, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = Url::parse(&request.url).unwrap().query_pairs().into_owned().collect();
    form.extend(extra.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())));
    form
}

/// Pushes a request with a proof from `key`; alice signs in through its
/// `request_uri`. Answers the code's exchange form.
async fn pushed_sign_in(idp: &Idp, key: &DpopKey, nonce: &str) -> Vec<(String, String)> {
    let request = idp.request(FULL_SCOPE, &[]);
    let form = pushed_form(&request, &[]);
    let pushed = send(idp, "par", &borrowed(&form), &[proof_to(idp, "par", key, Some(nonce))]).await;
    assert_eq!(pushed.status, StatusCode::CREATED, "{}", pushed.json);
    let mut url = Url::parse(&idp.endpoint("authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("client_id", DESKTOP)
        .append_pair("request_uri", pushed.json["request_uri"].as_str().unwrap());
    let redirect = Browser::new().sign_in(url.as_str(), ALICE.0, ALICE.1).await.unwrap();
    exchange_form(&request, &redirect)
}

#[tokio::test]
async fn a_proof_sent_with_a_pushed_request_binds_its_code() {
    let idp = start().await;
    let key = DpopKey::generate().unwrap();
    let thief = DpopKey::generate().unwrap();

    // The proof's nonce is asked for at the push as at the token endpoint.
    let request = idp.request(FULL_SCOPE, &[]);
    let form = pushed_form(&request, &[]);
    let first = send(&idp, "par", &borrowed(&form), &[proof_to(&idp, "par", &key, None)]).await;
    assert_eq!((first.status, first.error()), (StatusCode::BAD_REQUEST, "use_dpop_nonce"), "{}", first.json);
    let nonce = nonce_of(&first);
    // A proof made for the token endpoint is not one for the push.
    let elsewhere = send(&idp, "par", &borrowed(&form), &[proof(&idp, &key, Some(&nonce))]).await;
    assert_eq!(elsewhere.error(), "invalid_dpop_proof", "{}", elsewhere.json);
    // A proof and a dpop_jkt naming another key: refused (RFC 9449 §10.1).
    let mixed = pushed_form(&request, &[("dpop_jkt", thief.thumbprint())]);
    let answer = send(&idp, "par", &borrowed(&mixed), &[proof_to(&idp, "par", &key, Some(&nonce))]).await;
    assert_eq!((answer.status, answer.error()), (StatusCode::BAD_REQUEST, "invalid_dpop_proof"), "{}", answer.json);

    // The code of a request pushed with a proof is bound to that proof's key.
    let form = pushed_sign_in(&idp, &key, &nonce).await;
    let stolen = token(&idp, &borrowed(&form), &[proof(&idp, &thief, Some(&nonce))]).await;
    assert_eq!(stolen.error(), "invalid_grant", "{}", stolen.json);
    let form = pushed_sign_in(&idp, &key, &nonce).await;
    let answer = token(&idp, &borrowed(&form), &[proof(&idp, &key, Some(&nonce))]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(claims(answer.json["access_token"].as_str().unwrap())["cnf"]["jkt"], key.thumbprint());
}
