//! Typed configuration: built-in defaults, then a TOML file, then the
//! environment (the tutorials' names: `OKTA_ISSUER`, `OKTA_AUDIENCE`,
//! `OKTA_CLIENT_ID`, `OKTA_CLIENT_SECRET`, plus `DATABASE_URL`,
//! `POLICY_FILE`, `OPA_URL` or the OPA tutorial's `OPA_AUTHZ_URL`,
//! `POLICY_QUERY`, `BIND`). A wrong setting fails at start-up
//! with a message naming it. Requests to the issuer and to OPA trust the
//! system's store and `CA_FILE` (`ca_file`; else `SSL_CERT_FILE`), and go
//! through `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` except for `NO_PROXY`
//! and loopback. Instances of a fleet on one PostgreSQL share DPoP replays
//! (`DPOP_REPLAY`) and, with `DPOP_NONCE_KEY` (or `DPOP_NONCE_KEY_FILE`),
//! their DPoP nonces.
//!
//! Nothing configured means nothing trusted: outside demo mode the issuer
//! (`OKTA_ISSUER` or `OKTA_DOMAIN`), the database (`DATABASE_URL`) and, while
//! DPoP is accepted, the API's own URL (`PUBLIC_URL`) must be set, and a
//! start without them fails with one message listing all that is missing.
//! Demo mode (`DEMO=1`, or `--demo`) is the only one with defaults (dev-idp
//! on 127.0.0.1:18080, `sqlite://tessera-items.db`, demo items).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use settings::{Environment, parse};
use url::Url;

mod fleet;

pub use fleet::{MIN_NONCE_KEY_BYTES, NonceKey, ReplayPlace};

/// The issuer of demo mode: dev-idp on its fixed port.
pub const DEMO_ISSUER: &str = "http://127.0.0.1:18080/oauth2/default";

/// The database of demo mode, in the current folder.
pub const DEMO_DATABASE: &str = "sqlite://tessera-items.db";

/// How access tokens are validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Validation {
    /// Signature against the issuer's JWKS.
    Local,
    /// RFC 7662 introspection at the issuer.
    Introspection,
}

