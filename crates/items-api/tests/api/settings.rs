//! The items API started from its settings, as the binary reads them
//! (`items_api::Config` from an environment, then `build`): scope names,
//! CORS for browser front ends, and the client allow-list (issue 18, items
//! 2, 3 and 5).

use std::net::SocketAddr;

use dev_idp::config::{ClientConfig, ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET, ScopeConfig};
use dev_idp::{Config as IdpConfig, DevIdp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ALICE, start_configured};
use crate::wait::within;

/// A second service of the org, with its own client credentials.
const OTHER_SERVICE: (&str, &str) = ("0oa-other-service", "other-service-secret");

/// dev-idp with the tutorials' kind of scope names beside the demo's, and a
/// second service client.
async fn idp() -> DevIdp {
    let mut config = IdpConfig { port: 0, ..IdpConfig::default() };
    for name in ["read_things", "write_things", "admin_things"] {
        config.scopes.push(ScopeConfig { name: name.into(), description: name.into() });
    }
    let items_api = config.clients.iter_mut().find(|c| c.client_id == ITEMS_API_CLIENT_ID).unwrap();
    items_api.allowed_scopes.as_mut().unwrap().extend(["read_things".into(), "write_things".into()]);
    let mut other = items_api.clone();
    other.client_id = OTHER_SERVICE.0.into();
    other.client_secret = Some(dev_idp::config::ClientSecret::new(OTHER_SERVICE.1));
    config.clients.push(ClientConfig { name: "Other service".into(), ..other });
    within("dev-idp starting", dev_idp::spawn(config)).await.unwrap()
}

fn config_error(pairs: &[(&str, &str)]) -> String {
    let mut env: Vec<(&str, &str)> =
        vec![("OKTA_ISSUER", "https://example.okta.com/oauth2/default"), ("DATABASE_URL", "sqlite://x.db")];
    env.extend_from_slice(pairs);
    env.push(("PUBLIC_URL", "https://items.example.com"));
    let lookup = |name: &str| env.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned());
    items_api::Config::load_with(None, lookup).unwrap_err().to_string()
}

async fn machine_token(idp: &DevIdp, client: (&str, &str), scope: &str) -> String {
    let endpoint = format!("{}/v1/token", idp.issuer());
    testkit::client_credentials_token(&testkit::http(), &endpoint, client, scope).await
}

async fn call(addr: SocketAddr, method: Method, path: &str, token: &str, body: Option<Value>) -> reqwest::Response {
    let mut request = testkit::http().request(method, format!("http://{addr}{path}")).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    within("an API call", request.send()).await.unwrap()
}

fn challenge(response: &reqwest::Response) -> String {
    response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default()
}

/// An org whose scopes are named otherwise (`READ_SCOPE`, `WRITE_SCOPE`,
/// `ADMIN_SCOPE`): its tokens read and write; the default names no longer
/// do; the 403 challenge and /openapi.json name the configured scopes.
#[tokio::test]
async fn scope_names_are_settings() {
    let idp = idp().await;
    let names = [("READ_SCOPE", "read_things"), ("WRITE_SCOPE", "write_things"), ("ADMIN_SCOPE", "admin_things")];
    let (addr, _dir) = start_configured(&idp, &names).await;
    let service = (ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET);
    let reader = machine_token(&idp, service, "read_things").await;
    assert_eq!(call(addr, Method::GET, "/v1/items", &reader, None).await.status(), StatusCode::OK);
    let item = json!({ "name": "Lamp", "price": 12 });
    let refused = call(addr, Method::POST, "/v1/items", &reader, Some(item.clone())).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let said = challenge(&refused);
    assert!(said.contains("error=\"insufficient_scope\"") && said.contains("scope=\"write_things\""), "{said}");
    let writer = machine_token(&idp, service, "read_things write_things").await;
    assert_eq!(call(addr, Method::POST, "/v1/items", &writer, Some(item)).await.status(), StatusCode::CREATED);
    // The default names mean nothing here.
    let default = machine_token(&idp, service, "items:read items:write").await;
    let refused = call(addr, Method::GET, "/v1/items", &default, None).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(challenge(&refused).contains("scope=\"read_things\""), "{}", challenge(&refused));
    // The API's description names the configured scopes.
    let openapi: Value = testkit::json_of(testkit::http().get(format!("http://{addr}/openapi.json"))).await;
    assert_eq!(openapi["paths"]["/v1/items"]["get"]["security"], json!([{ "bearer": ["read_things"] }]));
    assert_eq!(openapi["paths"]["/v1/items"]["post"]["security"], json!([{ "bearer": ["write_things"] }]));
    assert_eq!(openapi["paths"]["/v1/items/{id}"]["delete"]["security"], json!([{ "bearer": ["write_things"] }]));
    assert!(!openapi.to_string().contains("items:read"), "{openapi}");

    // Names that are not scopes, or an admin scope every reader has, are refused by name.
    let error = config_error(&[("READ_SCOPE", "read things")]);
    assert!(error.starts_with("READ_SCOPE:"), "{error}");
    let error = config_error(&[("WRITE_SCOPE", "say\"hi")]);
    assert!(error.starts_with("WRITE_SCOPE:"), "{error}");
    let error = config_error(&[("READ_SCOPE", "things"), ("ADMIN_SCOPE", "things")]);
    assert!(error.starts_with("ADMIN_SCOPE:"), "{error}");
    // One scope for reading and writing (as some tutorials have) is fine.
    let (one, _dir) = start_configured(&idp, &[("READ_SCOPE", "read_things"), ("WRITE_SCOPE", "read_things")]).await;
    let token = machine_token(&idp, service, "read_things").await;
    let made = call(one, Method::POST, "/v1/items", &token, Some(json!({ "name": "Pen", "price": 1 }))).await;
    assert_eq!(made.status(), StatusCode::CREATED);
}

