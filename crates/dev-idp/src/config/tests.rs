use super::*;

#[test]
fn demo_passwords_verify_against_the_shipped_hashes_and_nothing_else() {
    let config = Config::default();
    let alice = config.user_by_login("alice").expect("alice");
    let bob = config.user_by_login("BOB@example.com").expect("bob by login, any case");
    assert!(verify_password(DEMO_ALICE_PASSWORD, &alice.password_hash));
    assert!(verify_password(DEMO_BOB_PASSWORD, &bob.password_hash));
    assert!(!verify_password(DEMO_BOB_PASSWORD, &alice.password_hash));
    assert!(!verify_password("", &alice.password_hash));
    assert!(!verify_password(DEMO_ALICE_PASSWORD, "not a hash"));
}

#[test]
fn the_default_configuration_is_valid() {
    Config::default().validate().expect("defaults validate");
}

#[test]
fn a_file_changes_only_what_it_states() {
    let config = Config::from_toml_str("port = 0\n[refresh_token_rotation]\nenabled = false\n").expect("parses");
    assert_eq!(config.port, 0);
    assert!(!config.refresh_token_rotation.enabled);
    assert_eq!(config.refresh_token_rotation.grace_period_secs, 30);
    assert_eq!(config.clients.len(), 2);
}

#[test]
fn bad_files_are_refused_with_a_reason() {
    let unknown = Config::from_toml_str("prot = 1").unwrap_err();
    assert!(matches!(unknown, ConfigError::Parse { .. }), "{unknown}");
    let hash = Config::from_toml_str(
        r#"[[users]]
id = "u1"
login = "carol@example.com"
password_hash = "plaintext"
name = "C"
given_name = "C"
family_name = "C"
email = "carol@example.com"
"#,
    )
    .unwrap_err();
    assert!(hash.to_string().contains("argon2"), "{hash}");
    let uri = Config::from_toml_str(
        r#"[[clients]]
client_id = "x"
name = "X"
redirect_uris = ["http://127.0.0.1/cb#frag"]
"#,
    )
    .unwrap_err();
    assert!(uri.to_string().contains("fragment"), "{uri}");
}

#[test]
fn secrets_never_print() {
    let secret = ClientSecret::new("hunter2");
    assert!(!format!("{secret:?}").contains("hunter2"));
    assert!(secret.matches("hunter2"));
    assert!(!secret.matches("hunter"));
}

#[test]
fn the_example_file_in_the_repository_is_valid() {
    let config = Config::from_toml_str(include_str!("../../dev-idp.example.toml")).expect("example parses");
    assert_eq!(config.users.len(), 1);
    assert_eq!(config.users[0].login, "carol@example.com");
    assert!(config.client("items-api").is_some_and(|c| !c.is_public()));
    assert!(config.client("tessera-desktop").is_some_and(ClientConfig::is_public));
}

#[test]
fn the_example_users_password_is_the_one_its_comment_names() {
    let config = Config::from_toml_str(include_str!("../../dev-idp.example.toml")).expect("example parses");
    assert!(config.authenticate("carol", "carol-pw").is_some());
    assert!(config.authenticate("carol", "alice-demo-pw").is_none());
}

#[test]
fn the_server_limits_come_from_the_server_section_and_zero_is_refused() {
    let config =
        Config::from_toml_str("[server]\nheader_read_timeout_secs = 3\nmax_connections = 7\n").expect("parses");
    let limits = config.server.limits();
    assert_eq!(limits.header_read_timeout, std::time::Duration::from_secs(3));
    assert_eq!(limits.max_connections, 7);
    assert_eq!(limits.idle_timeout, http_server::Limits::default().idle_timeout);
    assert_eq!(Config::default().server.limits(), http_server::Limits::default());
    for field in ["header_read_timeout_secs", "idle_timeout_secs", "request_timeout_secs", "max_connections"] {
        let error = Config::from_toml_str(&format!("[server]\n{field} = 0\n")).unwrap_err();
        assert!(error.to_string().contains(&format!("server.{field} must be at least 1")), "{error}");
    }
}

#[test]
fn loopback_ports_are_exact_by_default_as_at_okta_and_layer_file_then_environment() {
    assert!(!Config::default().loopback_any_port, "Okta compares redirect URIs port included");
    let file = Config::from_toml_str("loopback_any_port = true\n").expect("parses");
    assert!(file.loopback_any_port);
    let env = |value: &'static str| move |name: &str| (name == "DEV_IDP_LOOPBACK_ANY_PORT").then(|| value.to_owned());
    assert!(!file.clone().with_environment(env("false")).expect("flag").loopback_any_port, "environment wins");
    assert!(Config::default().with_environment(env("on")).expect("flag").loopback_any_port);
    assert!(file.clone().with_environment(env(" ")).expect("blank is unset").loopback_any_port, "file kept");
    let error = Config::default().with_environment(env("maybe")).unwrap_err();
    assert!(error.to_string().contains("DEV_IDP_LOOPBACK_ANY_PORT"), "{error}");
}