/// The complete, checked configuration.
#[derive(Clone)]
pub struct Config {
    /// Address to listen on (`BIND`).
    pub bind: SocketAddr,
    /// Token issuer (`OKTA_ISSUER`).
    pub issuer: Url,
    /// Expected audience (`OKTA_AUDIENCE`).
    pub audience: String,
    /// Validation mode (`TOKEN_VALIDATION`: `local` or `introspection`).
    pub validation: Validation,
    /// Client id for introspection (`OKTA_CLIENT_ID`).
    pub client_id: Option<String>,
    /// Client secret for introspection (`OKTA_CLIENT_SECRET`).
    pub client_secret: Option<oauth2::ClientSecret>,
    /// Longest time an introspection answer is cached (`INTROSPECTION_CACHE_SECS`).
    pub introspection_cache: Duration,
    /// How many opaque (not JWT-shaped) tokens may be introspected at once
    /// (`INTROSPECTION_BURST`, 30): the size of the bucket that bounds what
    /// made-up tokens cost the issuer.
    pub introspection_burst: u32,
    /// ... and how many more per minute (`INTROSPECTIONS_PER_MINUTE`, 60).
    pub introspections_per_minute: u32,
    /// Local mode: most validated tokens kept so that a token seen again is
    /// not verified again (`TOKEN_CACHE_SIZE`, 10 000; 0: verify every
    /// time). See `auth`'s validated-token cache.
    pub token_cache_size: usize,
    /// Clock leeway for token times (`TOKEN_LEEWAY_SECS`).
    pub leeway: Duration,
    /// Timeout of requests to the issuer or OPA (`UPSTREAM_TIMEOUT_MS`).
    pub upstream_timeout: Duration,
    /// Database (`DATABASE_URL`): `sqlite://file.db` or `postgres://…`.
    pub database_url: String,
    /// A Rego policy evaluated in-process (`POLICY_FILE`).
    pub policy_file: Option<PathBuf>,
    /// An external OPA server's data API URL (`OPA_URL`, or `OPA_AUTHZ_URL`
    /// as the OPA tutorial names it), e.g. `http://127.0.0.1:8181/v1/data/items`;
    /// built from `POLICY_QUERY` when the setting gives OPA's address alone
    /// (`http://127.0.0.1:8181`).
    pub opa_url: Option<Url>,
    /// The Rego package whose `allow` (and `see_all`) decide (`POLICY_QUERY`,
    /// `data.items`), e.g. `data.httpapi.authz`.
    pub policy_query: crate::policy::PolicyPackage,
    /// Demo mode (`DEMO=1` or `--demo`): demo defaults for the issuer, the
    /// database and the public URL, and demo items for alice and bob added
    /// to an empty store.
    pub demo: bool,
    /// Whether DPoP-bound tokens are accepted (`ACCEPT_DPOP`, `true`).
    pub accept_dpop: bool,
    /// Trust and proxies of the requests to the issuer and OPA: `CA_FILE`
    /// (the file's `ca_file`; else `SSL_CERT_FILE`), a PEM file of CA
    /// certificates trusted besides the system's store; `HTTPS_PROXY`,
    /// `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY` (loopback never proxied).
    pub net: net::NetSettings,
    /// The API's URLs as clients call it (`PUBLIC_URL`, several separated by
    /// commas), which DPoP proofs must name (RFC 9449 §4.3); never built from
    /// a request's `Host`. Required while DPoP is accepted.
    pub public_urls: Vec<Url>,
    /// A reverse proxy terminates TLS in front of the API (`TLS_IN_FRONT`;
    /// an `https` public URL says so too): silences the warning about
    /// plain HTTP on a non-loopback `BIND`.
    pub tls_in_front: bool,
    /// How old a DPoP proof may be (`DPOP_MAX_AGE_SECS`, 60).
    pub dpop_max_age: Duration,
    /// How long each of the API's own DPoP nonces lasts
    /// (`DPOP_NONCE_SECS`; 0, the default: no nonces asked for).
    pub dpop_nonce: Option<Duration>,
    /// The key of those nonces (`DPOP_NONCE_KEY`, base64 of at least 32
    /// bytes, or `DPOP_NONCE_KEY_FILE`, a file holding it): the same on
    /// every instance, so each takes the others' nonces; `None`: a key made
    /// at start-up, this instance's alone.
    pub dpop_nonce_key: Option<NonceKey>,
    /// Where accepted DPoP proofs are remembered (`DPOP_REPLAY`: `database`,
    /// PostgreSQL's default, shared by every instance; `memory`, SQLite's).
    pub dpop_replay: ReplayPlace,
    /// The scopes asked for: `READ_SCOPE`, `WRITE_SCOPE`, `ADMIN_SCOPE`
    /// (`items:read`, `items:write`, `items:admin` by default).
    pub scopes: crate::api::ScopeNames,
    /// Browser front ends allowed to call the API (`CORS_ORIGINS`: exact
    /// origins, or `*`); `None`, the default: CORS off.
    pub cors: Option<crate::cors::Cors>,
    /// The clients whose tokens are accepted (`CLIENT_ID_ALLOWLIST`, their
    /// ids separated by commas or spaces, checked against `cid` /
    /// `client_id`); empty, the default: any client's.
    pub client_ids: Vec<String>,
    /// Tutorial settings that are set but mean nothing here, each with why
    /// (logged at start-up; see [`IGNORED_TUTORIAL_SETTINGS`]).
    pub ignored: Vec<String>,
    /// What one client can hold: `HEADER_READ_TIMEOUT_SECS` (10),
    /// `IDLE_TIMEOUT_SECS` (5, the idle keep-alive limit),
    /// `REQUEST_TIMEOUT_SECS` (30) and `MAX_CONNECTIONS` (512); see
    /// [`http_server::Limits`].
    pub limits: http_server::Limits,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // DATABASE_URL may hold a password, the client secret is a secret.
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("issuer", &self.issuer.as_str())
            .field("audience", &self.audience)
            .field("validation", &self.validation)
            .field("client_id", &self.client_id)
            .field("database", &redact_url(&self.database_url))
            .field("policy_file", &self.policy_file)
            .field("opa_url", &self.opa_url.as_ref().map(Url::as_str))
            .field("policy_query", &self.policy_query.as_str())
            .field("demo", &self.demo)
            .field("accept_dpop", &self.accept_dpop)
            .field("public_urls", &self.public_urls.iter().map(Url::as_str).collect::<Vec<_>>())
            .field("tls_in_front", &self.tls_in_front)
            .field("dpop_nonce_key", &self.dpop_nonce_key.as_ref().map(|_| "[set]"))
            .field("dpop_replay", &self.dpop_replay)
            .field("net", &self.net)
            .field("scopes", &self.scopes)
            .field("cors", &self.cors)
            .field("client_ids", &self.client_ids)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// A database URL with any password replaced, for logs.
#[must_use]
pub fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.into()
        }
        Ok(parsed) => parsed.into(),
        Err(_) => "<unparseable>".to_owned(),
    }
}

