//! What a sign-in needs to know: issuer, client, scopes, redirect, prompt,
//! timeouts, DPoP; and the checks of those values ([`RedirectKind::parse`],
//! [`parse_issuer`], [`issuer_from_domain`]), each error naming the setting
//! it was given as.
//!
//! The core reads no file and no environment: where the values come from
//! (defaults < `tessera.toml` < the environment, the opt-in `.env`, the demo
//! defaults, the items API's URL) is the app's, in the `tessera-app` crate
//! (`app::Settings`).

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use openidconnect::{ClientId, IssuerUrl, RedirectUrl};
use url::Url;

use super::error::SigninError;
pub use super::par::ParMode;

/// The demo issuer: dev-idp as `./x run` starts it (the app's demo
/// settings start from it; the core's tests and benches repoint it).
pub const DEMO_ISSUER: &str = "http://127.0.0.1:18080/oauth2/default";
/// The demo client: dev-idp's public desktop client.
pub const DEMO_CLIENT_ID: &str = "tessera-desktop";
/// The scopes asked for by default (`offline_access` for a refresh token).
/// `items:write` is there so that adding, changing and deleting items works
/// after a first sign-in (issue 16, item 8); `OKTA_SCOPES` overrides.
pub const DEFAULT_SCOPES: &str = "openid profile email offline_access items:read items:write";
/// The `prompt` sent when adding or switching accounts (Okta: credentials and consent).
pub const DEFAULT_PROMPT: &str = "login consent";
/// How long a browser sign-in may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// The loopback redirect path.
pub const DEFAULT_CALLBACK_PATH: &str = "/callback";

/// The loopback ports Tessera listens on by default, the first free one
/// taken. Okta compares redirect URIs exactly, port included (a port cannot
/// be a wildcard there), so each is registered at the provider as its own
/// redirect URI: `http://127.0.0.1:8765/callback`, `…:8766/…`, `…:8767/…`.
/// Below the ephemeral range (32768–60999 on Linux), so no outgoing
/// connection holds one by chance.
pub const DEFAULT_LOOPBACK_PORTS: [u16; 3] = [8765, 8766, 8767];

/// Which ports a loopback listener may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoopbackPorts {
    /// The first free one of these, in order (each registered at the
    /// provider): what Okta needs.
    Listed(Vec<u16>),
    /// Any free port, for providers that compare loopback redirect URIs
    /// without their port, as RFC 8252 §7.3 asks.
    Any,
}

impl Default for LoopbackPorts {
    fn default() -> Self {
        Self::Listed(DEFAULT_LOOPBACK_PORTS.to_vec())
    }
}

impl std::fmt::Display for LoopbackPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Any => f.write_str("any"),
            Self::Listed(ports) => {
                let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
                f.write_str(&ports.join(" "))
            }
        }
    }
}

impl LoopbackPorts {
    /// Reads a setting: `any`, or ports separated by spaces or commas
    /// (`8765 8766`), each from 1 to 65535, at least one, none twice.
    ///
    /// # Errors
    /// [`SigninError::InvalidSetting`] naming `setting`.
    pub fn parse(setting: &str, value: &str) -> Result<Self, SigninError> {
        let invalid = |message: String| SigninError::InvalidSetting { setting: setting.to_owned(), message };
        if value.trim().eq_ignore_ascii_case("any") {
            return Ok(Self::Any);
        }
        let mut ports = Vec::new();
        for word in value.split([' ', ',']).filter(|w| !w.is_empty()) {
            let port = word
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| invalid(format!("{word:?} is not a port from 1 to 65535 (or say any)")))?;
            if ports.contains(&port) {
                return Err(invalid(format!("the port {port} is listed twice")));
            }
            ports.push(port);
        }
        if ports.is_empty() {
            return Err(invalid("list at least one port, or say any".to_owned()));
        }
        Ok(Self::Listed(ports))
    }
}

/// Where the provider sends the browser back (RFC 8252 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectKind {
    /// A loopback listener, `http://127.0.0.1:{port}{path}` or
    /// `http://[::1]:{port}{path}` (RFC 8252 §7.3).
    Loopback {
        /// `127.0.0.1` or `::1`.
        ip: IpAddr,
        /// The ports it may take.
        ports: LoopbackPorts,
        /// The path, e.g. `/callback`.
        path: String,
    },
    /// A private-use URI scheme in reverse-DNS form, handed to the app by the
    /// OS (RFC 8252 §7.1), e.g. `com.example.tessera:/callback`.
    Custom(RedirectUrl),
}

impl Default for RedirectKind {
    fn default() -> Self {
        Self::Loopback {
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: LoopbackPorts::default(),
            path: DEFAULT_CALLBACK_PATH.to_owned(),
        }
    }
}