#[test]
fn a_clients_own_loopback_any_port_wins() {
    let config = Config::from_toml_str(
        r#"loopback_any_port = false
[[clients]]
client_id = "cli"
name = "CLI"
redirect_uris = ["http://127.0.0.1/callback"]
loopback_any_port = true
[[clients]]
client_id = "strict"
name = "Strict"
"#,
    )
    .expect("parses");
    assert!(config.loopback_any_port_for(config.client("cli").expect("cli")));
    assert!(!config.loopback_any_port_for(config.client("strict").expect("strict")));
}

#[test]
fn the_demo_desktop_client_registers_each_fixed_loopback_port_on_both_families() {
    let config = Config::default();
    let desktop = config.client(DESKTOP_CLIENT_ID).expect("desktop client");
    for port in DEMO_LOOPBACK_PORTS {
        for (list, path) in [(&desktop.redirect_uris, "callback"), (&desktop.post_logout_redirect_uris, "signed-out")] {
            assert!(list.contains(&format!("http://127.0.0.1:{port}/{path}")), "{port} {path}");
            assert!(list.contains(&format!("http://[::1]:{port}/{path}")), "{port} {path}");
        }
    }
    assert!(desktop.redirect_uris.iter().any(|u| u == "http://127.0.0.1/callback"), "port-less kept");
    assert!(desktop.redirect_uris.iter().any(|u| u == "com.example.tessera:/callback"));
}

#[test]
fn the_refresh_grace_period_is_30_seconds_by_default_and_layers_file_then_environment() {
    assert_eq!(Config::default().refresh_token_rotation.grace_period_secs, 30);
    let file = Config::from_toml_str("[refresh_token_rotation]\ngrace_period_secs = 5\n").expect("parses");
    assert_eq!(file.refresh_token_rotation.grace_period_secs, 5);
    let env =
        |value: &'static str| move |name: &str| (name == "DEV_IDP_REFRESH_GRACE_PERIOD_SECS").then(|| value.to_owned());
    assert_eq!(file.clone().with_environment(env("0")).expect("seconds").refresh_token_rotation.grace_period_secs, 0);
    assert_eq!(file.clone().with_environment(env("")).expect("unset").refresh_token_rotation.grace_period_secs, 5);
    let error = file.with_environment(env("soon")).unwrap_err();
    assert!(error.to_string().contains("DEV_IDP_REFRESH_GRACE_PERIOD_SECS"), "{error}");
}

#[test]
fn rate_limits_are_off_by_default_and_layer_file_then_environment() {
    let default = Config::default();
    assert!(!default.rate_limits.enabled);
    assert_eq!(default.rate_limits.limit_of("token"), 600);
    let file =
        Config::from_toml_str("[rate_limits]\nenabled = true\n[rate_limits.endpoints]\ntoken = 3\n").expect("parses");
    assert!(file.rate_limits.enabled);
    assert_eq!(file.rate_limits.limit_of("token"), 3);
    assert_eq!(file.rate_limits.limit_of("keys"), 600);
    let env = |name: &str| match name {
        "DEV_IDP_RATE_LIMITS" => Some("0".to_owned()),
        "DEV_IDP_RATE_LIMIT_PER_MINUTE" => Some("42".to_owned()),
        _ => None,
    };
    let layered = file.with_environment(env).expect("layers");
    assert!(!layered.rate_limits.enabled, "environment wins");
    assert_eq!(layered.rate_limits.limit_of("keys"), 42);
    assert_eq!(layered.rate_limits.limit_of("token"), 3, "a family's own limit stays");
    let bad = Config::default().with_environment(|n: &str| (n == "DEV_IDP_RATE_LIMITS").then(|| "si".to_owned()));
    assert!(bad.unwrap_err().to_string().contains("DEV_IDP_RATE_LIMITS"));
    let zero = Config::from_toml_str("[rate_limits.endpoints]\ntoken = 0\n").unwrap_err();
    assert!(zero.to_string().contains("rate_limits.endpoints.token must be at least 1"), "{zero}");
    assert_eq!(Config::default().rate_limits.window_secs, 60, "a minute, as at Okta");
    let short = Config::from_toml_str("[rate_limits]\nwindow_secs = 2\n").expect("parses");
    assert_eq!(short.rate_limits.window_secs, 2);
    let zero = Config::from_toml_str("[rate_limits]\nwindow_secs = 0\n").unwrap_err();
    assert!(zero.to_string().contains("rate_limits.window_secs must be at least 1"), "{zero}");
}

#[test]
fn the_org_server_mode_is_off_by_default_and_moves_the_issuer_and_endpoints() {
    let custom = Config::default();
    assert!(!custom.org_authorization_server);
    assert_eq!((custom.issuer_path().as_str(), custom.base_path().as_str()), ("/oauth2/default", "/oauth2/default"));
    let org = Config::from_toml_str("org_authorization_server = true\n").expect("parses");
    assert_eq!((org.issuer_path().as_str(), org.base_path().as_str()), ("", "/oauth2"));
    let env = |value: &'static str| move |n: &str| (n == "DEV_IDP_ORG_AUTHORIZATION_SERVER").then(|| value.to_owned());
    assert!(Config::default().with_environment(env("yes")).expect("flag").org_authorization_server);
    assert!(!org.with_environment(env("false")).expect("flag").org_authorization_server, "environment wins");
    assert!(Config::default().with_environment(env("2")).is_err());
}
