use dev_idp::config::{ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET};
use dev_idp::testing::Browser;
use reqwest::StatusCode;

use crate::support::{ALICE, DESKTOP, FULL_SCOPE, start};

#[tokio::test]
async fn introspection_answers_active_tokens_with_their_claims() {
    let idp = start().await;
    let tokens = idp.sign_in(&Browser::new(), ALICE, FULL_SCOPE).await;
    let access = tokens["access_token"].as_str().unwrap();
    let answer = idp.introspect(access).await;
    assert_eq!(answer["active"], true);
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["scope"], FULL_SCOPE);
    assert_eq!(answer["client_id"], DESKTOP);
    assert_eq!(answer["username"], "alice@example.com");
    assert_eq!(answer["aud"], "api://default");
    assert_eq!(answer["iss"], idp.issuer());
    assert!(answer["exp"].as_u64().is_some() && answer["jti"].as_str().is_some());

    // A refresh token, by its own (public) client: no aud, no iss (as Okta).
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let own = idp.post("introspect", &[("client_id", DESKTOP), ("token", refresh)], None).await;
    assert_eq!(own.json["active"], true, "{}", own.json);
    assert_eq!(own.json["token_type"], "refresh_token");
    assert!(own.json.get("aud").is_none() && own.json.get("iss").is_none());
    // ... but not by another client.
    assert_eq!(idp.introspect(refresh).await["active"], false);
}

#[tokio::test]
async fn revoked_expired_forged_and_id_tokens_are_inactive() {
    let idp = start().await;
    let tokens = idp.sign_in(&Browser::new(), ALICE, FULL_SCOPE).await;
    let access = tokens["access_token"].as_str().unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();
    assert_eq!(idp.introspect(id_token).await, serde_json::json!({ "active": false }));
    assert_eq!(idp.introspect("garbage").await, serde_json::json!({ "active": false }));
    let mut forged = access.to_owned();
    forged.pop();
    forged.push(if access.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(idp.introspect(&forged).await["active"], false);

    let other = idp.sign_in(&Browser::new(), ALICE, FULL_SCOPE).await;
    let other_access = other["access_token"].as_str().unwrap();
    let revoke = idp.post("revoke", &[("client_id", DESKTOP), ("token", other_access)], None).await;
    assert_eq!(revoke.status, StatusCode::OK);
    assert_eq!(idp.introspect(other_access).await["active"], false);

    assert_eq!(idp.introspect(access).await["active"], true);
    idp.advance(3600);
    assert_eq!(idp.introspect(access).await["active"], false, "expired");
}

#[tokio::test]
async fn introspection_and_revocation_need_client_authentication() {
    let idp = start().await;
    let no_auth = idp.post("introspect", &[("token", "x")], None).await;
    assert_eq!(no_auth.status, StatusCode::UNAUTHORIZED);
    assert_eq!(no_auth.error(), "invalid_client");
    let wrong = idp.post("introspect", &[("token", "x")], Some((ITEMS_API_CLIENT_ID, "nope"))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let missing = idp.post("introspect", &[], Some((ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET))).await;
    assert_eq!(missing.error(), "invalid_request");
    assert_eq!(idp.post("revoke", &[("token", "x")], None).await.error(), "invalid_client");
    // RFC 7009 §2.2: unknown tokens are fine.
    let unknown = idp.post("revoke", &[("client_id", DESKTOP), ("token", "never-issued")], None).await;
    assert_eq!(unknown.status, StatusCode::OK);
}

#[tokio::test]
async fn revoking_a_refresh_token_revokes_its_access_tokens_but_another_client_cannot() {
    let idp = start().await;
    let tokens = idp.sign_in(&Browser::new(), ALICE, FULL_SCOPE).await;
    let access = tokens["access_token"].as_str().unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let foreign = idp.post("revoke", &[("token", refresh)], Some((ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET))).await;
    assert_eq!(foreign.status, StatusCode::OK);
    assert_eq!(idp.refresh(refresh).await.status, StatusCode::OK, "still valid after a foreign revoke");
    let tokens = idp.sign_in(&Browser::new(), ALICE, FULL_SCOPE).await;
    let access2 = tokens["access_token"].as_str().unwrap();
    let refresh2 = tokens["refresh_token"].as_str().unwrap();
    idp.post("revoke", &[("client_id", DESKTOP), ("token", refresh2)], None).await;
    assert_eq!(idp.introspect(access2).await["active"], false);
    assert_eq!(idp.introspect(access).await["active"], true, "other sign-ins untouched");
}

#[tokio::test]
async fn userinfo_takes_the_bearer_token_in_the_header_only() {
    let idp = start().await;
    let tokens = idp.sign_in(&Browser::new(), ALICE, FULL_SCOPE).await;
    let access = tokens["access_token"].as_str().unwrap();
    let (status, _, info) = idp.userinfo(access).await;
    assert_eq!(status, StatusCode::OK);
    let id = crate::support::claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(info["sub"], id["sub"], "userinfo sub is the ID token's sub");
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["name"], "Alice Liddell");

    let response = idp.http.get(format!("{}?access_token={access}", idp.endpoint("userinfo"))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.headers()["www-authenticate"].to_str().unwrap().contains("invalid_request"));

    let response = idp.http.get(idp.endpoint("userinfo")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"dev-idp\"", "no error without credentials");

    let (status, headers, _) = idp.userinfo("not-a-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));

    let machine = idp
        .post("token", &[("grant_type", "client_credentials")], Some((ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET)))
        .await;
    let (status, headers, _) = idp.userinfo(machine.json["access_token"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(headers["www-authenticate"].to_str().unwrap().contains("insufficient_scope"));
}
