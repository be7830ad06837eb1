//! Configuration: clients, users, scopes and lifetimes, from built-in demo
//! defaults or a TOML file (`Config::from_toml_file`).
//!
//! Every field has a default, so a file only states what it changes.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::redirect::RegisteredUri;

/// The fixed port of demo mode, so that a desktop app and an items API started
/// by hand find the provider at a known issuer URL.
pub const DEMO_PORT: u16 = 18_080;

/// The fixed loopback ports the demo desktop client registers, for a
/// provider that compares redirect URIs exactly, port included (Okta; see
/// [`Config::loopback_any_port`]): `http://127.0.0.1:{port}/callback` and
/// `http://[::1]:{port}/callback` (and `/signed-out`) for each.
pub const DEMO_LOOPBACK_PORTS: [u16; 3] = [8765, 8766, 8767];

/// The whole provider configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Port to listen on (127.0.0.1 only). `0` picks a free port.
    pub port: u16,
    /// Identifier of the authorization server: the issuer is
    /// `http://127.0.0.1:{port}/oauth2/{authorization_server_id}` as on Okta
    /// (unless `org_authorization_server`).
    pub authorization_server_id: String,
    /// Audience of access tokens (Okta's default server uses `api://default`).
    pub audience: String,
    /// Scopes the server knows, with the text shown on the consent page.
    pub scopes: Vec<ScopeConfig>,
    /// Registered clients (applications).
    pub clients: Vec<ClientConfig>,
    /// People who can sign in.
    pub users: Vec<UserConfig>,
    /// How long codes, tokens and sessions live.
    pub lifetimes: Lifetimes,
    /// Refresh-token rotation (Okta: optional for native apps).
    pub refresh_token_rotation: RotationConfig,
    /// Device authorization grant (RFC 8628) settings.
    pub device: DeviceConfig,
    /// Signing keys.
    pub keys: KeysConfig,
    /// Offer pushed authorization requests (RFC 9126, as Okta does): the
    /// endpoint in discovery and at `/v1/par`.
    pub pushed_authorization_requests: bool,
    /// DPoP (RFC 9449) at the token endpoint.
    pub dpop: DpopConfig,
    /// Bounds on what one client can hold: timeouts and a connection cap.
    pub server: ServerConfig,
    /// Let a loopback IP redirect URI (`http://127.0.0.1/…`, `http://[::1]/…`)
    /// match on any port, as RFC 8252 §7.3 allows. `false` compares every
    /// redirect and post-logout redirect URI exactly, port included, as Okta
    /// does. A client's own [`ClientConfig::loopback_any_port`] wins.
    /// Environment: `DEV_IDP_LOOPBACK_ANY_PORT`. Default `false`: exact,
    /// as at Okta.
    pub loopback_any_port: bool,
    /// Okta-style rate limits (off by default).
    pub rate_limits: RateLimitConfig,
    /// Act as an Okta *org* authorization server instead of a custom one:
    /// the issuer is the origin (`http://127.0.0.1:{port}`), discovery is at
    /// `/.well-known/openid-configuration`, the endpoints are under
    /// `/oauth2/v1/`, and access tokens' `aud` is the issuer (the org), not
    /// [`Config::audience`]: they are meant for the provider alone, so a
    /// resource server that expects a custom server's audience refuses them.
    /// `authorization_server_id` is then unused. Environment:
    /// `DEV_IDP_ORG_AUTHORIZATION_SERVER`. Default `false`.
    pub org_authorization_server: bool,
    /// The origin clients reach the provider at when something in front of
    /// it changes it, e.g. `https://127.0.0.1:8443` behind a TLS
    /// terminator: the issuer (and so every endpoint) is made from it
    /// instead of `http://127.0.0.1:{port}`, and requests must name its
    /// host and port. An `http(s)` origin: no path, query or user. Default
    /// `None`.
    pub public_origin: Option<String>,
}

