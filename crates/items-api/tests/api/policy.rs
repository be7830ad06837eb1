//! Policy decisions over HTTP: the sample Rego policy in-process, and an OPA
//! server by URL (a small stand-in speaking OPA's data API).

use axum::Json;
use axum::routing::post;
use items_api::policy::Policy;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::{ALICE, ALICE_ID, Options, start_with};

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
    let h = start_with(Options {
        policy: Policy::opa(url, Duration::from_secs(2), &net::NetSettings::default()).unwrap(),
        ..Options::default()
    })
    .await;
    let alice = h.token(ALICE, "openid items:read items:write").await;
    assert_eq!(h.get("/v1/items", &alice).await.status, StatusCode::OK);
    assert_eq!(h.get("/v1/me", &alice).await.status, StatusCode::FORBIDDEN);
    let input = seen.lock().unwrap()[0].clone();
    assert_eq!(input["subject"], "alice@example.com");
    // The immutable user id items are owned by (issue 14, item 8).
    assert_eq!(input["owner"], ALICE_ID);
    assert_eq!(input["claims"]["cid"], "tessera-desktop");
    assert!(input["scopes"].as_array().unwrap().contains(&json!("items:read")));
    // The token goes to the policy once valid, as `jwt` only (issue 18, item
    // 1: the OPA tutorials' policies decode it), the decoded path as `api`.
    assert_eq!(input["jwt"], alice.as_str());
    assert_eq!(input["api"], "/v1/items");
    let mut without_jwt = input.clone();
    without_jwt.as_object_mut().unwrap().remove("jwt");
    assert!(!without_jwt.to_string().contains(&alice), "the token is nowhere else in the input");
    // A token that fails validation (its signature, here) never reaches OPA.
    let asked = seen.lock().unwrap().len();
    let (signed, signature) = alice.rsplit_once('.').unwrap();
    let forged = format!("{signed}.{}", signature.chars().rev().collect::<String>());
    assert_eq!(h.get("/v1/items", &forged).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.get("/v1/items", "opaque-and-unknown").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(seen.lock().unwrap().len(), asked, "OPA was not asked about refused tokens");
}

