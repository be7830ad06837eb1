use std::collections::HashMap;

use super::*;

/// What a start outside demo mode must be given.
const REQUIRED: [(&str, &str); 3] = [
    ("OKTA_ISSUER", "https://dev-1.okta.com/oauth2/default"),
    ("DATABASE_URL", "sqlite://items.db"),
    ("PUBLIC_URL", "https://items.example.com"),
];

/// Loads `pairs` over [`REQUIRED`].
fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let mut env: HashMap<String, String> = REQUIRED.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    env.extend(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Config::load_with(None, |name| env.get(name).cloned())
}

/// Loads `pairs` alone.
fn load_only(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let env: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Config::load_with(None, |name| env.get(name).cloned())
}

fn missing(result: Result<Config, ConfigError>) -> Vec<Missing> {
    match result {
        Err(ConfigError::Missing(missing)) => missing,
        other => panic!("expected missing settings, got {other:?}"),
    }
}

fn setting(result: Result<Config, ConfigError>) -> &'static str {
    match result {
        Err(ConfigError::Invalid { setting, .. }) => setting,
        other => panic!("expected an invalid setting, got {other:?}"),
    }
}

/// Issue 23, item 1: nothing configured trusts nothing, and one message
/// says everything that is missing.
#[test]
fn nothing_configured_is_refused_with_one_message_listing_what_to_set() {
    let error = load_only(&[]).unwrap_err();
    let message = error.to_string();
    for name in ["OKTA_ISSUER", "OKTA_DOMAIN", "DATABASE_URL", "PUBLIC_URL", "ACCEPT_DPOP=false", "--demo", "DEMO=1"] {
        assert!(message.contains(name), "{name} in {message}");
    }
    assert_eq!(missing(Err(error)), [Missing::Issuer, Missing::Database, Missing::PublicUrl]);
    // Each one alone missing, the others set; OKTA_DOMAIN stands for OKTA_ISSUER.
    for (i, expected) in [Missing::Issuer, Missing::Database, Missing::PublicUrl].into_iter().enumerate() {
        let mut pairs = REQUIRED.to_vec();
        pairs.remove(i);
        assert_eq!(missing(load_only(&pairs)), [expected]);
    }
    let domain = load_only(&[("OKTA_DOMAIN", "dev-2.okta.com"), REQUIRED[1], REQUIRED[2]]).unwrap();
    assert_eq!(domain.issuer.as_str(), "https://dev-2.okta.com/oauth2/default");
    assert!(!domain.demo, "no demo without the switch");
    assert_eq!(setting(load_only(&[("OKTA_DOMAIN", "dev-2.okta.com/oauth2/x")])), "OKTA_DOMAIN");
    // DPoP refused: no public URL needed.
    let without_dpop = load_only(&[REQUIRED[0], REQUIRED[1], ("ACCEPT_DPOP", "false")]).unwrap();
    assert!(!without_dpop.accept_dpop && without_dpop.public_urls.is_empty());
    assert_eq!(setting(load(&[("ACCEPT_DPOP", "maybe")])), "ACCEPT_DPOP");
    // Blank counts as unset; the old demo switch is named, not ignored.
    assert_eq!(missing(load_only(&[("OKTA_ISSUER", " "), REQUIRED[1], REQUIRED[2]])), [Missing::Issuer]);
    assert_eq!(setting(load(&[("DEMO_SEED", "1")])), "DEMO_SEED");
}

#[test]
fn the_demo_switch_brings_the_demo_defaults() {
    for switch in ["1", "true", "yes"] {
        let config = load_only(&[("DEMO", switch)]).unwrap();
        assert!(config.demo);
        assert_eq!(config.issuer.as_str(), DEMO_ISSUER);
        assert_eq!(config.database_url, DEMO_DATABASE);
        assert_eq!(config.audience, "api://default");
        assert_eq!(config.validation, Validation::Local);
        assert_eq!(config.bind.to_string(), "127.0.0.1:8081");
        let urls: Vec<&str> = config.public_urls.iter().map(Url::as_str).collect();
        assert_eq!(urls, ["http://127.0.0.1:8081/"], "the demo's URL is its loopback BIND");
    }
    assert!(!load(&[("DEMO", "0")]).unwrap().demo);
    // The demo on a port chosen at bind time must say its URL.
    assert_eq!(missing(load_only(&[("DEMO", "1"), ("BIND", "127.0.0.1:0")])), [Missing::PublicUrl]);
    assert_eq!(missing(load_only(&[("DEMO", "1"), ("BIND", "0.0.0.0:8081")])), [Missing::PublicUrl]);
    let config = load_only(&[("DEMO", "1"), ("OKTA_ISSUER", "http://127.0.0.1:4000/oauth2/default")]).unwrap();
    assert_eq!(config.issuer.as_str(), "http://127.0.0.1:4000/oauth2/default", "the demo's own issuer");
}

