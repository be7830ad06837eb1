use std::collections::HashMap;

use super::*;

fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Config::load_with(None, |name| env.get(name).cloned())
}

fn setting(result: Result<Config, ConfigError>) -> &'static str {
    match result {
        Err(ConfigError::Invalid { setting, .. }) => setting,
        other => panic!("expected an invalid setting, got {other:?}"),
    }
}

#[test]
fn defaults_are_demo_mode() {
    let config = load(&[]).unwrap();
    assert_eq!(config.issuer.as_str(), DEMO_ISSUER);
    assert_eq!(config.audience, "api://default");
    assert_eq!(config.validation, Validation::Local);
    assert_eq!(config.bind.to_string(), "127.0.0.1:8081");
    assert!(config.demo_seed);
}

#[test]
fn the_tutorials_variable_names_work() {
    let config = load(&[
        ("OKTA_ISSUER", "https://dev-1.okta.com/oauth2/default"),
        ("OKTA_AUDIENCE", "api://items"),
        ("OKTA_CLIENT_ID", "0oa1"),
        ("OKTA_CLIENT_SECRET", "s3cret"),
        ("TOKEN_VALIDATION", "introspection"),
        ("DATABASE_URL", "postgres://items:pw@db/items"),
        ("BIND", "0.0.0.0:9000"),
    ])
    .unwrap();
    assert_eq!(config.issuer.as_str(), "https://dev-1.okta.com/oauth2/default");
    assert_eq!(config.validation, Validation::Introspection);
    assert!(!config.demo_seed);
    let shown = format!("{config:?}");
    assert!(!shown.contains("s3cret") && !shown.contains(":pw@"), "{shown}");
}

#[test]
fn each_bad_setting_is_named() {
    assert_eq!(setting(load(&[("BIND", "nowhere")])), "BIND");
    assert_eq!(setting(load(&[("OKTA_ISSUER", "not a url")])), "OKTA_ISSUER");
    assert_eq!(setting(load(&[("OKTA_ISSUER", "http://example.com/oauth2/default")])), "OKTA_ISSUER");
    assert_eq!(setting(load(&[("TOKEN_VALIDATION", "magic")])), "TOKEN_VALIDATION");
    assert_eq!(setting(load(&[("TOKEN_VALIDATION", "introspection")])), "OKTA_CLIENT_ID");
    assert_eq!(setting(load(&[("TOKEN_VALIDATION", "introspection"), ("OKTA_CLIENT_ID", "x")])), "OKTA_CLIENT_SECRET");
    assert_eq!(setting(load(&[("OPA_URL", "::")])), "OPA_URL");
    assert_eq!(setting(load(&[("POLICY_FILE", "/nonexistent.rego")])), "POLICY_FILE");
    assert_eq!(setting(load(&[("DATABASE_URL", "mysql://x")])), "DATABASE_URL");
    assert_eq!(setting(load(&[("TOKEN_LEEWAY_SECS", "soon")])), "TOKEN_LEEWAY_SECS");
    assert_eq!(setting(load(&[("DPOP_NONCE_SECS", "5")])), "DPOP_NONCE_SECS");
    assert_eq!(setting(load(&[("DPOP_MAX_AGE_SECS", "0")])), "DPOP_MAX_AGE_SECS");
}

#[test]
fn dpop_nonces_are_off_unless_given_a_lifetime() {
    assert_eq!(load(&[]).unwrap().dpop_nonce, None);
    assert_eq!(load(&[("DPOP_NONCE_SECS", "0")]).unwrap().dpop_nonce, None);
    assert_eq!(load(&[("DPOP_NONCE_SECS", "300")]).unwrap().dpop_nonce, Some(Duration::from_secs(300)));
}

#[test]
fn the_environment_overrides_the_file_which_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.toml");
    std::fs::write(&path, "audience = \"api://file\"\nbind = \"127.0.0.1:7000\"\n").unwrap();
    let config = Config::load_with(Some(&path), |name| (name == "BIND").then(|| "127.0.0.1:7001".to_owned())).unwrap();
    assert_eq!(config.audience, "api://file");
    assert_eq!(config.bind.to_string(), "127.0.0.1:7001");
    std::fs::write(&path, "audiense = 1\n").unwrap();
    assert!(matches!(Config::load_with(Some(&path), |_| None), Err(ConfigError::Parse { .. })));
}

/// Issue 14, item 6: the introspection bucket's settings.
#[test]
fn the_introspection_bucket_has_named_settings() {
    let config = load(&[]).unwrap();
    assert_eq!((config.introspection_burst, config.introspections_per_minute), (30, 60));
    let config = load(&[("INTROSPECTION_BURST", "5"), ("INTROSPECTIONS_PER_MINUTE", "0")]).unwrap();
    assert_eq!((config.introspection_burst, config.introspections_per_minute), (5, 0));
    assert_eq!(setting(load(&[("INTROSPECTION_BURST", "0")])), "INTROSPECTION_BURST");
    assert_eq!(setting(load(&[("INTROSPECTION_BURST", "many")])), "INTROSPECTION_BURST");
    assert_eq!(setting(load(&[("INTROSPECTIONS_PER_MINUTE", "99999999999")])), "INTROSPECTIONS_PER_MINUTE");
}
