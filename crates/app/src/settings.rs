//! The app's settings: where Tessera signs in (the sign-in core's
//! [`SigninConfig`]) and the items API it calls.
//!
//! Layers, each overriding the one before: built-in defaults, the TOML file
//! `tessera.toml` in the platform config directory, then the environment
//! with the Okta tutorials' names. There is no default provider: unless the
//! file or the environment names one, [`Settings::load_from`] answers
//! [`SettingsError::NoProvider`] and nothing is contacted (issue 23); only a
//! demo that starts its own provider takes the demo defaults
//! ([`Settings::demo_from`]). A `.env`
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
//! | `OKTA_SCOPE` | | the scopes a service asks for with its own identity (`tessera login --client-credentials`; the client-credentials tutorial's name); unset: `OKTA_SCOPES` without `openid`, `profile`, `email`, `offline_access` |
//! | `REDIRECT_URL` | `redirect_url` | `http://127.0.0.1[:port]/path`, `http://[::1]…`, or `com.example.tessera:/callback` |
//! | `LOOPBACK_PORTS` | `loopback_ports` | the loopback redirect's ports, the first free one taken (`8765 8766 8767` by default; each registered at the provider), or `any` when the provider takes any port |
//! | `OKTA_PROMPT` | `prompt` | `prompt` for adding/switching accounts, sent as given; empty: none |
//! | `ITEMS_API_URL` | `items_api_url` | the items API (`https`, or `http` on 127.0.0.0/8 or `[::1]` only) |
//! | `SIGNIN_TIMEOUT_SECS` | `timeout_secs` | how long a browser sign-in may take |
//! | `SIGNIN_HTTP_TIMEOUT_SECS` | `http_timeout_secs` | how long one request to the provider may take (30 s) |
//! | `SIGNIN_DPOP` | `dpop` | bind tokens to a key of this device (DPoP, RFC 9449) when the provider offers it (`true`/`false`, default `false`) |
//! | `POST_LOGOUT_REDIRECT_URL` | `post_logout_redirect_url` | where the provider sends the browser after signing out there (registered at the provider): `http://127.0.0.1:PORT/path`, whose page Tessera serves, or `com.example.tessera:/signed-out`; unset: none is sent |
//! | `TESSERA_CA_FILE`, else `SSL_CERT_FILE` | `ca_file` | a PEM file of CA certificates trusted besides the system's store (a company's TLS-inspecting proxy or internal CA) by every request to the provider and the items API; `SSL_CERT_FILE` counts only when neither of the others is set |
//! | `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY` (or lower case) | | the proxy for `https` / `http` requests to the provider and the items API (`ALL_PROXY` for both), and the hosts not proxied; loopback (127.0.0.0/8, `::1`, `localhost`) is never proxied |
//! | `SIGNIN_PAR` | `par` | push authorization requests first (RFC 9126): `auto` (when offered; a push refused as not allowed for this client falls back to a plain request), `always`, `never` (default `auto`) |
//! | `TESSERA_TOKEN_STORE` | `token_store` | where sign-ins are kept: `secret-service` (Linux: GNOME Keyring, KWallet), `kernel` (Linux: the kernel keyring, for this login session, no D-Bus needed, e.g. over SSH), `memory` (forgotten when the program ends), or `auto` (the default: the system keyring — the Secret Service on Linux, the Credential Manager on Windows, the Keychain on macOS — and a message naming the others when there is none) |
//! | `TESSERA_CURRENCY` | `currency` | the desktop app's currency of prices, an ISO 4217 code (default `EUR`; top level only; read by the desktop app, not layered here) |
//!
//! | `TESSERA_PROFILE` | `profile` | the profile used when none is chosen on the command line (`--profile`): a name under `[profiles]`; unset, the settings at the top of the file |
//!
//! Every error names the setting it is about. The client-credentials
//! tutorial's `OKTA_TOKEN` and `OKTA_INTROSPECTION` (endpoint URLs: Tessera
//! takes every endpoint from the issuer's discovery document) and
//! `OKTA_CLIENT_SECRET` (a secret is read once from stdin and kept in the
//! keyring) are not read; [`ignored_tutorial_settings`] says so.
//!
//! # Profiles
//!
//! Several providers side by side (a production and a preview org, two
//! customers): `[profiles.<name>]` tables in the file, each with any of the
//! keys above (but `profile`), over the file's top-level keys. A chosen
//! profile is an explicit choice: what it sets wins over the environment
//! too, so `--profile preview` signs in at preview whatever `OKTA_DOMAIN`
//! says. Chosen by, first to last: the CLI's `--profile`, `TESSERA_PROFILE`,
//! the profile of the account in use (the shells' choice,
//! [`profile_of`](Settings::profile_of)), the file's `profile`; else the
//! top-level settings.
//!
//! ```toml
//! okta_domain = "acme.okta.com"
//! client_id = "0oa-prod"
//!
//! [profiles.preview]
//! okta_domain = "acme.oktapreview.com"
//! client_id = "0oa-preview"
//! items_api_url = "https://items.preview.acme.example"
//! ```
//!
//! `LOOPBACK_PORTS` / `loopback_ports` is applied after the redirect URL of
//! its own layer: it replaces the ports of a loopback redirect (a
//! `REDIRECT_URL` with a port means that port only, without one the default
//! list), and is refused when the redirect is a custom scheme. A later
//! layer's redirect URL replaces the whole redirect, ports included.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use openidconnect::ClientId;
use serde::{Deserialize, Serialize};
use settings::{Environment, parse};
use signin::flow::SigninError;
use signin::flow::config::{
    LoopbackPorts, ParMode, RedirectKind, SigninConfig, issuer_from_domain, parse_issuer, parse_post_logout_redirect,
    prompt_value, split_scopes,
};
use signin::store::KeyringBackend;
use url::Url;

