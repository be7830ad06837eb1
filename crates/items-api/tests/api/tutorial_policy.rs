//! Issue 18, item 1: a policy written the way OPA's HTTP API tutorials write
//! them (`package httpapi.authz`, `default allow := false`, rules on
//! `input.method`, `input.api` and the scopes of `io.jwt.decode(input.jwt)`)
//! runs unchanged, started with the tutorials' settings: in-process
//! (`POLICY_FILE` + `POLICY_QUERY`) and through an OPA-compatible server
//! (`OPA_AUTHZ_URL`), deciding the same way on dev-idp's real tokens, over
//! the items API's router and real HTTP.
//!
//! The OPA-compatible server is a small axum server speaking OPA's data API
//! (`POST /v1/data/<path>` with `{"input": …}`, answering `{"result": …}`
//! or `{}` when undefined) that evaluates the same Rego file with regorus
//! and its own `io.jwt.decode`, written here apart from the API's.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::routing::post;
use dev_idp::config::{ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET};
use dev_idp::testing::Browser;
use dev_idp::{Config as IdpConfig, DevIdp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{ALICE, BOB, raw_request, start_configured};
use crate::wait::within;

/// The sample in the tutorials' shape.
const TUTORIAL: &str = include_str!("../../policies/httpapi.rego");
/// Its package, as the tutorials query it.
const QUERY: &str = "data.httpapi.authz";

/// The inputs an OPA-compatible server was asked about.
type Asked = Arc<Mutex<Vec<Value>>>;

/// What the OPA-compatible server evaluates, and what it was asked.
#[derive(Clone)]
struct Opa {
    engine: regorus::Engine,
    asked: Asked,
}

/// OPA's `io.jwt.decode`, as the server's own: `[header, payload, signature hex]`.
fn opa_jwt_decode(params: Vec<regorus::Value>) -> anyhow::Result<regorus::Value> {
    use base64::Engine as _;
    let token = params[0].as_string()?.to_string();
    let parts: Vec<&str> = token.split('.').collect();
    anyhow::ensure!(parts.len() == 3, "io.jwt.decode: not a compact JWS");
    let decode = |part: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part);
    let json = |part: &str| -> anyhow::Result<regorus::Value> {
        regorus::Value::from_json_str(std::str::from_utf8(&decode(part)?)?)
    };
    let signature = decode(parts[2])?.iter().map(|b| format!("{b:02x}")).collect::<String>();
    Ok(regorus::Value::from(vec![json(parts[0])?, json(parts[1])?, regorus::Value::from(signature)]))
}

/// `POST /v1/data/{path}`: the document at `data.<path>` for the input, as OPA answers.
async fn opa_data(State(opa): State<Opa>, Path(path): Path<String>, Json(body): Json<Value>) -> Json<Value> {
    let input = body["input"].clone();
    opa.asked.lock().unwrap().push(input.clone());
    let mut engine = opa.engine.clone();
    engine.set_input(regorus::Value::from_json_str(&input.to_string()).unwrap());
    let query = format!("data.{}", path.trim_end_matches('/').replace('/', "."));
    // An error (a token that is not a JWT) or nothing defined: no result, as OPA.
    let answer = match engine.eval_query(query, false) {
        Ok(results) => match results.result.first().and_then(|r| r.expressions.first()) {
            Some(expression) => {
                json!({ "result": serde_json::from_str::<Value>(&expression.value.to_json_str().unwrap()).unwrap() })
            }
            None => json!({}),
        },
        Err(_) => json!({}),
    };
    Json(answer)
}

/// An OPA-compatible server with `rego` loaded; its address and what it is asked.
async fn opa_server(rego: &str) -> (SocketAddr, Asked) {
    let mut engine = regorus::Engine::new();
    engine.add_policy("httpapi.rego".into(), rego.into()).unwrap();
    engine.add_extension("io.jwt.decode".into(), 1, Box::new(opa_jwt_decode)).unwrap();
    let asked = Asked::default();
    let app =
        axum::Router::new().route("/v1/data/{*path}", post(opa_data)).with_state(Opa { engine, asked: asked.clone() });
    (testkit::serve(app).await, asked)
}

