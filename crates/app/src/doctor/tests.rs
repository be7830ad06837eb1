use std::net::{IpAddr, Ipv4Addr};

use openidconnect::{ClientId, IssuerUrl, RedirectUrl};

use super::*;

#[test]
fn http_dates_are_read() {
    let date = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
    assert_eq!(date, SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777));
    let date = parse_http_date("Mon, 07 Dec 2026 03:25:03 GMT").unwrap();
    assert_eq!(date, SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_613_903));
    for bad in ["", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 CET"] {
        assert_eq!(parse_http_date(bad), None, "{bad}");
    }
}

#[test]
fn the_clock_fails_beyond_a_minute_either_way() {
    let date = "Sun, 06 Nov 1994 08:49:37 GMT";
    let theirs = parse_http_date(date).unwrap();
    for (now, ok) in [
        (theirs, true),
        (theirs + Duration::from_secs(60), true),
        (theirs - Duration::from_secs(60), true),
        (theirs + Duration::from_secs(61), false),
        (theirs - Duration::from_secs(3600), false),
    ] {
        let check = clock_check(Some(date), now);
        assert_eq!(check.ok, ok, "{check:?}");
    }
    let check = clock_check(Some(date), theirs - Duration::from_secs(3600));
    assert!(check.detail.contains("3600 s behind"), "{check:?}");
    assert!(clock_check(None, theirs).ok, "no Date: not compared");
}

#[test]
fn the_org_server_is_told_apart_from_a_custom_one() {
    let check = |issuer: &str| authorization_server(&IssuerUrl::new(issuer.to_owned()).unwrap());
    let org = check("https://dev-1.okta.com");
    assert!(!org.ok && org.detail.contains("https://dev-1.okta.com/oauth2/default"), "{org:?}");
    let custom = check("https://dev-1.okta.com/oauth2/default");
    assert!(custom.ok && custom.detail.contains("(default)"), "{custom:?}");
    assert!(check("https://dev-1.okta.com/oauth2/aus42").ok);
    assert!(check("https://accounts.example.com/realms/x").ok, "another provider");
}

#[test]
fn every_redirect_uri_to_register() {
    let mut config = SigninConfig::new(
        IssuerUrl::new("https://dev-1.okta.com/oauth2/default".to_owned()).unwrap(),
        ClientId::new("0oa".to_owned()),
    );
    let uris = register(&config).redirect_uris;
    assert_eq!(
        uris,
        [
            "http://127.0.0.1:8765/callback",
            "http://127.0.0.1:8766/callback",
            "http://127.0.0.1:8767/callback",
            "http://[::1]:8765/callback",
            "http://[::1]:8766/callback",
            "http://[::1]:8767/callback",
        ]
    );
    config.redirect = RedirectKind::Loopback {
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        ports: LoopbackPorts::Listed(vec![9001]),
        path: "/cb".to_owned(),
    };
    assert_eq!(register(&config).redirect_uris, ["http://127.0.0.1:9001/cb", "http://[::1]:9001/cb"]);
    config.redirect = RedirectKind::Custom(RedirectUrl::new("com.example.tessera:/callback".to_owned()).unwrap());
    let register = register(&config);
    assert_eq!(register.redirect_uris.len(), 7);
    assert_eq!(register.redirect_uris.last().map(String::as_str), Some("com.example.tessera:/callback"));
    assert_eq!(register.grant_types, GRANT_TYPES);
}

/// The items API's scopes, as its /openapi.json names them, against the
/// configured ones: reading needs its read scope (else the check fails,
/// naming it and the setting); without its write scope items are read-only.
#[test]
fn the_items_apis_scopes_are_checked_against_the_configured_ones() {
    let document = serde_json::json!({ "paths": { "/v1/items": {
        "get": { "security": [{ "bearer": ["read_things"] }] },
        "post": { "security": [{ "bearer": ["write_things"] }] },
    }}});
    let configured = |scopes: &str| scopes.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let both = scope_check(&document, &configured("openid read_things write_things"));
    assert!(both.ok && both.detail.contains("read_things") && both.detail.contains("write_things"), "{both:?}");
    let reader = scope_check(&document, &configured("openid read_things"));
    assert!(reader.ok && reader.detail.contains("not configured: items can be read but not changed"), "{reader:?}");
    let none = scope_check(&document, &configured("openid items:read items:write"));
    assert!(!none.ok && none.detail.contains("read_things") && none.detail.contains("OKTA_SCOPES"), "{none:?}");
    assert_eq!(none.name, CheckName::ItemsApiScopes);
    let undescribed = scope_check(&serde_json::json!({}), &configured("openid items:read"));
    assert!(!undescribed.ok, "{undescribed:?}");
}
