use reqwest::StatusCode;
use serde_json::Value;

use crate::support::start;

#[tokio::test]
async fn discovery_describes_an_okta_style_custom_authorization_server() {
    let idp = start().await;
    let issuer = idp.issuer().to_owned();
    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");
    assert!(issuer.ends_with("/oauth2/default"), "{issuer}");
    let response = idp.http.get(format!("{issuer}/.well-known/openid-configuration")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["issuer"], issuer.as_str());
    for (field, path) in [
        ("authorization_endpoint", "authorize"),
        ("token_endpoint", "token"),
        ("jwks_uri", "keys"),
        ("userinfo_endpoint", "userinfo"),
        ("introspection_endpoint", "introspect"),
        ("revocation_endpoint", "revoke"),
        ("end_session_endpoint", "logout"),
        ("device_authorization_endpoint", "device/authorize"),
    ] {
        assert_eq!(doc[field], format!("{issuer}/v1/{path}").as_str(), "{field}");
    }
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(doc["id_token_signing_alg_values_supported"], serde_json::json!(["RS256"]));
    let scopes: Vec<&str> = doc["scopes_supported"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    for scope in ["openid", "profile", "email", "offline_access", "items:read", "items:write"] {
        assert!(scopes.contains(&scope), "{scope} in {scopes:?}");
    }
}

#[tokio::test]
async fn unknown_authorization_servers_and_paths_are_not_found() {
    let idp = start().await;
    let origin = idp.issuer().trim_end_matches("/oauth2/default").to_owned();
    let response =
        idp.http.get(format!("{origin}/oauth2/other/.well-known/openid-configuration")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_jwks_is_cacheable_and_holds_rs256_signing_keys_only() {
    let idp = start().await;
    let response = idp.http.get(idp.endpoint("keys")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cache = response.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(cache.contains("max-age=3600"), "{cache}");
    let jwks: Value = response.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = &keys[0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["kid"], idp.idp.provider().active_kid().as_str());
    assert!(key.get("d").is_none() && key.get("p").is_none(), "no private parts: {key}");
}

#[tokio::test]
async fn a_provider_without_the_device_grant_does_not_advertise_it() {
    let idp = crate::support::start_with(|c| c.device.advertised = false).await;
    let issuer = idp.issuer().to_owned();
    let doc: Value =
        idp.http.get(format!("{issuer}/.well-known/openid-configuration")).send().await.unwrap().json().await.unwrap();
    assert!(doc.get("device_authorization_endpoint").is_none(), "{doc}");
    let grants = doc["grant_types_supported"].as_array().unwrap();
    assert!(!grants.iter().any(|g| g == "urn:ietf:params:oauth:grant-type:device_code"), "{grants:?}");
    assert!(doc.get("token_endpoint").is_some(), "the rest as before");
}
