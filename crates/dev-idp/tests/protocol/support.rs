//! Shared set-up: a provider with a movable clock, PKCE values, and the
//! code flow as a client runs it.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dev_idp::config::{DEMO_ALICE_PASSWORD, DEMO_BOB_PASSWORD, DESKTOP_CLIENT_ID};
use dev_idp::testing::{Browser, Page};
use dev_idp::{Config, DevIdp, ManualClock};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use sha2::{Digest, Sha256};
use url::Url;

pub const ALICE: (&str, &str) = ("alice", DEMO_ALICE_PASSWORD);
pub const BOB: (&str, &str) = ("bob", DEMO_BOB_PASSWORD);
pub const DESKTOP: &str = DESKTOP_CLIENT_ID;
/// A registered fixed port (`DEMO_LOOPBACK_PORTS`), so the tests pass
/// whether loopback redirect URIs match on any port or exactly.
pub const LOOPBACK: &str = "http://127.0.0.1:8765/callback";
pub const FULL_SCOPE: &str = "openid profile email offline_access items:read";
// Every wait on the provider is bounded (issue 24, item 4: a broken check
// fails a test, never hangs it); the test browser has its own limit.
pub use testkit::{REQUEST_TIMEOUT, within};

pub struct Idp {
    pub idp: DevIdp,
    pub clock: Arc<ManualClock>,
    pub http: reqwest::Client,
}

pub async fn start() -> Idp {
    start_with(|_| {}).await
}

pub async fn start_with(change: impl FnOnce(&mut Config)) -> Idp {
    let mut config = Config { port: 0, ..Config::default() };
    change(&mut config);
    let clock = Arc::new(ManualClock::starting_now());
    let idp =
        within("dev-idp starting", dev_idp::spawn_with_clock(config, clock.clone())).await.expect("dev-idp starts");
    Idp { idp, clock, http: testkit::http_without_redirects() }
}

/// A form-encoded POST answer.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Answer {
    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("<none>")
    }
}

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

pub fn pkce() -> Pkce {
    let verifier = format!("{}{}", random(), random());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    Pkce { verifier, challenge }
}

pub fn random() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>())
}

/// The claims of a JWT, unverified (the tests check what was issued).
pub fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

pub fn header(jwt: &str) -> Value {
    let header = jwt.split('.').next().expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url")).expect("JSON header")
}

pub fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(n, _)| n == name).map(|(_, v)| v.into_owned())
}

/// A pending authorization request, as a client keeps it.
pub struct Request {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce: Pkce,
    pub redirect_uri: String,
}

impl Idp {
    pub fn issuer(&self) -> &str {
        self.idp.issuer()
    }

    /// The discovery document (OIDC Discovery §4), as a client reads it.
    pub async fn discovery(&self) -> Value {
        testkit::json_of(self.http.get(format!("{}/.well-known/openid-configuration", self.issuer()))).await
    }

    pub fn endpoint(&self, path: &str) -> String {
        format!("{}/v1/{path}", self.issuer())
    }

    pub fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    /// An authorization URL for the desktop client with PKCE, state and nonce;
    /// `extra` adds or replaces parameters (an empty value removes one).
    pub fn request(&self, scope: &str, extra: &[(&str, &str)]) -> Request {
        let pkce = pkce();
        let state = random();
        let nonce = random();
        let mut params: Vec<(String, String)> = [
            ("client_id", DESKTOP),
            ("response_type", "code"),
            ("redirect_uri", LOOPBACK),
            ("scope", scope),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
        for (name, value) in extra {
            params.retain(|(n, _)| n != name);
            if !value.is_empty() {
                params.push(((*name).to_owned(), (*value).to_owned()));
            }
        }
        let redirect_uri = params.iter().find(|(n, _)| n == "redirect_uri").map(|(_, v)| v.clone()).unwrap_or_default();
        let mut url = Url::parse(&self.endpoint("authorize")).expect("url");
        url.query_pairs_mut().extend_pairs(&params);
        Request { url: url.into(), state, nonce, pkce, redirect_uri }
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Answer {
        let mut request = self.http.post(self.endpoint(path)).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body");
        let json =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Answer { status, headers, json }
    }

    /// Exchanges the code of a redirect.
    pub async fn exchange(&self, request: &Request, redirect: &Url) -> Answer {
        let code = query(redirect, "code").expect("a code in the redirect");
        self.post(
            "token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", DESKTOP),
                ("code", &code),
                ("redirect_uri", &request.redirect_uri),
                ("code_verifier", &request.pkce.verifier),
            ],
            None,
        )
        .await
    }

    /// The whole code flow for a person: the token response.
    pub async fn sign_in(&self, browser: &Browser, person: (&str, &str), scope: &str) -> Value {
        let request = self.request(scope, &[]);
        let redirect = browser.sign_in(&request.url, person.0, person.1).await.expect("signed in");
        assert_eq!(query(&redirect, "state").as_deref(), Some(request.state.as_str()));
        let answer = self.exchange(&request, &redirect).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        answer.json
    }

    pub async fn refresh(&self, refresh_token: &str) -> Answer {
        self.post(
            "token",
            &[("grant_type", "refresh_token"), ("client_id", DESKTOP), ("refresh_token", refresh_token)],
            None,
        )
        .await
    }

    pub async fn introspect(&self, token: &str) -> Value {
        let answer = self
            .post("introspect", &[("token", token)], Some(("items-api", dev_idp::config::ITEMS_API_DEMO_SECRET)))
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        answer.json
    }

    pub async fn userinfo(&self, access_token: &str) -> (StatusCode, HeaderMap, Value) {
        let response =
            self.http.get(self.endpoint("userinfo")).bearer_auth(access_token).send().await.expect("userinfo");
        let status = response.status();
        let headers = response.headers().clone();
        let json = response.json().await.unwrap_or(Value::Null);
        (status, headers, json)
    }
}

/// Expects an error redirect back to the client.
pub fn expect_error_redirect(page: &Page, request: &Request, error: &str) -> Url {
    let Page::Redirect(url) = page else { panic!("expected a redirect with {error}, got {page:?}") };
    assert!(url.as_str().starts_with(&request.redirect_uri), "{url}");
    assert_eq!(query(url, "error").as_deref(), Some(error), "{url}");
    assert_eq!(query(url, "state").as_deref(), Some(request.state.as_str()), "state echoed: {url}");
    assert!(query(url, "code").is_none(), "no code with an error: {url}");
    url.clone()
}