impl RedirectKind {
    /// Reads a redirect URL as configured (`REDIRECT_URL`): `http://127.0.0.1[:port]/path`,
    /// `http://[::1][:port]/path` or a custom scheme. A loopback URL with a
    /// port listens on that port only; without one, on the first free of
    /// [`DEFAULT_LOOPBACK_PORTS`]. `localhost` is refused
    /// (RFC 8252 §8.3: it may resolve to a non-loopback address), as are
    /// `https` and other hosts.
    ///
    /// # Errors
    /// [`SigninError::InvalidSetting`] naming `setting`.
    pub fn parse(setting: &str, value: &str) -> Result<Self, SigninError> {
        let invalid =
            |message: &str| SigninError::InvalidSetting { setting: setting.to_owned(), message: message.to_owned() };
        let url = Url::parse(value).map_err(|e| invalid(&format!("{value:?} is not a URL ({e})")))?;
        match url.scheme() {
            "http" => {
                let ip = match url.host() {
                    Some(url::Host::Ipv4(ip)) if ip.is_loopback() => IpAddr::V4(ip),
                    Some(url::Host::Ipv6(ip)) if ip.is_loopback() => IpAddr::V6(ip),
                    Some(url::Host::Domain("localhost")) => {
                        return Err(invalid(
                            "use http://127.0.0.1 or http://[::1] instead of localhost (RFC 8252 §8.3)",
                        ));
                    }
                    _ => return Err(invalid("an http redirect must be on 127.0.0.1 or [::1]")),
                };
                if url.query().is_some() || url.fragment().is_some() {
                    return Err(invalid("a redirect URL has no query or fragment"));
                }
                let ports = match url.port().filter(|p| *p != 0) {
                    Some(port) => LoopbackPorts::Listed(vec![port]),
                    None => LoopbackPorts::default(),
                };
                Ok(Self::Loopback { ip, ports, path: url.path().to_owned() })
            }
            "https" => Err(invalid("a native app redirects to a loopback http URL or a custom scheme")),
            scheme if scheme.contains('.') => Ok(Self::Custom(RedirectUrl::from_url(url))),
            _ => Err(invalid("a custom scheme must be in reverse-DNS form, e.g. com.example.tessera:/callback")),
        }
    }
}

/// Everything a sign-in needs to know.
#[derive(Debug, Clone)]
pub struct SigninConfig {
    /// The issuer (Okta: `https://{domain}/oauth2/default`).
    pub issuer: IssuerUrl,
    /// The app's client id (a public client: no secret).
    pub client_id: ClientId,
    /// The scopes to ask for.
    pub scopes: Vec<String>,
    /// Where the browser comes back.
    pub redirect: RedirectKind,
    /// The `prompt` for adding or switching accounts (`None`: send none).
    pub prompt: Option<String>,
    /// How long to wait for the browser.
    pub timeout: Duration,
    /// How long one request to the provider may take, its answer included.
    pub http_timeout: Duration,
    /// The HTTP client's trust (the system's store, a CA file: a company's
    /// TLS-inspecting proxy or internal CA) and proxies (`HTTPS_PROXY`,
    /// `NO_PROXY`, …; loopback never proxied). The default trusts the
    /// system's store and the webpki roots and uses no proxy.
    pub net: net::NetSettings,
    /// Whether to bind tokens to a key of this device (DPoP, RFC 9449) when
    /// the provider's discovery offers ES256 proofs. The client must be
    /// allowed DPoP at the provider (Okta: "Require DPoP header in token
    /// requests").
    pub dpop: bool,
    /// Whether authorization requests are pushed first (RFC 9126):
    /// `auto` (when offered; a refused push falls back to a plain request),
    /// `always` or `never`.
    pub par: ParMode,
    /// Where the provider sends the browser after signing out there
    /// (`post_logout_redirect_uri`, registered at the provider): a loopback
    /// URL with its port, whose page Tessera serves, or the app's custom
    /// scheme. `None`: none is sent, and the provider shows its own page.
    pub post_logout_redirect: Option<Url>,
    /// The scopes a service asks for when it signs in with its own
    /// identity (client credentials; the tutorials' `OKTA_SCOPE`). `None`:
    /// [`scopes`](Self::scopes) without OpenID Connect's scopes for people
    /// (see [`service_scopes`](Self::service_scopes)).
    pub client_credentials_scopes: Option<Vec<String>>,
}

impl SigninConfig {
    /// A sign-in at `issuer` as `client_id`, with the default scopes
    /// ([`DEFAULT_SCOPES`]), a loopback redirect on the first free of [`DEFAULT_LOOPBACK_PORTS`], the
    /// default prompt and timeouts, and no DPoP.
    #[must_use]
    pub fn new(issuer: IssuerUrl, client_id: ClientId) -> Self {
        Self {
            issuer,
            client_id,
            scopes: split_scopes(DEFAULT_SCOPES),
            redirect: RedirectKind::default(),
            prompt: Some(DEFAULT_PROMPT.to_owned()),
            timeout: DEFAULT_TIMEOUT,
            http_timeout: super::http::DEFAULT_TIMEOUT,
            net: net::NetSettings::default(),
            dpop: false,
            par: ParMode::Auto,
            post_logout_redirect: None,
            client_credentials_scopes: None,
        }
    }