/// Okta-style rate limits: a number of requests a minute for each endpoint
/// family (`token`, `authorize`, `keys`, `discovery`, …), counted in windows
/// of a calendar minute of the provider's clock. When on, every answer of
/// a counted endpoint carries `X-Rate-Limit-Limit`, `X-Rate-Limit-Remaining`
/// and `X-Rate-Limit-Reset` (the window's end, Unix seconds), and a request
/// past the limit is answered `429 Too Many Requests` with an OAuth error
/// body (`too_many_requests`), as Okta's rate-limit headers document, plus
/// `Retry-After` (the seconds to the reset, RFC 9110 §10.2.3) and a `Date`
/// from the provider's clock, for clients that read only the standard header.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Count and limit requests. Environment: `DEV_IDP_RATE_LIMITS`.
    /// Default `false`.
    pub enabled: bool,
    /// Requests a minute for each endpoint family without its own limit
    /// (600). Environment: `DEV_IDP_RATE_LIMIT_PER_MINUTE`.
    pub per_minute: u64,
    /// Limits of single families, e.g. `token = 10`: the endpoint's name
    /// after `/v1/` (`token`, `authorize`, `par`, `keys`, `userinfo`,
    /// `introspect`, `revoke`, `logout`, `device/authorize`), a page's name
    /// (`sign-in`, `consent`, `activate`) or `discovery`.
    pub endpoints: std::collections::BTreeMap<String, u64>,
    /// The length of a window in seconds (60, as at Okta; the limits above
    /// are then per window). Tests shorten it to wait for a reset for real.
    pub window_secs: u64,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self { enabled: false, per_minute: 600, endpoints: std::collections::BTreeMap::new(), window_secs: 60 }
    }
}

impl RateLimitConfig {
    /// The limit a minute of the endpoint family `family`.
    #[must_use]
    pub fn limit_of(&self, family: &str) -> u64 {
        self.endpoints.get(family).copied().unwrap_or(self.per_minute)
    }
}

/// Bounds on what one client can hold (see the `tessera-http-server` crate):
/// dev-idp ships inside the desktop app and the CLI and listens with no
/// reverse proxy in front. Every value must be at least 1.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Seconds for a request head to arrive in full, counted from when the
    /// connection opened or its previous answer was sent (10).
    pub header_read_timeout_secs: u64,
    /// Seconds a connection may stay open sending nothing with no request
    /// under way: the idle keep-alive limit (5).
    pub idle_timeout_secs: u64,
    /// Seconds from a complete request head to the answer: a body still
    /// arriving gets 408, a slower answer 503 (30).
    pub request_timeout_secs: u64,
    /// Connections served at once; a new one past the cap is answered 503 (512).
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        let limits = http_server::Limits::default();
        Self {
            header_read_timeout_secs: limits.header_read_timeout.as_secs(),
            idle_timeout_secs: limits.idle_timeout.as_secs(),
            request_timeout_secs: limits.request_timeout.as_secs(),
            max_connections: limits.max_connections,
        }
    }
}

impl ServerConfig {
    /// The limits the server applies.
    #[must_use]
    pub fn limits(&self) -> http_server::Limits {
        http_server::Limits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            max_connections: self.max_connections,
        }
    }
}

/// DPoP (RFC 9449) settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DpopConfig {
    /// Ask for a server nonce in proofs (RFC 9449 §8), as Okta does: a first
    /// proof without it is answered `use_dpop_nonce` with a `DPoP-Nonce`.
    pub require_nonce: bool,
    /// How long a nonce stays good (the previous one is still taken).
    pub nonce_lifetime_secs: u64,
    /// How old a proof's `iat` may be.
    pub proof_max_age_secs: u64,
}

impl Default for DpopConfig {
    fn default() -> Self {
        Self { require_nonce: true, nonce_lifetime_secs: 300, proof_max_age_secs: 300 }
    }
}

/// A scope and the sentence the consent page shows for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeConfig {
    /// The scope value, e.g. `items:read`.
    pub name: String,
    /// What granting it allows, for people.
    pub description: String,
}