/// Issue 14, item 5: a policy that denies one item id cannot be stepped
/// around with another spelling of the path. The id is percent-encoded in
/// part or whole, the `/` before it encoded, in upper and lower case: each
/// is `400 invalid_request` before the policy (or, for spellings the
/// handlers would not take as the item either, not found), and the item is
/// untouched. The policy sees the decoded path the handlers use.
#[tokio::test]
async fn a_policy_denying_an_item_cannot_be_stepped_around_by_spelling_its_path_otherwise() {
    use crate::support::raw_request;
    use items_api::auth::{Mode, TokenValidator, ValidatorConfig};
    use items_api::store::Store;

    // Items made through an API without a policy…
    let h = crate::support::start().await;
    let alice = h.token(ALICE, "openid items:read items:write").await;
    let denied = h.post("/v1/items", &alice, json!({ "name": "Denied", "price": 1 })).await.json;
    let denied = denied["id"].as_str().unwrap().to_owned();
    let other = h.post("/v1/items", &alice, json!({ "name": "Other", "price": 2 })).await.json;
    let other = other["id"].as_str().unwrap().to_owned();

    // …then served over the same database by one whose policy denies the first.
    let rego = format!(
        "package items\nimport rego.v1\ndefault allow := false\nallow if not denied\n\
         denied if input.path == [\"v1\", \"items\", \"{denied}\"]\n"
    );
    let validator = TokenValidator::new(ValidatorConfig {
        issuer: url::Url::parse(h.idp.issuer()).unwrap(),
        audience: "api://default".to_owned(),
        leeway: Duration::from_secs(5),
        timeout: Duration::from_secs(3),
        mode: Mode::Local,
    })
    .unwrap();
    let database = format!("sqlite://{}", h.dir.path().join("items.db").display());
    let store = crate::wait::within("opening the items database", Store::connect(&database)).await.unwrap();
    let app = items_api::router(items_api::AppState::new(validator, store, Policy::rego("deny.rego", &rego).unwrap()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let send = |method: &'static str, path: String| {
        let head = format!("{method} {path} HTTP/1.1\r\nHost: {api}\r\nAuthorization: Bearer {alice}\r\n");
        // PATCH with a change, so that only the path decides.
        let (head, body) = if method == "PATCH" {
            (format!("{head}Content-Type: application/json\r\n"), r#"{"name":"X"}"#)
        } else {
            (head, "")
        };
        async move { raw_request(api, &head, body).await }
    };

    // The id as it is: the policy denies it, and allows the other item.
    for method in ["GET", "PATCH", "DELETE"] {
        let answer = send(method, format!("/v1/items/{denied}")).await;
        assert_eq!(answer.status, 403, "{method}: {}", answer.body);
        assert!(answer.body.contains("access_denied"), "{}", answer.body);
    }
    assert_eq!(send("GET", format!("/v1/items/{other}")).await.status, 200);
    assert_eq!(send("GET", format!("/v1/items/{denied}?limit=1")).await.status, 403);

    let encode = |c: char, upper: bool| if upper { format!("%{:02X}", c as u32) } else { format!("%{:02x}", c as u32) };
    let first = denied.chars().next().unwrap();
    let letter = denied.find(|c: char| c.is_ascii_alphabetic()).expect("a hex letter in a UUID");
    let with_letter_encoded = |upper| {
        let mut id = denied.clone();
        id.replace_range(letter..=letter, &encode(denied.as_bytes()[letter] as char, upper));
        id
    };
    let all_encoded: String = denied.chars().map(|c| encode(c, true)).collect();
    let rest = &denied[1..];
    let refused = [
        format!("/v1/items/{}{rest}", encode(first, true)),
        format!("/v1/items/{}", with_letter_encoded(true)),
        format!("/v1/items/{}", with_letter_encoded(false)),
        format!("/v1/items/{}", denied.replacen('-', "%2D", 1)),
        format!("/v1/items/{}", denied.replacen('-', "%2d", 1)),
        format!("/v1/items/{all_encoded}"),
        format!("/v1/items%2F{denied}"),
        format!("/v1/items%2f{denied}"),
        format!("/v1%2Fitems/{denied}"),
        format!("/v1/%69tems/{denied}"),
        format!("/%76%31/items/{denied}"),
        format!("/v1/items/%2E/{denied}"),
        format!("/v1/items/{denied}%2F"),
        format!("/v1/items/{denied}%"),
        format!("/v1/items/{denied}%2"),
    ];
    for path in &refused {
        for method in ["GET", "PATCH", "DELETE"] {
            let answer = send(method, path.clone()).await;
            assert_eq!(answer.status, 400, "{method} {path}: {}", answer.body);
            assert!(answer.body.contains("invalid_request"), "{method} {path}: {}", answer.body);
        }
    }
    // Spellings that are not the item to the handlers either: never served.
    let not_it = [
        format!("/v1/items/{}", denied.to_uppercase()),
        format!("/v1/items/{denied}/"),
        format!("/v1/items/./{denied}"),
        format!("/v1//items/{denied}"),
        format!("/v1/items/%25{:02X}{rest}", first as u32),
        format!("/v1/items/{denied}%00"),
        format!("/v1/items/{denied}%20"),
    ];
    for path in &not_it {
        for method in ["GET", "PATCH", "DELETE"] {
            let answer = send(method, path.clone()).await;
            assert!([400, 403, 404].contains(&answer.status), "{method} {path}: {} {}", answer.status, answer.body);
        }
    }

    // The item is still there, unchanged (seen through the API without the policy).
    let item = h.get(&format!("/v1/items/{denied}"), &alice).await;
    assert_eq!(item.status, StatusCode::OK, "{}", item.json);
    assert_eq!(item.json["name"], "Denied");
}
