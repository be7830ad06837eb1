//! Policy decisions over HTTP: the sample Rego policy in-process, and an OPA
//! server by URL (a small stand-in speaking OPA's data API).

use axum::Json;
use axum::routing::post;
use items_api::policy::Policy;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{ALICE, Options, start_with};

const SAMPLE: &str = include_str!("../../policies/items.rego");

#[tokio::test]
async fn the_sample_policy_allows_me_only_with_profile() {
    let policy = Policy::rego("items.rego", SAMPLE).unwrap();
    let h = start_with(Options { policy, ..Options::default() }).await;
    let with_profile = h.token(ALICE, "openid profile items:read").await;
    let without = h.token(ALICE, "openid items:read").await;
    assert_eq!(h.get("/v1/me", &with_profile).await.status, StatusCode::OK);
    let denied = h.get("/v1/me", &without).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(denied.json["error"], "access_denied");
    assert_eq!(h.get("/v1/items", &without).await.status, StatusCode::OK, "items:read suffices for items");
}

#[tokio::test]
async fn an_opa_server_decides_with_the_same_input_and_errors_deny() {
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let recorder = seen.clone();
    let opa = axum::Router::new().route(
        "/v1/data/items",
        post(move |Json(body): Json<Value>| {
            let recorder = recorder.clone();
            async move {
                let input = body["input"].clone();
                recorder.lock().unwrap().push(input.clone());
                let allow = input["method"] == "GET" && input["path"] == json!(["v1", "items"]);
                Json(json!({ "result": { "allow": allow } }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, opa).await });
    let url = url::Url::parse(&format!("http://{addr}/v1/data/items")).unwrap();
    let h =
        start_with(Options { policy: Policy::opa(url, Duration::from_secs(2)).unwrap(), ..Options::default() }).await;
    let alice = h.token(ALICE, "openid items:read items:write").await;
    assert_eq!(h.get("/v1/items", &alice).await.status, StatusCode::OK);
    assert_eq!(h.get("/v1/me", &alice).await.status, StatusCode::FORBIDDEN);
    let input = seen.lock().unwrap()[0].clone();
    assert_eq!(input["subject"], "alice@example.com");
    assert_eq!(input["claims"]["cid"], "tessera-desktop");
    assert!(input["scopes"].as_array().unwrap().contains(&json!("items:read")));
    assert!(input.get("token").is_none() && !input.to_string().contains(&alice), "the token itself never leaves");
}