/// The Python tutorials' settings that the items API does not read, and
/// why: set, each is named in a start-up note instead of being silently
/// ignored.
pub const IGNORED_TUTORIAL_SETTINGS: [(&str, &str); 3] = [
    ("OKTA_INTROSPECTION", "the introspection endpoint comes from the issuer's discovery document"),
    ("OKTA_TOKEN", "the API takes tokens, it does not fetch them; the token endpoint comes from discovery"),
    ("OKTA_SCOPE", "the scopes the API asks for are READ_SCOPE, WRITE_SCOPE and ADMIN_SCOPE"),
];

/// The file's shape: every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bind: Option<String>,
    issuer: Option<String>,
    okta_domain: Option<String>,
    audience: Option<String>,
    validation: Option<Validation>,
    client_id: Option<String>,
    client_secret: Option<String>,
    introspection_cache_secs: Option<u64>,
    introspection_burst: Option<u64>,
    introspections_per_minute: Option<u64>,
    token_cache_size: Option<u64>,
    leeway_secs: Option<u64>,
    upstream_timeout_ms: Option<u64>,
    database_url: Option<String>,
    policy_file: Option<PathBuf>,
    opa_url: Option<String>,
    policy_query: Option<String>,
    demo: Option<bool>,
    accept_dpop: Option<bool>,
    public_url: Option<String>,
    tls_in_front: Option<bool>,
    ca_file: Option<PathBuf>,
    dpop_max_age_secs: Option<u64>,
    dpop_nonce_secs: Option<u64>,
    dpop_nonce_key_file: Option<PathBuf>,
    dpop_replay: Option<String>,
    header_read_timeout_secs: Option<u64>,
    idle_timeout_secs: Option<u64>,
    request_timeout_secs: Option<u64>,
    max_connections: Option<u64>,
    read_scope: Option<String>,
    write_scope: Option<String>,
    admin_scope: Option<String>,
    cors_origins: Option<String>,
    client_id_allowlist: Option<String>,
}

/// Why the configuration was refused: each names the setting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read, or is not valid TOML for this
    /// configuration (the parser's message has line and column).
    #[error(transparent)]
    File(#[from] settings::FileError),
    /// A setting has a bad value.
    #[error("{setting}: {problem}")]
    Invalid {
        /// The setting's environment name (or file key).
        setting: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The CA file cannot be used, or a proxy variable is not a proxy URL
    /// (the message names the setting).
    #[error(transparent)]
    Network(#[from] net::NetError),
    /// Settings without which the API does not start outside demo mode,
    /// all of them listed in one message.
    #[error("{}", missing_message(.0))]
    Missing(Vec<Missing>),
}

/// A setting that must be given outside demo mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Missing {
    /// `OKTA_ISSUER` or `OKTA_DOMAIN`: whose tokens to trust.
    Issuer,
    /// `DATABASE_URL`: where items are kept.
    Database,
    /// `PUBLIC_URL` (or `ACCEPT_DPOP=false`): the URL DPoP proofs must name.
    PublicUrl,
}

impl Missing {
    /// The setting's environment name(s) and what it is for.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::Issuer => {
                "OKTA_ISSUER (or OKTA_DOMAIN): the issuer whose access tokens are accepted, \
                 e.g. https://dev-123456.okta.com/oauth2/default"
            }
            Self::Database => "DATABASE_URL: where items are kept, e.g. sqlite://items.db or postgres://…",
            Self::PublicUrl => {
                "PUBLIC_URL: the URL clients call this API at, which DPoP proofs must name, \
                 e.g. https://items.example.com (or ACCEPT_DPOP=false to refuse DPoP-bound tokens)"
            }
        }
    }
}

fn missing_message(missing: &[Missing]) -> String {
    let mut message = String::from("not configured; set");
    for setting in missing {
        message.push_str("\n  ");
        message.push_str(setting.describe());
    }
    message.push_str(
        "\nor start the demo (dev-idp's issuer at 127.0.0.1:18080, sqlite://tessera-items.db, demo items) \
         with --demo or DEMO=1",
    );
    message
}