/// A preflight exactly as a browser sends it.
async fn preflight(addr: SocketAddr, origin: &str) -> reqwest::Response {
    let request = testkit::http()
        .request(Method::OPTIONS, format!("http://{addr}/v1/items"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type,dpop,idempotency-key");
    within("a preflight", request.send()).await.unwrap()
}

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response.headers().get(name).map(|v| v.to_str().unwrap().to_ascii_lowercase())
}

/// A browser front end (the FastAPI tutorial's React app) on an allowed
/// origin gets its preflight answered and reads the RFC 6750 challenge;
/// another origin gets no CORS headers; without `CORS_ORIGINS` there is no
/// CORS at all; `*` allows any origin, never with credentials.
#[tokio::test]
async fn browser_front_ends_on_allowed_origins_pass_the_preflight() {
    let idp = idp().await;
    let app = "http://localhost:3000";
    let (addr, _dir) =
        start_configured(&idp, &[("CORS_ORIGINS", "http://localhost:3000, https://app.example.com")]).await;
    let answer = preflight(addr, app).await;
    assert!(answer.status().is_success(), "{answer:?}");
    assert_eq!(header(&answer, "access-control-allow-origin").as_deref(), Some(app));
    let allowed_headers = header(&answer, "access-control-allow-headers").unwrap_or_default();
    for name in ["authorization", "content-type", "dpop", "idempotency-key"] {
        assert!(allowed_headers.contains(name), "{name} not allowed: {allowed_headers}");
    }
    assert!(header(&answer, "access-control-allow-methods").unwrap_or_default().contains("post"));
    assert_eq!(header(&answer, "access-control-allow-credentials"), None);

    // The page reads the challenge of a refused call.
    let request = testkit::http().get(format!("http://{addr}/v1/items")).header("origin", app);
    let refused = within("a call", request.send()).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&refused, "access-control-allow-origin").as_deref(), Some(app));
    assert!(header(&refused, "access-control-expose-headers").unwrap_or_default().contains("www-authenticate"));
    // And its items with a token.
    let token = machine_token(&idp, (ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET), "items:read").await;
    let request = testkit::http().get(format!("http://{addr}/v1/items")).header("origin", app).bearer_auth(&token);
    let listed = within("a call", request.send()).await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    assert_eq!(header(&listed, "access-control-allow-origin").as_deref(), Some(app));

    // Another origin, or the same host on another port or scheme: nothing allowed.
    for other in ["https://evil.example", "http://localhost:3001", "https://localhost:3000", "null"] {
        let answer = preflight(addr, other).await;
        assert_eq!(header(&answer, "access-control-allow-origin"), None, "{other}");
    }

    // Off by default: the preflight is not answered as one.
    let (plain, _dir) = start_configured(&idp, &[]).await;
    let answer = preflight(plain, app).await;
    assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&answer, "access-control-allow-origin"), None);

    // `*`: any origin, without credentials.
    let (any, _dir) = start_configured(&idp, &[("CORS_ORIGINS", "*")]).await;
    let answer = preflight(any, "https://anywhere.example").await;
    assert_eq!(header(&answer, "access-control-allow-origin").as_deref(), Some("*"));
    assert_eq!(header(&answer, "access-control-allow-credentials"), None);

    for bad in ["https://app.example.com/path", "*, https://a.example", "null", "app.example.com"] {
        let error = config_error(&[("CORS_ORIGINS", bad)]);
        assert!(error.starts_with("CORS_ORIGINS:"), "{bad}: {error}");
    }
}

/// `CLIENT_ID_ALLOWLIST` (okta_jwt_verifier's `client_ids`): tokens of the
/// clients named pass; another client's (a person's, through the desktop
/// app; another service's) are refused as invalid, with the reason.
#[tokio::test]
async fn only_the_allowed_clients_tokens_are_accepted() {
    let idp = idp().await;
    let (addr, _dir) =
        start_configured(&idp, &[("CLIENT_ID_ALLOWLIST", &format!("{ITEMS_API_CLIENT_ID}, 0oa-unused"))]).await;
    let ours = machine_token(&idp, (ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET), "items:read").await;
    assert_eq!(call(addr, Method::GET, "/v1/items", &ours, None).await.status(), StatusCode::OK);
    let theirs = machine_token(&idp, OTHER_SERVICE, "items:read").await;
    let browser = dev_idp::testing::Browser::new();
    let person = browser.access_token(idp.issuer(), ALICE.0, ALICE.1, "openid items:read");
    let person = within("alice's token", person).await.unwrap();
    for token in [&theirs, &person] {
        let refused = call(addr, Method::GET, "/v1/items", token, None).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
        let said = challenge(&refused);
        assert!(said.contains("invalid_token") && said.contains("client this API does not accept"), "{said}");
    }
    // Without the list, every client's token of the issuer is accepted.
    let (open, _dir) = start_configured(&idp, &[]).await;
    assert_eq!(call(open, Method::GET, "/v1/items", &theirs, None).await.status(), StatusCode::OK);
    assert_eq!(call(open, Method::GET, "/v1/items", &person, None).await.status(), StatusCode::OK);
}
