//! The set-up both halves share: dev-idp and the items API on 127.0.0.1
//! port 0 in one validation mode, the tokens the corpus is made of, and a raw
//! HTTP/1.1 client that sends exactly the bytes a row asks for (two
//! `Authorization` headers, a NUL byte, a folded line) and reads the status
//! and every `WWW-Authenticate` of the answer.

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dev_idp::config::{ClientConfig, ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET, grant};
use dev_idp::{Config as IdpConfig, DevIdp, Provider, SystemClock};
use items_api::auth::{Mode, TokenValidator, ValidatorConfig, ValidatorStats};
use items_api::store::Store;
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use url::Url;

use crate::tokens::{self, AUDIENCE, forge_with};
use crate::wait::{self, within};

/// Tests of this binary measure latencies: one at a time, so that the corpus
/// walk of one mode does not load the machine while the other mode measures.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The scope of the good token, and of the person's sign-in.
const PERSON_SCOPE: &str = "openid profile email offline_access items:read";
/// How long a request of the raw client may take before it counts as hung.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(15);

/// The two ways the API checks tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// Signature against dev-idp's JWKS.
    Local,
    /// RFC 7662 introspection at dev-idp, answers cached for a minute.
    Introspection,
}

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Local => "local",
            Self::Introspection => "introspection",
        })
    }
}

/// dev-idp and the API, running.
pub struct Api {
    pub idp: DevIdp,
    pub addr: SocketAddr,
    /// A clone of the API's validator: it shares the counters.
    pub validator: TokenValidator,
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// Starts dev-idp (the `items-api` client may also sign people in, so that
/// dev-idp tells it about its own refresh tokens) and the API over a fresh
/// SQLite file with the demo items.
pub async fn start(validation: Validation) -> Api {
    let mut config = IdpConfig { port: 0, ..IdpConfig::default() };
    let client: &mut ClientConfig = config.clients.iter_mut().find(|c| c.client_id == ITEMS_API_CLIENT_ID).unwrap();
    client.grant_types.extend([grant::AUTHORIZATION_CODE.to_owned(), grant::REFRESH_TOKEN.to_owned()]);
    client.redirect_uris.push(tokens::LOOPBACK.to_owned());
    client.allowed_scopes = None;
    let idp = within("dev-idp starting", dev_idp::spawn(config)).await.expect("dev-idp starts");

    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("items.db").display());
    let store = within("opening the items database", Store::connect(&database)).await.unwrap();
    within("seeding the demo items", store.seed_demo(idp.issuer())).await.unwrap();
    let mode = match validation {
        Validation::Local => Mode::Local,
        Validation::Introspection => Mode::Introspection {
            client_id: ITEMS_API_CLIENT_ID.to_owned(),
            client_secret: oauth2::ClientSecret::new(ITEMS_API_DEMO_SECRET.to_owned()),
            cache_ttl: Duration::from_secs(60),
        },
    };
    let validator = TokenValidator::new(ValidatorConfig {
        issuer: Url::parse(idp.issuer()).unwrap(),
        audience: AUDIENCE.to_owned(),
        leeway: Duration::from_secs(30),
        timeout: Duration::from_secs(5),
        mode,
    })
    .unwrap();
    let app = items_api::router(items_api::AppState::new(validator.clone(), store, items_api::policy::Policy::None));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = wait::http_without_redirects();
    Api { idp, addr, validator, http, _dir: dir }
}

/// What the corpus is made from: real tokens of the running dev-idp, its
/// public key, and a key it never published.
pub struct Kit {
    pub issuer: String,
    pub provider: Provider,
    /// Another provider's key (never in our JWKS), for foreign signatures.
    pub stranger: Provider,
    /// Alice's access token (`openid profile email offline_access items:read`).
    pub good: String,
    /// The ID token of the same sign-in.
    pub id_token: String,
    /// Its refresh token (issued to `items-api`, which introspects).
    pub refresh_token: String,
    /// A client-credentials token with `items:write` only.
    pub write_only: String,
    /// A client-credentials token revoked at dev-idp before any use.
    pub revoked: String,
    /// The modulus of dev-idp's signing key, as the JWKS publishes it (base64url).
    pub public_n: String,
}

impl Kit {
    /// An Okta-shaped access token signed by dev-idp's key, with changes.
    pub fn forge(&self, header: &Value, claims: &Value) -> String {
        forge_with(&self.provider, &self.issuer, header, claims)
    }

    /// The same, signed by a key dev-idp never published.
    pub fn forge_by_stranger(&self, header: &Value, claims: &Value) -> String {
        forge_with(&self.stranger, &self.issuer, header, claims)
    }
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn client_credentials(&self, scope: &str) -> String {
        let endpoint = format!("{}/v1/token", self.idp.issuer());
        let client = (ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET);
        wait::client_credentials_token(&self.http, &endpoint, client, scope).await
    }