/// A stand-in OPA that answers `answer` to every query.
async fn opa_answering(answer: Arc<Mutex<Value>>) -> SocketAddr {
    let app = axum::Router::new().route(
        "/v1/data/{*path}",
        post(move || {
            let answer = answer.lock().unwrap().clone();
            async move { Json(answer) }
        }),
    );
    testkit::serve(app).await
}

/// A person's access token with `scope`.
async fn token(idp: &DevIdp, person: (&str, &str), scope: &str) -> String {
    within("a person's access token", Browser::new().access_token(idp.issuer(), person.0, person.1, scope))
        .await
        .expect("signs in")
}

/// The items-api service's own token (client credentials), as the
/// client-credentials tutorial's services call APIs.
async fn service_token(idp: &DevIdp, scope: &str) -> String {
    let endpoint = format!("{}/v1/token", idp.issuer());
    testkit::client_credentials_token(&testkit::http(), &endpoint, (ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET), scope)
        .await
}

/// Status and RFC 6750 `error` of a request.
async fn call(api: SocketAddr, method: Method, path: &str, token: &str) -> (StatusCode, String) {
    let mut request = testkit::http().request(method.clone(), format!("http://{api}{path}")).bearer_auth(token);
    if method == Method::POST {
        request = request.json(&json!({ "name": "Lamp", "price": 12 }));
    }
    if method == Method::PATCH {
        request = request.json(&json!({ "name": "Lamp 2" }));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["error"].as_str().unwrap_or_default().to_owned())
}

