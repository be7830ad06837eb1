use serde_json::Map;

use super::*;

const SAMPLE: &str = include_str!("../../policies/items.rego");
const TUTORIAL: &str = include_str!("../../policies/httpapi.rego");

fn claims(scopes: &[&str], groups: &[&str]) -> Claims {
    let mut all = Map::new();
    all.insert("sub".into(), json!("alice@example.com"));
    all.insert("groups".into(), json!(groups));
    Claims {
        subject: "alice@example.com".into(),
        client_id: Some("tessera-desktop".into()),
        user_id: None,
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        issuer: "http://127.0.0.1/oauth2/default".into(),
        expires_at: 0,
        all,
    }
}

/// A token's stand-in: the in-process tests decide on claims, not on the token.
const TOKEN: &str = "not.a-token";

async fn decide(policy: &Policy, scopes: &[&str], method: &str, path: &str) -> Decision {
    policy.decide(&input(&claims(scopes, &[]), TOKEN, method, &CanonicalPath::parse(path).unwrap())).await
}

#[tokio::test]
async fn the_tutorial_rule_allows_one_path_with_one_scope_only() {
    let policy = Policy::rego("items.rego", SAMPLE).unwrap();
    assert!(decide(&policy, &["profile"], "GET", "/v1/me").await.allow);
    assert!(!decide(&policy, &["openid"], "GET", "/v1/me").await.allow, "wrong scope");
    assert!(!decide(&policy, &["profile"], "POST", "/v1/me").await.allow, "wrong method");
    assert!(!decide(&policy, &["profile"], "GET", "/v1/me/x").await.allow, "wrong path");
}

#[tokio::test]
async fn the_sample_maps_methods_to_scopes_and_groups_to_see_all() {
    let policy = Policy::rego("items.rego", SAMPLE).unwrap();
    assert!(decide(&policy, &["items:read"], "GET", "/v1/items").await.allow);
    assert!(!decide(&policy, &["items:read"], "DELETE", "/v1/items/1").await.allow);
    assert!(decide(&policy, &["items:write"], "PATCH", "/v1/items/1").await.allow);
    assert!(!decide(&policy, &["items:read"], "GET", "/v1/items").await.see_all);
    let path = CanonicalPath::parse("/v1/items").unwrap();
    let support = policy.decide(&input(&claims(&["items:read"], &["support"]), TOKEN, "GET", &path)).await;
    assert_eq!(support, Decision { allow: true, see_all: true });
}

#[tokio::test]
async fn undefined_results_and_errors_deny() {
    let undefined =
        Policy::rego("p.rego", "package items\nimport rego.v1\nallow if { input.method == \"NEVER\" }\n").unwrap();
    assert_eq!(decide(&undefined, &["items:read"], "GET", "/v1/items").await, Decision::DENY);
    let not_bool = Policy::rego("p.rego", "package items\nallow := \"yes\"\n").unwrap();
    assert_eq!(decide(&not_bool, &[], "GET", "/v1/items").await, Decision::DENY);
    let failing = Policy::rego("p.rego", "package items\nimport rego.v1\nallow if { 1 / 0 == 1 }\n").unwrap();
    assert!(!decide(&failing, &[], "GET", "/").await.allow);
    assert!(Policy::rego("p.rego", "package items\nallow if {").is_err(), "syntax errors fail at load");
}

#[tokio::test]
async fn an_unreachable_opa_denies() {
    let policy = Policy::opa(
        Url::parse("http://127.0.0.1:9/v1/data/items").unwrap(),
        Duration::from_millis(500),
        &net::NetSettings::default(),
    )
    .unwrap();
    assert_eq!(decide(&policy, &["items:read"], "GET", "/v1/items").await, Decision::DENY);
}

#[test]
fn a_path_is_decoded_and_only_its_canonical_spelling_is_taken() {
    let segments = |raw: &str| CanonicalPath::parse(raw).map(|path| path.segments().to_vec());
    assert_eq!(segments("/v1/items/0193-ab").unwrap(), ["v1", "items", "0193-ab"]);
    assert_eq!(segments("/v1/items/a%20b%25c%C3%A9").unwrap(), ["v1", "items", "a b%c\u{e9}"]);
    assert_eq!(segments("//v1//items/").unwrap(), ["v1", "items"]);
    for (raw, error) in [
        ("/v1/items/%30193", PathError::NeedlessEscape),
        ("/v1/items/0193%2Dab", PathError::NeedlessEscape),
        ("/v1/items/0193%2dab", PathError::NeedlessEscape),
        ("/v1/items/%61b", PathError::NeedlessEscape),
        ("/v1/%69tems", PathError::NeedlessEscape),
        ("/v1/items/%2E", PathError::NeedlessEscape),
        ("/v1/items/%7E", PathError::NeedlessEscape),
        ("/v1/items/%5F", PathError::NeedlessEscape),
        ("/v1/items%2F0193", PathError::EncodedSlash),
        ("/v1/items%2f0193", PathError::EncodedSlash),
        ("/v1%2Fitems", PathError::EncodedSlash),
        ("/v1/items/%", PathError::BadEscape),
        ("/v1/items/%3", PathError::BadEscape),
        ("/v1/items/%zz", PathError::BadEscape),
        ("/v1/items/%+1", PathError::BadEscape),
        ("/v1/items/%FF", PathError::NotUtf8),
    ] {
        assert_eq!(segments(raw), Err(error), "{raw}");
    }
}

