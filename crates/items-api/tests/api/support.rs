#![allow(dead_code)]

use std::net::SocketAddr;

use dev_idp::config::{DEMO_ALICE_PASSWORD, DEMO_BOB_PASSWORD, ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET};
use dev_idp::testing::Browser;
use dev_idp::{Config as IdpConfig, DevIdp};
use items_api::auth::{Mode, TokenValidator, ValidatorConfig};
use items_api::policy::Policy;
use items_api::store::Store;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;
use url::Url;

use crate::wait::within;

pub struct Harness {
    pub idp: DevIdp,
    pub api: SocketAddr,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

pub struct Options {
    pub mode: Mode,
    pub policy: Policy,
    /// The database; a SQLite file in the harness's folder when `None`.
    pub database: Option<String>,
    /// The lifetime of the API's own DPoP nonces; `None`: none asked for.
    pub dpop_nonce: Option<Duration>,
    /// More URLs DPoP proofs may name, beside `http://{api}`.
    pub public_urls: Vec<Url>,
}

impl Default for Options {
    fn default() -> Self {
        Self { mode: Mode::Local, policy: Policy::None, database: None, dpop_nonce: None, public_urls: Vec::new() }
    }
}

pub async fn start() -> Harness {
    start_with(Options::default()).await
}

pub fn introspection() -> Mode {
    Mode::Introspection {
        client_id: ITEMS_API_CLIENT_ID.to_owned(),
        client_secret: oauth2::ClientSecret::new(ITEMS_API_DEMO_SECRET.to_owned()),
        cache_ttl: Duration::from_secs(30),
    }
}

/// A validator of dev-idp's tokens for `api://default` at `issuer`.
pub fn validator(issuer: &str, mode: Mode) -> TokenValidator {
    TokenValidator::new(ValidatorConfig {
        issuer: Url::parse(issuer).unwrap(),
        audience: "api://default".to_owned(),
        leeway: Duration::from_secs(5),
        timeout: Duration::from_secs(3),
        mode,
    })
    .unwrap()
}

pub async fn start_with(options: Options) -> Harness {
    let idp = within("dev-idp starting", dev_idp::spawn(IdpConfig { port: 0, ..IdpConfig::default() })).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = options.database.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("items.db").display()));
    let store = within("opening the items database", Store::connect(&database)).await.unwrap();
    let validator = validator(idp.issuer(), options.mode);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = listener.local_addr().unwrap();
    // DPoP proofs name the API's configured URL (PUBLIC_URL), never the Host.
    let mut public_urls = vec![Url::parse(&format!("http://{api}")).unwrap()];
    public_urls.extend(options.public_urls);
    let mut dpop = items_api::dpop::DpopChecks::new(public_urls, items_api::dpop::DEFAULT_MAX_AGE);
    if let Some(lifetime) = options.dpop_nonce {
        dpop = dpop.with_nonces(lifetime);
    }
    let app = items_api::router(items_api::AppState::with_dpop(validator, store, options.policy, dpop));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = crate::wait::http_without_redirects();
    Harness { idp, api, http, dir }
}

/// The items API on port 0, started as the binary is (`items_api::Config`
/// from an environment, then `build`), from `pairs` over `idp`'s issuer, a
/// SQLite file in the returned folder and its public URL.
pub async fn start_configured(idp: &DevIdp, pairs: &[(&str, &str)]) -> (SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut env: Vec<(String, String)> = vec![
        ("OKTA_ISSUER".into(), idp.issuer().into()),
        ("DATABASE_URL".into(), format!("sqlite://{}", dir.path().join("items.db").display())),
        ("PUBLIC_URL".into(), format!("http://{addr}")),
    ];
    env.extend(pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())));
    let lookup = |name: &str| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let config = items_api::Config::load_with(None, lookup).unwrap();
    let state = within("the items API starting", items_api::build(&config)).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, items_api::router(state)).await });
    (addr, dir)
}

pub const ALICE: (&str, &str) = ("alice", DEMO_ALICE_PASSWORD);
pub const BOB: (&str, &str) = ("bob", DEMO_BOB_PASSWORD);
/// Alice's user id at dev-idp: her access tokens' `uid`, the owner of her items.
pub const ALICE_ID: &str = "00u1alice0000000001";
/// Bob's.
pub const BOB_ID: &str = "00u2bob00000000002";

/// What an answer looked like.
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Answer {
    pub fn challenge(&self) -> &str {
        self.headers.get("www-authenticate").map_or("", |v| v.to_str().unwrap())
    }
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.api)
    }

    /// A person's access token from the code flow (PKCE, through the test browser).
    pub async fn token(&self, person: (&str, &str), scope: &str) -> String {
        let browser = Browser::new();
        let token = browser.access_token(self.idp.issuer(), person.0, person.1, scope);
        within("a person's access token", token).await.expect("signs in")
    }

    /// A client-credentials token of the items-api client (`sub` = its client id).
    pub async fn machine_token(&self, scope: &str) -> String {
        let endpoint = format!("{}/v1/token", self.idp.issuer());
        let client = (ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET);
        testkit::client_credentials_token(&self.http, &endpoint, client, scope).await
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>) -> Answer {
        self.send_with(method, path, token, body, &[]).await
    }

    /// [`Harness::send`] with extra headers.
    pub async fn send_with(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.http.request(method, self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer { status, headers, json }
    }

    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(reqwest::Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, Some(token), Some(body)).await
    }
}

/// What a hand-written request got back: the status and the body.
pub struct RawAnswer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

/// Sends `head` (an HTTP/1.1 request line and headers; `Connection: close`
/// and, with a `body`, its `Content-Length` added) and `body` to `addr`
/// over a plain socket, byte for byte: no URL normalisation, any `Host`.
/// Fails the test after 10 s.
pub async fn raw_request(addr: SocketAddr, head: &str, body: &str) -> RawAnswer {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let head = head.trim_end_matches("\r\n");
    let length = if body.is_empty() { String::new() } else { format!("Content-Length: {}\r\n", body.len()) };
    let request = format!("{head}\r\n{length}Connection: close\r\n\r\n{body}");
    let exchange = async {
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        socket.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        socket.read_to_end(&mut answer).await.unwrap();
        answer
    };
    let answer = tokio::time::timeout(Duration::from_secs(10), exchange).await.expect("the API answered within 10 s");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("no status: {head}"));
    RawAnswer { status, head: head.to_owned(), body: body.to_owned() }
}