/// Issue 14, item 3: `PUBLIC_URL` holds one URL or several, and nothing a
/// proof's `htu` could not name.
#[test]
fn public_urls_are_a_list_of_plain_http_urls() {
    let config = load(&[("PUBLIC_URL", "https://items.example.com/api, http://127.0.0.1:8081")]).unwrap();
    let urls: Vec<&str> = config.public_urls.iter().map(Url::as_str).collect();
    assert_eq!(urls, ["https://items.example.com/api", "http://127.0.0.1:8081/"]);
    for bad in [
        "items.example.com",
        "ftp://items.example.com",
        "https://items.example.com/?a=1",
        "https://u:p@items.example.com",
        "https://items.example.com/#x",
    ] {
        assert_eq!(setting(load(&[("PUBLIC_URL", bad)])), "PUBLIC_URL", "{bad}");
    }
}

/// Issue 23, item 1: plain HTTP reachable from other machines is allowed,
/// with a warning naming what silences it.
#[test]
fn a_non_loopback_bind_without_tls_in_front_is_warned_about() {
    assert_eq!(load(&[("PUBLIC_URL", "http://127.0.0.1:8081")]).unwrap().plain_http_warning(), None);
    for bind in ["0.0.0.0:8081", "192.0.2.7:8081", "[::]:8081"] {
        let warning = load(&[("BIND", bind), ("PUBLIC_URL", "http://items.example.com")]).unwrap().plain_http_warning();
        let warning = warning.unwrap_or_else(|| panic!("{bind}: a warning"));
        assert!(warning.contains(bind) && warning.contains("TLS_IN_FRONT=true"), "{warning}");
        let quiet = load(&[("BIND", bind), ("PUBLIC_URL", "http://items.example.com"), ("TLS_IN_FRONT", "true")]);
        assert_eq!(quiet.unwrap().plain_http_warning(), None);
        let https = load(&[("BIND", bind), ("PUBLIC_URL", "https://items.example.com")]).unwrap();
        assert_eq!(https.plain_http_warning(), None, "an https PUBLIC_URL says TLS is in front");
    }
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
    assert!(!config.demo);
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
    let env = |name: &str| match name {
        "BIND" => Some("127.0.0.1:7001".to_owned()),
        name => REQUIRED.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned()),
    };
    let config = Config::load_with(Some(&path), env).unwrap();
    assert_eq!(config.audience, "api://file");
    assert_eq!(config.bind.to_string(), "127.0.0.1:7001");
    std::fs::write(&path, "audiense = 1\n").unwrap();
    assert!(matches!(
        Config::load_with(Some(&path), |_| None),
        Err(ConfigError::File(settings::FileError::Parse { .. }))
    ));
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

/// Issue 20, item 1: the validated-token cache's size (0 turns it off).
#[test]
fn the_token_cache_size_is_a_setting() {
    assert_eq!(load(&[]).unwrap().token_cache_size, 10_000);
    assert_eq!(load(&[("TOKEN_CACHE_SIZE", "0")]).unwrap().token_cache_size, 0);
    assert_eq!(load(&[("TOKEN_CACHE_SIZE", "500")]).unwrap().token_cache_size, 500);
    assert_eq!(setting(load(&[("TOKEN_CACHE_SIZE", "lots")])), "TOKEN_CACHE_SIZE");
    assert_eq!(setting(load(&[("TOKEN_CACHE_SIZE", "-1")])), "TOKEN_CACHE_SIZE");
}

/// Issue 17: CA_FILE over the file's ca_file, SSL_CERT_FILE only when
/// neither is set; an unusable file or proxy variable is named.
#[test]
fn the_ca_file_and_proxies_are_read_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("ca.pem");
    std::fs::write(&pem, "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ0E=\n-----END CERTIFICATE-----\n").unwrap();
    let path = pem.to_str().unwrap();
    let setting_of = |config: Config| config.net.ca_file.map(|ca| ca.setting().to_owned());
    assert_eq!(setting_of(load(&[]).unwrap()), None);
    assert_eq!(setting_of(load(&[("SSL_CERT_FILE", path)]).unwrap()).as_deref(), Some("SSL_CERT_FILE"));
    assert_eq!(
        setting_of(load(&[("CA_FILE", path), ("SSL_CERT_FILE", "/nowhere")]).unwrap()).as_deref(),
        Some("CA_FILE")
    );
    match load(&[("CA_FILE", "/nonexistent/ca.pem")]) {
        Err(error @ ConfigError::Network(_)) => {
            assert!(error.to_string().contains("CA_FILE") && error.to_string().contains("/nonexistent/ca.pem"));
        }
        other => panic!("{other:?}"),
    }
    match load(&[("HTTPS_PROXY", "socks5://proxy:1080")]) {
        Err(error @ ConfigError::Network(_)) => assert!(error.to_string().starts_with("HTTPS_PROXY"), "{error}"),
        other => panic!("{other:?}"),
    }
    let config = load(&[("HTTPS_PROXY", "http://proxy.corp:3128"), ("NO_PROXY", "corp.example")]).unwrap();
    assert_eq!(config.net.proxy.https().map(url::Url::as_str), Some("http://proxy.corp:3128/"));
}

