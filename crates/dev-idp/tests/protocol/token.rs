use dev_idp::config::{ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET};
use dev_idp::testing::Browser;
use reqwest::StatusCode;

use crate::support::{ALICE, DESKTOP, FULL_SCOPE, LOOPBACK, claims, header, query, start};

#[tokio::test]
async fn the_code_exchange_issues_okta_shaped_tokens() {
    let idp = start().await;
    let browser = Browser::new();
    let request = idp.request(FULL_SCOPE, &[]);
    let redirect = browser.sign_in(&request.url, ALICE.0, ALICE.1).await.unwrap();
    let answer = idp.exchange(&request, &redirect).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    assert_eq!(answer.headers["cache-control"], "no-store");
    assert_eq!(answer.headers["pragma"], "no-cache");
    let tokens = answer.json;
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], FULL_SCOPE);
    assert!(tokens["refresh_token"].as_str().is_some_and(|t| t.len() >= 43));

    let access = tokens["access_token"].as_str().unwrap();
    let kid = idp.idp.provider().active_kid();
    assert_eq!(header(access), serde_json::json!({ "alg": "RS256", "kid": kid }));
    let at = claims(access);
    assert_eq!(at["ver"], 1);
    assert!(at["jti"].as_str().unwrap().starts_with("AT."));
    assert_eq!(at["iss"], idp.issuer());
    assert_eq!(at["aud"], "api://default");
    assert_eq!(at["cid"], DESKTOP);
    assert_eq!(at["uid"], "00u1alice0000000001");
    assert_eq!(at["sub"], "alice@example.com");
    assert_eq!(at["scp"], serde_json::json!(["openid", "profile", "email", "offline_access", "items:read"]));
    assert_eq!(at["exp"].as_u64().unwrap() - at["iat"].as_u64().unwrap(), 3600);

    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], idp.issuer());
    assert_eq!(id["aud"], DESKTOP);
    assert_eq!(id["sub"], "00u1alice0000000001");
    assert_eq!(id["nonce"], request.nonce.as_str());
    assert_eq!(id["name"], "Alice Liddell");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["preferred_username"], "alice@example.com");
    assert!(id["auth_time"].as_u64().unwrap() <= id["iat"].as_u64().unwrap());
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(access.as_bytes());
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
    assert_eq!(id["at_hash"], expected.as_str());
}

#[tokio::test]
async fn no_offline_access_no_refresh_token_and_no_openid_no_id_token() {
    let idp = start().await;
    let browser = Browser::new();
    let tokens = idp.sign_in(&browser, ALICE, "openid items:read").await;
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    assert!(tokens.get("id_token").is_some());
    let tokens = idp.sign_in(&browser, ALICE, "items:read").await;
    assert!(tokens.get("id_token").is_none(), "{tokens}");
    assert!(tokens.get("access_token").is_some());
}

#[tokio::test]
async fn pkce_failures_are_refused_and_spend_the_code() {
    let idp = start().await;
    let browser = Browser::new();
    let request = idp.request("openid", &[]);
    let redirect = browser.sign_in(&request.url, ALICE.0, ALICE.1).await.unwrap();
    let code = query(&redirect, "code").unwrap();
    let exchange = |verifier: Option<String>| {
        let code = code.clone();
        let idp = &idp;
        async move {
            let mut form = vec![
                ("grant_type", "authorization_code".to_owned()),
                ("client_id", DESKTOP.to_owned()),
                ("code", code),
                ("redirect_uri", LOOPBACK.to_owned()),
            ];
            if let Some(v) = verifier {
                form.push(("code_verifier", v));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(n, v)| (*n, v.as_str())).collect();
            idp.post("token", &form, None).await
        }
    };
    // Malformed or missing verifiers are bad requests that leave the code alone.
    assert_eq!(exchange(None).await.error(), "invalid_request");
    assert_eq!(exchange(Some("short".to_owned())).await.error(), "invalid_request");
    assert_eq!(exchange(Some(format!("{}!", "a".repeat(50)))).await.error(), "invalid_request");
    // A well-formed wrong verifier fails PKCE and spends the code.
    let wrong = exchange(Some("a".repeat(43))).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    assert_eq!(wrong.error(), "invalid_grant");
    assert_eq!(exchange(Some(request.pkce.verifier.clone())).await.error(), "invalid_grant");
}

