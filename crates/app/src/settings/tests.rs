use std::collections::HashMap;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use signin::flow::config::{DEFAULT_SCOPES, DEMO_CLIENT_ID, DEMO_ISSUER, LoopbackPorts};

use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    move |name| map.get(name).cloned()
}

/// Issue 23: nothing configured is no provider, never the demo's fixed
/// local port; a client id, scopes or an items API alone name none either.
#[test]
fn nothing_configured_is_no_provider() {
    for pairs in [
        &[][..],
        &[("CLIENT_ID", "0oa-app"), ("ITEMS_API_URL", "https://items.example.com")],
        &[("OKTA_ISSUER", "  "), ("OKTA_DOMAIN", "")],
    ] {
        let error = Settings::load_from(None, env(pairs)).unwrap_err();
        assert!(matches!(error, SettingsError::NoProvider), "{pairs:?}: {error:?}");
        assert!(error.to_string().contains("OKTA_DOMAIN") && error.to_string().contains("CLIENT_ID"), "{error}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(CONFIG_FILE_NAME);
    std::fs::write(&path, "client_id = \"0oa-app\"\n").unwrap();
    assert!(matches!(Settings::load_from(Some(&path), env(&[])), Err(SettingsError::NoProvider)));
    std::fs::write(&path, "okta_domain = \"dev-1.okta.com\"\n").unwrap();
    let config = Settings::load_from(Some(&path), env(&[])).unwrap();
    assert_eq!(config.signin.issuer.as_str(), "https://dev-1.okta.com/oauth2/default");
}

#[test]
fn the_demo_defaults_are_asked_for_by_name() {
    let config = Settings::demo_from(None, env(&[])).unwrap();
    assert_eq!(config.signin.issuer.as_str(), DEMO_ISSUER);
    assert_eq!(config.signin.client_id.as_str(), DEMO_CLIENT_ID);
    assert_eq!(config.signin.scopes.join(" "), DEFAULT_SCOPES);
    assert_eq!(config.signin.prompt.as_deref(), Some("login consent"));
    assert_eq!(config.items_api.as_str(), "http://127.0.0.1:8081/");
    assert_eq!(config.signin.timeout, Duration::from_secs(300));
    assert_eq!(config.signin.redirect, RedirectKind::default());
}

#[test]
fn the_tutorials_names_work() {
    let config = Settings::load_from(
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
    assert_eq!(config.signin.issuer.as_str(), "https://dev-123456.okta.com/oauth2/default");
    assert_eq!(config.signin.client_id.as_str(), "0oa-tutorial");
    // The core reads the URL (its own tests check what it makes of it).
    assert_eq!(
        config.signin.redirect,
        RedirectKind::parse("REDIRECT_URL", "http://127.0.0.1:8080/authorization-code/callback").unwrap()
    );
    assert!(
        matches!(config.signin.redirect, RedirectKind::Loopback { ip, .. } if ip == IpAddr::V4(Ipv4Addr::LOCALHOST))
    );
    assert_eq!(config.signin.prompt.as_deref(), Some("consent"), "OKTA_PROMPT is sent exactly as given");
    assert_eq!(config.items_api.as_str(), "https://items.example.com/");

    let config = Settings::load_from(
        None,
        env(&[
            ("OKTA_DOMAIN", "dev-1.okta.com"),
            ("OKTA_ISSUER", "https://dev-1.okta.com/oauth2/aus42"),
            ("CLIENT_ID", "wins"),
            ("OKTA_CLIENT_ID", "loses"),
        ]),
    )
    .unwrap();
    assert_eq!(config.signin.issuer.as_str(), "https://dev-1.okta.com/oauth2/aus42", "OKTA_ISSUER beats OKTA_DOMAIN");
    assert_eq!(config.signin.client_id.as_str(), "wins");
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
    let config = Settings::load_from(Some(&path), env(&[("CLIENT_ID", "from-env")])).unwrap();
    assert_eq!(config.signin.issuer.as_str(), "https://example.okta.com/oauth2/default");
    assert_eq!(config.signin.client_id.as_str(), "from-env");
    assert!(
        matches!(&config.signin.redirect, RedirectKind::Custom(url) if url.as_str() == "com.example.tessera:/callback")
    );
    assert_eq!(config.signin.prompt, None, "an empty prompt sends none");
    assert_eq!(config.signin.timeout, Duration::from_secs(60));

    let missing = dir.path().join("absent.toml");
    let issuer = [("OKTA_ISSUER", "https://example.okta.com/oauth2/default")];
    assert!(Settings::load_from(Some(&missing), env(&issuer)).is_ok(), "a missing file is fine");

    std::fs::write(&path, "isuer = \"typo\"\n").unwrap();
    let error = Settings::load_from(Some(&path), env(&[])).unwrap_err();
    assert!(matches!(error, SettingsError::File(settings::FileError::Parse { .. })), "{error:?}");
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
        let error = Settings::load_from(None, env(&[(name, value)])).unwrap_err();
        assert!(error.to_string().contains(name), "{name}={value}: {error}");
    }
}

#[test]
fn an_env_file_named_on_purpose_is_read_without_overriding_real_variables() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("settings.env");
    std::fs::write(&path, "OKTA_CLIENT_ID=from-dotenv\nOKTA_ISSUER=https://dotenv.okta.com/oauth2/default\n").unwrap();
    let dotenv = read_env_file(&path).unwrap();
    let real = env(&[("OKTA_ISSUER", "https://real.okta.com/oauth2/default")]);
    let config = Settings::load_from(None, |name| real(name).or_else(|| dotenv.get(name).cloned())).unwrap();
    assert_eq!(config.signin.client_id.as_str(), "from-dotenv");
    assert_eq!(config.signin.issuer.as_str(), "https://real.okta.com/oauth2/default");
    // A file asked for by name that is not there is an error, never skipped.
    let missing = dir.path().join("none.env");
    let error = read_env_file(&missing).unwrap_err();
    assert!(matches!(error, SettingsError::DotEnv { .. }), "{error:?}");
    assert!(Settings::load_with_env_file(Some(&missing)).is_err());
}

/// Issue 14, item 2: a `.env` in the working folder (a cloned repository's)
/// names another issuer and items API; the configuration read without
/// `--env-file` / `TESSERA_ENV_FILE` ignores it, and reads it when named.
/// (The only test here that changes the working folder.)
#[test]
fn a_dotenv_in_the_working_folder_is_not_read_unless_named() {
    let dir = tempfile::tempdir().unwrap();
    let evil_issuer = "https://evil-issuer.example/oauth2/default";
    let evil_api = "https://evil-items.example/";
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "OKTA_ISSUER={evil_issuer}\nOKTA_DOMAIN=evil.example\nCLIENT_ID=evil-client\nITEMS_API_URL={evil_api}\n"
        ),
    )
    .unwrap();
    let before = std::env::current_dir().unwrap();
    std::env::set_current_dir(dir.path()).unwrap();
    let implicit = Settings::load_with_env_file(None);
    let named = Settings::load_with_env_file(Some(std::path::Path::new(".env")));
    std::env::set_current_dir(before).unwrap();
    // With nothing else configured, no provider (issue 23); with one, not the .env's.
    if let Ok(implicit) = implicit.as_ref() {
        assert_ne!(implicit.signin.issuer.as_str(), evil_issuer);
        assert_ne!(implicit.signin.client_id.as_str(), "evil-client");
        assert_ne!(implicit.items_api.as_str(), evil_api);
    } else {
        assert!(matches!(implicit, Err(SettingsError::NoProvider)), "{implicit:?}");
    }
    let named = named.unwrap();
    if std::env::var_os("OKTA_ISSUER").is_none() {
        assert_eq!(named.signin.issuer.as_str(), evil_issuer, "--env-file is read");
    }
    if std::env::var_os("ITEMS_API_URL").is_none() {
        assert_eq!(named.items_api.as_str(), evil_api, "--env-file is read");
    }
}