/// A registered client (an Okta "app integration").
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// The `client_id`.
    pub client_id: String,
    /// Name shown on the consent page.
    pub name: String,
    /// Secret of a confidential client (`client_secret_basic`,
    /// `client_secret_post`); a client with neither a secret nor [`jwks`](Self::jwks)
    /// is public (`token_endpoint_auth_method=none`) and must use PKCE.
    #[serde(default)]
    pub client_secret: Option<ClientSecret>,
    /// The public keys of a confidential client that authenticates with
    /// `private_key_jwt` (RFC 7523 §2.2, OIDC Core §9; Okta's "Public key /
    /// Private key" client authentication): a JWKS (`{"keys": [...]}`, RSA
    /// keys for RS256, P-256 keys for ES256). Such a client signs a client
    /// assertion per request; it needs no secret.
    #[serde(default)]
    pub jwks: Option<jsonwebtoken::jwk::JwkSet>,
    /// Registered redirect URIs. With `loopback_any_port`,
    /// `http://127.0.0.1/...` and `http://[::1]/...` match any port
    /// (RFC 8252 §7.3); everything else matches exactly.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Registered `post_logout_redirect_uri`s, matched like redirect URIs.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// Grant types the client may use: `authorization_code`, `refresh_token`,
    /// `client_credentials`, `urn:ietf:params:oauth:grant-type:device_code`.
    #[serde(default)]
    pub grant_types: Vec<String>,
    /// Scopes the client may ask for; `None` means every known scope.
    #[serde(default)]
    pub allowed_scopes: Option<Vec<String>>,
    /// Ask the person to consent before the first grant (Okta: "User consent").
    #[serde(default)]
    pub consent_required: bool,
    /// Accept authorization requests only when pushed first (RFC 9126 §6,
    /// Okta: "Require PAR").
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// Issue only DPoP-bound tokens: token requests need a DPoP proof
    /// (RFC 9449 §5.2, Okta: "Require DPoP").
    #[serde(default)]
    pub dpop_bound_access_tokens: bool,
    /// This client's own [`Config::loopback_any_port`]; `None` follows the
    /// provider's.
    #[serde(default)]
    pub loopback_any_port: Option<bool>,
}

/// A client secret: compared in constant time, never printed.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a secret.
    #[must_use]
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// Compares with a presented secret in constant time.
    #[must_use]
    pub fn matches(&self, presented: &str) -> bool {
        use sha2::{Digest, Sha256};
        use subtle::ConstantTimeEq;
        // Hash both sides so that the comparison time does not depend on length.
        let a = Sha256::digest(self.0.as_bytes());
        let b = Sha256::digest(presented.as_bytes());
        a.ct_eq(&b).into()
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// A person who can sign in.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// Stable user id (Okta's `00u…`): the ID token's `sub`, the access token's `uid`.
    pub id: String,
    /// Login name, e.g. `alice@example.com`: the access token's `sub`.
    pub login: String,
    /// Short name accepted on the sign-in form besides the login, e.g. `alice`.
    #[serde(default)]
    pub username: Option<String>,
    /// Argon2 PHC string of the password (`tessera-dev-idp hash-password`).
    pub password_hash: String,
    /// Full name.
    pub name: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// E-mail address.
    pub email: String,
}

/// Lifetimes, in seconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Lifetimes {
    /// Authorization codes (Okta: 300 s).
    pub authorization_code_secs: u64,
    /// Access tokens.
    pub access_token_secs: u64,
    /// ID tokens (Okta: 60 min).
    pub id_token_secs: u64,
    /// Refresh tokens, counted from their issue.
    pub refresh_token_secs: u64,
    /// Device codes (RFC 8628).
    pub device_code_secs: u64,
    /// The provider's browser session.
    pub session_secs: u64,
    /// An unfinished sign-in (between `/authorize` and the redirect back).
    pub interaction_secs: u64,
    /// A pushed authorization request's `request_uri` (RFC 9126 §2.2).
    pub pushed_request_secs: u64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            authorization_code_secs: 300,
            access_token_secs: 3600,
            id_token_secs: 3600,
            refresh_token_secs: 90 * 24 * 3600,
            device_code_secs: 600,
            session_secs: 2 * 3600,
            interaction_secs: 900,
            pushed_request_secs: 60,
        }
    }
}

/// Refresh-token rotation.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RotationConfig {
    /// Issue a new refresh token on every refresh.
    pub enabled: bool,
    /// How long a rotated-away token may still be used, each use answering
    /// new tokens (Okta's "grace period for token rotation", its API's
    /// `leeway`, default 30 s); a use at or after that revokes the whole
    /// token family. Environment: `DEV_IDP_REFRESH_GRACE_PERIOD_SECS`.
    pub grace_period_secs: u64,
}

impl Default for RotationConfig {
    fn default() -> Self {
        Self { enabled: true, grace_period_secs: 30 }
    }
}

/// Device authorization grant settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeviceConfig {
    /// Minimum seconds between two polls (`interval`).
    pub poll_interval_secs: u64,
    /// Whether discovery names the device authorization endpoint and grant
    /// (`true`); `false` acts as a provider without the device grant.
    pub advertised: bool,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        Self { poll_interval_secs: 5, advertised: true }
    }
}

