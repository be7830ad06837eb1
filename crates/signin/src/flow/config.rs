//! Where Tessera signs in: issuer, client, scopes, redirect, prompt.
//!
//! Layers, each overriding the one before: built-in defaults, the TOML file
//! `tessera.toml` in the platform config directory, then the environment
//! with the Okta tutorials' names. There is no default provider: unless the
//! file or the environment names one, [`SigninConfig::load_from`] answers
//! [`SigninError::NoProvider`] and nothing is contacted (issue 23); only a
//! demo that starts its own provider takes the demo defaults
//! ([`SigninConfig::demo_from`]). A `.env`
//! file is read only when asked for by path (`--env-file PATH` on the CLI,
//! [`ENV_FILE_VAR`] for the CLI and the desktop app), and then only fills in
//! what the real environment does not set: a `.env` that happens to be in the
//! working folder (a cloned repository's) is never read, so it cannot choose
//! where tokens go (issue 14, item 2).
//!
//! | Environment | File key | Meaning |
//! |---|---|---|
//! | `OKTA_DOMAIN` | `okta_domain` | issuer `https://{domain}/oauth2/default` |
//! | `OKTA_ISSUER` | `issuer` | the issuer (wins over the domain) |
//! | `CLIENT_ID`, `OKTA_CLIENT_ID` | `client_id` | the public client (`CLIENT_ID` wins) |
//! | `OKTA_SCOPES` | `scopes` | space-separated scopes (must hold `openid`) |
//! | `REDIRECT_URL` | `redirect_url` | `http://127.0.0.1[:port]/path`, `http://[::1]…`, or `com.example.tessera:/callback` |
//! | `OKTA_PROMPT` | `prompt` | `prompt` for adding/switching accounts, sent as given; empty: none |
//! | `ITEMS_API_URL` | `items_api_url` | the items API (`https`, or `http` on 127.0.0.0/8 or `[::1]` only) |
//! | `SIGNIN_TIMEOUT_SECS` | `timeout_secs` | how long a browser sign-in may take |
//! | `SIGNIN_HTTP_TIMEOUT_SECS` | `http_timeout_secs` | how long one request to the provider may take (30 s) |
//! | `SIGNIN_DPOP` | `dpop` | bind tokens to a key of this device (DPoP, RFC 9449) when the provider offers it (`true`/`false`, default `false`) |
//!
//! Every error names the setting it is about.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use openidconnect::{ClientId, IssuerUrl, RedirectUrl};
use serde::{Deserialize, Serialize};
use url::Url;

use super::error::SigninError;

/// The demo issuer: dev-idp as `./x run` starts it.
pub const DEMO_ISSUER: &str = "http://127.0.0.1:18080/oauth2/default";
/// The demo client: dev-idp's public desktop client.
pub const DEMO_CLIENT_ID: &str = "tessera-desktop";
/// The scopes asked for by default (`offline_access` for a refresh token).
pub const DEFAULT_SCOPES: &str = "openid profile email offline_access items:read";
/// The `prompt` sent when adding or switching accounts (Okta: credentials and consent).
pub const DEFAULT_PROMPT: &str = "login consent";
/// The items API of the demo stack.
pub const DEFAULT_ITEMS_API: &str = "http://127.0.0.1:8081";
/// How long a browser sign-in may take.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// The loopback redirect path.
pub const DEFAULT_CALLBACK_PATH: &str = "/callback";
/// The name of the configuration file in the platform config directory.
pub const CONFIG_FILE_NAME: &str = "tessera.toml";
/// The environment variable naming a `.env`-style file to read settings
/// from (opt-in: no such file is read unless named).
pub const ENV_FILE_VAR: &str = "TESSERA_ENV_FILE";

/// Where the provider sends the browser back (RFC 8252 §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectKind {
    /// A loopback listener, `http://127.0.0.1:{port}{path}` or
    /// `http://[::1]:{port}{path}` (RFC 8252 §7.3).
    Loopback {
        /// `127.0.0.1` or `::1`.
        ip: IpAddr,
        /// A fixed port, or `None` for any free port.
        port: Option<u16>,
        /// The path, e.g. `/callback`.
        path: String,
    },
    /// A private-use URI scheme in reverse-DNS form, handed to the app by the
    /// OS (RFC 8252 §7.1), e.g. `com.example.tessera:/callback`.
    Custom(RedirectUrl),
}