/// A JWS in compact form with `payload` as its claims and a made-up
/// signature: what `io.jwt.decode` reads (it verifies nothing).
fn jwt(payload: &Value) -> String {
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let header = json!({ "alg": "RS256", "kid": "k1", "typ": "application/okta-internal-at+jwt" });
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes()),
        b64(&[0xde, 0xad, 0x0f])
    )
}

fn httpapi() -> PolicyPackage {
    PolicyPackage::parse("data.httpapi.authz").unwrap()
}

/// The tutorial-shaped policy, deciding on `input.method`, `input.api` and
/// the scopes in `input.jwt` alone (the claims given beside it grant nothing).
async fn tutorial_decides(policy: &Policy, scp: &[&str], method: &str, path: &str) -> bool {
    let token = jwt(&json!({ "sub": "alice@example.com", "scp": scp }));
    let input =
        input(&claims(&["items:read", "items:write"], &[]), &token, method, &CanonicalPath::parse(path).unwrap());
    policy.decide(&input).await.allow
}

#[tokio::test]
async fn a_tutorial_shaped_policy_decodes_the_token_and_reads_api_and_method() {
    let policy = Policy::rego_in("httpapi.rego", TUTORIAL, &httpapi()).unwrap();
    assert!(tutorial_decides(&policy, &["items:read"], "GET", "/v1/items").await);
    assert!(tutorial_decides(&policy, &["items:read"], "GET", "/v1/items/0193-ab").await);
    assert!(!tutorial_decides(&policy, &["items:read"], "POST", "/v1/items").await, "writing needs items:write");
    assert!(tutorial_decides(&policy, &["items:write"], "POST", "/v1/items").await);
    assert!(tutorial_decides(&policy, &["items:write"], "DELETE", "/v1/items/0193-ab").await);
    assert!(!tutorial_decides(&policy, &["items:write"], "GET", "/v1/items").await, "reading needs items:read");
    assert!(!tutorial_decides(&policy, &["items:read"], "GET", "/v1/me").await, "another path");
    assert!(!tutorial_decides(&policy, &["items:read"], "GET", "/v1/itemsx").await, "a path that only starts alike");
    assert!(!tutorial_decides(&policy, &[], "GET", "/v1/items").await, "no scope");
    // Not a JWT (an opaque token, under introspection): io.jwt.decode fails, and that denies.
    let opaque =
        input(&claims(&["items:read"], &[]), "opaque-token", "GET", &CanonicalPath::parse("/v1/items").unwrap());
    assert_eq!(policy.decide(&opaque).await, Decision::DENY);
    // The default package is not there: the file is refused at load, naming both.
    let error = Policy::rego("httpapi.rego", TUTORIAL).unwrap_err().to_string();
    assert!(error.contains("no package items") && error.contains("data.httpapi.authz"), "{error}");
}

