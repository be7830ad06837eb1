use std::collections::HashMap;

use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name| map.get(name).cloned()
}

#[test]
fn defaults_are_the_demo() {
    let config = SigninConfig::load_from(None, env(&[])).unwrap();
    assert_eq!(config.issuer.as_str(), DEMO_ISSUER);
    assert_eq!(config.client_id.as_str(), DEMO_CLIENT_ID);
    assert_eq!(config.scopes.join(" "), DEFAULT_SCOPES);
    assert_eq!(config.prompt.as_deref(), Some("login consent"));
    assert_eq!(config.items_api.as_str(), "http://127.0.0.1:8081/");
    assert_eq!(config.timeout, Duration::from_secs(300));
    assert_eq!(config.redirect, RedirectKind::default());
}

#[test]
fn the_tutorials_names_work() {
    let config = SigninConfig::load_from(
        None,
        env(&[
            ("OKTA_DOMAIN", "dev-123456.okta.com"),
            ("OKTA_CLIENT_ID", "0oa-tutorial"),
            ("REDIRECT_URL", "http://127.0.0.1:8080/authorization-code/callback"),
            ("OKTA_PROMPT", "consent"),
            ("ITEMS_API_URL", "https://items.example.com"),
        ]),
    )
    .unwrap();
    assert_eq!(config.issuer.as_str(), "https://dev-123456.okta.com/oauth2/default");
    assert_eq!(config.client_id.as_str(), "0oa-tutorial");
    assert_eq!(
        config.redirect,
        RedirectKind::Loopback {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: Some(8080),
            path: "/authorization-code/callback".to_owned()
        }
    );
    assert_eq!(config.prompt.as_deref(), Some("consent"), "OKTA_PROMPT is sent exactly as given");
    assert_eq!(config.items_api.as_str(), "https://items.example.com/");

    let config = SigninConfig::load_from(
        None,
        env(&[
            ("OKTA_DOMAIN", "dev-1.okta.com"),
            ("OKTA_ISSUER", "https://dev-1.okta.com/oauth2/aus42"),
            ("CLIENT_ID", "wins"),
            ("OKTA_CLIENT_ID", "loses"),
        ]),
    )
    .unwrap();
    assert_eq!(config.issuer.as_str(), "https://dev-1.okta.com/oauth2/aus42", "OKTA_ISSUER beats OKTA_DOMAIN");
    assert_eq!(config.client_id.as_str(), "wins");
}

#[test]
fn the_file_is_read_and_the_environment_wins() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(CONFIG_FILE_NAME);
    std::fs::write(
        &path,
        "issuer = \"https://example.okta.com/oauth2/default\"\nclient_id = \"from-file\"\n\
         redirect_url = \"com.example.tessera:/callback\"\nprompt = \"\"\ntimeout_secs = 60\n",
    )
    .unwrap();
    let config = SigninConfig::load_from(Some(&path), env(&[("CLIENT_ID", "from-env")])).unwrap();
    assert_eq!(config.issuer.as_str(), "https://example.okta.com/oauth2/default");
    assert_eq!(config.client_id.as_str(), "from-env");
    assert!(matches!(&config.redirect, RedirectKind::Custom(url) if url.as_str() == "com.example.tessera:/callback"));
    assert_eq!(config.prompt, None, "an empty prompt sends none");
    assert_eq!(config.timeout, Duration::from_secs(60));

    let missing = dir.path().join("absent.toml");
    assert!(SigninConfig::load_from(Some(&missing), env(&[])).is_ok(), "a missing file is fine");

    std::fs::write(&path, "isuer = \"typo\"\n").unwrap();
    let error = SigninConfig::load_from(Some(&path), env(&[])).unwrap_err();
    assert!(matches!(error, SigninError::ConfigParse { .. }), "{error:?}");
}

#[test]
fn errors_name_the_setting() {
    let cases: &[(&str, &str)] = &[
        ("OKTA_ISSUER", "http://evil.example/oauth2/default"),
        ("OKTA_ISSUER", "not a url"),
        ("OKTA_DOMAIN", "dev-1.okta.com/oauth2/default"),
        ("REDIRECT_URL", "http://localhost:8080/callback"),
        ("REDIRECT_URL", "https://127.0.0.1/callback"),
        ("REDIRECT_URL", "http://192.168.1.2/callback"),
        ("REDIRECT_URL", "tessera:/callback"),
        ("ITEMS_API_URL", "::"),
        ("SIGNIN_TIMEOUT_SECS", "soon"),
    ];
    for (name, value) in cases {
        let error = SigninConfig::load_from(None, env(&[(name, value)])).unwrap_err();
        assert!(error.to_string().contains(name), "{name}={value}: {error}");
    }
}

#[test]
fn ipv6_and_custom_scheme_redirects_parse() {
    assert_eq!(
        RedirectKind::parse("x", "http://[::1]/callback").unwrap(),
        RedirectKind::Loopback { ip: "::1".parse().unwrap(), port: None, path: "/callback".to_owned() }
    );
    assert!(matches!(RedirectKind::parse("x", "com.example.tessera:/callback").unwrap(), RedirectKind::Custom(_)));
}

#[test]
fn dotenv_files_are_read_without_overriding_real_variables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".env");
    std::fs::write(&path, "OKTA_CLIENT_ID=from-dotenv\nOKTA_ISSUER=https://dotenv.okta.com/oauth2/default\n").unwrap();
    let dotenv = read_dotenv(&path).unwrap();
    let real = env(&[("OKTA_ISSUER", "https://real.okta.com/oauth2/default")]);
    let config = SigninConfig::load_from(None, |name| real(name).or_else(|| dotenv.get(name).cloned())).unwrap();
    assert_eq!(config.client_id.as_str(), "from-dotenv");
    assert_eq!(config.issuer.as_str(), "https://real.okta.com/oauth2/default");
    assert!(read_dotenv(&dir.path().join("none")).unwrap().is_empty());
}