/// What the tutorial's policy decides for `tokens` (read-only, write-only,
/// both, none of the items scopes, the service's read token), each request
/// answered by the API at `api`: the status and error of each, in order.
async fn decisions(idp: &DevIdp, api: SocketAddr) -> Vec<(String, StatusCode, String)> {
    let reader = token(idp, ALICE, "openid items:read").await;
    let writer = token(idp, BOB, "openid items:write").await;
    let both = token(idp, ALICE, "openid profile items:read items:write").await;
    let neither = token(idp, ALICE, "openid profile").await;
    let service = service_token(idp, "items:read").await;
    let created = {
        let response = testkit::http()
            .post(format!("http://{api}/v1/items"))
            .bearer_auth(&both)
            .json(&json!({ "name": "Chair", "price": 30 }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED, "read and write scopes create");
        let item: Value = response.json().await.unwrap();
        item["id"].as_str().unwrap().to_owned()
    };
    let item = format!("/v1/items/{created}");
    let cases: Vec<(&str, &String, Method, String)> = vec![
        ("reader lists", &reader, Method::GET, "/v1/items".into()),
        ("reader reads the item", &reader, Method::GET, item.clone()),
        ("reader creates", &reader, Method::POST, "/v1/items".into()),
        ("reader deletes", &reader, Method::DELETE, item.clone()),
        ("writer lists", &writer, Method::GET, "/v1/items".into()),
        ("writer creates", &writer, Method::POST, "/v1/items".into()),
        ("both read /v1/me", &both, Method::GET, "/v1/me".into()),
        ("both change the item", &both, Method::PATCH, item.clone()),
        ("neither lists", &neither, Method::GET, "/v1/items".into()),
        ("the service lists", &service, Method::GET, "/v1/items".into()),
        ("the service creates", &service, Method::POST, "/v1/items".into()),
        // Decided on the decoded path (`/v1/items/café`): allowed, then not an item.
        ("reader reads an encoded path", &reader, Method::GET, "/v1/items/caf%C3%A9".into()),
        ("both delete the item", &both, Method::DELETE, item.clone()),
    ];
    let mut answers = Vec::new();
    for (what, token, method, path) in cases {
        let (status, error) = call(api, method, &path, token).await;
        answers.push((what.to_owned(), status, error));
    }
    answers
}

/// What the tutorial's policy is meant to decide, case by case.
fn expected() -> Vec<(String, StatusCode, String)> {
    let denied = (StatusCode::FORBIDDEN, "access_denied");
    [
        ("reader lists", (StatusCode::OK, "")),
        ("reader reads the item", (StatusCode::OK, "")),
        ("reader creates", denied),
        ("reader deletes", denied),
        ("writer lists", denied),
        ("writer creates", (StatusCode::CREATED, "")),
        ("both read /v1/me", denied),
        ("both change the item", (StatusCode::OK, "")),
        ("neither lists", denied),
        ("the service lists", (StatusCode::OK, "")),
        ("the service creates", denied),
        ("reader reads an encoded path", (StatusCode::NOT_FOUND, "not_found")),
        ("both delete the item", (StatusCode::NO_CONTENT, "")),
    ]
    .into_iter()
    .map(|(what, (status, error))| (what.to_owned(), status, error.to_owned()))
    .collect()
}

#[tokio::test]
async fn a_tutorial_shaped_policy_decides_the_same_in_process_and_through_opa() {
    let idp = within("dev-idp starting", dev_idp::spawn(IdpConfig { port: 0, ..IdpConfig::default() })).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("httpapi.rego");
    std::fs::write(&file, TUTORIAL).unwrap();

    // In-process: the file and the package, as POLICY_FILE and POLICY_QUERY.
    let (in_process, _db1) =
        start_configured(&idp, &[("POLICY_FILE", file.to_str().unwrap()), ("POLICY_QUERY", QUERY)]).await;
    // Through OPA, named as the tutorial names it: its address alone (the
    // package's data API URL built from POLICY_QUERY), and the tutorial's
    // URL of the allow rule itself (a boolean result).
    let (opa, asked) = opa_server(TUTORIAL).await;
    let (by_package, _db2) =
        start_configured(&idp, &[("OPA_AUTHZ_URL", &format!("http://{opa}")), ("POLICY_QUERY", QUERY)]).await;
    let rule_url = format!("http://{opa}/v1/data/httpapi/authz/allow");
    let (by_rule, _db3) = start_configured(&idp, &[("OPA_AUTHZ_URL", &rule_url)]).await;

    let expected = expected();
    assert_eq!(decisions(&idp, in_process).await, expected, "in-process");
    let before = asked.lock().unwrap().len();
    assert_eq!(decisions(&idp, by_package).await, expected, "OPA, the package's URL");
    assert_eq!(decisions(&idp, by_rule).await, expected, "OPA, the allow rule's URL");
    let asked = asked.lock().unwrap().clone();
    assert!(asked.len() > before, "OPA was asked");

    // What OPA was given: the tutorials' fields beside the API's own.
    let encoded = asked.iter().find(|input| input["api"].as_str().is_some_and(|a| a.starts_with("/v1/items/caf")));
    let encoded = encoded.expect("the encoded path was decided");
    assert_eq!(encoded["api"], "/v1/items/caf\u{e9}", "the decoded path, never the raw one");
    assert_eq!(encoded["path"], json!(["v1", "items", "caf\u{e9}"]));
    assert_eq!(encoded["method"], "GET");
    let jwt = encoded["jwt"].as_str().unwrap();
    assert_eq!(jwt.split('.').count(), 3, "the access token as presented");
    assert_eq!(encoded["scopes"], json!(["openid", "items:read"]));
}

/// Spellings of a path that are not the canonical one never reach the
/// policy (400 before it), and a policy rule about a decoded path holds for
/// its encoded spelling.
#[tokio::test]
async fn tricky_spellings_are_decided_on_the_decoded_path() {
    let idp = within("dev-idp starting", dev_idp::spawn(IdpConfig { port: 0, ..IdpConfig::default() })).await.unwrap();
    // The tutorial's rules, but one item name kept out even for readers.
    let guarded = TUTORIAL.replace(
        "allow if {\n\tinput.method == \"GET\"\n",
        "allow if {\n\tinput.method == \"GET\"\n\tinput.api != \"/v1/items/caf\u{e9}\"\n",
    );
    assert_ne!(guarded, TUTORIAL, "the rule was added");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("guarded.rego");
    std::fs::write(&file, &guarded).unwrap();
    let (opa, asked) = opa_server(&guarded).await;
    let (in_process, _db1) =
        start_configured(&idp, &[("POLICY_FILE", file.to_str().unwrap()), ("POLICY_QUERY", QUERY)]).await;
    let (through_opa, _db2) =
        start_configured(&idp, &[("OPA_AUTHZ_URL", &format!("http://{opa}")), ("POLICY_QUERY", QUERY)]).await;
    let reader = token(&idp, ALICE, "openid items:read").await;
    for api in [in_process, through_opa] {
        let get = |path: &'static str| {
            let reader = reader.clone();
            async move {
                let head = format!("GET {path} HTTP/1.1\r\nHost: {api}\r\nAuthorization: Bearer {reader}\r\n");
                raw_request(api, &head, "").await
            }
        };
        // Encoded as it must be: the decoded path is the guarded one.
        assert_eq!(get("/v1/items/caf%C3%A9").await.status, 403);
        assert_eq!(get("/v1/items/caf%c3%a9").await.status, 403);
        assert_eq!(get("/v1/items/cafe").await.status, 404, "another item: allowed, not found");
        // Other spellings of the items path: refused before the policy.
        let asked_before = asked.lock().unwrap().len();
        for path in
            ["/v1/%69tems", "/v1%2Fitems", "/v1/items%2Fcaf%C3%A9", "/v1/items/caf%C3%A9%", "/v1/items/%63af%C3%A9"]
        {
            let answer = get(path).await;
            assert_eq!(answer.status, 400, "{path}: {}", answer.body);
            assert!(answer.body.contains("invalid_request"), "{path}: {}", answer.body);
        }
        assert_eq!(asked.lock().unwrap().len(), asked_before, "OPA never asked about them");
    }
}