/// Signing keys.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// `max-age` of the JWKS response.
    pub jwks_max_age_secs: u64,
    /// How many keys the JWKS keeps after rotations (the active one included).
    pub published_keys: usize,
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self { jwks_max_age_secs: 3600, published_keys: 2 }
    }
}

/// The scopes an org authorization server grants (of those configured):
/// OpenID Connect's own. Okta's org server cannot be given custom scopes
/// such as `items:read`; those need a custom authorization server.
pub const ORG_SERVER_SCOPES: [&str; 7] = ["openid", "profile", "email", "address", "phone", "offline_access", "groups"];

/// The desktop app's client id in the demo configuration.
pub const DESKTOP_CLIENT_ID: &str = "tessera-desktop";
/// The items API's (confidential) client id in the demo configuration.
pub const ITEMS_API_CLIENT_ID: &str = "items-api";
/// The items API's client secret in the demo configuration. Demo only.
pub const ITEMS_API_DEMO_SECRET: &str = "items-api-demo-secret";

/// Grant type names (RFC 6749, RFC 8628).
pub mod grant {
    /// RFC 6749 §4.1.
    pub const AUTHORIZATION_CODE: &str = "authorization_code";
    /// RFC 6749 §6.
    pub const REFRESH_TOKEN: &str = "refresh_token";
    /// RFC 6749 §4.4.
    pub const CLIENT_CREDENTIALS: &str = "client_credentials";
    /// RFC 8628 §3.4.
    pub const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";
}

impl Default for Config {
    fn default() -> Self {
        let scope =
            |name: &str, description: &str| ScopeConfig { name: name.to_owned(), description: description.to_owned() };
        let strings = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        Self {
            port: DEMO_PORT,
            authorization_server_id: "default".to_owned(),
            audience: "api://default".to_owned(),
            scopes: vec![
                scope("openid", "Sign you in"),
                scope("profile", "See your name"),
                scope("email", "See your e-mail address"),
                scope("offline_access", "Keep you signed in"),
                scope("items:read", "See your items"),
                scope("items:write", "Create, change and delete your items"),
                scope("items:admin", "See and change everyone's items"),
            ],
            clients: vec![
                ClientConfig {
                    client_id: DESKTOP_CLIENT_ID.to_owned(),
                    name: "Tessera".to_owned(),
                    client_secret: None,
                    jwks: None,
                    redirect_uris: demo_loopback_uris("/callback", "com.example.tessera:/callback"),
                    post_logout_redirect_uris: demo_loopback_uris("/signed-out", "com.example.tessera:/signed-out"),
                    grant_types: strings(&[grant::AUTHORIZATION_CODE, grant::REFRESH_TOKEN, grant::DEVICE_CODE]),
                    allowed_scopes: Some(strings(&[
                        "openid",
                        "profile",
                        "email",
                        "offline_access",
                        "items:read",
                        "items:write",
                    ])),
                    consent_required: true,
                    require_pushed_authorization_requests: false,
                    dpop_bound_access_tokens: false,
                    loopback_any_port: None,
                },
                ClientConfig {
                    client_id: ITEMS_API_CLIENT_ID.to_owned(),
                    name: "Items API".to_owned(),
                    client_secret: Some(ClientSecret::new(ITEMS_API_DEMO_SECRET)),
                    jwks: None,
                    redirect_uris: Vec::new(),
                    post_logout_redirect_uris: Vec::new(),
                    grant_types: strings(&[grant::CLIENT_CREDENTIALS]),
                    allowed_scopes: Some(strings(&["items:read", "items:write", "items:admin"])),
                    consent_required: false,
                    require_pushed_authorization_requests: false,
                    dpop_bound_access_tokens: false,
                    loopback_any_port: None,
                },
            ],
            users: vec![
                UserConfig {
                    id: "00u1alice0000000001".to_owned(),
                    login: "alice@example.com".to_owned(),
                    username: Some("alice".to_owned()),
                    password_hash: DEMO_ALICE_HASH.to_owned(),
                    name: "Alice Liddell".to_owned(),
                    given_name: "Alice".to_owned(),
                    family_name: "Liddell".to_owned(),
                    email: "alice@example.com".to_owned(),
                },
                UserConfig {
                    id: "00u2bob00000000002".to_owned(),
                    login: "bob@example.com".to_owned(),
                    username: Some("bob".to_owned()),
                    password_hash: DEMO_BOB_HASH.to_owned(),
                    name: "Bob Builder".to_owned(),
                    given_name: "Bob".to_owned(),
                    family_name: "Builder".to_owned(),
                    email: "bob@example.com".to_owned(),
                },
            ],
            lifetimes: Lifetimes::default(),
            refresh_token_rotation: RotationConfig::default(),
            device: DeviceConfig::default(),
            keys: KeysConfig::default(),
            pushed_authorization_requests: true,
            dpop: DpopConfig::default(),
            server: ServerConfig::default(),
            loopback_any_port: false,
            rate_limits: RateLimitConfig::default(),
            org_authorization_server: false,
            public_origin: None,
        }
    }
}