/// The items API of the demo stack.
pub const DEFAULT_ITEMS_API: &str = "http://127.0.0.1:8081";
/// The name of the configuration file in the platform config directory.
pub const CONFIG_FILE_NAME: &str = "tessera.toml";
/// The environment variable naming a `.env`-style file to read settings
/// from (opt-in: no such file is read unless named).
pub const ENV_FILE_VAR: &str = "TESSERA_ENV_FILE";

/// Why the settings were refused; every variant about a value names its
/// setting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// A setting has a value that cannot be used.
    #[error("the setting {setting} is invalid: {message}")]
    Invalid {
        /// The setting's name (environment variable or file key).
        setting: String,
        /// What is wrong with it.
        message: String,
    },
    /// The configuration file could not be read, or is not valid TOML, or
    /// has unknown keys.
    #[error(transparent)]
    File(#[from] settings::FileError),
    /// The CA file cannot be used, or a proxy variable is not a proxy URL
    /// (the message names the setting).
    #[error(transparent)]
    Network(#[from] net::NetError),
    /// The configuration file could not be written.
    #[error("cannot save the configuration file {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The `.env` file could not be read.
    #[error("cannot read {}", path.display())]
    DotEnv {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: dotenvy::Error,
    },
    /// No provider is configured: nothing names an issuer (`OKTA_DOMAIN`,
    /// `OKTA_ISSUER`, or the file's `okta_domain` / `issuer`). Nothing is
    /// contacted then (no default address is trusted).
    #[error(
        "no sign-in provider is configured: set OKTA_DOMAIN (or OKTA_ISSUER) and CLIENT_ID, \
         or okta_domain and client_id in the configuration file"
    )]
    NoProvider,
    /// The profile asked for is not in the file.
    #[error(
        "there is no profile {name:?} in the configuration file{}",
        if known.is_empty() { String::new() } else { format!(" (its profiles: {})", known.join(", ")) }
    )]
    UnknownProfile {
        /// The name asked for.
        name: String,
        /// The profiles the file has.
        known: Vec<String>,
    },
    /// The file has profiles but no provider at its top, and none was
    /// chosen.
    #[error(
        "choose a profile: {} (with --profile NAME, TESSERA_PROFILE, or profile = \"NAME\" in the configuration file)",
        known.join(", ")
    )]
    ChooseProfile {
        /// The profiles the file has.
        known: Vec<String>,
    },
}

impl SettingsError {
    fn invalid(setting: &str, message: impl Into<String>) -> Self {
        Self::Invalid { setting: setting.to_owned(), message: message.into() }
    }

    /// The setting a refused value was given as (environment name or file
    /// key); `None` for the other failures.
    #[must_use]
    pub fn setting(&self) -> Option<&str> {
        match self {
            Self::Invalid { setting, .. } => Some(setting),
            Self::Network(error) => Some(error.setting()),
            _ => None,
        }
    }
}

/// The core's checks answer `InvalidSetting`, naming the setting.
fn core(error: SigninError) -> SettingsError {
    match error {
        SigninError::InvalidSetting { setting, message } => SettingsError::Invalid { setting, message },
        other => SettingsError::invalid("the configuration", other.to_string()),
    }
}

/// The app's settings: the sign-in, the items API it calls, and where
/// sign-ins are kept.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where and how to sign in.
    pub signin: SigninConfig,
    /// The items API's base URL (access tokens go there).
    pub items_api: Url,
    /// Where sign-ins are kept.
    pub token_store: TokenStoreChoice,
    /// The profile these settings are (`[profiles.<name>]`); `None` for
    /// the top-level settings.
    pub profile: Option<String>,
}