#[test]
fn the_items_api_is_https_or_a_loopback_ip() {
    for good in [
        "https://items.example.com",
        "https://items.example.com:8443/base/",
        "http://127.0.0.1:8081",
        "http://127.1.2.3:8081",
        "http://127.0.0.1.:8081",
        "http://[::1]:8081",
        "HTTP://127.0.0.1:8081",
    ] {
        let config = Settings::load_from(None, env(&[("ITEMS_API_URL", good), ("OKTA_DOMAIN", "dev-1.okta.com")]));
        assert!(config.is_ok(), "{good}: {:?}", config.err());
    }
    for bad in [
        "http://items.example.com",
        "http://localhost:8081",
        "http://LOCALHOST:8081",
        "http://localhost.:8081",
        "http://127.0.0.1@evil.example",
        "http://127.0.0.1:8081@evil.example/",
        "http://user:pw@127.0.0.1:8081",
        "https://user@items.example.com",
        "http://127.0.0.1.evil.example",
        "http://[::ffff:127.0.0.1]:8081",
        "http://0.0.0.0:8081",
        "http://10.0.0.1:8081",
        "http://[::]:8081",
        "ftp://items.example.com",
        "file:///etc/passwd",
        "items.example.com",
    ] {
        let error = Settings::load_from(None, env(&[("ITEMS_API_URL", bad)])).unwrap_err();
        assert!(error.to_string().contains("ITEMS_API_URL"), "{bad}: {error}");
        let file = ConfigFile { items_api_url: Some(bad.to_owned()), ..ConfigFile::default() };
        let error = Settings::from_file(&file).unwrap_err();
        assert!(error.to_string().contains("items_api_url"), "{bad}: {error}");
    }
}