/// The demo desktop client's URIs for `path`: the port-less loopback ones
/// (for `loopback_any_port`), one per [`DEMO_LOOPBACK_PORTS`] port on each
/// IP family, and the custom-scheme one.
fn demo_loopback_uris(path: &str, custom_scheme: &str) -> Vec<String> {
    let mut uris = vec![format!("http://127.0.0.1{path}"), format!("http://[::1]{path}")];
    for port in DEMO_LOOPBACK_PORTS {
        uris.push(format!("http://127.0.0.1:{port}{path}"));
        uris.push(format!("http://[::1]:{port}{path}"));
    }
    uris.push(custom_scheme.to_owned());
    uris
}

/// Demo password of alice (documented in the README; demo only).
pub const DEMO_ALICE_PASSWORD: &str = "alice-demo-pw";
/// Demo password of bob (documented in the README; demo only).
pub const DEMO_BOB_PASSWORD: &str = "bob-demo-pw";
const DEMO_ALICE_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$PAzFojztq5tE5eFUICAfBQ$Gm1kfvG93hxR4tRn5oeTFS415gRkMPcV3nxgMNNOwPM";
const DEMO_BOB_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$5WSLCD+KJnjC/4WVh8gX3A$G2rtQEZ8kZDBzIKRPmgYNmzRLR4L+uSSYOnZijwgTbw";

/// Verified against when the login is unknown, so that unknown and known
/// logins take the same time. (The hash of a random, discarded password.)
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$rEAIbL94X1xcHUTCfTKkew$1bJfjmLmYq0eMGMmNhE4nFhqz1MZji0i8OxNlsGKUhA";