/// Where sign-ins (refresh tokens) are kept: `token_store` in the file,
/// `TESSERA_TOKEN_STORE`, the CLI's `--token-store`. Never a plain file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenStoreChoice {
    /// The platform's keyring ([`signin::platform::NATIVE_KEYRING`]): the
    /// Secret Service on Linux when the session bus offers one, the
    /// Credential Manager on Windows, the Keychain on macOS; otherwise the
    /// program says so and names the other choices (it never falls back
    /// to memory without being asked).
    #[default]
    Auto,
    /// The freedesktop Secret Service (GNOME Keyring, KWallet, KeePassXC):
    /// kept across reboots. Linux only.
    SecretService,
    /// The Linux kernel keyring (keyutils), in the session keyring: needs no
    /// D-Bus; kept for the login session (an SSH session included) until
    /// it ends or the machine restarts. Linux only.
    Kernel,
    /// Process memory: forgotten when the program ends.
    Memory,
}

impl TokenStoreChoice {
    /// Every choice's name, as written in settings and on the command line.
    pub const NAMES: [&'static str; 4] = ["auto", "secret-service", "kernel", "memory"];

    /// The choice's name (`auto`, `secret-service`, `kernel`, `memory`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::SecretService => "secret-service",
            Self::Kernel => "kernel",
            Self::Memory => "memory",
        }
    }

    /// The keyring this choice opens (`None`: memory).
    #[must_use]
    pub fn keyring(self) -> Option<KeyringBackend> {
        match self {
            Self::Auto => Some(signin::platform::NATIVE_KEYRING),
            Self::SecretService => Some(KeyringBackend::SecretService),
            Self::Kernel => Some(KeyringBackend::KernelKeyring),
            Self::Memory => None,
        }
    }

    /// The choices this platform has (`secret-service` and `kernel` on
    /// Linux only).
    #[must_use]
    pub fn available() -> Vec<&'static str> {
        [Self::Auto, Self::SecretService, Self::Kernel, Self::Memory]
            .into_iter()
            .filter(|choice| *choice == Self::Auto || choice.keyring().is_none_or(signin::platform::has_keyring))
            .map(Self::name)
            .collect()
    }

    /// Parses `value`, given as `setting`; `kernel-keyring` and `keyutils`
    /// are taken for `kernel`. A keyring this platform does not have (the
    /// Secret Service or the kernel keyring anywhere but Linux) is refused,
    /// saying so.
    ///
    /// # Errors
    /// [`SettingsError::Invalid`] naming `setting` and the choices.
    pub fn parse(setting: &str, value: &str) -> Result<Self, SettingsError> {
        let choice = match value.trim().to_ascii_lowercase().as_str() {
            "auto" => Self::Auto,
            "secret-service" => Self::SecretService,
            "kernel" | "kernel-keyring" | "keyutils" => Self::Kernel,
            "memory" => Self::Memory,
            _ => {
                return Err(SettingsError::invalid(
                    setting,
                    format!("{value:?} is not a token store: choose {}", Self::available().join(", ")),
                ));
            }
        };
        match choice.keyring() {
            Some(backend) if choice != Self::Auto && !signin::platform::has_keyring(backend) => {
                Err(SettingsError::invalid(
                    setting,
                    format!(
                        "{value:?} ({}) is not on {}: choose {}",
                        backend.description(),
                        signin::platform::NAME,
                        Self::available().join(", ")
                    ),
                ))
            }
            _ => Ok(choice),
        }
    }
}

impl std::fmt::Display for TokenStoreChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Settings {
    /// The demo settings: dev-idp on its demo port, the items API on its.
    ///
    /// # Panics
    /// Never: the constant is a valid URL (checked by a unit test).
    #[must_use]
    #[allow(clippy::expect_used)]
    pub fn demo() -> Self {
        Self {
            signin: SigninConfig::demo(),
            items_api: Url::parse(DEFAULT_ITEMS_API).expect("a valid constant"),
            token_store: TokenStoreChoice::Auto,
            profile: None,
        }
    }

    /// The configuration file's usual place: `tessera.toml` in the platform
    /// config directory (`~/.config/tessera/` on Linux).
    #[must_use]
    pub fn default_file() -> Option<PathBuf> {
        directories::ProjectDirs::from("com", "example", "tessera").map(|d| d.config_dir().join(CONFIG_FILE_NAME))
    }

    /// Loads the settings as the app does: defaults, the file in the
    /// platform config dir (if present) and the process environment, with
    /// the file named by [`ENV_FILE_VAR`] (if set) filling in what the
    /// environment does not set. No `.env` in the working folder is read.
    ///
    /// # Errors
    /// When a file cannot be read, or a setting is invalid.
    pub fn load() -> Result<Self, SettingsError> {
        Self::load_with_env_file(env_file_from_process().as_deref())
    }

    /// As [`Settings::load`], with `env_file` (the CLI's `--env-file`)
    /// as the only `.env`-style file read; `None` reads none.
    ///
    /// # Errors
    /// When a file cannot be read (a named `env_file` that does not exist
    /// included), or a setting is invalid.
    pub fn load_with_env_file(env_file: Option<&Path>) -> Result<Self, SettingsError> {
        let env = process_env(env_file)?;
        Self::load_from(Self::default_file().as_deref(), env)
    }