/// Issue 18, item 1: POLICY_QUERY names the package that decides, and
/// OPA_AUTHZ_URL (the OPA tutorial's name) is OPA_URL's equal.
#[test]
fn policy_query_and_the_opa_tutorials_url_are_read_and_checked() {
    let config = load(&[]).unwrap();
    assert_eq!(config.policy_query.as_str(), "data.items");
    assert_eq!(config.opa_url, None);
    let query = |value: &str| load(&[("POLICY_QUERY", value)]).map(|c| c.policy_query.as_str().to_owned());
    assert_eq!(query("data.httpapi.authz").unwrap(), "data.httpapi.authz");
    for bad in ["httpapi.authz", "data", "data.httpapi.authz.allow", "data[\"x\"]", "data.a-b"] {
        let error = query(bad).unwrap_err();
        assert!(error.to_string().starts_with("POLICY_QUERY: "), "{bad}: {error}");
    }
    assert!(
        query("data.httpapi.authz.allow").unwrap_err().to_string().contains("name its package: data.httpapi.authz")
    );

    let opa = |pairs: &[(&str, &str)]| load(pairs).map(|c| c.opa_url.map(|url| url.to_string()));
    // As given, under either name.
    let given = "http://127.0.0.1:8181/v1/data/httpapi/authz/allow";
    assert_eq!(opa(&[("OPA_AUTHZ_URL", given)]).unwrap().as_deref(), Some(given));
    assert_eq!(opa(&[("OPA_URL", given)]).unwrap().as_deref(), Some(given));
    assert_eq!(opa(&[("OPA_URL", given), ("OPA_AUTHZ_URL", given)]).unwrap().as_deref(), Some(given));
    // OPA's address alone: the package is added, POLICY_QUERY's or the default.
    assert_eq!(
        opa(&[("OPA_AUTHZ_URL", "http://127.0.0.1:8181"), ("POLICY_QUERY", "data.httpapi.authz")]).unwrap().as_deref(),
        Some("http://127.0.0.1:8181/v1/data/httpapi/authz")
    );
    assert_eq!(opa(&[("OPA_URL", "http://opa:8181/")]).unwrap().as_deref(), Some("http://opa:8181/v1/data/items"));
    // A data path that agrees with POLICY_QUERY, or any when it is not set.
    assert!(opa(&[("OPA_URL", given), ("POLICY_QUERY", "data.httpapi.authz")]).is_ok());
    assert!(opa(&[("OPA_URL", "http://opa:8181/v1/data/other")]).is_ok());
    assert!(opa(&[("OPA_URL", "http://opa:8181/decide"), ("POLICY_QUERY", "data.httpapi.authz")]).is_ok());

    // Both names, differing: refused naming both.
    let both = opa(&[("OPA_URL", "http://a:8181"), ("OPA_AUTHZ_URL", "http://b:8181")]).unwrap_err().to_string();
    assert!(both.contains("OPA_URL") && both.contains("OPA_AUTHZ_URL"), "{both}");
    assert_eq!(setting(load(&[("OPA_AUTHZ_URL", "::")])), "OPA_AUTHZ_URL");
    assert_eq!(setting(load(&[("OPA_AUTHZ_URL", "file:///etc/opa")])), "OPA_AUTHZ_URL");
    // A data path for another package than the POLICY_QUERY set.
    let disagree = load(&[("OPA_URL", "http://opa:8181/v1/data/items"), ("POLICY_QUERY", "data.httpapi.authz")])
        .unwrap_err()
        .to_string();
    assert!(disagree.starts_with("OPA_URL: ") && disagree.contains("POLICY_QUERY=data.httpapi.authz"), "{disagree}");
    // A policy file and OPA: one or the other.
    let file = std::env::current_dir().unwrap().join("policies/httpapi.rego");
    let file = file.to_str().unwrap();
    assert_eq!(setting(load(&[("POLICY_FILE", file), ("OPA_AUTHZ_URL", given)])), "POLICY_FILE");
    assert!(load(&[("POLICY_FILE", file), ("POLICY_QUERY", "data.httpapi.authz")]).is_ok());
}

/// Issue 18, item 4: the tutorials' settings that mean nothing to the items
/// API are named with why, not silently ignored; unset, nothing is said.
#[test]
fn the_tutorials_settings_that_mean_nothing_here_are_named() {
    assert!(load(&[]).unwrap().ignored.is_empty());
    let config = load(&[
        ("OKTA_INTROSPECTION", "https://dev-1.okta.com/oauth2/default/v1/introspect"),
        ("OKTA_TOKEN", "https://dev-1.okta.com/oauth2/default/v1/token"),
    ])
    .unwrap();
    assert_eq!(config.ignored.len(), 2, "{:?}", config.ignored);
    assert!(
        config.ignored[0].starts_with("OKTA_INTROSPECTION is ignored: ") && config.ignored[0].contains("discovery")
    );
    assert!(config.ignored[1].starts_with("OKTA_TOKEN is ignored: "));
    let config = load(&[("OKTA_SCOPE", "items")]).unwrap();
    assert!(config.ignored[0].contains("READ_SCOPE"), "{:?}", config.ignored);
}
