use serde_json::Map;

use super::*;

const SAMPLE: &str = include_str!("../../policies/items.rego");

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

async fn decide(policy: &Policy, scopes: &[&str], method: &str, path: &str) -> Decision {
    policy.decide(&input(&claims(scopes, &[]), method, &CanonicalPath::parse(path).unwrap())).await
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
    let support = policy.decide(&input(&claims(&["items:read"], &["support"]), "GET", &path)).await;
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
    let policy =
        Policy::opa(
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