    /// Signs alice in, gets the other tokens, and warms the API up with the
    /// good token (keys fetched, or its introspection answer cached).
    pub async fn kit(&self) -> Kit {
        let issuer = self.idp.issuer().to_owned();
        let signed_in =
            tokens::sign_in(&self.http, &issuer, ITEMS_API_CLIENT_ID, Some(ITEMS_API_DEMO_SECRET), PERSON_SCOPE).await;
        let text = |name: &str| signed_in[name].as_str().unwrap_or_else(|| panic!("{name}: {signed_in}")).to_owned();
        let revoked = self.client_credentials("items:read").await;
        let status = self
            .http
            .post(format!("{issuer}/v1/revoke"))
            .basic_auth(ITEMS_API_CLIENT_ID, Some(ITEMS_API_DEMO_SECRET))
            .form(&[("token", revoked.as_str())])
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200);
        let jwks: Value = self.http.get(format!("{issuer}/v1/keys")).send().await.unwrap().json().await.unwrap();
        let kid = self.idp.provider().active_kid();
        let key = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap();
        let stranger_issuer = "http://127.0.0.1:9/oauth2/default".to_owned();
        let stranger = Provider::new(IdpConfig::default(), stranger_issuer, Arc::new(SystemClock)).unwrap();
        let kit = Kit {
            issuer,
            provider: self.idp.provider().clone(),
            stranger,
            good: text("access_token"),
            id_token: text("id_token"),
            refresh_token: text("refresh_token"),
            write_only: self.client_credentials("items:write").await,
            revoked,
            public_n: key["n"].as_str().unwrap().to_owned(),
        };
        let warm = self.http.get(self.url("/v1/items")).bearer_auth(&kit.good).send().await.unwrap();
        assert_eq!(warm.status(), 200, "the good token works");
        kit
    }

    /// `GET {path}` without credentials: its status.
    pub async fn status_of(&self, path: &str) -> u16 {
        self.http.get(self.url(path)).send().await.unwrap().status().as_u16()
    }

    /// The validator's counters.
    pub fn stats(&self) -> ValidatorStats {
        self.validator.stats()
    }
}

/// A request exactly as a row makes it: `GET {target}` with these headers.
#[derive(Clone)]
pub struct Probe {
    /// Path and query.
    pub target: String,
    /// Header lines, written as `name: value` with the bytes as given.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The bearer token it carries, if any (for counting issuer traffic).
    pub token: Option<String>,
}

impl Probe {
    /// `GET /v1/items` with these headers.
    pub fn items(headers: Vec<(String, Vec<u8>)>) -> Self {
        Self { target: "/v1/items".to_owned(), headers, token: None }
    }

    /// `GET /v1/items` with `Authorization: Bearer {token}`.
    pub fn bearer(token: &str) -> Self {
        Self::authorization(format!("Bearer {token}").into_bytes()).carrying(token)
    }

    /// `GET /v1/items` with one `Authorization` header of exactly these bytes.
    pub fn authorization(value: impl Into<Vec<u8>>) -> Self {
        Self::items(vec![("Authorization".to_owned(), value.into())])
    }

    /// The same request, noting the bearer token it carries.
    pub fn carrying(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// The bytes on the wire.
    fn bytes(&self, addr: SocketAddr) -> Vec<u8> {
        let mut out = format!("GET {} HTTP/1.1\r\nHost: {addr}\r\n", self.target).into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"Connection: close\r\n\r\n");
        out
    }
}

/// What came back: the status and the `WWW-Authenticate` values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub challenges: Vec<String>,
}

/// Sends `probe` on a connection of its own and reads the whole answer.
pub async fn send(addr: SocketAddr, probe: &Probe) -> Result<Answer, String> {
    let exchange = async {
        let mut stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
        // A server may answer (and close) before reading a huge request
        // whole: a failed write is not the end, the answer may be there.
        let _ = stream.write_all(&probe.bytes(addr)).await;
        let mut raw = Vec::new();
        let read = stream.read_to_end(&mut raw).await;
        if raw.is_empty() {
            return Err(format!("no answer ({read:?})"));
        }
        parse(&raw)
    };
    tokio::time::timeout(ANSWER_TIMEOUT, exchange).await.map_err(|_| "no answer in time".to_owned())?
}

fn parse(raw: &[u8]) -> Result<Answer, String> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no end of the answer's head")?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let challenges = lines
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.trim().eq_ignore_ascii_case("www-authenticate"))
        .map(|(_, value)| value.trim().to_owned())
        .collect();
    Ok(Answer { status, challenges })
}

/// Nearest-rank percentile (`p` in 0–100) of sorted samples, in milliseconds.
pub fn percentile(sorted: &[Duration], p: usize) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank - 1].as_secs_f64() * 1000.0
}
