use super::*;

#[test]
fn a_loopback_issuer_allows_its_authority_and_the_loopback_names_at_its_port_only() {
    let allowed = AllowedHosts::for_issuer("http://127.0.0.1:18080/oauth2/default");
    for good in ["127.0.0.1:18080", "localhost:18080", "LOCALHOST:18080", "[::1]:18080"] {
        assert!(allowed.allows(good), "{good}");
    }
    for bad in [
        "127.0.0.1",
        "127.0.0.1:18081",
        "127.0.0.1:80",
        "localhost.:18080",
        "127.0.0.1.:18080",
        "evil.example:18080",
        "evil.example",
        "127.0.0.1:18080.evil.example",
        "user@127.0.0.1:18080",
        "127.0.0.1:018080",
        "127.0.0.2:18080",
        "0.0.0.0:18080",
        "",
    ] {
        assert!(!allowed.allows(bad), "{bad}");
    }
}

#[test]
fn a_named_issuer_on_the_default_port_allows_its_name_with_and_without_the_port() {
    let allowed = AllowedHosts::for_issuer("http://IdP.Example/oauth2/default");
    for good in ["idp.example", "idp.example:80", "IDP.EXAMPLE", "localhost", "127.0.0.1:80"] {
        assert!(allowed.allows(good), "{good}");
    }
    for bad in ["idp.example:8080", "idp.example.", "evil.example", "idp.example.evil.example"] {
        assert!(!allowed.allows(bad), "{bad}");
    }
}

#[test]
fn an_unparseable_issuer_allows_nothing() {
    assert!(!AllowedHosts::for_issuer("not a url").allows("127.0.0.1:18080"));
}