#[test]
fn one_reading_says_where_the_provider_comes_from() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(CONFIG_FILE_NAME);
    let (_, source) = Settings::layered(Some(&path), env(&[])).unwrap();
    assert_eq!(source, ProviderSource::Demo);
    std::fs::write(&path, "okta_domain = \"dev-1.okta.com\"\n").unwrap();
    let (settings, source) = Settings::layered(Some(&path), env(&[])).unwrap();
    assert_eq!(source, ProviderSource::File);
    assert_eq!(settings.signin.issuer.as_str(), "https://dev-1.okta.com/oauth2/default");
    let issuer = [("OKTA_ISSUER", "https://env.okta.com/oauth2/default")];
    let (settings, source) = Settings::layered(Some(&path), env(&issuer)).unwrap();
    assert_eq!(source, ProviderSource::Environment, "the environment wins over the file");
    assert_eq!(settings.signin.issuer.as_str(), "https://env.okta.com/oauth2/default");
}

fn ports_of(settings: &Settings) -> LoopbackPorts {
    match &settings.signin.redirect {
        RedirectKind::Loopback { ports, .. } => ports.clone(),
        RedirectKind::Custom(url) => panic!("a custom scheme: {url:?}"),
    }
}

/// Issue 16, item 2: the loopback ports are a setting of their own, applied
/// after the redirect URL of their layer; the environment wins over the file.
#[test]
fn loopback_ports_are_layered_after_the_redirect_url() {
    use signin::flow::config::DEFAULT_LOOPBACK_PORTS;
    let domain = ("OKTA_DOMAIN", "dev-1.okta.com");
    let listed = |ports: &[u16]| LoopbackPorts::Listed(ports.to_vec());
    let config = Settings::load_from(None, env(&[domain])).unwrap();
    assert_eq!(ports_of(&config), listed(&DEFAULT_LOOPBACK_PORTS), "the default list");
    let config = Settings::load_from(None, env(&[domain, ("LOOPBACK_PORTS", "9001, 9002 9003")])).unwrap();
    assert_eq!(ports_of(&config), listed(&[9001, 9002, 9003]));
    let config = Settings::load_from(None, env(&[domain, ("LOOPBACK_PORTS", " ANY ")])).unwrap();
    assert_eq!(ports_of(&config), LoopbackPorts::Any);
    // After REDIRECT_URL, whose port it replaces; the path and IP stay.
    let config =
        Settings::load_from(None, env(&[domain, ("REDIRECT_URL", "http://[::1]:8080/cb"), ("LOOPBACK_PORTS", "9001")]))
            .unwrap();
    assert_eq!(
        config.signin.redirect,
        RedirectKind::Loopback { ip: "::1".parse().unwrap(), ports: listed(&[9001]), path: "/cb".to_owned() }
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(CONFIG_FILE_NAME);
    std::fs::write(
        &path,
        "okta_domain = \"dev-1.okta.com\"\nredirect_url = \"http://127.0.0.1:8080/callback\"\nloopback_ports = \"9100 9101\"\n",
    )
    .unwrap();
    let config = Settings::load_from(Some(&path), env(&[])).unwrap();
    assert_eq!(ports_of(&config), listed(&[9100, 9101]), "the file's ports after its redirect URL");
    let config = Settings::load_from(Some(&path), env(&[("LOOPBACK_PORTS", "9200")])).unwrap();
    assert_eq!(ports_of(&config), listed(&[9200]), "the environment wins");
    let config = Settings::load_from(Some(&path), env(&[("REDIRECT_URL", "http://127.0.0.1:7000/callback")])).unwrap();
    assert_eq!(ports_of(&config), listed(&[7000]), "a later layer's redirect URL replaces the whole redirect");
    let config = Settings::load_from(Some(&path), env(&[("REDIRECT_URL", "com.example.tessera:/callback")])).unwrap();
    assert!(matches!(config.signin.redirect, RedirectKind::Custom(_)), "the file's ports went with its redirect");
}

#[test]
fn loopback_ports_errors_name_the_setting() {
    let domain = ("OKTA_DOMAIN", "dev-1.okta.com");
    for bad in ["", "0", "65536", "8765 8765", "eighty", "8765;8766"] {
        if !bad.is_empty() {
            // (An empty variable is unset.)
            let error = Settings::load_from(None, env(&[domain, ("LOOPBACK_PORTS", bad)])).unwrap_err();
            assert_eq!(error.setting(), Some("LOOPBACK_PORTS"), "{bad:?}: {error}");
        }
        let file = ConfigFile { loopback_ports: Some(bad.to_owned()), ..ConfigFile::default() };
        let error = Settings::from_file(&file).unwrap_err();
        assert_eq!(error.setting(), Some("loopback_ports"), "{bad:?}: {error}");
    }
    // A custom scheme has no port: said, naming the setting.
    let error = Settings::load_from(
        None,
        env(&[domain, ("REDIRECT_URL", "com.example.tessera:/callback"), ("LOOPBACK_PORTS", "8765")]),
    )
    .unwrap_err();
    assert_eq!(error.setting(), Some("LOOPBACK_PORTS"));
    assert!(error.to_string().contains("custom scheme com.example.tessera:/callback"), "{error}");
    let file = ConfigFile {
        redirect_url: Some("com.example.tessera:/callback".to_owned()),
        loopback_ports: Some("8765".to_owned()),
        ..ConfigFile::default()
    };
    let error = Settings::from_file(&file).unwrap_err();
    assert_eq!(error.setting(), Some("loopback_ports"), "{error}");
    assert!(ENV_NAMES.contains(&"LOOPBACK_PORTS"));
}

/// Issue 16, item 7: whether requests are pushed is a setting, `auto` by
/// default; the environment wins over the file; other values are refused
/// naming the setting.
#[test]
fn par_is_auto_always_or_never() {
    use signin::flow::config::ParMode;
    let file = ConfigFile { okta_domain: Some("dev-1.okta.com".into()), ..ConfigFile::default() };
    assert_eq!(Settings::from_file(&file).unwrap().signin.par, ParMode::Auto);
    let never = ConfigFile { par: Some("never".into()), ..file.clone() };
    assert_eq!(Settings::from_file(&never).unwrap().signin.par, ParMode::Never);
    let bad = ConfigFile { par: Some("sometimes".into()), ..file };
    assert_eq!(Settings::from_file(&bad).unwrap_err().setting(), Some("par"));
    let from_env = Settings::load_from(None, env(&[("OKTA_DOMAIN", "dev-1.okta.com"), ("SIGNIN_PAR", "ALWAYS")]));
    assert_eq!(from_env.unwrap().signin.par, ParMode::Always);
    let error = Settings::load_from(None, env(&[("OKTA_DOMAIN", "dev-1.okta.com"), ("SIGNIN_PAR", "no")])).unwrap_err();
    assert_eq!(error.setting(), Some("SIGNIN_PAR"), "{error}");
    assert!(ENV_NAMES.contains(&"SIGNIN_PAR"));
}

/// Issue 16, item 5: the sign-out redirect is registered exactly at the
/// provider, so a loopback one needs its port; the custom scheme is fine.
#[test]
fn the_post_logout_redirect_is_a_loopback_url_with_its_port_or_the_custom_scheme() {
    let provider = ("OKTA_DOMAIN", "dev-1.okta.com");
    let load = |value: &str| Settings::load_from(None, env(&[provider, ("POST_LOGOUT_REDIRECT_URL", value)]));
    let loopback = load("http://127.0.0.1:8765/signed-out").unwrap().signin.post_logout_redirect;
    assert_eq!(loopback.map(|u| u.to_string()).as_deref(), Some("http://127.0.0.1:8765/signed-out"));
    assert!(load("com.example.tessera:/signed-out").unwrap().signin.post_logout_redirect.is_some());
    for bad in ["http://127.0.0.1/signed-out", "http://localhost:8765/signed-out", "https://app.example/out"] {
        let error = load(bad).unwrap_err();
        assert_eq!(error.setting(), Some("POST_LOGOUT_REDIRECT_URL"), "{bad}: {error}");
    }
    let unset = Settings::load_from(None, env(&[provider])).unwrap();
    assert_eq!(unset.signin.post_logout_redirect, None, "none sent unless configured");
}

/// Issue 21: the Linux keyrings are choices on Linux only; elsewhere they are
/// refused, naming the platform and the choices it has; `auto` is the
/// platform's own keyring.
#[test]
fn the_token_store_choices_are_the_platforms() {
    use signin::platform;
    use signin::store::KeyringBackend;
    assert_eq!(TokenStoreChoice::Auto.keyring(), Some(platform::NATIVE_KEYRING));
    assert_eq!(TokenStoreChoice::Memory.keyring(), None);
    for (name, backend) in
        [("secret-service", KeyringBackend::SecretService), ("kernel", KeyringBackend::KernelKeyring)]
    {
        let parsed = TokenStoreChoice::parse("TESSERA_TOKEN_STORE", name);
        if platform::has_keyring(backend) {
            assert_eq!(parsed.unwrap().keyring(), Some(backend));
            assert!(TokenStoreChoice::available().contains(&name));
        } else {
            let error = parsed.unwrap_err().to_string();
            assert!(error.contains(platform::NAME) && error.contains("choose auto"), "{error}");
            assert!(!TokenStoreChoice::available().contains(&name));
        }
    }
    if platform::NAME == "Linux" {
        assert_eq!(TokenStoreChoice::available(), TokenStoreChoice::NAMES, "every choice on Linux");
    }
}

/// Issue 17, item 3: where sign-ins are kept, from the file or the
/// environment (which wins); a name that is not a store is refused, naming
/// the setting and the choices.
#[test]
fn the_token_store_is_chosen_by_name() {
    let provider = [("OKTA_DOMAIN", "dev-1.okta.com"), ("CLIENT_ID", "0oa-app")];
    assert_eq!(Settings::load_from(None, env(&provider)).unwrap().token_store, TokenStoreChoice::Auto);
    for (value, expected) in [
        ("kernel", TokenStoreChoice::Kernel),
        ("keyutils", TokenStoreChoice::Kernel),
        (" Secret-Service ", TokenStoreChoice::SecretService),
        ("memory", TokenStoreChoice::Memory),
        ("auto", TokenStoreChoice::Auto),
    ] {
        let pairs = [provider[0], provider[1], ("TESSERA_TOKEN_STORE", value)];
        assert_eq!(Settings::load_from(None, env(&pairs)).unwrap().token_store, expected, "{value:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(CONFIG_FILE_NAME);
    std::fs::write(&path, "token_store = \"kernel\"\n").unwrap();
    assert_eq!(Settings::load_from(Some(&path), env(&provider)).unwrap().token_store, TokenStoreChoice::Kernel);
    let pairs = [provider[0], provider[1], ("TESSERA_TOKEN_STORE", "memory")];
    assert_eq!(Settings::load_from(Some(&path), env(&pairs)).unwrap().token_store, TokenStoreChoice::Memory);
    for (file, pairs) in [
        ("token_store = \"plain-file\"\n", &provider[..]),
        ("", &[provider[0], provider[1], ("TESSERA_TOKEN_STORE", "disk")][..]),
    ] {
        std::fs::write(&path, file).unwrap();
        let error = Settings::load_from(Some(&path), env(pairs)).unwrap_err();
        let setting = if file.is_empty() { "TESSERA_TOKEN_STORE" } else { "token_store" };
        assert_eq!(error.setting(), Some(setting), "{error}");
        assert!(error.to_string().contains("secret-service, kernel, memory"), "{error}");
    }
}

fn write_profiles(dir: &tempfile::TempDir) -> PathBuf {
    let path = dir.path().join(CONFIG_FILE_NAME);
    std::fs::write(
        &path,
        r#"
okta_domain = "acme.okta.com"
client_id = "0oa-prod"
items_api_url = "https://items.acme.example"

[profiles.preview]
okta_domain = "acme.oktapreview.com"
client_id = "0oa-preview"
token_store = "kernel"

[profiles.customer-b]
issuer = "https://b.example.com/oauth2/aus1"
items_api_url = "https://items.b.example"
"#,
    )
    .unwrap();
    path
}

/// Issue 17, item 6: named profiles over the top-level settings; a profile
/// chosen wins over the environment; `default` is the top level.
#[test]
fn profiles_layer_over_the_top_level_settings() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_profiles(&dir);
    let top = Settings::load_profile(Some(&path), env(&[]), ProfileChoice::Default).unwrap();
    assert_eq!(top.profile, None);
    assert_eq!(top.signin.issuer.as_str(), "https://acme.okta.com/oauth2/default");
    let preview = Settings::load_profile(Some(&path), env(&[]), ProfileChoice::Chosen("preview")).unwrap();
    assert_eq!(preview.profile.as_deref(), Some("preview"));
    assert_eq!(preview.signin.issuer.as_str(), "https://acme.oktapreview.com/oauth2/default");
    assert_eq!(preview.signin.client_id.as_str(), "0oa-preview");
    assert_eq!(preview.token_store, TokenStoreChoice::Kernel);
    // What the profile leaves unset comes from the top level.
    assert_eq!(preview.items_api.as_str(), "https://items.acme.example/");
    let b = Settings::load_profile(Some(&path), env(&[]), ProfileChoice::Chosen("customer-b")).unwrap();
    assert_eq!(b.signin.client_id.as_str(), "0oa-prod");
    assert_eq!(b.items_api.as_str(), "https://items.b.example/");
    // The environment is below a chosen profile, above the top level.
    let pairs = [("OKTA_DOMAIN", "other.okta.com"), ("ITEMS_API_URL", "https://items.other.example")];
    let chosen = Settings::load_profile(Some(&path), env(&pairs), ProfileChoice::Chosen("preview")).unwrap();
    assert_eq!(chosen.signin.issuer.as_str(), "https://acme.oktapreview.com/oauth2/default");
    assert_eq!(chosen.items_api.as_str(), "https://items.other.example/");
    let top = Settings::load_profile(Some(&path), env(&pairs), ProfileChoice::Default).unwrap();
    assert_eq!(top.signin.issuer.as_str(), "https://other.okta.com/oauth2/default");
    // TESSERA_PROFILE chooses when nothing is chosen on the command line,
    // and wins over the account's profile; `default` is the top level.
    let by_env = [("TESSERA_PROFILE", "preview")];
    for choice in [ProfileChoice::Default, ProfileChoice::OfAccount(None), ProfileChoice::OfAccount(Some("customer-b"))]
    {
        let settings = Settings::load_profile(Some(&path), env(&by_env), choice).unwrap();
        assert_eq!(settings.profile.as_deref(), Some("preview"), "{choice:?}");
    }
    let account = Settings::load_profile(Some(&path), env(&[]), ProfileChoice::OfAccount(Some("customer-b"))).unwrap();
    assert_eq!(account.profile.as_deref(), Some("customer-b"));
    let named_default = Settings::load_profile(Some(&path), env(&by_env), ProfileChoice::Chosen(TOP_PROFILE)).unwrap();
    assert_eq!(named_default.profile, None);
    assert_eq!(named_default.signin.client_id.as_str(), "0oa-prod");
}

/// Issue 17, item 6: an account belongs to the profile whose provider and
/// client signed it in; unknown profiles and badly named ones are refused
/// naming what there is; profiles without a top-level provider must be
/// chosen.
#[test]
fn accounts_find_their_profile_and_mistakes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_profiles(&dir);
    let of = |issuer: &str, client: &str| Settings::profile_of(Some(&path), env(&[]), issuer, client);
    assert_eq!(of("https://acme.okta.com/oauth2/default", "0oa-prod"), Some(None));
    assert_eq!(of("https://acme.oktapreview.com/oauth2/default", "0oa-preview"), Some(Some("preview".to_owned())));
    assert_eq!(of("https://b.example.com/oauth2/aus1", "0oa-prod"), Some(Some("customer-b".to_owned())));
    assert_eq!(of("https://acme.oktapreview.com/oauth2/default", "0oa-prod"), None);
    assert_eq!(Settings::profile_names(Some(&path)), ["customer-b", "preview"]);

    let error = Settings::load_profile(Some(&path), env(&[]), ProfileChoice::Chosen("staging")).unwrap_err();
    assert!(matches!(error, SettingsError::UnknownProfile { .. }), "{error:?}");
    assert!(error.to_string().contains("\"staging\"") && error.to_string().contains("customer-b, preview"), "{error}");

    std::fs::write(&path, "[profiles.prod]\nokta_domain = \"acme.okta.com\"\nclient_id = \"0oa-prod\"\n").unwrap();
    let error = Settings::load_profile(Some(&path), env(&[]), ProfileChoice::Default).unwrap_err();
    assert!(matches!(error, SettingsError::ChooseProfile { .. }), "{error:?}");
    assert!(error.to_string().contains("prod") && error.to_string().contains("--profile"), "{error}");
    std::fs::write(&path, "profile = \"prod\"\n[profiles.prod]\nokta_domain = \"acme.okta.com\"\n").unwrap();
    let chosen = Settings::load_profile(Some(&path), env(&[]), ProfileChoice::Default).unwrap();
    assert_eq!(chosen.profile.as_deref(), Some("prod"));

    for (text, problem) in [
        ("[profiles.default]\nclient_id = \"x\"\n", "top-level"),
        ("[profiles.\"a b\"]\nclient_id = \"x\"\n", "letters, digits"),
        ("[profiles.a]\nprofile = \"b\"\n", "cannot hold profiles"),
        ("[profiles.a.profiles.b]\nclient_id = \"x\"\n", "cannot hold profiles"),
        ("[profiles.a]\nclient = \"x\"\n", "unknown field"),
    ] {
        std::fs::write(&path, text).unwrap();
        let error = Settings::load_profile(Some(&path), env(&[]), ProfileChoice::Default).unwrap_err();
        let chain = format!("{error} {:?}", std::error::Error::source(&error).map(ToString::to_string));
        assert!(chain.contains(problem), "{text:?}: {chain}");
    }
}

/// Issue 17: TESSERA_CA_FILE over the file's ca_file, SSL_CERT_FILE only
/// when neither is set; the proxy variables; what cannot be used is named.
#[test]
fn the_ca_file_and_the_proxies_are_layered_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("company-ca.pem");
    std::fs::write(&pem, "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ0E=\n-----END CERTIFICATE-----\n").unwrap();
    let pem = pem.to_str().unwrap().to_owned();
    let file = dir.path().join(CONFIG_FILE_NAME);
    std::fs::write(&file, format!("issuer = \"https://dev-1.okta.com/oauth2/default\"\nca_file = \"{pem}\"\n"))
        .unwrap();
    let setting = |settings: Settings| settings.signin.net.ca_file.map(|ca| ca.setting().to_owned());
    let issuer = ("OKTA_ISSUER", "https://dev-1.okta.com/oauth2/default");
    assert_eq!(setting(Settings::load_from(None, env(&[issuer])).unwrap()), None);
    assert_eq!(setting(Settings::load_from(Some(&file), env(&[])).unwrap()).as_deref(), Some("ca_file"));
    let over = Settings::load_from(Some(&file), env(&[("TESSERA_CA_FILE", &pem)])).unwrap();
    assert_eq!(setting(over).as_deref(), Some("TESSERA_CA_FILE"));
    // SSL_CERT_FILE is the fallback: the file's ca_file wins over it.
    let fallback = Settings::load_from(None, env(&[issuer, ("SSL_CERT_FILE", &pem)])).unwrap();
    assert_eq!(setting(fallback).as_deref(), Some("SSL_CERT_FILE"));
    let file_wins = Settings::load_from(Some(&file), env(&[("SSL_CERT_FILE", "/nowhere.pem")])).unwrap();
    assert_eq!(setting(file_wins).as_deref(), Some("ca_file"));

    let error = Settings::load_from(None, env(&[issuer, ("TESSERA_CA_FILE", "/nonexistent/ca.pem")])).unwrap_err();
    assert_eq!(error.setting(), Some("TESSERA_CA_FILE"));
    assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
    let error = Settings::load_from(None, env(&[issuer, ("https_proxy", "socks5://u:secret@p:1")])).unwrap_err();
    assert_eq!(error.setting(), Some("https_proxy"));
    assert!(!error.to_string().contains("secret"), "{error}");
    let settings =
        Settings::load_from(None, env(&[issuer, ("HTTPS_PROXY", "http://proxy.corp:3128"), ("NO_PROXY", ".corp")]))
            .unwrap();
    assert_eq!(settings.signin.net.proxy.https().map(Url::as_str), Some("http://proxy.corp:3128/"));
    assert!(settings.signin.net.proxy.no_proxy().starts_with(".corp, "));
    assert!(ENV_NAMES.contains(&"TESSERA_CA_FILE"));
}