    /// Loads from an optional file (ignored when it does not exist) and an
    /// environment lookup (tests pass a closure over a map). A provider must
    /// be named (`OKTA_ISSUER` / `OKTA_DOMAIN`, or the file's `issuer` /
    /// `okta_domain`): there is no default one, so nothing configured never
    /// means trusting whatever answers on a local port (issue 23).
    ///
    /// # Errors
    /// When the file cannot be read or parsed, or a setting is invalid (the
    /// error names the setting); [`SettingsError::NoProvider`] when nothing
    /// names a provider.
    pub fn load_from(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let (settings, source) = Self::layered(file, env)?;
        if source == ProviderSource::Demo {
            return Err(SettingsError::NoProvider);
        }
        Ok(settings)
    }

    /// The demo defaults with the file and the environment over them, for a
    /// demo that starts its own provider in-process (`tessera demo`, the
    /// desktop's demo mode) and then points the issuer, client and items
    /// API at it ([`crate::demo()`]); never for signing in elsewhere.
    ///
    /// # Errors
    /// As [`load_from`](Self::load_from), except that no provider needs to
    /// be named.
    pub fn demo_from(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        Self::layered(file, env).map(|(settings, _)| settings)
    }

    /// The demo defaults, the file, then the environment, read once; and
    /// where the provider came from: an app that runs the demo when none is
    /// named (the desktop) starts it for [`ProviderSource::Demo`] and uses
    /// the settings as they are otherwise ([`load_from`](Self::load_from)
    /// and [`demo_from`](Self::demo_from) in one reading).
    ///
    /// # Errors
    /// As [`demo_from`](Self::demo_from).
    pub fn layered(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(Self, ProviderSource), SettingsError> {
        Self::layered_profile(file, env, ProfileChoice::Default)
    }

    /// As [`layered`](Self::layered), for the profile `choice` leads to
    /// (see [Profiles](self#profiles)).
    ///
    /// # Errors
    /// As [`layered`](Self::layered); [`SettingsError::UnknownProfile`] for
    /// a profile the file does not have, [`SettingsError::ChooseProfile`]
    /// when the file has profiles but names no provider at its top and none
    /// was chosen.
    pub fn layered_profile(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        choice: ProfileChoice<'_>,
    ) -> Result<(Self, ProviderSource), SettingsError> {
        let env = Environment::new(env);
        let file = file.map(ConfigFile::read).transpose()?.flatten().unwrap_or_default();
        let name = match choice {
            ProfileChoice::Chosen(name) => Some(name.to_owned()),
            ProfileChoice::OfAccount(name) => env.get(PROFILE_VAR).or(name.map(str::to_owned)),
            ProfileChoice::Default => env.get(PROFILE_VAR).or_else(|| file.profile.clone()),
        };
        let (settings, source) = Self::resolve(&file, &env, name.as_deref())?;
        if source == ProviderSource::Demo && name.is_none() && !file.profiles.is_empty() {
            return Err(SettingsError::ChooseProfile { known: file.profiles.keys().cloned().collect() });
        }
        Ok((settings, source))
    }

    /// As [`load_from`](Self::load_from), for the profile `choice` leads to.
    ///
    /// # Errors
    /// As [`layered_profile`](Self::layered_profile), and
    /// [`SettingsError::NoProvider`] when nothing names a provider.
    pub fn load_profile(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        choice: ProfileChoice<'_>,
    ) -> Result<Self, SettingsError> {
        let (settings, source) = Self::layered_profile(file, env, choice)?;
        if source == ProviderSource::Demo {
            return Err(SettingsError::NoProvider);
        }
        Ok(settings)
    }

    /// The profile an account signed in at `issuer` with `client_id`
    /// belongs to: `Some(None)` for the file's top-level settings,
    /// `Some(Some(name))` for `[profiles.<name>]`, `None` when none of
    /// them (as the environment leaves them) names that provider and
    /// client. The top level is preferred when both do.
    #[must_use]
    pub fn profile_of(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        issuer: &str,
        client_id: &str,
    ) -> Option<Option<String>> {
        Self::profile_table(file, env).of(issuer, client_id)
    }

    /// Every profile's provider and client, the file read and each profile
    /// resolved once: for finding the profile of many accounts
    /// ([`ProfileTable::of`]).
    #[must_use]
    pub fn profile_table(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> ProfileTable {
        let env = Environment::new(env);
        let file = file.map(ConfigFile::read).and_then(Result::ok).flatten().unwrap_or_default();
        let names = std::iter::once(None).chain(file.profiles.keys().map(|name| Some(name.as_str())));
        let rows = names
            .filter_map(|name| match Self::resolve(&file, &env, name) {
                Ok((settings, source)) if source != ProviderSource::Demo => Some((
                    name.map(str::to_owned),
                    settings.signin.issuer.as_str().to_owned(),
                    settings.signin.client_id.as_str().to_owned(),
                )),
                _ => None,
            })
            .collect();
        ProfileTable { rows }
    }

    /// Whether an account signed in at `issuer` with `client_id` is one
    /// of these settings' (their provider and client).
    #[must_use]
    pub fn signs_in(&self, issuer: &str, client_id: &str) -> bool {
        self.signin.issuer.as_str() == issuer && self.signin.client_id.as_str() == client_id
    }

    /// Whether `account` is one of these settings': signed in at their
    /// provider with their client, or a service (client credentials, its
    /// own client id) at their provider.
    #[must_use]
    pub fn owns(&self, account: &signin::accounts::Account) -> bool {
        self.signs_in(&account.key.issuer, &account.key.client_id)
            || (account.service.is_some() && account.key.issuer == self.signin.issuer.as_str())
    }

    /// The account these settings use when the active one in `accounts` was
    /// signed in elsewhere (another profile's): their most recently used
    /// account, if they have one; `None` when the active one is theirs.
    #[must_use]
    pub fn account_to_use<'a>(
        &self,
        accounts: impl IntoIterator<Item = &'a signin::accounts::Account>,
        active: Option<&signin::AccountKey>,
    ) -> Option<signin::AccountKey> {
        let accounts: Vec<&signin::accounts::Account> = accounts.into_iter().collect();
        let ours = |key: &signin::AccountKey| {
            self.signs_in(&key.issuer, &key.client_id) || accounts.iter().any(|a| &a.key == key && self.owns(a))
        };
        if active.is_none_or(ours) {
            return None;
        }
        accounts.iter().filter(|a| ours(&a.key)).max_by_key(|a| a.last_used).map(|a| a.key.clone())
    }

    /// The profile names the file at `file` has, in order.
    #[must_use]
    pub fn profile_names(file: Option<&Path>) -> Vec<String> {
        let file = file.map(ConfigFile::read).and_then(Result::ok).flatten();
        file.map(|f| f.profiles.into_keys().collect()).unwrap_or_default()
    }

    /// The demo defaults < the file's top level < the environment < the
    /// profile `name` (when one), and where the provider came from.
    fn resolve<F: Fn(&str) -> Option<String>>(
        file: &ConfigFile,
        env: &Environment<F>,
        name: Option<&str>,
    ) -> Result<(Self, ProviderSource), SettingsError> {
        let name = name.filter(|name| *name != TOP_PROFILE);
        let profile = match name {
            Some(name) => Some(file.profiles.get(name).ok_or_else(|| SettingsError::UnknownProfile {
                name: name.to_owned(),
                known: file.profiles.keys().cloned().collect(),
            })?),
            None => None,
        };
        let mut source = ProviderSource::Demo;
        if file.names_provider() {
            source = ProviderSource::File;
        }
        if env.is_set("OKTA_ISSUER") || env.is_set("OKTA_DOMAIN") {
            source = ProviderSource::Environment;
        }
        let mut settings = Self::demo();
        settings.apply_file(file.clone())?;
        settings.apply_env(env)?;
        if let Some(profile) = profile {
            if profile.names_provider() {
                source = ProviderSource::File;
            }
            settings.apply_file(profile.clone())?;
            settings.profile = name.map(str::to_owned);
        }
        settings.check()?;
        Ok((settings, source))
    }

    /// The settings `file` describes over the demo defaults (no
    /// environment): what a settings screen saves, checked before saving.
    ///
    /// # Errors
    /// When a setting is invalid; the error names it.
    pub fn from_file(file: &ConfigFile) -> Result<Self, SettingsError> {
        let mut settings = Self::demo();
        settings.apply_file(file.clone())?;
        settings.apply_env(&Environment::new(|_| None))?;
        settings.check()?;
        Ok(settings)
    }

    fn apply_file(&mut self, file: ConfigFile) -> Result<(), SettingsError> {
        let signin = &mut self.signin;
        if let Some(domain) = file.okta_domain {
            signin.issuer = issuer_from_domain("okta_domain", &domain).map_err(core)?;
        }
        if let Some(issuer) = file.issuer {
            signin.issuer = parse_issuer("issuer", &issuer).map_err(core)?;
        }
        if let Some(client_id) = file.client_id {
            signin.client_id = ClientId::new(client_id);
        }
        if let Some(scopes) = file.scopes {
            signin.scopes = split_scopes(&scopes);
        }
        if let Some(redirect) = file.redirect_url {
            signin.redirect = RedirectKind::parse("redirect_url", &redirect).map_err(core)?;
        }
        if let Some(ports) = file.loopback_ports {
            set_loopback_ports(&mut signin.redirect, "loopback_ports", &ports)?;
        }
        if let Some(prompt) = file.prompt {
            signin.prompt = prompt_value(&prompt);
        }
        if let Some(items) = file.items_api_url {
            self.items_api = parse_items_api("items_api_url", &items)?;
        }
        if let Some(secs) = file.timeout_secs {
            signin.timeout = parse::positive_seconds(secs).map_err(|e| SettingsError::invalid("timeout_secs", e))?;
        }
        if let Some(secs) = file.http_timeout_secs {
            signin.http_timeout =
                parse::positive_seconds(secs).map_err(|e| SettingsError::invalid("http_timeout_secs", e))?;
        }
        if let Some(dpop) = file.dpop {
            signin.dpop = dpop;
        }
        if let Some(par) = file.par {
            signin.par = ParMode::parse("par", &par).map_err(core)?;
        }
        if let Some(uri) = file.post_logout_redirect_url {
            signin.post_logout_redirect =
                Some(parse_post_logout_redirect("post_logout_redirect_url", &uri).map_err(core)?);
        }
        if let Some(path) = file.ca_file {
            self.signin.net.ca_file = Some(net::CaFile::load("ca_file", Path::new(path.trim()))?);
        }
        if let Some(store) = file.token_store {
            self.token_store = TokenStoreChoice::parse("token_store", &store)?;
        }
        Ok(())
    }

    fn apply_env<F: Fn(&str) -> Option<String>>(&mut self, env: &Environment<F>) -> Result<(), SettingsError> {
        let invalid = |e: settings::Invalid| SettingsError::invalid(e.setting, e.problem);
        let signin = &mut self.signin;
        if let Some(domain) = env.get("OKTA_DOMAIN") {
            signin.issuer = issuer_from_domain("OKTA_DOMAIN", &domain).map_err(core)?;
        }
        if let Some(issuer) = env.get("OKTA_ISSUER") {
            signin.issuer = parse_issuer("OKTA_ISSUER", &issuer).map_err(core)?;
        }
        if let Some(client_id) = env.get("OKTA_CLIENT_ID") {
            signin.client_id = ClientId::new(client_id.trim().to_owned());
        }
        if let Some(client_id) = env.get("CLIENT_ID") {
            signin.client_id = ClientId::new(client_id.trim().to_owned());
        }
        if let Some(scopes) = env.get("OKTA_SCOPES") {
            signin.scopes = split_scopes(&scopes);
        }
        if let Some(scopes) = env.get("OKTA_SCOPE") {
            signin.client_credentials_scopes = Some(split_scopes(&scopes));
        }
        if let Some(redirect) = env.get("REDIRECT_URL") {
            signin.redirect = RedirectKind::parse("REDIRECT_URL", redirect.trim()).map_err(core)?;
        }
        if let Some(ports) = env.get("LOOPBACK_PORTS") {
            set_loopback_ports(&mut signin.redirect, "LOOPBACK_PORTS", &ports)?;
        }
        if let Some(prompt) = env.get("OKTA_PROMPT") {
            signin.prompt = prompt_value(&prompt);
        }
        if let Some(items) = env.get("ITEMS_API_URL") {
            self.items_api = parse_items_api("ITEMS_API_URL", items.trim())?;
        }
        let timeout = |secs: &str| parse::seconds(secs).and_then(parse::positive_seconds);
        if let Some(timeout) = env.layer("SIGNIN_TIMEOUT_SECS", None, timeout).map_err(invalid)? {
            signin.timeout = timeout;
        }
        if let Some(timeout) = env.layer("SIGNIN_HTTP_TIMEOUT_SECS", None, timeout).map_err(invalid)? {
            signin.http_timeout = timeout;
        }
        if let Some(dpop) = env.layer("SIGNIN_DPOP", None, parse::flag).map_err(invalid)? {
            signin.dpop = dpop;
        }
        if let Some(par) = env.get("SIGNIN_PAR") {
            signin.par = ParMode::parse("SIGNIN_PAR", &par).map_err(core)?;
        }
        if let Some(uri) = env.get("POST_LOGOUT_REDIRECT_URL") {
            signin.post_logout_redirect =
                Some(parse_post_logout_redirect("POST_LOGOUT_REDIRECT_URL", &uri).map_err(core)?);
        }
        // TESSERA_CA_FILE over the file's ca_file; SSL_CERT_FILE, the
        // convention of OpenSSL and curl, only when neither names one.
        if let Some(path) = env.get("TESSERA_CA_FILE") {
            self.signin.net.ca_file = Some(net::CaFile::load("TESSERA_CA_FILE", Path::new(path.trim()))?);
        } else if self.signin.net.ca_file.is_none()
            && let Some(path) = env.get("SSL_CERT_FILE")
        {
            self.signin.net.ca_file = Some(net::CaFile::load("SSL_CERT_FILE", Path::new(path.trim()))?);
        }
        self.signin.net.proxy = net::ProxySettings::from_env_with(|name| env.get(name))?;
        if let Some(store) = env.get("TESSERA_TOKEN_STORE") {
            self.token_store = TokenStoreChoice::parse("TESSERA_TOKEN_STORE", &store)?;
        }
        Ok(())
    }

    /// What no layer may leave: a client id, and the `openid` scope.
    fn check(&self) -> Result<(), SettingsError> {
        if self.signin.client_id.as_str().is_empty() {
            return Err(SettingsError::invalid("CLIENT_ID", "is empty"));
        }
        if !self.signin.scopes.iter().any(|s| s == "openid") {
            return Err(SettingsError::invalid("scopes", "must include openid"));
        }
        Ok(())
    }
}

/// The environment variables the settings read, in the order they are
/// applied.
pub const ENV_NAMES: [&str; 17] = [
    "OKTA_DOMAIN",
    "OKTA_ISSUER",
    "OKTA_CLIENT_ID",
    "CLIENT_ID",
    "OKTA_SCOPES",
    "OKTA_SCOPE",
    "REDIRECT_URL",
    "LOOPBACK_PORTS",
    "OKTA_PROMPT",
    "ITEMS_API_URL",
    "SIGNIN_TIMEOUT_SECS",
    "SIGNIN_HTTP_TIMEOUT_SECS",
    "SIGNIN_DPOP",
    "SIGNIN_PAR",
    "POST_LOGOUT_REDIRECT_URL",
    "TESSERA_TOKEN_STORE",
    "TESSERA_CA_FILE",
];

/// The tutorials' settings Tessera does not read, each with why, for a
/// one-line note at start-up: `OKTA_TOKEN` and `OKTA_INTROSPECTION` name
/// endpoints, which come from the issuer's discovery document (so they can
/// never disagree with the issuer), and `OKTA_CLIENT_SECRET` would keep a
/// service's secret in the environment or a file: `tessera login
/// --client-credentials` reads it once and keeps it in the keyring.
#[must_use]
pub fn ignored_tutorial_settings(env: impl Fn(&str) -> Option<String>) -> Vec<String> {
    let why = [
        ("OKTA_TOKEN", "the token endpoint comes from the issuer's discovery document (OKTA_ISSUER)"),
        (
            "OKTA_INTROSPECTION",
            "the introspection endpoint comes from the issuer's discovery document (OKTA_ISSUER), and the items \
             API is the one that checks tokens",
        ),
        (
            "OKTA_CLIENT_SECRET",
            "`tessera login --client-credentials` reads a service's secret once from stdin and keeps it in the \
             keyring",
        ),
    ];
    why.iter()
        .filter(|(name, _)| env(name).is_some())
        .map(|(name, reason)| format!("Note: {name} is ignored: {reason}."))
        .collect()
}

/// Each profile of a configuration file with the provider and client it
/// signs in with ([`Settings::profile_table`]).
#[derive(Debug, Clone, Default)]
pub struct ProfileTable {
    /// (profile, issuer, client id); the top level (`None`) first.
    rows: Vec<(Option<String>, String, String)>,
}

impl ProfileTable {
    /// The profile an account signed in at `issuer` with `client_id`
    /// belongs to: `Some(None)` for the file's top-level settings,
    /// `Some(Some(name))` for `[profiles.<name>]`, `None` when none of them
    /// names that provider and client. The top level is preferred when both
    /// do.
    #[must_use]
    pub fn of(&self, issuer: &str, client_id: &str) -> Option<Option<String>> {
        self.rows.iter().find(|(_, i, c)| i == issuer && c == client_id).map(|(name, _, _)| name.clone())
    }
}

/// The name of the top-level settings as a profile (`--profile default`).
pub const TOP_PROFILE: &str = "default";

/// The environment variable choosing a profile (see [Profiles](self#profiles)).
pub const PROFILE_VAR: &str = "TESSERA_PROFILE";

/// How the profile is chosen (see [Profiles](self#profiles)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileChoice<'a> {
    /// Named by the person (`--profile`): wins over everything.
    Chosen(&'a str),
    /// The profile of the account in use (`None`: the top level), unless
    /// `TESSERA_PROFILE` names another.
    OfAccount(Option<&'a str>),
    /// `TESSERA_PROFILE`, else the file's `profile`, else the top level.
    Default,
}

/// Where the provider (the issuer) the settings sign in with comes from.
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
    /// The loopback redirect's ports (`8765 8766`, or `any`), applied
    /// after `redirect_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loopback_ports: Option<String>,
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
    /// Whether to push authorization requests first: `auto`, `always`, `never`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub par: Option<String>,
    /// Where the provider sends the browser after signing out there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_logout_redirect_url: Option<String>,
    /// Where sign-ins are kept: `auto`, `secret-service`, `kernel`, `memory`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_store: Option<String>,
    /// A PEM file of CA certificates trusted besides the system's store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// The currency the desktop app shows prices in (ISO 4217, `EUR`);
    /// `TESSERA_CURRENCY` overrides it. Read by the desktop app only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The profile used when none is chosen (top level only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Named provider configurations, `[profiles.<name>]`, each over the
    /// top-level keys (top level only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profiles: BTreeMap<String, ConfigFile>,
}

impl ConfigFile {
    /// Reads the file at `path`; `None` when it does not exist.
    ///
    /// # Errors
    /// [`SettingsError::File`].
    pub fn read(path: &Path) -> Result<Option<Self>, SettingsError> {
        let file: Option<Self> = settings::read_toml(path)?;
        if let Some(file) = &file {
            file.check_profiles()?;
        }
        Ok(file)
    }