/// A scope name (RFC 6749 §3.3: printable ASCII but space, `"` and `\`).
fn scope_name(setting: &'static str, value: &str) -> Result<String, ConfigError> {
    let token = !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
    if token {
        Ok(value.to_owned())
    } else {
        Err(invalid(setting, format!("{value:?} is not a scope name (one word of printable characters)")))
    }
}

fn invalid(setting: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { setting, problem: problem.into() }
}

impl From<settings::Invalid> for ConfigError {
    fn from(error: settings::Invalid) -> Self {
        invalid(error.setting, error.problem)
    }
}

impl Config {
    /// Loads defaults < `file` < the process environment.
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad setting.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with(file, |name| std::env::var(name).ok())
    }

    /// Loads defaults < `file` < `env` (a lookup, so tests need not touch the
    /// process environment).
    ///
    /// # Errors
    /// A [`ConfigError`] naming the first bad setting.
    pub fn load_with(file: Option<&Path>, env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let file: FileConfig = match file {
            None => FileConfig::default(),
            // A file named on the command line must be there.
            Some(path) => settings::read_toml(path)?.ok_or_else(|| settings::FileError::Read {
                path: path.to_owned(),
                source: std::io::ErrorKind::NotFound.into(),
            })?,
        };
        let env = Environment::new(env);
        let text = |env_name: &str, file_value: Option<String>, default: &str| {
            env.get(env_name).or(file_value).unwrap_or_else(|| default.to_owned())
        };
        let number = |setting: &'static str, file_value: Option<u64>, default: u64| -> Result<u64, ConfigError> {
            Ok(env.layer(setting, file_value, parse::number)?.unwrap_or(default))
        };
        let flag = |setting: &'static str, file_value: Option<bool>, default: bool| -> Result<bool, ConfigError> {
            Ok(env.layer(setting, file_value, parse::flag)?.unwrap_or(default))
        };
        let env = |name: &str| env.get(name);
        if env("DEMO_SEED").is_some() {
            return Err(invalid(
                "DEMO_SEED",
                "replaced by DEMO=1 (or --demo), which brings the demo's issuer and items",
            ));
        }
        let demo = flag("DEMO", file.demo, false)?;
        // What must be set outside demo mode, reported together.
        let mut missing = Vec::new();

        let bind: SocketAddr = parse::socket_addr(&text("BIND", file.bind, "127.0.0.1:8081"))
            .map_err(|problem| invalid("BIND", problem))?;
        let issuer_text = match env("OKTA_ISSUER").or(file.issuer) {
            Some(issuer) => Some(issuer),
            None => match env("OKTA_DOMAIN").or(file.okta_domain) {
                Some(domain) => Some(issuer_from_domain(&domain)?),
                None => demo.then(|| DEMO_ISSUER.to_owned()),
            },
        };
        let issuer = match issuer_text {
            Some(text) => Some(parse_issuer(&text)?),
            None => {
                missing.push(Missing::Issuer);
                None
            }
        };
        let audience = text("OKTA_AUDIENCE", file.audience, "api://default");
        let validation = match env("TOKEN_VALIDATION") {
            Some(value) => match value.trim().to_ascii_lowercase().as_str() {
                "local" => Validation::Local,
                "introspection" => Validation::Introspection,
                _ => return Err(invalid("TOKEN_VALIDATION", format!("{value:?} is neither local nor introspection"))),
            },
            None => file.validation.unwrap_or(Validation::Local),
        };
        let client_id = env("OKTA_CLIENT_ID").or(file.client_id);
        let client_secret = env("OKTA_CLIENT_SECRET").or(file.client_secret).map(oauth2::ClientSecret::new);
        if validation == Validation::Introspection {
            if client_id.is_none() {
                return Err(invalid("OKTA_CLIENT_ID", "introspection needs the API's client id"));
            }
            if client_secret.is_none() {
                return Err(invalid("OKTA_CLIENT_SECRET", "introspection needs the API's client secret"));
            }
        }
        let policy_file = env("POLICY_FILE").map(PathBuf::from).or(file.policy_file);
        let query_given = env("POLICY_QUERY").or(file.policy_query);
        let policy_query = match &query_given {
            None => crate::policy::PolicyPackage::default(),
            Some(text) => {
                crate::policy::PolicyPackage::parse(text).map_err(|e| invalid("POLICY_QUERY", e.to_string()))?
            }
        };
        let opa_url =
            opa_url(env("OPA_URL"), env("OPA_AUTHZ_URL"), file.opa_url, &policy_query, query_given.is_some())?;
        if policy_file.is_some() && opa_url.is_some() {
            return Err(invalid("POLICY_FILE", "set POLICY_FILE or OPA_URL (OPA_AUTHZ_URL), not both"));
        }
        if let Some(path) = policy_file.as_ref().filter(|path| !path.is_file()) {
            return Err(invalid("POLICY_FILE", format!("{} is not a readable file", path.display())));
        }
        let accept_dpop = flag("ACCEPT_DPOP", file.accept_dpop, true)?;
        let mut public_urls = match env("PUBLIC_URL").or(file.public_url) {
            None => Vec::new(),
            Some(value) => value
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(parse_public_url)
                .collect::<Result<_, _>>()?,
        };
        if public_urls.is_empty() && accept_dpop {
            // The demo listens where BIND says, on loopback: its URL is known.
            let known = demo && bind.ip().is_loopback() && bind.port() != 0;
            match Url::parse(&format!("http://{bind}")) {
                Ok(url) if known => public_urls.push(url),
                _ => missing.push(Missing::PublicUrl),
            }
        }
        let tls_in_front = flag("TLS_IN_FRONT", file.tls_in_front, false)?;
        // CA_FILE over the file's ca_file; SSL_CERT_FILE only when neither is set.
        let ca_file = match (env("CA_FILE"), file.ca_file, env("SSL_CERT_FILE")) {
            (Some(path), _, _) => Some(net::CaFile::load("CA_FILE", Path::new(path.trim()))?),
            (None, Some(path), _) => Some(net::CaFile::load("ca_file", &path)?),
            (None, None, Some(path)) => Some(net::CaFile::load("SSL_CERT_FILE", Path::new(path.trim()))?),
            (None, None, None) => None,
        };
        let net = net::NetSettings { ca_file, proxy: net::ProxySettings::from_env_with(env)? };
        let dpop_max_age = match number("DPOP_MAX_AGE_SECS", file.dpop_max_age_secs, 60)? {
            0 => return Err(invalid("DPOP_MAX_AGE_SECS", "must be at least 1")),
            secs => Duration::from_secs(secs),
        };
        let dpop_nonce = match number("DPOP_NONCE_SECS", file.dpop_nonce_secs, 0)? {
            0 => None,
            secs if secs < 10 => return Err(invalid("DPOP_NONCE_SECS", "must be 0 (off) or at least 10")),
            secs => Some(Duration::from_secs(secs)),
        };
        let at_least_one = |setting: &'static str, file_value: Option<u64>, default: u64| match number(
            setting, file_value, default,
        )? {
            0 => Err(invalid(setting, "must be at least 1")),
            value => Ok(value),
        };
        let defaults = http_server::Limits::default();
        let limits = http_server::Limits {
            header_read_timeout: Duration::from_secs(at_least_one(
                "HEADER_READ_TIMEOUT_SECS",
                file.header_read_timeout_secs,
                defaults.header_read_timeout.as_secs(),
            )?),
            idle_timeout: Duration::from_secs(at_least_one(
                "IDLE_TIMEOUT_SECS",
                file.idle_timeout_secs,
                defaults.idle_timeout.as_secs(),
            )?),
            request_timeout: Duration::from_secs(at_least_one(
                "REQUEST_TIMEOUT_SECS",
                file.request_timeout_secs,
                defaults.request_timeout.as_secs(),
            )?),
            max_connections: usize::try_from(at_least_one(
                "MAX_CONNECTIONS",
                file.max_connections,
                defaults.max_connections as u64,
            )?)
            .map_err(|_| invalid("MAX_CONNECTIONS", "is too large"))?,
        };
        let scope = |setting: &'static str, file_value: Option<String>, default: &str| {
            let value = env(setting).or(file_value).unwrap_or_else(|| default.to_owned());
            scope_name(setting, value.trim())
        };
        let scopes = crate::api::ScopeNames {
            read: scope("READ_SCOPE", file.read_scope, crate::api::READ)?,
            write: scope("WRITE_SCOPE", file.write_scope, crate::api::WRITE)?,
            admin: scope("ADMIN_SCOPE", file.admin_scope, crate::api::ADMIN)?,
        };
        if scopes.admin == scopes.read || scopes.admin == scopes.write {
            return Err(invalid(
                "ADMIN_SCOPE",
                format!("{:?} would let every reader or writer see everyone's items: name another scope", scopes.admin),
            ));
        }
        let cors = match env("CORS_ORIGINS").or(file.cors_origins) {
            Some(value) => crate::cors::Cors::parse(&value).map_err(|problem| invalid("CORS_ORIGINS", problem))?,
            None => None,
        };
        let client_ids: Vec<String> = env("CLIENT_ID_ALLOWLIST")
            .or(file.client_id_allowlist)
            .map(|value| value.split([',', ' ']).map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        let ignored = IGNORED_TUTORIAL_SETTINGS
            .iter()
            .filter(|(name, _)| env(name).is_some())
            .map(|(name, why)| format!("{name} is ignored: {why}"))
            .collect();
        let database_url = env("DATABASE_URL").or(file.database_url).or_else(|| demo.then(|| DEMO_DATABASE.to_owned()));
        if let Some(database_url) = &database_url
            && !(database_url.starts_with("sqlite:")
                || database_url.starts_with("postgres://")
                || database_url.starts_with("postgresql://"))
        {
            return Err(invalid("DATABASE_URL", "must start with sqlite: or postgres://"));
        }
        if database_url.is_none() {
            missing.push(Missing::Database);
        }
        let dpop_replay = match env("DPOP_REPLAY") {
            Some(value) => fleet::replay_place("DPOP_REPLAY", Some(&value), database_url.as_deref())?,
            None => fleet::replay_place("dpop_replay", file.dpop_replay.as_deref(), database_url.as_deref())?,
        };
        let key_file = env("DPOP_NONCE_KEY_FILE").map(|path| PathBuf::from(path.trim()));
        let key_file = match (&key_file, &file.dpop_nonce_key_file) {
            (Some(path), _) => Some(("DPOP_NONCE_KEY_FILE", path.as_path())),
            (None, Some(path)) => Some(("dpop_nonce_key_file", path.as_path())),
            (None, None) => None,
        };
        let dpop_nonce_key = fleet::nonce_key(env("DPOP_NONCE_KEY"), key_file)?;
        let (Some(issuer), Some(database_url), true) = (issuer, database_url, missing.is_empty()) else {
            missing.sort();
            return Err(ConfigError::Missing(missing));
        };
        Ok(Self {
            bind,
            issuer,
            audience,
            validation,
            client_id,
            client_secret,
            introspection_cache: Duration::from_secs(number(
                "INTROSPECTION_CACHE_SECS",
                file.introspection_cache_secs,
                60,
            )?),
            introspection_burst: match number("INTROSPECTION_BURST", file.introspection_burst, 30)? {
                0 => return Err(invalid("INTROSPECTION_BURST", "must be at least 1")),
                burst => u32::try_from(burst).map_err(|_| invalid("INTROSPECTION_BURST", "is too large"))?,
            },
            introspections_per_minute: u32::try_from(number(
                "INTROSPECTIONS_PER_MINUTE",
                file.introspections_per_minute,
                60,
            )?)
            .map_err(|_| invalid("INTROSPECTIONS_PER_MINUTE", "is too large"))?,
            token_cache_size: usize::try_from(number("TOKEN_CACHE_SIZE", file.token_cache_size, 10_000)?)
                .map_err(|_| invalid("TOKEN_CACHE_SIZE", "is too large"))?,
            leeway: Duration::from_secs(number("TOKEN_LEEWAY_SECS", file.leeway_secs, 30)?),
            upstream_timeout: Duration::from_millis(number("UPSTREAM_TIMEOUT_MS", file.upstream_timeout_ms, 3000)?),
            database_url,
            policy_file,
            opa_url,
            policy_query,
            demo,
            accept_dpop,
            public_urls,
            tls_in_front,
            net,
            dpop_max_age,
            dpop_nonce,
            dpop_nonce_key,
            dpop_replay,
            scopes,
            cors,
            client_ids,
            ignored,
            limits,
        })
    }
}