#[tokio::test]
async fn a_reused_code_is_refused_and_revokes_what_it_issued() {
    let idp = start().await;
    let browser = Browser::new();
    let request = idp.request(FULL_SCOPE, &[]);
    let redirect = browser.sign_in(&request.url, ALICE.0, ALICE.1).await.unwrap();
    let first = idp.exchange(&request, &redirect).await;
    assert_eq!(first.status, StatusCode::OK);
    let access = first.json["access_token"].as_str().unwrap();
    let refresh = first.json["refresh_token"].as_str().unwrap();
    assert_eq!(idp.introspect(access).await["active"], true);

    let second = idp.exchange(&request, &redirect).await;
    assert_eq!(second.error(), "invalid_grant");
    assert_eq!(idp.introspect(access).await["active"], false, "access token revoked");
    assert_eq!(idp.refresh(refresh).await.error(), "invalid_grant", "refresh token revoked");
    let (status, _, _) = idp.userinfo(access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn codes_expire_after_300_seconds() {
    let idp = start().await;
    let browser = Browser::new();
    let request = idp.request("openid", &[]);
    let redirect = browser.sign_in(&request.url, ALICE.0, ALICE.1).await.unwrap();
    idp.advance(299);
    let request2 = idp.request("openid", &[]);
    let redirect2 = browser.sign_in(&request2.url, ALICE.0, ALICE.1).await.unwrap();
    assert_eq!(idp.exchange(&request, &redirect).await.status, StatusCode::OK, "alive at 299 s");
    idp.advance(301);
    assert_eq!(idp.exchange(&request2, &redirect2).await.error(), "invalid_grant", "dead at 301 s");
}

#[tokio::test]
async fn the_redirect_uri_and_client_must_match_the_authorization_request() {
    let idp = start().await;
    let browser = Browser::new();
    let mut request = idp.request("openid", &[]);
    let redirect = browser.sign_in(&request.url, ALICE.0, ALICE.1).await.unwrap();
    request.redirect_uri = "http://127.0.0.1:9999/callback".to_owned();
    assert_eq!(idp.exchange(&request, &redirect).await.error(), "invalid_grant");

    let request = idp.request("openid", &[]);
    let redirect = browser.sign_in(&request.url, ALICE.0, ALICE.1).await.unwrap();
    let code = query(&redirect, "code").unwrap();
    let answer = idp
        .post(
            "token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", LOOPBACK),
                ("code_verifier", &request.pkce.verifier),
            ],
            Some((ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET)),
        )
        .await;
    assert_eq!(answer.error(), "unauthorized_client", "items-api may not use the code grant");
    assert_eq!(idp.exchange(&request, &redirect).await.status, StatusCode::OK, "the code survived");
}

#[tokio::test]
async fn malformed_token_requests_get_the_rfc_error_codes() {
    let idp = start().await;
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("client_id", DESKTOP)], "invalid_request"),
        (vec![("client_id", DESKTOP), ("grant_type", "password")], "unsupported_grant_type"),
        (vec![("client_id", DESKTOP), ("grant_type", "client_credentials")], "unauthorized_client"),
        (vec![("client_id", DESKTOP), ("grant_type", "authorization_code")], "invalid_request"),
        (
            vec![
                ("client_id", DESKTOP),
                ("grant_type", "authorization_code"),
                ("code", "x"),
                ("redirect_uri", LOOPBACK),
            ],
            "invalid_grant",
        ),
        (vec![("client_id", DESKTOP), ("grant_type", "refresh_token")], "invalid_request"),
        (vec![("client_id", DESKTOP), ("grant_type", "refresh_token"), ("refresh_token", "nope")], "invalid_grant"),
        (vec![("grant_type", "authorization_code")], "invalid_client"),
        (vec![("client_id", "nobody"), ("grant_type", "authorization_code")], "invalid_client"),
        (vec![("client_id", DESKTOP), ("client_secret", "x"), ("grant_type", "authorization_code")], "invalid_client"),
        (
            vec![("client_id", DESKTOP), ("grant_type", "refresh_token"), ("grant_type", "refresh_token")],
            "invalid_request",
        ),
    ];
    for (form, error) in cases {
        let answer = idp.post("token", &form, None).await;
        assert_eq!(answer.error(), error, "{form:?}: {}", answer.json);
        assert!(answer.json["error_description"].as_str().is_some_and(|d| !d.is_empty()));
        assert_eq!(answer.headers["cache-control"], "no-store");
    }
    // Not a form at all.
    let response =
        idp.http.post(idp.endpoint("token")).json(&serde_json::json!({"grant_type": "x"})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // Too large to parse.
    let huge = format!("client_id={DESKTOP}&grant_type=refresh_token&refresh_token={}", "a".repeat(100_000));
    let response = idp
        .http
        .post(idp.endpoint("token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn confidential_clients_authenticate_with_basic_or_post_and_get_client_credentials() {
    let idp = start().await;
    let basic = idp
        .post(
            "token",
            &[("grant_type", "client_credentials"), ("scope", "items:read")],
            Some((ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET)),
        )
        .await;
    assert_eq!(basic.status, StatusCode::OK, "{}", basic.json);
    let at = claims(basic.json["access_token"].as_str().unwrap());
    assert_eq!(at["sub"], ITEMS_API_CLIENT_ID);
    assert_eq!(at["cid"], ITEMS_API_CLIENT_ID);
    assert!(at.get("uid").is_none());
    assert_eq!(at["scp"], serde_json::json!(["items:read"]));
    assert!(basic.json.get("refresh_token").is_none() && basic.json.get("id_token").is_none());

    let post = idp
        .post(
            "token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", ITEMS_API_CLIENT_ID),
                ("client_secret", ITEMS_API_DEMO_SECRET),
            ],
            None,
        )
        .await;
    assert_eq!(post.status, StatusCode::OK);
    assert_eq!(post.json["scope"], "items:read items:write items:admin");

    let wrong = idp.post("token", &[("grant_type", "client_credentials")], Some((ITEMS_API_CLIENT_ID, "wrong"))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.error(), "invalid_client");
    assert!(wrong.headers["www-authenticate"].to_str().unwrap().starts_with("Basic"));

    let both = idp
        .post(
            "token",
            &[("grant_type", "client_credentials"), ("client_secret", ITEMS_API_DEMO_SECRET)],
            Some((ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET)),
        )
        .await;
    assert_eq!(both.error(), "invalid_request");

    let openid = idp
        .post(
            "token",
            &[("grant_type", "client_credentials"), ("scope", "openid")],
            Some((ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET)),
        )
        .await;
    assert_eq!(openid.error(), "invalid_scope");
}