    /// Profiles are named with letters, digits, `-` and `_`, and hold
    /// neither profiles nor a `profile` of their own.
    fn check_profiles(&self) -> Result<(), SettingsError> {
        for (name, profile) in &self.profiles {
            let setting = format!("profiles.{name}");
            let well_named = !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if name == TOP_PROFILE {
                return Err(SettingsError::invalid(
                    &setting,
                    "`default` names the top-level settings: give this profile another name",
                ));
            }
            if !well_named {
                return Err(SettingsError::invalid(
                    &setting,
                    "a profile's name is letters, digits, - and _ (at most 64)",
                ));
            }
            if !profile.profiles.is_empty() || profile.profile.is_some() {
                return Err(SettingsError::invalid(&setting, "a profile cannot hold profiles or choose one"));
            }
        }
        Ok(())
    }

    /// Whether the file names a provider (`issuer` or `okta_domain`).
    fn names_provider(&self) -> bool {
        self.issuer.is_some() || self.okta_domain.is_some()
    }

    /// Writes the file at `path` (creating its folder), replacing it in one
    /// step: a reader sees the old file or the new one, never half of it.
    ///
    /// # Errors
    /// [`SettingsError::Write`].
    pub fn write(&self, path: &Path) -> Result<(), SettingsError> {
        let failed = |source: std::io::Error| SettingsError::Write { path: path.to_owned(), source };
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
    /// [`SettingsError::Write`].
    pub fn remove(path: &Path) -> Result<(), SettingsError> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(SettingsError::Write { path: path.to_owned(), source: e })
            }
            _ => Ok(()),
        }
    }
}

