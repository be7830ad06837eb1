use super::*;

#[test]
fn the_demo_defaults_are_valid() {
    let config = SigninConfig::demo();
    assert_eq!(config.issuer.as_str(), DEMO_ISSUER);
    assert_eq!(config.client_id.as_str(), DEMO_CLIENT_ID);
    assert_eq!(config.scopes.join(" "), DEFAULT_SCOPES);
    assert_eq!(config.prompt.as_deref(), Some("login consent"));
    assert_eq!(config.timeout, Duration::from_secs(300));
    assert_eq!(config.redirect, RedirectKind::default());
    assert!(!config.dpop);
}

#[test]
fn ipv6_and_custom_scheme_redirects_parse() {
    assert_eq!(
        RedirectKind::parse("x", "http://[::1]/callback").unwrap(),
        RedirectKind::Loopback {
            ip: "::1".parse().unwrap(),
            ports: LoopbackPorts::Listed(DEFAULT_LOOPBACK_PORTS.to_vec()),
            path: "/callback".to_owned()
        }
    );
    assert!(matches!(RedirectKind::parse("x", "com.example.tessera:/callback").unwrap(), RedirectKind::Custom(_)));
    assert_eq!(
        RedirectKind::parse("x", "http://127.0.0.1:8080/authorization-code/callback").unwrap(),
        RedirectKind::Loopback {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: LoopbackPorts::Listed(vec![8080]),
            path: "/authorization-code/callback".to_owned()
        }
    );
}

/// Okta compares redirect URIs exactly, port included: by default the
/// listener takes one of a short list of ports (each registered); `any`
/// only where the provider takes any loopback port (RFC 8252 §7.3).
#[test]
fn loopback_ports_are_a_short_list_or_any() {
    assert_eq!(LoopbackPorts::default(), LoopbackPorts::Listed(vec![8765, 8766, 8767]));
    assert_eq!(LoopbackPorts::default().to_string(), "8765 8766 8767");
    assert_eq!(LoopbackPorts::parse("x", "any").unwrap(), LoopbackPorts::Any);
    assert_eq!(LoopbackPorts::parse("x", " ANY ").unwrap(), LoopbackPorts::Any);
    assert_eq!(LoopbackPorts::parse("x", "9001, 9002 9003").unwrap(), LoopbackPorts::Listed(vec![9001, 9002, 9003]));
    for bad in ["", "0", "65536", "80 80", "8765-8767", "some"] {
        let error = LoopbackPorts::parse("LOOPBACK_PORTS", bad).unwrap_err();
        assert!(error.to_string().contains("LOOPBACK_PORTS"), "{bad:?}: {error}");
    }
}

#[test]
fn the_checks_name_the_setting() {
    for value in ["http://localhost:8080/callback", "https://127.0.0.1/callback", "http://192.168.1.2/callback"] {
        let error = RedirectKind::parse("REDIRECT_URL", value).unwrap_err();
        assert!(error.to_string().contains("REDIRECT_URL"), "{value}: {error}");
    }
    for value in ["http://evil.example/oauth2/default", "not a url"] {
        let error = parse_issuer("OKTA_ISSUER", value).unwrap_err();
        assert!(error.to_string().contains("OKTA_ISSUER"), "{value}: {error}");
    }
    let error = issuer_from_domain("OKTA_DOMAIN", "dev-1.okta.com/oauth2/default").unwrap_err();
    assert!(error.to_string().contains("OKTA_DOMAIN"), "{error}");
    assert_eq!(
        issuer_from_domain("okta_domain", "https://dev-1.okta.com/").unwrap().as_str(),
        "https://dev-1.okta.com/oauth2/default"
    );
    assert_eq!(prompt_value("  "), None);
    assert_eq!(prompt_value(" login  consent ").as_deref(), Some("login consent"));
}
