//! Redirect URI registration and matching (RFC 6749 §3.1.2, RFC 8252 §7).
//!
//! Two ways to compare, chosen by `loopback_any_port` (provider-wide, or
//! per client): exactly, port included, as Okta does ("port number
//! mismatch" is one of the causes of its `redirect_uri` 400 page); or with
//! any port for a loopback IP URI, as RFC 8252 §7.3 allows.

use std::net::{Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// A redirect (or post-logout redirect) URI as registered for a client.
#[derive(Debug, Clone)]
pub(crate) struct RegisteredUri {
    url: Url,
    /// `http://127.0.0.1/…` or `http://[::1]/…`: any port matches (RFC 8252 §7.3).
    loopback: bool,
}

/// Why a registered URI was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RegistrationError {
    #[error("{uri:?} is not an absolute URI")]
    NotAbsolute { uri: String },
    #[error("{uri:?} has a fragment, which redirect URIs must not have (RFC 6749 §3.1.2)")]
    Fragment { uri: String },
}

impl RegisteredUri {
    pub(crate) fn parse(uri: &str) -> Result<Self, RegistrationError> {
        let url = Url::parse(uri).map_err(|_| RegistrationError::NotAbsolute { uri: uri.to_owned() })?;
        if url.fragment().is_some() {
            return Err(RegistrationError::Fragment { uri: uri.to_owned() });
        }
        let loopback = url.scheme() == "http" && is_loopback_ip(&url);
        Ok(Self { url, loopback })
    }

    /// Whether a URI presented in a request is this registered one: exact
    /// (scheme, host, port, path, query), except that with `any_port` the
    /// port of a loopback IP URI may differ (RFC 8252 §7.3). `localhost` is
    /// not a loopback IP literal and matches only exactly (RFC 8252 §8.3).
    pub(crate) fn matches(&self, presented: &Url, any_port: bool) -> bool {
        if presented.fragment().is_some() {
            return false;
        }
        if !(self.loopback && any_port) {
            return &self.url == presented;
        }
        presented.scheme() == "http"
            && presented.username().is_empty()
            && presented.password().is_none()
            && presented.host() == self.url.host()
            && presented.path() == self.url.path()
            && presented.query() == self.url.query()
    }
}

fn is_loopback_ip(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
        _ => false,
    }
}

/// Finds the registered URI that `presented` matches; `any_port` lets a
/// loopback IP URI match on any port (see [`RegisteredUri::matches`]).
pub(crate) fn find_match(registered: &[String], presented: &str, any_port: bool) -> Option<Url> {
    let url = Url::parse(presented).ok()?;
    registered.iter().filter_map(|uri| RegisteredUri::parse(uri).ok()).any(|r| r.matches(&url, any_port)).then_some(url)
}

/// What the person is told when `presented` matches no registered URI of
/// `client_id` (`what`: "redirect_uri" or "post_logout_redirect_uri"): the
/// URI as sent, and how it must be registered.
pub(crate) fn unregistered(what: &str, presented: &str, client_id: &str, any_port: bool) -> String {
    if any_port {
        format!(
            "The {what} {presented:?} is not registered for {client_id}. Register it exactly; \
             for http://127.0.0.1 and http://[::1] the port may differ."
        )
    } else {
        format!(
            "The {what} {presented:?} is not registered for {client_id}. It must be registered exactly \
             as sent, port included (this provider, like Okta, compares redirect URIs exactly)."
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(registered: &str, presented: &str) -> bool {
        find_match(&[registered.to_owned()], presented, true).is_some()
    }

    fn matches_exactly(registered: &str, presented: &str) -> bool {
        find_match(&[registered.to_owned()], presented, false).is_some()
    }

    #[test]
    fn without_any_port_loopback_uris_match_exactly_port_included() {
        assert!(matches_exactly("http://127.0.0.1:8765/callback", "http://127.0.0.1:8765/callback"));
        assert!(matches_exactly("http://[::1]:8765/callback", "http://[::1]:8765/callback"));
        assert!(!matches_exactly("http://127.0.0.1:8765/callback", "http://127.0.0.1:8766/callback"));
        assert!(!matches_exactly("http://127.0.0.1/callback", "http://127.0.0.1:8765/callback"));
        assert!(!matches_exactly("http://127.0.0.1:8765/callback", "http://localhost:8765/callback"));
        assert!(!matches_exactly("http://127.0.0.1:8765/callback", "http://127.0.0.1:8765/callback/"));
        assert!(matches_exactly("com.example.tessera:/callback", "com.example.tessera:/callback"));
    }

    #[test]
    fn loopback_ip_matches_any_port_but_nothing_else_differs() {
        assert!(matches("http://127.0.0.1/callback", "http://127.0.0.1:49152/callback"));
        assert!(matches("http://127.0.0.1/callback", "http://127.0.0.1/callback"));
        assert!(matches("http://[::1]/callback", "http://[::1]:8080/callback"));
        assert!(!matches("http://127.0.0.1/callback", "http://127.0.0.1:49152/callback/x"));
        assert!(!matches("http://127.0.0.1/callback", "http://127.0.0.1:1/other"));
        assert!(!matches("http://127.0.0.1/callback", "https://127.0.0.1:1/callback"));
        assert!(!matches("http://127.0.0.1/callback", "http://127.0.0.2:1/callback"));
        assert!(!matches("http://127.0.0.1/callback", "http://[::1]:1/callback"));
        assert!(!matches("http://127.0.0.1/callback", "http://127.0.0.1:1/callback?x=1"));
        assert!(!matches("http://127.0.0.1/callback", "http://u:p@127.0.0.1:1/callback"));
        assert!(!matches("http://127.0.0.1/callback", "http://127.0.0.1:1/callback#f"));
    }

    #[test]
    fn localhost_and_other_hosts_match_exactly() {
        assert!(matches("http://localhost/cb", "http://localhost/cb"));
        assert!(!matches("http://localhost/cb", "http://localhost:8080/cb"));
        assert!(!matches("https://app.example/cb", "https://app.example:8443/cb"));
        assert!(matches("com.example.tessera:/callback", "com.example.tessera:/callback"));
        assert!(!matches("com.example.tessera:/callback", "com.example.tessera:/callbackx"));
        assert!(!matches("com.example.tessera:/callback", "com.evil.tessera:/callback"));
        assert!(!matches("com.example.tessera:/callback", "not a uri"));
    }

    #[test]
    fn registration_refuses_fragments_and_relative_uris() {
        assert!(RegisteredUri::parse("http://127.0.0.1/cb#x").is_err());
        assert!(RegisteredUri::parse("/callback").is_err());
    }
}