#[test]
fn io_jwt_decode_answers_header_payload_and_hex_signature_as_opa_does() {
    let policy = Policy::rego_in(
        "t.rego",
        "package t\nparts := io.jwt.decode(input.jwt)\n",
        &PolicyPackage::parse("data.t").unwrap(),
    )
    .unwrap();
    let Policy::Rego { engine, .. } = policy else { panic!("a Rego policy") };
    let decode = |token: &str| {
        let mut engine = engine.clone();
        engine.set_input(regorus::Value::from_json_str(&json!({ "jwt": token }).to_string()).unwrap());
        engine.eval_rule("data.t.parts".to_owned()).map(|value| value.to_json_str().unwrap())
    };
    let parts: Value = serde_json::from_str(&decode(&jwt(&json!({ "scp": ["a"] }))).unwrap()).unwrap();
    assert_eq!(parts[0]["alg"], "RS256");
    assert_eq!(parts[1], json!({ "scp": ["a"] }));
    assert_eq!(parts[2], "dead0f");
    for bad in ["", "a.b", "a.b.c.d", "!!.e30.AA", "e30.bm90IGpzb24.AA", "IjEi.e30.AA"] {
        let error = decode(bad).unwrap_err().to_string();
        assert!(error.contains("io.jwt.decode"), "{bad}: {error}");
    }
    let encrypted = {
        use base64::Engine as _;
        let b64 = |text: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
        format!("{}.{}.AA", b64(r#"{"alg":"dir","enc":"A256GCM"}"#), b64("{}"))
    };
    assert!(decode(&encrypted).unwrap_err().to_string().contains("encrypted"));
}

#[test]
fn the_input_has_both_shapes_with_the_decoded_path() {
    let path = CanonicalPath::parse("/v1/items/caf%C3%A9%20au%20lait").unwrap();
    let value = input(&claims(&["items:read"], &[]), "the.raw.token", "GET", &path);
    assert_eq!(value["api"], "/v1/items/caf\u{e9} au lait");
    assert_eq!(value["path"], json!(["v1", "items", "caf\u{e9} au lait"]));
    assert_eq!(value["jwt"], "the.raw.token");
    assert_eq!(value["method"], "GET");
    assert_eq!(value["subject"], "alice@example.com");
    assert_eq!(value["scopes"], json!(["items:read"]));
    assert_eq!(input(&claims(&[], &[]), "t", "GET", &CanonicalPath::parse("//").unwrap())["api"], "/");
    assert_eq!(input(&claims(&[], &[]), "t", "GET", &CanonicalPath::parse("//v1//me/").unwrap())["api"], "/v1/me");
}

#[test]
fn an_evaluation_error_is_logged_without_the_token() {
    let input = json!({ "jwt": "secret.token.value" });
    assert_eq!(redact_token("bad value \"secret.token.value\" at 3:1", &input), "bad value \"[token]\" at 3:1");
    assert_eq!(redact_token("no token here", &json!({})), "no token here");
}

#[test]
fn policy_query_is_a_package_reference_under_data() {
    for good in ["data.items", "data.httpapi.authz", " data.a_b.C9 ", "data._x"] {
        let package = PolicyPackage::parse(good).unwrap();
        assert_eq!(package.as_str(), good.trim());
    }
    assert_eq!(PolicyPackage::default().as_str(), "data.items");
    assert_eq!(httpapi().name(), "httpapi.authz");
    for bad in [
        "",
        "data",
        "data.",
        "items",
        "httpapi.authz",
        "data..x",
        "data.x.",
        "data.9x",
        "data[\"x\"]",
        "data.x[0]",
        "data.a-b",
        "input.x",
        "data.x y",
    ] {
        assert_eq!(PolicyPackage::parse(bad), Err(PackageError::NotAReference(bad.trim().to_owned())), "{bad:?}");
    }
    let rule = PolicyPackage::parse("data.httpapi.authz.allow").unwrap_err();
    assert_eq!(
        rule.to_string(),
        "\"data.httpapi.authz.allow\" names the allow rule; name its package: data.httpapi.authz"
    );
}

#[test]
fn the_opa_url_is_built_from_a_server_base_and_checked_against_a_data_path() {
    let base = |text: &str| httpapi().opa_url(&Url::parse(text).unwrap()).to_string();
    assert_eq!(base("http://127.0.0.1:8181"), "http://127.0.0.1:8181/v1/data/httpapi/authz");
    assert_eq!(base("http://127.0.0.1:8181/"), "http://127.0.0.1:8181/v1/data/httpapi/authz");
    assert_eq!(base("https://opa.internal/opa/"), "https://opa.internal/opa/v1/data/httpapi/authz");
    let matches = |text: &str| httpapi().matches_opa_url(&Url::parse(text).unwrap());
    assert_eq!(matches("http://o:8181/v1/data/httpapi/authz"), Some(true));
    assert_eq!(matches("http://o:8181/v1/data/httpapi/authz/allow"), Some(true));
    assert_eq!(matches("http://o:8181/v1/data/items"), Some(false));
    assert_eq!(matches("http://o:8181/v1/data/httpapi"), Some(false));
    assert_eq!(matches("http://o:8181/decide"), None);
}

#[test]
fn opa_answers_a_boolean_or_an_object_with_allow_and_anything_else_denies() {
    let allow = Decision { allow: true, see_all: false };
    assert_eq!(opa_answer(&json!({ "result": true })), allow);
    assert_eq!(opa_answer(&json!({ "result": false })), Decision::DENY);
    assert_eq!(opa_answer(&json!({ "result": { "allow": true } })), allow);
    assert_eq!(
        opa_answer(&json!({ "result": { "allow": true, "see_all": true } })),
        Decision { allow: true, see_all: true }
    );
    assert_eq!(opa_answer(&json!({ "result": { "allow": false, "see_all": true } })), Decision::DENY);
    for denied in [
        json!({ "result": "yes" }),
        json!({ "result": "true" }),
        json!({ "result": 1 }),
        json!({ "result": [true] }),
        json!({ "result": null }),
        json!({ "result": { "allow": "true" } }),
        json!({ "result": {} }),
        json!({}),
        json!({ "allow": true }),
        json!(true),
    ] {
        assert_eq!(opa_answer(&denied), Decision::DENY, "{denied}");
    }
}