/// The OPA tutorial's answer (`result` a boolean, asking for the allow rule)
/// and the items API's (`result` an object with `allow`) both allow; any
/// other `result` denies.
#[tokio::test]
async fn opa_results_in_either_shape_are_understood_and_others_deny() {
    let idp = within("dev-idp starting", dev_idp::spawn(IdpConfig { port: 0, ..IdpConfig::default() })).await.unwrap();
    let answer = Arc::new(Mutex::new(json!({})));
    let opa = opa_answering(answer.clone()).await;
    let (api, _db) =
        start_configured(&idp, &[("OPA_AUTHZ_URL", &format!("http://{opa}/v1/data/httpapi/authz/allow"))]).await;
    let reader = token(&idp, ALICE, "openid items:read").await;
    for (result, status) in [
        (json!({ "result": true }), StatusCode::OK),
        (json!({ "result": { "allow": true } }), StatusCode::OK),
        (json!({ "result": false }), StatusCode::FORBIDDEN),
        (json!({ "result": { "allow": false } }), StatusCode::FORBIDDEN),
        (json!({ "result": "yes" }), StatusCode::FORBIDDEN),
        (json!({ "result": "true" }), StatusCode::FORBIDDEN),
        (json!({ "result": { "allow": "yes" } }), StatusCode::FORBIDDEN),
        (json!({ "result": 1 }), StatusCode::FORBIDDEN),
        (json!({}), StatusCode::FORBIDDEN),
    ] {
        *answer.lock().unwrap() = result.clone();
        assert_eq!(call(api, Method::GET, "/v1/items", &reader).await.0, status, "{result}");
    }
}