impl Default for RedirectKind {
    fn default() -> Self {
        Self::Loopback { ip: IpAddr::V4(Ipv4Addr::LOCALHOST), port: None, path: DEFAULT_CALLBACK_PATH.to_owned() }
    }
}

impl RedirectKind {
    /// Reads a redirect URL as configured (`REDIRECT_URL`): `http://127.0.0.1[:port]/path`,
    /// `http://[::1][:port]/path` or a custom scheme. `localhost` is refused
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
                let port = url.port().filter(|p| *p != 0);
                Ok(Self::Loopback { ip, port, path: url.path().to_owned() })
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
    /// The items API's base URL.
    pub items_api: Url,
    /// How long to wait for the browser.
    pub timeout: Duration,
    /// How long one request to the provider may take, its answer included.
    pub http_timeout: Duration,
    /// Whether to bind tokens to a key of this device (DPoP, RFC 9449) when
    /// the provider's discovery offers ES256 proofs. The client must be
    /// allowed DPoP at the provider (Okta: "Require DPoP header in token
    /// requests").
    pub dpop: bool,
}

impl SigninConfig {
    /// The demo configuration: dev-idp on its demo port.
    ///
    /// # Panics
    /// Never: the constants are valid URLs (checked by a unit test).
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn demo() -> Self {
        Self {
            issuer: IssuerUrl::new(DEMO_ISSUER.to_owned()).expect("a valid constant"),
            client_id: ClientId::new(DEMO_CLIENT_ID.to_owned()),
            scopes: split_scopes(DEFAULT_SCOPES),
            redirect: RedirectKind::default(),
            prompt: Some(DEFAULT_PROMPT.to_owned()),
            items_api: Url::parse(DEFAULT_ITEMS_API).expect("a valid constant"),
            timeout: DEFAULT_TIMEOUT,
            http_timeout: super::http::DEFAULT_TIMEOUT,
            dpop: false,
        }
    }

    /// The configuration file's usual place: `tessera.toml` in the platform
    /// config directory (`~/.config/tessera/` on Linux).
    #[must_use]
    pub fn default_file() -> Option<PathBuf> {
        directories::ProjectDirs::from("com", "example", "tessera").map(|d| d.config_dir().join(CONFIG_FILE_NAME))
    }

    /// Loads the configuration as the app does: defaults, the file in the
    /// platform config dir (if present) and the process environment, with
    /// the file named by [`ENV_FILE_VAR`] (if set) filling in what the
    /// environment does not set. No `.env` in the working folder is read.
    ///
    /// # Errors
    /// When a file cannot be read, or a setting is invalid.
    pub fn load() -> Result<Self, SigninError> {
        Self::load_with_env_file(env_file_from_process().as_deref())
    }

    /// As [`SigninConfig::load`], with `env_file` (the CLI's `--env-file`)
    /// as the only `.env`-style file read; `None` reads none.
    ///
    /// # Errors
    /// When a file cannot be read (a named `env_file` that does not exist
    /// included), or a setting is invalid.
    pub fn load_with_env_file(env_file: Option<&Path>) -> Result<Self, SigninError> {
        let env = process_env(env_file)?;
        Self::load_from(Self::default_file().as_deref(), |name| env(name))
    }