/// Sets the ports of a loopback `redirect` from `value` (`setting`'s):
/// `any`, or ports separated by spaces or commas.
///
/// # Errors
/// [`SettingsError::Invalid`] naming `setting` when the value is not a port
/// list, or when the redirect is a custom scheme (which has no port).
pub fn set_loopback_ports(redirect: &mut RedirectKind, setting: &str, value: &str) -> Result<(), SettingsError> {
    let parsed = LoopbackPorts::parse(setting, value).map_err(core)?;
    match redirect {
        RedirectKind::Loopback { ports, .. } => {
            *ports = parsed;
            Ok(())
        }
        RedirectKind::Custom(url) => Err(SettingsError::invalid(
            setting,
            format!(
                "the redirect is the custom scheme {}, which has no port: remove {setting}, or redirect to \
                 http://127.0.0.1/callback",
                url.as_str()
            ),
        )),
    }
}

/// Reads `KEY=value` pairs from a `.env`-style file named on purpose
/// (`--env-file`, [`ENV_FILE_VAR`]).
///
/// # Errors
/// [`SettingsError::DotEnv`] when the file does not exist, cannot be read or
/// cannot be parsed: a file asked for is never silently skipped.
pub fn read_env_file(path: &Path) -> Result<HashMap<String, String>, SettingsError> {
    let failed = |source| SettingsError::DotEnv { path: path.to_owned(), source };
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
) -> Result<impl Fn(&str) -> Option<String> + Send + Sync + 'static, SettingsError> {
    let file = env_file.map(read_env_file).transpose()?.unwrap_or_default();
    Ok(move |name: &str| std::env::var(name).ok().or_else(|| file.get(name).cloned()).filter(|v| !v.trim().is_empty()))
}

