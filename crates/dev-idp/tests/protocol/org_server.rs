//! The org authorization server mode (`org_authorization_server`): issuer at
//! the origin, endpoints under `/oauth2/v1/`, access tokens for the org.

use dev_idp::config::DESKTOP_CLIENT_ID;
use dev_idp::testing::Browser;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{ALICE, Idp, claims, query, start, start_with};

async fn org() -> Idp {
    start_with(|c| c.org_authorization_server = true).await
}

async fn get_json(idp: &Idp, url: &str) -> (StatusCode, Value) {
    let response = idp.http.get(url).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Signs alice in through the discovered endpoints: the token response.
async fn sign_in(idp: &Idp, discovery: &Value) -> Value {
    let request = idp.request("openid profile offline_access", &[]);
    let authorize = discovery["authorization_endpoint"].as_str().unwrap();
    let url = request.url.replacen(&idp.endpoint("authorize"), authorize, 1);
    assert!(url.starts_with(authorize), "{url}");
    let redirect = Browser::new().sign_in(&url, ALICE.0, ALICE.1).await.unwrap();
    assert_eq!(query(&redirect, "iss").as_deref(), Some(idp.issuer()), "RFC 9207 iss is the origin");
    let code = query(&redirect, "code").unwrap();
    let response = idp
        .http
        .post(discovery["token_endpoint"].as_str().unwrap())
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", DESKTOP_CLIENT_ID),
            ("code", &code),
            ("redirect_uri", &request.redirect_uri),
            ("code_verifier", &request.pkce.verifier),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_issuer_is_the_origin_with_discovery_there_and_endpoints_under_oauth2_v1() {
    let idp = org().await;
    let origin = format!("http://{}", idp.idp.addr());
    assert_eq!(idp.issuer(), origin);
    let (status, discovery) = get_json(&idp, &format!("{origin}/.well-known/openid-configuration")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(discovery["issuer"], origin);
    for (field, path) in [
        ("authorization_endpoint", "authorize"),
        ("token_endpoint", "token"),
        ("userinfo_endpoint", "userinfo"),
        ("jwks_uri", "keys"),
        ("introspection_endpoint", "introspect"),
        ("revocation_endpoint", "revoke"),
        ("end_session_endpoint", "logout"),
        ("pushed_authorization_request_endpoint", "par"),
        ("device_authorization_endpoint", "device/authorize"),
    ] {
        assert_eq!(discovery[field], format!("{origin}/oauth2/v1/{path}"), "{field}");
    }
    let (status, _) = get_json(&idp, &format!("{origin}/.well-known/oauth-authorization-server")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, jwks) = get_json(&idp, &format!("{origin}/oauth2/v1/keys")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(jwks["keys"].as_array().is_some_and(|keys| !keys.is_empty()));
    // No custom server here.
    let (status, _) = get_json(&idp, &format!("{origin}/oauth2/default/.well-known/openid-configuration")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_code_flow_gives_tokens_of_the_org_whose_audience_a_custom_servers_resource_server_refuses() {
    let idp = org().await;
    let origin = idp.issuer().to_owned();
    let (_, discovery) = get_json(&idp, &format!("{origin}/.well-known/openid-configuration")).await;
    let tokens = sign_in(&idp, &discovery).await;

    let access = tokens["access_token"].as_str().unwrap();
    let access_claims = claims(access);
    assert_eq!(access_claims["iss"], origin);
    assert_eq!(access_claims["aud"], origin, "the org is the audience");
    assert_ne!(access_claims["aud"], "api://default");
    let id = claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], origin);
    assert_eq!(id["aud"], DESKTOP_CLIENT_ID);

    // A resource server set up for the default custom server (audience
    // api://default) refuses the token; only the org's audience verifies.
    let (_, jwks) = get_json(&idp, discovery["jwks_uri"].as_str().unwrap()).await;
    let jwks: JwkSet = serde_json::from_value(jwks).unwrap();
    let kid = jsonwebtoken::decode_header(access).unwrap().kid.unwrap();
    let key = DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let validation = |audience: &str| {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&origin]);
        validation.set_audience(&[audience]);
        validation
    };
    let refused = jsonwebtoken::decode::<Value>(access, &key, &validation("api://default")).unwrap_err();
    assert_eq!(refused.kind(), &jsonwebtoken::errors::ErrorKind::InvalidAudience);
    jsonwebtoken::decode::<Value>(access, &key, &validation(&origin)).expect("the org's own audience");

    // The provider itself takes its token: userinfo, and a refresh.
    let userinfo = idp.http.get(discovery["userinfo_endpoint"].as_str().unwrap()).bearer_auth(access).send().await;
    assert_eq!(userinfo.unwrap().status(), StatusCode::OK);
    let refreshed = idp
        .http
        .post(discovery["token_endpoint"].as_str().unwrap())
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", DESKTOP_CLIENT_ID),
            ("refresh_token", tokens["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: Value = refreshed.json().await.unwrap();
    assert_eq!(claims(refreshed["access_token"].as_str().unwrap())["aud"], origin);
}

#[tokio::test]
async fn custom_scopes_are_not_served_by_the_org_server() {
    let idp = org().await;
    let origin = idp.issuer().to_owned();
    let (_, discovery) = get_json(&idp, &format!("{origin}/.well-known/openid-configuration")).await;
    let scopes: Vec<&str> =
        discovery["scopes_supported"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(scopes.contains(&"openid") && scopes.contains(&"offline_access"), "{scopes:?}");
    assert!(!scopes.iter().any(|s| s.starts_with("items:")), "{scopes:?}");
    let request = idp.request("openid items:read", &[]);
    let url =
        request.url.replacen(&idp.endpoint("authorize"), discovery["authorization_endpoint"].as_str().unwrap(), 1);
    let page = Browser::new().open(&url).await.unwrap();
    let back = crate::support::expect_error_redirect(&page, &request, "invalid_scope");
    let description = query(&back, "error_description").unwrap();
    assert!(description.contains("custom authorization server"), "{description}");
}

#[tokio::test]
async fn a_custom_server_is_the_default_with_its_own_audience() {
    let idp = start().await;
    assert!(idp.issuer().ends_with("/oauth2/default"), "{}", idp.issuer());
    let tokens = idp.sign_in(&Browser::new(), ALICE, "openid items:read").await;
    assert_eq!(claims(tokens["access_token"].as_str().unwrap())["aud"], "api://default");
}

#[tokio::test]
async fn the_test_browsers_code_flow_works_against_the_org_server_too() {
    let idp = org().await;
    let access = Browser::new().access_token(idp.issuer(), ALICE.0, ALICE.1, "openid profile").await.unwrap();
    assert_eq!(claims(&access)["aud"], idp.issuer());
}