impl Config {
    /// The warning to log when the API is reachable from other machines over
    /// plain HTTP: `BIND` is not a loopback address and nothing says TLS is
    /// terminated in front of it (`TLS_IN_FRONT`, or an `https` `PUBLIC_URL`).
    #[must_use]
    pub fn plain_http_warning(&self) -> Option<String> {
        let tls = self.tls_in_front || self.public_urls.iter().any(|url| url.scheme() == "https");
        (!self.bind.ip().is_loopback() && !tls).then(|| {
            format!(
                "BIND={} is reachable from other machines, and this API speaks plain HTTP: access tokens could be \
                 read on the way. Put TLS in front (a reverse proxy) and set TLS_IN_FRONT=true, or an https:// \
                 PUBLIC_URL, to silence this warning",
                self.bind
            )
        })
    }
}

/// OPA's data API URL: `OPA_URL`, or `OPA_AUTHZ_URL` (the OPA tutorial's
/// name; both set must agree), over the file's `opa_url`. OPA's address
/// alone (no path) has the package of `POLICY_QUERY` added
/// (`…/v1/data/httpapi/authz`); a URL with a path is taken as given, but
/// one asking OPA's data API for another package than a `POLICY_QUERY` that
/// was set is refused (the two would disagree on what decides).
fn opa_url(
    opa_url: Option<String>,
    opa_authz_url: Option<String>,
    file_value: Option<String>,
    package: &crate::policy::PolicyPackage,
    package_given: bool,
) -> Result<Option<Url>, ConfigError> {
    let (setting, value) = match (opa_url, opa_authz_url) {
        (Some(url), Some(authz)) if url.trim() != authz.trim() => {
            return Err(invalid(
                "OPA_AUTHZ_URL",
                format!(
                    "OPA_URL ({}) and OPA_AUTHZ_URL ({}) are both set and differ: set one",
                    url.trim(),
                    authz.trim()
                ),
            ));
        }
        (Some(url), _) => ("OPA_URL", url),
        (None, Some(authz)) => ("OPA_AUTHZ_URL", authz),
        (None, None) => match file_value {
            Some(url) => ("opa_url", url),
            None => return Ok(None),
        },
    };
    let url = parse::url(&value).map_err(|problem| invalid(setting, problem))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(setting, format!("{value:?} is not an http(s):// URL")));
    }
    if matches!(url.path(), "" | "/") {
        return Ok(Some(package.opa_url(&url)));
    }
    if package_given && package.matches_opa_url(&url) == Some(false) {
        return Err(invalid(
            setting,
            format!(
                "{} asks OPA for another package than POLICY_QUERY={package}: give OPA's address alone \
                 (e.g. {}) to have the package added, or make the two agree",
                url.path(),
                url.origin().ascii_serialization()
            ),
        ));
    }
    Ok(Some(url))
}