/// The items API's URL: access tokens go there, so it must be `https`, or
/// `http` on a loopback IP literal only (127.0.0.0/8, `[::1]`; RFC 9700
/// §4.3.2's concern with tokens in the clear). `localhost` is refused like in
/// a redirect (RFC 8252 §8.3: a name may resolve elsewhere), and so is a URL
/// with user info (`http://127.0.0.1@evil.example` is evil.example's).
fn parse_items_api(setting: &str, value: &str) -> Result<Url, SettingsError> {
    let url = parse::url(value).map_err(|message| SettingsError::invalid(setting, message))?;
    let invalid = |message: &str| SettingsError::invalid(setting, format!("{value:?}: {message}"));
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("the items API URL must not hold a user name or password"));
    }
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => Ok(url),
        ("http", Some(_)) if parse::is_loopback_ip(&url) => Ok(url),
        ("http", Some(url::Host::Domain(name))) if name.trim_end_matches('.') == "localhost" => {
            Err(invalid("use http://127.0.0.1 or http://[::1] instead of localhost, or https"))
        }
        ("http", _) => Err(invalid("the items API must use https (http only on 127.0.0.1 or [::1])")),
        _ => Err(invalid("the items API URL must be an https URL")),
    }
}

#[cfg(test)]
mod tests;