/// A confidential web client registered for the code flow (PKCE optional
/// for it, as at Okta) at `WEB_CALLBACK`.
const WEB_CALLBACK: &str = "http://127.0.0.1/web-callback";

/// RFC 9700 §2.1.1, RFC 7636 §4.6: a code issued without a
/// `code_challenge` is never exchanged with a `code_verifier` (a PKCE
/// downgrade: an attacker strips the challenge from the request and sends
/// any verifier); the same code flow without one works.
#[tokio::test]
async fn a_code_issued_without_a_challenge_is_refused_with_a_verifier() {
    let idp = crate::support::start_with(|config| {
        let web = config.clients.iter_mut().find(|c| c.client_id == ITEMS_API_CLIENT_ID).expect("the items-api client");
        web.redirect_uris = vec![WEB_CALLBACK.to_owned()];
        web.grant_types.push(dev_idp::config::grant::AUTHORIZATION_CODE.to_owned());
    })
    .await;
    let browser = Browser::new();
    let code_without_challenge = async || {
        let request = idp.request(
            "items:read",
            &[
                ("client_id", ITEMS_API_CLIENT_ID),
                ("redirect_uri", WEB_CALLBACK),
                ("code_challenge", ""),
                ("code_challenge_method", ""),
            ],
        );
        assert!(!request.url.contains("code_challenge"), "{}", request.url);
        let redirect = browser.sign_in(&request.url, ALICE.0, ALICE.1).await.unwrap();
        query(&redirect, "code").expect("a code")
    };
    let exchange = async |code: &str, verifier: Option<&str>| {
        let mut params = vec![("grant_type", "authorization_code"), ("code", code), ("redirect_uri", WEB_CALLBACK)];
        params.extend(verifier.map(|v| ("code_verifier", v)));
        idp.post("token", &params, Some((ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET))).await
    };
    let verifier = crate::support::pkce().verifier;
    let downgraded = exchange(&code_without_challenge().await, Some(&verifier)).await;
    assert_eq!(downgraded.status, StatusCode::BAD_REQUEST, "{}", downgraded.json);
    assert_eq!(downgraded.error(), "invalid_grant");
    let plain = exchange(&code_without_challenge().await, None).await;
    assert_eq!(plain.status, StatusCode::OK, "{}", plain.json);
}

/// A client acting for itself gets only scopes the provider knows and the
/// client is allowed: a known scope outside its allowance is `invalid_scope`.
#[tokio::test]
async fn client_credentials_grant_only_the_scopes_the_client_is_allowed() {
    let idp = crate::support::start_with(|config| {
        let api = config.clients.iter_mut().find(|c| c.client_id == ITEMS_API_CLIENT_ID).expect("the items-api client");
        api.allowed_scopes = Some(vec!["items:read".to_owned()]);
    })
    .await;
    let ask = async |scope: &str| {
        idp.post(
            "token",
            &[("grant_type", "client_credentials"), ("scope", scope)],
            Some((ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET)),
        )
        .await
    };
    assert_eq!(ask("items:read").await.status, StatusCode::OK);
    for scope in ["items:admin", "items:read items:write", "no-such-scope"] {
        let answer = ask(scope).await;
        assert_eq!(answer.error(), "invalid_scope", "{scope}: {}", answer.json);
    }
}