    /// Loads from an optional file (ignored when it does not exist) and an
    /// environment lookup (tests pass a closure over a map). A provider must
    /// be named (`OKTA_ISSUER` / `OKTA_DOMAIN`, or the file's `issuer` /
    /// `okta_domain`): there is no default one, so nothing configured never
    /// means trusting whatever answers on a local port (issue 23).
    ///
    /// # Errors
    /// When the file cannot be read or parsed, or a setting is invalid (the
    /// error names the setting); [`SigninError::NoProvider`] when nothing
    /// names a provider.
    pub fn load_from(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, SigninError> {
        let (config, source) = Self::layered(file, env)?;
        if source == ProviderSource::Demo {
            return Err(SigninError::NoProvider);
        }
        Ok(config)
    }

    /// The demo defaults with the file and the environment over them, for a
    /// demo that starts its own provider in-process (`tessera demo`, the
    /// desktop's demo mode) and then points the issuer, client and items
    /// API at it (`DemoStack::configure` in the demo crate); never
    /// for signing in elsewhere.
    ///
    /// # Errors
    /// As [`load_from`](Self::load_from), except that no provider needs to
    /// be named.
    pub fn demo_from(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, SigninError> {
        Self::layered(file, env).map(|(config, _)| config)
    }

    /// The demo defaults, the file, then the environment; and where the
    /// provider came from.
    fn layered(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(Self, ProviderSource), SigninError> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let file = file.map(ConfigFile::read).transpose()?.flatten();
        let mut source = ProviderSource::Demo;
        if file.as_ref().is_some_and(|f| f.issuer.is_some() || f.okta_domain.is_some()) {
            source = ProviderSource::File;
        }
        if env("OKTA_ISSUER").is_some() || env("OKTA_DOMAIN").is_some() {
            source = ProviderSource::Environment;
        }
        let mut config = Self::demo();
        if let Some(file) = file {
            config.apply_file(file)?;
        }
        config.apply_env(&env)?;
        Ok((config, source))
    }

    /// The configuration `file` describes over the demo defaults (no
    /// environment): what a settings screen saves, checked before saving.
    ///
    /// # Errors
    /// When a setting is invalid; the error names it.
    pub fn from_file(file: &ConfigFile) -> Result<Self, SigninError> {
        let mut config = Self::demo();
        config.apply_file(file.clone())?;
        config.apply_env(&|_| None)?;
        Ok(config)
    }

    fn apply_file(&mut self, file: ConfigFile) -> Result<(), SigninError> {
        if let Some(domain) = file.okta_domain {
            self.issuer = issuer_from_domain("okta_domain", &domain)?;
        }
        if let Some(issuer) = file.issuer {
            self.issuer = parse_issuer("issuer", &issuer)?;
        }
        if let Some(client_id) = file.client_id {
            self.client_id = ClientId::new(client_id);
        }
        if let Some(scopes) = file.scopes {
            self.scopes = split_scopes(&scopes);
        }
        if let Some(redirect) = file.redirect_url {
            self.redirect = RedirectKind::parse("redirect_url", &redirect)?;
        }
        if let Some(prompt) = file.prompt {
            self.prompt = prompt_value(&prompt);
        }
        if let Some(items) = file.items_api_url {
            self.items_api = parse_items_api("items_api_url", &items)?;
        }
        if let Some(secs) = file.timeout_secs {
            self.timeout = timeout("timeout_secs", secs)?;
        }
        if let Some(secs) = file.http_timeout_secs {
            self.http_timeout = timeout("http_timeout_secs", secs)?;
        }
        if let Some(dpop) = file.dpop {
            self.dpop = dpop;
        }
        Ok(())
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), SigninError> {
        if let Some(domain) = env("OKTA_DOMAIN") {
            self.issuer = issuer_from_domain("OKTA_DOMAIN", &domain)?;
        }
        if let Some(issuer) = env("OKTA_ISSUER") {
            self.issuer = parse_issuer("OKTA_ISSUER", &issuer)?;
        }
        if let Some(client_id) = env("OKTA_CLIENT_ID") {
            self.client_id = ClientId::new(client_id.trim().to_owned());
        }
        if let Some(client_id) = env("CLIENT_ID") {
            self.client_id = ClientId::new(client_id.trim().to_owned());
        }
        if let Some(scopes) = env("OKTA_SCOPES") {
            self.scopes = split_scopes(&scopes);
        }
        if let Some(redirect) = env("REDIRECT_URL") {
            self.redirect = RedirectKind::parse("REDIRECT_URL", redirect.trim())?;
        }
        if let Some(prompt) = env("OKTA_PROMPT") {
            self.prompt = prompt_value(&prompt);
        }
        if let Some(items) = env("ITEMS_API_URL") {
            self.items_api = parse_items_api("ITEMS_API_URL", items.trim())?;
        }
        if let Some(secs) = env("SIGNIN_TIMEOUT_SECS") {
            self.timeout = timeout("SIGNIN_TIMEOUT_SECS", seconds("SIGNIN_TIMEOUT_SECS", &secs)?)?;
        }
        if let Some(secs) = env("SIGNIN_HTTP_TIMEOUT_SECS") {
            self.http_timeout = timeout("SIGNIN_HTTP_TIMEOUT_SECS", seconds("SIGNIN_HTTP_TIMEOUT_SECS", &secs)?)?;
        }
        if let Some(dpop) = env("SIGNIN_DPOP") {
            self.dpop = match dpop.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" | "" => false,
                _ => {
                    return Err(SigninError::InvalidSetting {
                        setting: "SIGNIN_DPOP".to_owned(),
                        message: "must be true or false".to_owned(),
                    });
                }
            };
        }
        if self.client_id.as_str().is_empty() {
            return Err(SigninError::InvalidSetting {
                setting: "CLIENT_ID".to_owned(),
                message: "is empty".to_owned(),
            });
        }
        if !self.scopes.iter().any(|s| s == "openid") {
            return Err(SigninError::InvalidSetting {
                setting: "scopes".to_owned(),
                message: "must include openid".to_owned(),
            });
        }
        Ok(())
    }
}

/// The environment variables the configuration reads, in the order they
/// are applied.
pub const ENV_NAMES: [&str; 11] = [
    "OKTA_DOMAIN",
    "OKTA_ISSUER",
    "OKTA_CLIENT_ID",
    "CLIENT_ID",
    "OKTA_SCOPES",
    "REDIRECT_URL",
    "OKTA_PROMPT",
    "ITEMS_API_URL",
    "SIGNIN_TIMEOUT_SECS",
    "SIGNIN_HTTP_TIMEOUT_SECS",
    "SIGNIN_DPOP",
];

/// Where the provider (the issuer) a configuration signs in with comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderSource {
    /// Nothing names one: the demo provider.
    Demo,
    /// The configuration file.
    File,
    /// The environment (or the file named by `--env-file` /
    /// [`ENV_FILE_VAR`]), which wins over the configuration file.
    Environment,
}

