//! Introspection mode end to end, and key rotation while the API runs.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::{ALICE, ALICE_ID, Options, introspection, start, start_with};

#[tokio::test]
async fn introspection_mode_serves_the_same_api() {
    let h = start_with(Options { mode: introspection(), ..Options::default() }).await;
    let alice = h.token(ALICE, "openid items:read items:write").await;
    let created = h.post("/v1/items", &alice, json!({ "name": "Via introspection", "price": 3 })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.json);
    let list = h.get("/v1/items", &alice).await;
    assert_eq!(list.json["items"][0]["owner"], ALICE_ID);
    let answer = h.get("/v1/items", "not-a-token").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.challenge().contains("invalid_token"));
}

#[tokio::test]
async fn local_mode_follows_key_rotation_at_the_issuer() {
    let h = start().await;
    let before = h.token(ALICE, "openid items:read").await;
    assert_eq!(h.get("/v1/items", &before).await.status, StatusCode::OK);
    h.idp.provider().rotate_keys().unwrap();
    let after = h.token(ALICE, "openid items:read").await;
    assert_eq!(h.get("/v1/items", &after).await.status, StatusCode::OK, "new kid fetched");
    assert_eq!(h.get("/v1/items", &before).await.status, StatusCode::OK, "old key still published");
}