/// The issuer of an Okta domain's default authorization server (as the
/// sign-in core reads `OKTA_DOMAIN`).
fn issuer_from_domain(domain: &str) -> Result<String, ConfigError> {
    let domain = domain.trim().trim_start_matches("https://").trim_end_matches('/');
    if domain.is_empty() || domain.contains(['/', ':', '@', '?', '#']) {
        return Err(invalid("OKTA_DOMAIN", format!("{domain:?} is not a domain such as dev-123456.okta.com")));
    }
    Ok(format!("https://{domain}/oauth2/default"))
}

fn parse_issuer(text: &str) -> Result<Url, ConfigError> {
    let issuer = Url::parse(text).map_err(|_| invalid("OKTA_ISSUER", format!("{text:?} is not a URL")))?;
    if !matches!(issuer.scheme(), "https" | "http") {
        return Err(invalid("OKTA_ISSUER", "must be an https:// URL"));
    }
    if issuer.scheme() == "http" && !is_loopback(&issuer) {
        return Err(invalid("OKTA_ISSUER", "must use https:// (plain http is only allowed on 127.0.0.1 / [::1])"));
    }
    Ok(issuer)
}

/// One of `PUBLIC_URL`'s URLs: scheme, host, port and any path prefix, as
/// clients call the API; nothing a proof's `htu` cannot hold.
fn parse_public_url(text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text).map_err(|_| invalid("PUBLIC_URL", format!("{text:?} is not a URL")))?;
    let clean =
        url.query().is_none() && url.fragment().is_none() && url.username().is_empty() && url.password().is_none();
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() || !clean {
        return Err(invalid(
            "PUBLIC_URL",
            format!("{text:?} is not an http(s):// URL without a query, fragment or user"),
        ));
    }
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    parse::is_loopback_ip(url) || url.host_str() == Some("localhost")
}

#[cfg(test)]
mod tests;