impl ProviderSource {
    /// Finds where the provider comes from, as [`SigninConfig::load_from`]
    /// would read it.
    ///
    /// # Errors
    /// When the file exists but cannot be read or parsed.
    pub fn find(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, SigninError> {
        let set = |name: &str| env(name).is_some_and(|v| !v.trim().is_empty());
        if set("OKTA_ISSUER") || set("OKTA_DOMAIN") {
            return Ok(Self::Environment);
        }
        let file = file.map(ConfigFile::read).transpose()?.flatten();
        if file.is_some_and(|f| f.issuer.is_some() || f.okta_domain.is_some()) {
            return Ok(Self::File);
        }
        Ok(Self::Demo)
    }
}

/// The configuration file (`tessera.toml`): every key optional, unknown keys
/// refused. The desktop's settings screen writes it; the CLI reads it too.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `https://{okta_domain}/oauth2/default` as the issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub okta_domain: Option<String>,
    /// The issuer (wins over `okta_domain`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The public client's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Space-separated scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<String>,
    /// The redirect URL (loopback or custom scheme).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    /// The `prompt` for adding or switching accounts (empty: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The items API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_api_url: Option<String>,
    /// How long a browser sign-in may take, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// How long one request to the provider may take, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_timeout_secs: Option<u64>,
    /// Whether to bind tokens to a key of this device (DPoP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop: Option<bool>,
}

impl ConfigFile {
    /// Reads the file at `path`; `None` when it does not exist.
    ///
    /// # Errors
    /// [`SigninError::ConfigRead`], [`SigninError::ConfigParse`].
    pub fn read(path: &Path) -> Result<Option<Self>, SigninError> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text)
                .map(Some)
                .map_err(|source| SigninError::ConfigParse { path: path.to_owned(), source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SigninError::ConfigRead { path: path.to_owned(), source }),
        }
    }

    /// Writes the file at `path` (creating its folder), replacing it in one
    /// step: a reader sees the old file or the new one, never half of it.
    ///
    /// # Errors
    /// [`SigninError::ConfigWrite`].
    pub fn write(&self, path: &Path) -> Result<(), SigninError> {
        let failed = |source: std::io::Error| SigninError::ConfigWrite { path: path.to_owned(), source };
        let text = toml::to_string(self).map_err(|e| failed(std::io::Error::other(e)))?;
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(folder).map_err(failed)?;
        let temporary = folder.join(format!(".{CONFIG_FILE_NAME}.tmp"));
        std::fs::write(&temporary, text).map_err(failed)?;
        std::fs::rename(&temporary, path).map_err(failed)
    }

    /// Removes the file (nothing to do when it does not exist).
    ///
    /// # Errors
    /// [`SigninError::ConfigWrite`].
    pub fn remove(path: &Path) -> Result<(), SigninError> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(SigninError::ConfigWrite { path: path.to_owned(), source: e })
            }
            _ => Ok(()),
        }
    }
}