/// Why a configuration was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration.
    #[error("{path} is not a valid dev-idp configuration")]
    Parse {
        /// The file.
        path: String,
        /// The parser's error, with line and column.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A value is inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Config {
    /// Reads a TOML file; fields it omits keep their defaults.
    ///
    /// # Errors
    /// When the file cannot be read or parsed, or fails [`Config::validate`].
    pub fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let config: Self = match settings::read_toml(path) {
            Ok(Some(config)) => config,
            // A file named on the command line must be there.
            Ok(None) => return Err(ConfigError::Read { path: shown, source: std::io::ErrorKind::NotFound.into() }),
            Err(settings::FileError::Read { source, .. }) => return Err(ConfigError::Read { path: shown, source }),
            Err(settings::FileError::Parse { source, .. }) => return Err(ConfigError::Parse { path: shown, source }),
            Err(other) => return Err(ConfigError::Invalid(other.to_string())),
        };
        config.validate()?;
        Ok(config)
    }

    /// Parses TOML text; fields it omits keep their defaults.
    ///
    /// # Errors
    /// When the text cannot be parsed, or fails [`Config::validate`].
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        let config: Self =
            settings::parse_toml(text).map_err(|source| ConfigError::Parse { path: "<text>".to_owned(), source })?;
        config.validate()?;
        Ok(config)
    }

    /// The environment's layer over this configuration (defaults < file <
    /// environment, as every Tessera program layers its settings): each
    /// `DEV_IDP_*` variable that is set replaces its setting.
    ///
    /// | variable | setting |
    /// | --- | --- |
    /// | `DEV_IDP_LOOPBACK_ANY_PORT` | [`Config::loopback_any_port`] |
    /// | `DEV_IDP_REFRESH_GRACE_PERIOD_SECS` | [`RotationConfig::grace_period_secs`] |
    /// | `DEV_IDP_RATE_LIMITS` | [`RateLimitConfig::enabled`] |
    /// | `DEV_IDP_RATE_LIMIT_PER_MINUTE` | [`RateLimitConfig::per_minute`] |
    /// | `DEV_IDP_ORG_AUTHORIZATION_SERVER` | [`Config::org_authorization_server`] |
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming a variable whose value does not parse.
    pub fn with_environment(mut self, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = settings::Environment::new(env);
        let invalid = |error: settings::Invalid| ConfigError::Invalid(error.to_string());
        self.loopback_any_port = env
            .layer("DEV_IDP_LOOPBACK_ANY_PORT", Some(self.loopback_any_port), settings::parse::flag)
            .map_err(invalid)?
            .unwrap_or(self.loopback_any_port);
        let rotation = &mut self.refresh_token_rotation;
        rotation.grace_period_secs = env
            .layer("DEV_IDP_REFRESH_GRACE_PERIOD_SECS", Some(rotation.grace_period_secs), settings::parse::seconds)
            .map_err(invalid)?
            .unwrap_or(rotation.grace_period_secs);
        let limits = &mut self.rate_limits;
        limits.enabled = env
            .layer("DEV_IDP_RATE_LIMITS", Some(limits.enabled), settings::parse::flag)
            .map_err(invalid)?
            .unwrap_or(limits.enabled);
        limits.per_minute = env
            .layer("DEV_IDP_RATE_LIMIT_PER_MINUTE", Some(limits.per_minute), settings::parse::number)
            .map_err(invalid)?
            .unwrap_or(limits.per_minute);
        self.org_authorization_server = env
            .layer("DEV_IDP_ORG_AUTHORIZATION_SERVER", Some(self.org_authorization_server), settings::parse::flag)
            .map_err(invalid)?
            .unwrap_or(self.org_authorization_server);
        Ok(self)
    }

    /// Checks what types cannot: unique ids, parseable URIs and hashes, known scopes.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] naming the first problem found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| Err(ConfigError::Invalid(message));
        if let Some(origin) = &self.public_origin {
            let url = url::Url::parse(origin).ok().filter(|url| {
                matches!(url.scheme(), "http" | "https")
                    && url.host().is_some()
                    && url.path() == "/"
                    && url.query().is_none()
                    && url.username().is_empty()
            });
            if url.is_none() {
                return invalid(format!(
                    "public_origin {origin:?} is not an http(s) origin such as https://127.0.0.1:8443"
                ));
            }
        }
        if self.authorization_server_id.is_empty()
            || !self.authorization_server_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return invalid("authorization_server_id must be letters, digits, '-' or '_'".into());
        }
        let known: HashSet<&str> = self.scopes.iter().map(|s| s.name.as_str()).collect();
        let mut client_ids = HashSet::new();
        for client in &self.clients {
            if !client_ids.insert(client.client_id.as_str()) {
                return invalid(format!("client {} is defined twice", client.client_id));
            }
            for uri in client.redirect_uris.iter().chain(&client.post_logout_redirect_uris) {
                if let Err(error) = RegisteredUri::parse(uri) {
                    return invalid(format!("client {}: {error}", client.client_id));
                }
            }
            for scope in client.allowed_scopes.iter().flatten() {
                if !known.contains(scope.as_str()) {
                    return invalid(format!("client {}: unknown scope {scope}", client.client_id));
                }
            }
            for grant_type in &client.grant_types {
                if ![grant::AUTHORIZATION_CODE, grant::REFRESH_TOKEN, grant::CLIENT_CREDENTIALS, grant::DEVICE_CODE]
                    .contains(&grant_type.as_str())
                {
                    return invalid(format!("client {}: unknown grant type {grant_type}", client.client_id));
                }
            }
            if client.is_public() && client.grant_types.iter().any(|g| g == grant::CLIENT_CREDENTIALS) {
                return invalid(format!(
                    "client {}: client_credentials needs a client_secret or jwks (private_key_jwt)",
                    client.client_id
                ));
            }
        }
        let mut user_ids = HashSet::new();
        let mut logins = HashSet::new();
        for user in &self.users {
            if !user_ids.insert(user.id.as_str()) {
                return invalid(format!("user id {} is defined twice", user.id));
            }
            for login in std::iter::once(&user.login).chain(&user.username) {
                if !logins.insert(login.to_lowercase()) {
                    return invalid(format!("login {login} is defined twice"));
                }
            }
            if argon2::PasswordHash::new(&user.password_hash).is_err() {
                return invalid(format!(
                    "user {}: password_hash is not an argon2 PHC string \
                     (make one with `tessera-dev-idp hash-password`)",
                    user.login
                ));
            }
        }
        if self.keys.published_keys == 0 {
            return invalid("keys.published_keys must be at least 1".into());
        }
        let server = &self.server;
        for (name, value) in [
            ("server.header_read_timeout_secs", server.header_read_timeout_secs),
            ("server.idle_timeout_secs", server.idle_timeout_secs),
            ("server.request_timeout_secs", server.request_timeout_secs),
            ("server.max_connections", server.max_connections as u64),
        ] {
            if value == 0 {
                return invalid(format!("{name} must be at least 1"));
            }
        }
        if self.rate_limits.per_minute == 0 {
            return invalid("rate_limits.per_minute must be at least 1".into());
        }
        if self.rate_limits.window_secs == 0 {
            return invalid("rate_limits.window_secs must be at least 1".into());
        }
        if let Some((family, _)) = self.rate_limits.endpoints.iter().find(|(_, limit)| **limit == 0) {
            return invalid(format!("rate_limits.endpoints.{family} must be at least 1"));
        }
        Ok(())
    }

    /// Whether `client`'s loopback redirect URIs match on any port: its own
    /// setting, else the provider's ([`Config::loopback_any_port`]).
    #[must_use]
    pub fn loopback_any_port_for(&self, client: &ClientConfig) -> bool {
        client.loopback_any_port.unwrap_or(self.loopback_any_port)
    }

    /// The path under which the authorization server's endpoints live
    /// (`{base}/v1/…`) and its pages: `/oauth2/{authorization_server_id}`
    /// for a custom server, `/oauth2` for the org server.
    #[must_use]
    pub fn base_path(&self) -> String {
        if self.org_authorization_server {
            "/oauth2".to_owned()
        } else {
            format!("/oauth2/{}", self.authorization_server_id)
        }
    }

    /// The issuer's path: the base path for a custom server, none (the
    /// origin) for the org server.
    #[must_use]
    pub fn issuer_path(&self) -> String {
        if self.org_authorization_server { String::new() } else { self.base_path() }
    }

    /// The client registered under `client_id`.
    #[must_use]
    pub fn client(&self, client_id: &str) -> Option<&ClientConfig> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// The user whose login or username is `name` (case-insensitive).
    #[must_use]
    pub fn user_by_login(&self, name: &str) -> Option<&UserConfig> {
        let name = name.trim();
        self.users.iter().find(|u| {
            u.login.eq_ignore_ascii_case(name) || u.username.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    }

    /// The person whose login (or username) and password these are. An unknown
    /// login costs as much time as a wrong password.
    #[must_use]
    pub fn authenticate(&self, login: &str, password: &str) -> Option<&UserConfig> {
        let user = self.user_by_login(login);
        let hash = user.map_or(DUMMY_HASH, |u| u.password_hash.as_str());
        let valid = verify_password(password, hash);
        user.filter(|_| valid)
    }

    /// The user with id `id`.
    #[must_use]
    pub fn user(&self, id: &str) -> Option<&UserConfig> {
        self.users.iter().find(|u| u.id == id)
    }

    /// Whether this authorization server grants `scope`: a configured one,
    /// and for the org server only OpenID Connect's own
    /// ([`ORG_SERVER_SCOPES`]; custom scopes need a custom server on Okta).
    #[must_use]
    pub fn knows_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s.name == scope)
            && (!self.org_authorization_server || ORG_SERVER_SCOPES.contains(&scope))
    }
}

impl ClientConfig {
    /// A public client has no secret and no keys, and must use PKCE.
    #[must_use]
    pub fn is_public(&self) -> bool {
        self.client_secret.is_none() && self.jwks.is_none()
    }

    /// Whether the client may use `grant_type`.
    #[must_use]
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    /// Whether the client may ask for `scope`.
    #[must_use]
    pub fn allows_scope(&self, scope: &str) -> bool {
        self.allowed_scopes.as_ref().is_none_or(|allowed| allowed.iter().any(|s| s == scope))
    }
}

/// Hashes a password into an argon2id PHC string for [`UserConfig::password_hash`].
///
/// # Errors
/// Only if argon2 refuses its own default parameters, which does not happen.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    use argon2::PasswordHasher;
    use argon2::password_hash::SaltString;
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Ok(argon2::Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// Checks a password against a PHC string; any malformed hash fails closed.
#[must_use]
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::PasswordVerifier;
    argon2::PasswordHash::new(phc)
        .is_ok_and(|hash| argon2::Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

#[cfg(test)]
mod tests;
