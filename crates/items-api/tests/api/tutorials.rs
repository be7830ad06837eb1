//! The tutorials' own settings, end to end (issue 18, "done when"): the
//! items API started from each tutorial's variable names, called by a
//! client of that tutorial's kind. The OPA tutorial's policy is in
//! `tutorial_policy.rs`; `okta_jwt_verifier`'s client list and the React
//! front end's CORS in `settings.rs`.

use dev_idp::config::{ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET};
use dev_idp::{Config as IdpConfig, DevIdp};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{ALICE, start_configured};
use crate::wait::within;

async fn idp() -> DevIdp {
    within("dev-idp starting", dev_idp::spawn(IdpConfig { port: 0, ..IdpConfig::default() })).await.unwrap()
}

async fn call(addr: std::net::SocketAddr, token: &str, body: Option<Value>) -> (StatusCode, Value) {
    let http = testkit::http();
    let request = match body {
        Some(body) => http.post(format!("http://{addr}/v1/items")).json(&body),
        None => http.get(format!("http://{addr}/v1/items")),
    };
    let response = within("an API call", request.bearer_auth(token).send()).await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The Litestar service tutorial: the API introspects each token with its
/// own client id and secret (`OKTA_CLIENT_ID`, `OKTA_CLIENT_SECRET`; its
/// `OKTA_INTROSPECTION` URL set but not needed: discovery names the
/// endpoint), and another service calls it with a client-credentials token.
#[tokio::test]
async fn the_client_credentials_and_introspection_tutorial() {
    let idp = idp().await;
    let introspect = format!("{}/v1/introspect", idp.issuer());
    let (api, _dir) = start_configured(
        &idp,
        &[
            ("TOKEN_VALIDATION", "introspection"),
            ("OKTA_CLIENT_ID", ITEMS_API_CLIENT_ID),
            ("OKTA_CLIENT_SECRET", ITEMS_API_DEMO_SECRET),
            ("OKTA_INTROSPECTION", &introspect),
        ],
    )
    .await;
    let endpoint = format!("{}/v1/token", idp.issuer());
    let client = (ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET);
    let token = testkit::client_credentials_token(&testkit::http(), &endpoint, client, "items:read items:write").await;
    let (status, made) = call(api, &token, Some(json!({ "name": "From a service", "price": 5 }))).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let (status, listed) = call(api, &token, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["items"][0]["name"], "From a service");
    // A made-up token is refused by the issuer's answer, not accepted.
    let (status, _) = call(api, "not-a-real-token", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// The Flask tutorial: `OKTA_ISSUER` and `OKTA_AUDIENCE`, tokens checked
/// against the issuer's keys, a person's token from the code flow; a token
/// for another audience is refused.
#[tokio::test]
async fn the_jwks_tutorial() {
    let idp = idp().await;
    let (api, _dir) = start_configured(&idp, &[("OKTA_AUDIENCE", "api://default")]).await;
    let browser = dev_idp::testing::Browser::new();
    let token = within("alice's token", browser.access_token(idp.issuer(), ALICE.0, ALICE.1, "openid items:read"))
        .await
        .unwrap();
    let (status, listed) = call(api, &token, None).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let (elsewhere, _dir) = start_configured(&idp, &[("OKTA_AUDIENCE", "api://another")]).await;
    let (status, _) = call(elsewhere, &token, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