/// The client-credentials tutorial's `.env`: `OKTA_SCOPE` is the scopes a
/// service asks for; `OKTA_TOKEN`, `OKTA_INTROSPECTION` and
/// `OKTA_CLIENT_SECRET` are not read, each with a note saying why.
#[test]
fn the_client_credentials_tutorials_names() {
    let issuer = ("OKTA_ISSUER", "https://dev-1.okta.com/oauth2/default");
    let plain = Settings::load_from(None, env(&[issuer])).unwrap();
    assert_eq!(plain.signin.client_credentials_scopes, None);
    // Unset: the configured scopes without a person's.
    assert_eq!(plain.signin.service_scopes(), ["items:read", "items:write"]);
    let pairs = [
        issuer,
        ("OKTA_SCOPE", "items  read_sayhello"),
        ("OKTA_TOKEN", "https://dev-1.okta.com/oauth2/default/v1/token"),
        ("OKTA_INTROSPECTION", "https://dev-1.okta.com/oauth2/default/v1/introspect"),
        ("OKTA_CLIENT_SECRET", "s3cr3t"),
    ];
    let tutorial = env(&pairs);
    let settings = Settings::load_from(None, &tutorial).unwrap();
    assert_eq!(settings.signin.service_scopes(), ["items", "read_sayhello"]);
    // People's scopes are untouched.
    assert_eq!(settings.signin.scopes, split_scopes(DEFAULT_SCOPES));
    assert!(ENV_NAMES.contains(&"OKTA_SCOPE"));
    let notes = ignored_tutorial_settings(&tutorial);
    assert_eq!(notes.len(), 3, "{notes:?}");
    assert!(notes[0].starts_with("Note: OKTA_TOKEN is ignored") && notes[0].contains("discovery"), "{notes:?}");
    assert!(notes[1].starts_with("Note: OKTA_INTROSPECTION is ignored"), "{notes:?}");
    assert!(notes[2].contains("OKTA_CLIENT_SECRET") && !notes[2].contains("s3cr3t"), "{notes:?}");
    assert!(notes.iter().all(|note| !note.contains('\n')));
    assert!(ignored_tutorial_settings(env(&[issuer])).is_empty());
}
