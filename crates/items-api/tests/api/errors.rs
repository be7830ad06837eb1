//! RFC 6750 errors: status, `WWW-Authenticate`, and never a 500 for a bad token.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{ALICE, Harness, start};

#[tokio::test]
async fn no_credentials_is_401_with_a_bare_challenge() {
    let h = start().await;
    for path in ["/v1/items", "/v1/me", "/v1/items/0192f0c1-7a2b-7cde-8f01-23456789abcd"] {
        let answer = h.send(reqwest::Method::GET, path, None, None).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(answer.challenge(), "Bearer realm=\"items\"", "no error code without credentials");
    }
    // Another scheme is no credentials either.
    let response = h.http.get(h.url("/v1/items")).basic_auth("alice", Some("pw")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()["www-authenticate"], "Bearer realm=\"items\"");
}

#[tokio::test]
async fn malformed_requests_are_400_invalid_request() {
    let h = start().await;
    let token = h.token(ALICE, "openid items:read").await;
    let in_query = h.http.get(format!("{}?access_token={token}", h.url("/v1/items"))).send().await.unwrap();
    assert_eq!(in_query.status(), StatusCode::BAD_REQUEST);
    assert!(in_query.headers()["www-authenticate"].to_str().unwrap().contains("error=\"invalid_request\""));
    let twice = h
        .http
        .get(h.url("/v1/items"))
        .header("authorization", format!("Bearer {token}"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), StatusCode::BAD_REQUEST);
    for header in ["Bearer", "Bearer ", "Bearer a b", "Bearer <script>"] {
        let response = h.http.get(h.url("/v1/items")).header("authorization", header).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{header:?}");
    }
}

#[tokio::test]
async fn bad_tokens_are_401_invalid_token_never_500() {
    let h = start().await;
    let long = "a".repeat(9000);
    let tokens = [
        "garbage",
        "a.b.c",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0",
        "....",
        long.as_str(),
    ];
    for token in tokens {
        let answer = h.get("/v1/items", token).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", &token[..token.len().min(40)]);
        assert!(answer.challenge().contains("error=\"invalid_token\""), "{}", answer.challenge());
        assert!(answer.challenge().contains("error_description="));
    }
}

#[tokio::test]
async fn a_missing_scope_is_403_insufficient_scope_naming_it() {
    let h = start().await;
    let reader = h.token(ALICE, "openid items:read").await;
    let answer = h.post("/v1/items", &reader, json!({ "name": "Lamp", "price": 10 })).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(answer.challenge(), "Bearer realm=\"items\", error=\"insufficient_scope\", scope=\"items:write\"");
    let writer = h.token(ALICE, "openid items:write").await;
    let answer = h.get("/v1/items", &writer).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.challenge().contains("scope=\"items:read\""));
}

/// Issue 24, item 1: changing and deleting need `items:write` as creating
/// does. A token without it (read only, with or without other scopes) gets
/// `403 insufficient_scope` naming it, before the body is looked at, and the
/// item is neither changed nor deleted.
#[tokio::test]
async fn patch_and_delete_without_items_write_are_403_insufficient_scope_and_change_nothing() {
    use reqwest::Method;
    let h = start().await;
    let writer = h.token(ALICE, "openid items:read items:write").await;
    let created = h.post("/v1/items", &writer, json!({ "name": "Lamp", "price": 10, "tags": ["home"] })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let path = format!("/v1/items/{}", created.json["id"].as_str().unwrap());
    let challenge = "Bearer realm=\"items\", error=\"insufficient_scope\", scope=\"items:write\"";
    for scope in ["openid items:read", "items:read profile email"] {
        let token = h.token(ALICE, scope).await;
        for body in [json!({ "name": "Stolen", "price": 0 }), json!({ "price": "not a number" }), json!({})] {
            let answer = h.send(Method::PATCH, &path, Some(&token), Some(body.clone())).await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "PATCH {body} with {scope}: {}", answer.json);
            assert_eq!(answer.json["error"], "insufficient_scope", "{}", answer.json);
            assert_eq!(answer.challenge(), challenge);
        }
        let answer = h.send(Method::DELETE, &path, Some(&token), None).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "DELETE with {scope}: {}", answer.json);
        assert_eq!(answer.json["error"], "insufficient_scope", "{}", answer.json);
        assert_eq!(answer.challenge(), challenge);
    }
    // Still there, unchanged.
    let item = h.get(&path, &writer).await;
    assert_eq!(item.status, StatusCode::OK, "{}", item.json);
    assert_eq!(item.json, created.json, "the item is unchanged");
    // And the writer can do both.
    let changed = h.send(Method::PATCH, &path, Some(&writer), Some(json!({ "name": "Desk lamp" }))).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.json);
    assert_eq!(h.send(Method::DELETE, &path, Some(&writer), None).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn health_readiness_and_the_openapi_document() {
    let h = start().await;
    let health = h.send(reqwest::Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    let ready = h.send(reqwest::Method::GET, "/readyz", None, None).await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.json);
    assert_eq!(ready.json["issuer"], "ok");
    let doc = h.send(reqwest::Method::GET, "/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    for path in ["/v1/items", "/v1/items/{id}", "/v1/me", "/healthz", "/readyz"] {
        assert!(doc.json["paths"].get(path).is_some(), "{path} documented");
    }
    assert_eq!(doc.json["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

#[tokio::test]
async fn readiness_fails_when_the_issuer_is_unreachable() {
    let h = start().await;
    let token = h.token(ALICE, "openid items:read").await;
    let Harness { idp, api, http, dir } = h;
    idp.shutdown().await;
    let ready = http.get(format!("http://{api}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    // The keys may still be cached from nothing: this API never fetched them,
    // so the token cannot be checked — denied, with 503, not 401 or 500.
    let answer = http.get(format!("http://{api}/v1/items")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    drop(dir);
}
