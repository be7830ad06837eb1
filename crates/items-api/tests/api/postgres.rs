//! Two stateless API instances behind one PostgreSQL database, as a
//! deployment that outgrows one machine runs them.

use items_api::auth::Mode;
use items_api::policy::Policy;
use items_api::store::Store;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{ALICE, BOB, start, validator};
use crate::wait::within;

/// A fresh database on the test server, or `None` when there is none (and none is required).
async fn fresh_database() -> Option<String> {
    crate::postgres_db::fresh_database("api", "api::postgres").await
}

async fn instance(issuer: &str, database: &str) -> String {
    let store = within("opening the items database", Store::connect(database)).await.unwrap();
    let app = items_api::router(items_api::AppState::new(validator(issuer, Mode::Local), store, Policy::None));
    format!("http://{}", testkit::serve(app).await)
}

#[tokio::test]
async fn two_instances_share_one_postgres_database() {
    let Some(database) = fresh_database().await else { return };
    let h = start().await;
    let (a, b) = (instance(h.idp.issuer(), &database).await, instance(h.idp.issuer(), &database).await);
    let alice = h.token(ALICE, "openid items:read items:write").await;
    let bob = h.token(BOB, "openid items:read items:write").await;
    let send = |method: Method, url: String, token: &str, body: Option<serde_json::Value>| {
        let mut request = h.http.request(method, url).bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send()
    };
    let created = send(Method::POST, format!("{a}/v1/items"), &alice, Some(json!({ "name": "Shared", "price": 2 })))
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let on_b = send(Method::GET, format!("{b}/v1/items/{id}"), &alice, None).await.unwrap();
    assert_eq!(on_b.status(), StatusCode::OK, "written on A, read on B");
    let bob_on_b = send(Method::GET, format!("{b}/v1/items/{id}"), &bob, None).await.unwrap();
    assert_eq!(bob_on_b.status(), StatusCode::NOT_FOUND, "ownership holds on every instance");
    let deleted = send(Method::DELETE, format!("{b}/v1/items/{id}"), &alice, None).await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = send(Method::GET, format!("{a}/v1/items/{id}"), &alice, None).await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND, "deleted on B, gone on A");
}