/// Reads `KEY=value` pairs from a `.env`-style file named on purpose
/// (`--env-file`, [`ENV_FILE_VAR`]).
///
/// # Errors
/// [`SigninError::DotEnv`] when the file does not exist, cannot be read or
/// cannot be parsed: a file asked for is never silently skipped.
pub fn read_env_file(path: &Path) -> Result<HashMap<String, String>, SigninError> {
    let failed = |source| SigninError::DotEnv { path: path.to_owned(), source };
    dotenvy::from_path_iter(path).map_err(failed)?.map(|item| item.map_err(failed)).collect()
}

/// The file [`ENV_FILE_VAR`] names in the process environment, if set and
/// not empty.
#[must_use]
pub fn env_file_from_process() -> Option<PathBuf> {
    std::env::var_os(ENV_FILE_VAR).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// The setting lookup of a process: its environment, then `env_file` (if
/// any) for what the environment does not set. Empty values count as unset.
///
/// # Errors
/// As [`read_env_file`].
pub fn process_env(
    env_file: Option<&Path>,
) -> Result<impl Fn(&str) -> Option<String> + Send + Sync + 'static, SigninError> {
    let file = env_file.map(read_env_file).transpose()?.unwrap_or_default();
    Ok(move |name: &str| std::env::var(name).ok().or_else(|| file.get(name).cloned()).filter(|v| !v.trim().is_empty()))
}

/// Splits a space-separated scope string (RFC 6749 §3.3).
#[must_use]
pub fn split_scopes(scopes: &str) -> Vec<String> {
    scopes.split_whitespace().map(str::to_owned).collect()
}

/// An empty value sends no prompt; anything else is sent exactly as given
/// (whitespace normalised): the tutorial's `OKTA_PROMPT=consent` stays `consent`.
fn prompt_value(value: &str) -> Option<String> {
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    (!value.is_empty()).then_some(value)
}

fn issuer_from_domain(setting: &str, domain: &str) -> Result<IssuerUrl, SigninError> {
    let domain = domain.trim().trim_start_matches("https://").trim_end_matches('/');
    if domain.is_empty() || domain.contains('/') {
        return Err(SigninError::InvalidSetting {
            setting: setting.to_owned(),
            message: format!("{domain:?} is not a domain such as dev-123456.okta.com"),
        });
    }
    parse_issuer(setting, &format!("https://{domain}/oauth2/default"))
}

fn parse_issuer(setting: &str, value: &str) -> Result<IssuerUrl, SigninError> {
    let value = value.trim().trim_end_matches('/');
    let url = parse_url(setting, value)?;
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

/// The items API's URL: access tokens go there, so it must be `https`, or
/// `http` on a loopback IP literal only (127.0.0.0/8, `[::1]`; RFC 9700
/// §4.3.2's concern with tokens in the clear). `localhost` is refused like in
/// a redirect (RFC 8252 §8.3: a name may resolve elsewhere), and so is a URL
/// with user info (`http://127.0.0.1@evil.example` is evil.example's).
fn parse_items_api(setting: &str, value: &str) -> Result<Url, SigninError> {
    let url = parse_url(setting, value)?;
    let invalid = |message: &str| SigninError::InvalidSetting {
        setting: setting.to_owned(),
        message: format!("{value:?}: {message}"),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("the items API URL must not hold a user name or password"));
    }
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => Ok(url),
        ("http", Some(url::Host::Ipv4(ip))) if ip.is_loopback() => Ok(url),
        ("http", Some(url::Host::Ipv6(ip))) if ip.is_loopback() => Ok(url),
        ("http", Some(url::Host::Domain(name))) if name.trim_end_matches('.') == "localhost" => {
            Err(invalid("use http://127.0.0.1 or http://[::1] instead of localhost, or https"))
        }
        ("http", _) => Err(invalid("the items API must use https (http only on 127.0.0.1 or [::1])")),
        _ => Err(invalid("the items API URL must be an https URL")),
    }
}

fn parse_url(setting: &str, value: &str) -> Result<Url, SigninError> {
    Url::parse(value.trim()).map_err(|e| SigninError::InvalidSetting {
        setting: setting.to_owned(),
        message: format!("{value:?} is not a URL ({e})"),
    })
}

fn seconds(setting: &str, value: &str) -> Result<u64, SigninError> {
    value.trim().parse::<u64>().map_err(|_| SigninError::InvalidSetting {
        setting: setting.to_owned(),
        message: format!("{value:?} is not a number of seconds"),
    })
}

fn timeout(setting: &str, secs: u64) -> Result<Duration, SigninError> {
    if secs == 0 {
        return Err(SigninError::InvalidSetting { setting: setting.to_owned(), message: "must be above 0".to_owned() });
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests;