    /// The scopes a service asks for with client credentials:
    /// [`client_credentials_scopes`](Self::client_credentials_scopes) when
    /// set, else the configured scopes without those that only make sense
    /// for a person (`openid`, `profile`, `email`, `address`, `phone`,
    /// `offline_access`), which a provider refuses to a client acting for
    /// itself.
    #[must_use]
    pub fn service_scopes(&self) -> Vec<String> {
        const PERSON: [&str; 6] = ["openid", "profile", "email", "address", "phone", "offline_access"];
        match &self.client_credentials_scopes {
            Some(scopes) => scopes.clone(),
            None => self.scopes.iter().filter(|s| !PERSON.contains(&s.as_str())).cloned().collect(),
        }
    }

    /// [`SigninConfig::new`] at the demo provider ([`DEMO_ISSUER`],
    /// [`DEMO_CLIENT_ID`]).
    ///
    /// # Panics
    /// Never: the constant is a valid URL (checked by a unit test).
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn demo() -> Self {
        Self::new(
            IssuerUrl::new(DEMO_ISSUER.to_owned()).expect("a valid constant"),
            ClientId::new(DEMO_CLIENT_ID.to_owned()),
        )
    }
}

/// Splits a space-separated scope string (RFC 6749 §3.3).
#[must_use]
pub fn split_scopes(scopes: &str) -> Vec<String> {
    scopes.split_whitespace().map(str::to_owned).collect()
}

/// A configured `prompt`: an empty value sends none; anything else is sent
/// exactly as given (whitespace normalised): the tutorial's
/// `OKTA_PROMPT=consent` stays `consent`.
#[must_use]
pub fn prompt_value(value: &str) -> Option<String> {
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    (!value.is_empty()).then_some(value)
}

/// The issuer of an Okta domain's default authorization server,
/// `https://{domain}/oauth2/default` (`OKTA_DOMAIN`).
///
/// # Errors
/// [`SigninError::InvalidSetting`] naming `setting`.
pub fn issuer_from_domain(setting: &str, domain: &str) -> Result<IssuerUrl, SigninError> {
    let domain = domain.trim().trim_start_matches("https://").trim_end_matches('/');
    if domain.is_empty() || domain.contains('/') {
        return Err(SigninError::InvalidSetting {
            setting: setting.to_owned(),
            message: format!("{domain:?} is not a domain such as dev-123456.okta.com"),
        });
    }
    parse_issuer(setting, &format!("https://{domain}/oauth2/default"))
}

/// An issuer as configured: `https`, or `http` on loopback only.
///
/// # Errors
/// [`SigninError::InvalidSetting`] naming `setting`.
pub fn parse_issuer(setting: &str, value: &str) -> Result<IssuerUrl, SigninError> {
    let value = value.trim().trim_end_matches('/');
    let url = Url::parse(value).map_err(|e| SigninError::InvalidSetting {
        setting: setting.to_owned(),
        message: format!("{value:?} is not a URL ({e})"),
    })?;
    let local = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || url.host_str() == Some("localhost");
    if url.scheme() != "https" && !(url.scheme() == "http" && local) {
        return Err(SigninError::InvalidSetting {
            setting: setting.to_owned(),
            message: "an issuer must use https (http only on loopback)".to_owned(),
        });
    }
    IssuerUrl::new(value.to_owned())
        .map_err(|e| SigninError::InvalidSetting { setting: setting.to_owned(), message: e.to_string() })
}

#[cfg(test)]
mod tests;

/// Reads a sign-out redirect URI (`post_logout_redirect_uri`): the app's
/// custom scheme (`com.example.tessera:/signed-out`), or a loopback IP URL
/// with its port (`http://127.0.0.1:8765/signed-out`): registered exactly
/// at the provider, so the port cannot be left to chance.
///
/// # Errors
/// [`SigninError::InvalidSetting`] naming `setting`.
pub fn parse_post_logout_redirect(setting: &str, value: &str) -> Result<Url, SigninError> {
    let invalid =
        |message: &str| SigninError::InvalidSetting { setting: setting.to_owned(), message: message.to_owned() };
    let kind = RedirectKind::parse(setting, value.trim())?;
    let url = Url::parse(value.trim()).map_err(|e| invalid(&e.to_string()))?;
    if matches!(kind, RedirectKind::Loopback { .. }) && url.port().is_none() {
        return Err(invalid("give the port, as registered at the provider (http://127.0.0.1:8765/signed-out)"));
    }
    Ok(url)
}
