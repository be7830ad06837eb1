//! Access-token validation against a real issuer: dev-idp on 127.0.0.1 port 0,
//! over HTTP, with real and forged tokens; and a small misbehaving issuer of
//! our own for what dev-idp never does (malformed answers, redirects, huge
//! bodies, silence).
//!
//! Local mode: happy paths, then each attack of RFC 8725 and the resource
//! server section of SECURITY.md, key rotation with the refetch rate limit and
//! single flight, `max-age`. Introspection mode (RFC 7662): happy paths,
//! revoked, expired and refresh tokens, the answer cache and its bounds,
//! failures that must deny.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dev_idp::config::{ClientConfig, DESKTOP_CLIENT_ID, ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET, grant};
use dev_idp::{Config, DevIdp, ManualClock};
use items_api::auth::{
    Algorithm, AuthError, Mode, Refusal, TokenValidator, ValidatorConfig, ValidatorOptions, ValidatorStats,
};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use url::Url;

mod tokens;
use testkit as wait;

use tokens::{AUDIENCE, claims_of, forge_with, jwt_part, merge, random};
use wait::within;

const LEEWAY: u64 = 30;
const PERSON_SCOPE: &str = "openid profile email offline_access items:read";

// ----- set-up -----------------------------------------------------------------

struct Idp {
    idp: DevIdp,
    clock: Arc<ManualClock>,
    http: reqwest::Client,
}

async fn start() -> Idp {
    start_with(|_| {}).await
}

async fn start_with(change: impl FnOnce(&mut Config)) -> Idp {
    let mut config = Config { port: 0, ..Config::default() };
    change(&mut config);
    let clock = Arc::new(ManualClock::starting_now());
    let idp =
        within("dev-idp starting", dev_idp::spawn_with_clock(config, clock.clone())).await.expect("dev-idp starts");
    let http = wait::http_without_redirects();
    Idp { idp, clock, http }
}

/// dev-idp's movable clock, as the validator's clock: both agree on "now".
fn options_with(clock: &Arc<ManualClock>) -> ValidatorOptions {
    ValidatorOptions::default().with_clock(clock.clone())
}

fn config_for(issuer: &str, mode: Mode) -> ValidatorConfig {
    ValidatorConfig {
        issuer: Url::parse(issuer).unwrap(),
        audience: AUDIENCE.to_owned(),
        leeway: Duration::from_secs(LEEWAY),
        timeout: Duration::from_secs(5),
        mode,
    }
}

fn introspection_mode(cache_ttl: Duration) -> Mode {
    Mode::Introspection {
        client_id: ITEMS_API_CLIENT_ID.to_owned(),
        client_secret: oauth2::ClientSecret::new(ITEMS_API_DEMO_SECRET.to_owned()),
        cache_ttl,
    }
}

impl Idp {
    fn issuer(&self) -> &str {
        self.idp.issuer()
    }

    fn provider(&self) -> &dev_idp::Provider {
        self.idp.provider()
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/v1/{path}", self.issuer())
    }

    fn advance(&self, secs: u64) {
        self.clock.advance(Duration::from_secs(secs));
    }

    fn now(&self) -> i64 {
        i64::try_from(self.provider().now_unix()).unwrap()
    }

    fn options(&self) -> ValidatorOptions {
        options_with(&self.clock)
    }

    fn local(&self) -> TokenValidator {
        TokenValidator::with_options(config_for(self.issuer(), Mode::Local), self.options()).unwrap()
    }

    fn introspecting(&self, cache_ttl: Duration) -> TokenValidator {
        TokenValidator::with_options(config_for(self.issuer(), introspection_mode(cache_ttl)), self.options()).unwrap()
    }

    fn forge(&self, header: &Value, claims: &Value) -> String {
        forge_with(self.provider(), self.issuer(), header, claims)
    }

    async fn post(&self, path: &str, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
        let mut request = self.http.post(self.endpoint(path)).form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    /// An access token of the `items-api` client for itself.
    async fn client_credentials(&self) -> String {
        let (status, answer) = self
            .post(
                "token",
                &[("grant_type", "client_credentials"), ("scope", "items:read")],
                Some((ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET)),
            )
            .await;
        assert_eq!(status, 200, "{answer}");
        answer["access_token"].as_str().unwrap().to_owned()
    }

    /// A person signs in with the test browser (code flow + PKCE S256); the
    /// token response. `secret` makes it a confidential client's exchange.
    async fn sign_in(&self, client_id: &str, secret: Option<&str>, scope: &str) -> Value {
        tokens::sign_in(&self.http, self.issuer(), client_id, secret, scope).await
    }

    /// Revokes a token of the `items-api` client (RFC 7009).
    async fn revoke(&self, token: &str) {
        let (status, _) =
            self.post("revoke", &[("token", token)], Some((ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET))).await;
        assert_eq!(status, 200);
    }

    async fn introspect_directly(&self, token: &str) -> Value {
        let (status, answer) =
            self.post("introspect", &[("token", token)], Some((ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET))).await;
        assert_eq!(status, 200);
        answer
    }

    async fn jwks(&self) -> Value {
        self.http.get(self.endpoint("keys")).send().await.unwrap().json().await.unwrap()
    }
}

#[track_caller]
fn assert_invalid<T: std::fmt::Debug>(result: Result<T, AuthError>, reason: Refusal) {
    match result {
        Err(AuthError::Invalid(got)) => assert_eq!(got, reason),
        other => panic!("expected Invalid({reason:?}), got {other:?}"),
    }
}

#[track_caller]
fn assert_any_invalid<T: std::fmt::Debug>(result: Result<T, AuthError>) -> Refusal {
    match result {
        Err(AuthError::Invalid(got)) => got,
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[track_caller]
fn assert_unavailable<T: std::fmt::Debug>(result: Result<T, AuthError>) -> String {
    match result {
        Err(error @ AuthError::Unavailable(_)) => error_chain(&error),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn stats(jwks: u64, discovery: u64) -> (u64, u64) {
    (jwks, discovery)
}

fn fetches(validator: &TokenValidator) -> (u64, u64) {
    let ValidatorStats { jwks_fetches, discovery_fetches, .. } = validator.stats();
    (jwks_fetches, discovery_fetches)
}

// ----- a misbehaving issuer ---------------------------------------------------

/// What the fake issuer answers on one route.
#[derive(Clone)]
struct Reply {
    status: u16,
    body: String,
    headers: Vec<(&'static str, String)>,
    delay: Duration,
}

impl Reply {
    fn json(value: &Value) -> Self {
        Self { status: 200, body: value.to_string(), headers: Vec::new(), delay: Duration::ZERO }
    }

    fn status(status: u16, body: &str) -> Self {
        Self { status, body: body.to_owned(), headers: Vec::new(), delay: Duration::ZERO }
    }

    fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

#[derive(Default)]
struct FakeState {
    replies: Mutex<HashMap<&'static str, Reply>>,
    hits: Mutex<HashMap<&'static str, usize>>,
    /// Introspection requests seen: (Authorization header, body).
    requests: Mutex<Vec<(String, String)>>,
}

/// An issuer at `http://127.0.0.1:{port}/oauth2/default` whose every answer
/// the test chooses. Routes: `discovery`, `keys`, `introspect`, and
/// `elsewhere` (`/elsewhere`, a redirect target) and `jku` (`/jku`, a key
/// server named by hostile headers).
struct FakeIssuer {
    base: String,
    issuer: String,
    state: Arc<FakeState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeIssuer {
    async fn start() -> Self {
        use axum::routing::{get, post};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let issuer = format!("{base}/oauth2/default");
        let state = Arc::new(FakeState::default());
        let serve = |name: &'static str| {
            let state = state.clone();
            move || {
                let state = state.clone();
                async move { state.answer(name).await }
            }
        };
        let introspect = {
            let state = state.clone();
            move |headers: axum::http::HeaderMap, body: String| {
                let state = state.clone();
                async move {
                    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
                    state.requests.lock().unwrap().push((auth, body));
                    state.answer("introspect").await
                }
            }
        };
        let app = axum::Router::new()
            .route("/oauth2/default/.well-known/openid-configuration", get(serve("discovery")))
            .route("/oauth2/default/v1/keys", get(serve("keys")))
            .route("/oauth2/default/v1/introspect", post(introspect))
            .route("/elsewhere", get(serve("elsewhere")))
            .route("/jku", get(serve("jku")));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let fake = Self { base, issuer, state, task };
        let discovery = fake.discovery();
        fake.set("discovery", Reply::json(&discovery));
        fake.set("elsewhere", Reply::json(&discovery));
        fake.set("keys", Reply::json(&json!({ "keys": [] })));
        fake.set("jku", Reply::json(&json!({ "keys": [] })));
        fake.set("introspect", Reply::json(&json!({ "active": false })));
        fake
    }

    fn discovery(&self) -> Value {
        json!({
            "issuer": self.issuer,
            "jwks_uri": format!("{}/v1/keys", self.issuer),
            "introspection_endpoint": format!("{}/v1/introspect", self.issuer),
        })
    }

    fn set(&self, route: &'static str, reply: Reply) {
        self.state.replies.lock().unwrap().insert(route, reply);
    }

    fn hits(&self, route: &'static str) -> usize {
        self.state.hits.lock().unwrap().get(route).copied().unwrap_or(0)
    }
}

impl FakeState {
    async fn answer(&self, route: &'static str) -> axum::response::Response {
        *self.hits.lock().unwrap().entry(route).or_default() += 1;
        let reply = self.replies.lock().unwrap().get(route).cloned().unwrap();
        tokio::time::sleep(reply.delay).await;
        let mut response =
            axum::http::Response::builder().status(reply.status).header("content-type", "application/json");
        for (name, value) in &reply.headers {
            response = response.header(*name, value.as_str());
        }
        response.body(axum::body::Body::from(reply.body)).unwrap()
    }
}

/// A port on which nothing listens.
async fn closed_port_issuer() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}/oauth2/default")
}

// ===== local mode ===============================================================

mod local {
    use super::*;

    #[tokio::test]
    async fn a_persons_token_and_a_client_credentials_token_are_accepted() {
        let idp = start().await;
        let validator = idp.local();
        validator.check_ready().await.expect("ready");
        assert_eq!(fetches(&validator), stats(1, 1));

        let tokens = idp.sign_in(DESKTOP_CLIENT_ID, None, PERSON_SCOPE).await;
        let claims = validator.validate(tokens["access_token"].as_str().unwrap()).await.expect("a person's token");
        assert_eq!(claims.subject, "alice@example.com");
        assert_eq!(claims.client_id.as_deref(), Some(DESKTOP_CLIENT_ID));
        assert_eq!(claims.user_id.as_deref(), Some("00u1alice0000000001"));
        assert_eq!(claims.scopes, ["openid", "profile", "email", "offline_access", "items:read"]);
        assert_eq!(claims.issuer, idp.issuer());
        assert_eq!(claims.all["aud"], AUDIENCE);
        assert_eq!(claims.expires_at, claims_of(tokens["access_token"].as_str().unwrap())["exp"].as_i64().unwrap());

        let token = idp.client_credentials().await;
        let claims = validator.validate(&token).await.expect("a client's token");
        assert_eq!(claims.subject, ITEMS_API_CLIENT_ID);
        assert_eq!(claims.client_id.as_deref(), Some(ITEMS_API_CLIENT_ID));
        assert_eq!(claims.user_id, None);
        assert_eq!(claims.scopes, ["items:read"]);

        // Keys are cached: no request to the issuer after the first.
        assert_eq!(fetches(&validator), stats(1, 1));
        assert_eq!(validator.stats().introspections, 0);
    }

    #[tokio::test]
    async fn rfc_9068_tokens_with_scope_and_client_id_are_understood() {
        let idp = start().await;
        let token = idp.forge(
            &json!({ "typ": "at+jwt" }),
            &json!({ "scp": null, "cid": null, "scope": "items:read items:write", "client_id": "s6BhdRkqt3" }),
        );
        let claims = idp.local().validate(&token).await.expect("an RFC 9068 token");
        assert_eq!(claims.scopes, ["items:read", "items:write"]);
        assert_eq!(claims.client_id.as_deref(), Some("s6BhdRkqt3"));
    }

    #[tokio::test]
    async fn unsigned_tokens_are_refused_in_every_spelling() {
        let idp = start().await;
        let validator = idp.local();
        let claims = claims_of(&idp.client_credentials().await);
        for none in ["none", "None", "NONE", "nOnE"] {
            let header = json!({ "alg": none, "kid": idp.provider().active_kid() });
            let bare = format!("{}.{}.", jwt_part(&header), jwt_part(&claims));
            assert_invalid(validator.validate(&bare).await, Refusal::Unsigned);
            // Even with a real signature over it, `none` is refused.
            let signed = idp.provider().sign_raw(&header, &claims);
            assert_invalid(validator.validate(&signed).await, Refusal::Unsigned);
        }
    }

    #[tokio::test]
    async fn hs256_signed_with_the_public_key_is_refused() {
        let idp = start().await;
        let validator = idp.local();
        let kid = idp.provider().active_kid();
        let jwks = idp.jwks().await;
        let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap().clone();
        let n = jwk["n"].as_str().unwrap();
        // The usual guesses at "the public key" an attacker would use as an HMAC secret.
        let secrets: Vec<Vec<u8>> = vec![
            jwk.to_string().into_bytes(),
            jwks.to_string().into_bytes(),
            n.as_bytes().to_vec(),
            URL_SAFE_NO_PAD.decode(n).unwrap(),
        ];
        let claims = claims_of(&idp.client_credentials().await);
        for secret in secrets {
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
            header.kid = Some(kid.clone());
            let token =
                jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(&secret)).unwrap();
            assert_invalid(validator.validate(&token).await, Refusal::BadAlgorithm);
        }
        // Nor can HS* be allowed by configuration.
        for algorithms in [vec![Algorithm::HS256], vec![Algorithm::RS256, Algorithm::HS512], vec![]] {
            let mut options = idp.options();
            options.algorithms = algorithms;
            assert_unavailable(TokenValidator::with_options(config_for(idp.issuer(), Mode::Local), options));
        }
    }

    #[tokio::test]
    async fn unknown_crit_headers_are_refused() {
        let idp = start().await;
        let validator = idp.local();
        let control = idp.forge(&json!({}), &json!({}));
        validator.validate(&control).await.expect("the forging itself is sound");
        for header in [
            json!({ "crit": ["exp"], "exp": 1 }),
            json!({ "crit": ["b64"], "b64": false }),
            json!({ "crit": ["http://example.com/unknown"] }),
            json!({ "crit": [] }),
        ] {
            let token = idp.forge(&header, &json!({}));
            let reason = assert_any_invalid(validator.validate(&token).await);
            assert_eq!(reason, Refusal::Critical, "{header}: {reason}");
        }
    }

    #[tokio::test]
    async fn jku_x5u_and_jwk_headers_are_never_fetched_nor_used() {
        let idp = start().await;
        let other =
            within("another dev-idp starting", dev_idp::spawn(Config { port: 0, ..Config::default() })).await.unwrap();
        let other_jwks: Value =
            idp.http.get(format!("{}/v1/keys", other.issuer())).send().await.unwrap().json().await.unwrap();
        let other_jwk = other_jwks["keys"][0].clone();
        let key_server = FakeIssuer::start().await;
        key_server.set("jku", Reply::json(&other_jwks));
        let jku = format!("{}/jku", key_server.base);
        let validator = idp.local();
        let our_kid = idp.provider().active_kid();
        let other_kid = other.provider().active_kid();
        let by_other = |header: Value| forge_with(other.provider(), idp.issuer(), &header, &json!({}));

        for header in [json!({ "jku": jku }), json!({ "x5u": jku }), json!({ "jwk": other_jwk })] {
            // Signed by the other key, named by its own kid: unknown here.
            let mut with_kid = header.clone();
            with_kid["kid"] = json!(other_kid);
            assert_invalid(validator.validate(&by_other(with_kid)).await, Refusal::UnknownKey);
            // Signed by the other key, claiming our kid: the signature fails.
            let mut with_kid = header.clone();
            with_kid["kid"] = json!(our_kid);
            assert_invalid(validator.validate(&by_other(with_kid)).await, Refusal::BadSignature);
            // Signed by our issuer, with the header: the header is ignored, not refused.
            validator.validate(&idp.forge(&header, &json!({}))).await.expect("key headers are ignored");
        }
        assert_eq!(key_server.hits("jku"), 0, "the key server named by the tokens was never asked");
        assert_eq!(fetches(&validator), stats(2, 1), "only the issuer's JWKS: once, then one refetch for unknown kids");
    }

    #[tokio::test]
    async fn kid_injection_is_only_a_failed_lookup_and_refetches_are_rate_limited() {
        let idp = start().await;
        let validator = idp.local();
        validator.validate(&idp.client_credentials().await).await.unwrap();
        assert_eq!(fetches(&validator), stats(1, 1));
        let hostile = [
            "../../etc/passwd",
            "' OR 1=1 --",
            "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
            "kid\u{0}\r\nX-Injected: 1",
            "https://evil.example/keys.json",
            &"A".repeat(2000),
        ];
        for kid in hostile {
            let token = idp.forge(&json!({ "kid": kid }), &json!({}));
            assert_invalid(validator.validate(&token).await, Refusal::UnknownKey);
        }
        assert_eq!(fetches(&validator), stats(2, 1), "one refetch for the first unknown kid, then none");

        idp.advance(11);
        for _ in 0..5 {
            for kid in hostile {
                let token = idp.forge(&json!({ "kid": kid }), &json!({}));
                assert_invalid(validator.validate(&token).await, Refusal::UnknownKey);
            }
        }
        assert_eq!(fetches(&validator), stats(3, 1), "one refetch per interval, whatever the number of bad kids");
        // The real key still works throughout.
        validator.validate(&idp.client_credentials().await).await.unwrap();
    }

    #[tokio::test]
    async fn oversized_and_malformed_tokens_are_invalid_before_any_request() {
        let idp = start().await;
        let validator = idp.local();
        let oversized = idp.forge(&json!({}), &json!({ "padding": "x".repeat(9 * 1024) }));
        assert_invalid(validator.validate(&oversized).await, Refusal::TooLarge);
        let huge_header = idp.forge(&json!({ "x": "y".repeat(20 * 1024) }), &json!({}));
        assert_invalid(validator.validate(&huge_header).await, Refusal::TooLarge);
        assert_invalid(validator.validate(&"a".repeat(1 << 20)).await, Refusal::TooLarge);
        let garbage = [
            "",
            " ",
            "abc",
            "a.b",
            "a.b.c",
            "..",
            "a.b.c.d.e",
            "ünïcode.ü.ü",
            "Bearer abc.def.ghi",
            "eyJhbGciOiJSUzI1NiJ9.e30.sig!",
            "eyJhbGciOiJSUzI1NiJ9.%%%.sig",
        ];
        for token in garbage {
            let _ = assert_any_invalid(validator.validate(token).await);
        }
        assert_eq!(validator.stats(), ValidatorStats::default(), "nothing was fetched for any of them");

        // The cap is not too small: a large but legal token passes.
        let large = idp.forge(&json!({}), &json!({ "padding": "x".repeat(5 * 1024) }));
        assert!(large.len() < 8 * 1024);
        validator.validate(&large).await.expect("under the cap");
    }

    #[tokio::test]
    async fn every_single_character_change_is_refused_without_panicking() {
        let idp = start().await;
        let validator = idp.local();
        let token = idp.client_credentials().await;
        validator.validate(&token).await.unwrap();
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
        for (at, old) in token.bytes().enumerate() {
            let new = alphabet[(alphabet.iter().position(|c| *c == old).unwrap_or(0) + 7) % alphabet.len()];
            let mut changed = token.clone().into_bytes();
            changed[at] = new;
            let changed = String::from_utf8(changed).unwrap();
            let _ = assert_any_invalid(validator.validate(&changed).await);
        }
        // Truncations too.
        for len in (0..token.len()).step_by(7) {
            let _ = assert_any_invalid(validator.validate(&token[..len]).await);
        }
    }

    #[tokio::test]
    async fn expired_not_yet_valid_and_future_tokens_are_refused() {
        let idp = start().await;
        let validator = idp.local();
        let now = idp.now();
        let leeway = i64::try_from(LEEWAY).unwrap();
        let check = |claims: Value| {
            let token = idp.forge(&json!({}), &claims);
            let validator = validator.clone();
            async move { validator.validate(&token).await }
        };
        assert_invalid(check(json!({ "iat": now - 7200, "exp": now - 120 })).await, Refusal::Expired);
        assert_invalid(check(json!({ "exp": now - leeway })).await, Refusal::Expired);
        check(json!({ "exp": now - leeway + 5 })).await.expect("expired within the leeway");
        assert_invalid(check(json!({ "nbf": now + 120 })).await, Refusal::NotYetValid);
        check(json!({ "nbf": now + leeway - 5 })).await.expect("nbf within the leeway");
        assert_invalid(check(json!({ "iat": now + 86_400, "exp": now + 90_000 })).await, Refusal::IssuedInFuture);
        assert_invalid(check(json!({ "exp": null })).await, Refusal::NoExpiry);
        assert_invalid(check(json!({ "exp": "tomorrow" })).await, Refusal::MalformedClaims);

        // A real token, once dev-idp's clock (shared with the validator) passes its exp.
        let token = idp.client_credentials().await;
        validator.validate(&token).await.unwrap();
        idp.advance(3600 + LEEWAY);
        assert_invalid(validator.validate(&token).await, Refusal::Expired);
    }

    #[tokio::test]
    async fn wrong_issuer_and_audience_are_refused() {
        let idp = start().await;
        let validator = idp.local();
        let issuer = idp.issuer().to_owned();
        let port = idp.idp.addr().port();
        for iss in [
            json!("https://evil.example/oauth2/default"),
            json!(format!("{issuer}/")),
            json!(issuer.replace("/default", "/other")),
            json!(issuer.replace("http://", "https://")),
            json!(issuer.replace(&port.to_string(), &(port ^ 1).to_string())),
            json!(issuer.to_uppercase()),
        ] {
            assert_invalid(
                validator.validate(&idp.forge(&json!({}), &json!({ "iss": iss }))).await,
                Refusal::WrongIssuer,
            );
        }
        assert_invalid(validator.validate(&idp.forge(&json!({}), &json!({ "iss": null }))).await, Refusal::NoIssuer);
        for aud in [json!("api://other"), json!(["api://other", "tessera-desktop"]), json!([]), json!(null)] {
            assert_invalid(
                validator.validate(&idp.forge(&json!({}), &json!({ "aud": aud }))).await,
                Refusal::WrongAudience,
            );
        }
        let many = idp.forge(&json!({}), &json!({ "aud": ["api://other", AUDIENCE] }));
        validator.validate(&many).await.expect("aud contains ours");
    }

    #[tokio::test]
    async fn id_tokens_are_not_access_tokens() {
        let idp = start().await;
        let validator = idp.local();
        let tokens = idp.sign_in(DESKTOP_CLIENT_ID, None, PERSON_SCOPE).await;
        let id_token = tokens["id_token"].as_str().unwrap();
        assert_invalid(validator.validate(id_token).await, Refusal::WrongAudience);

        // Even one whose audience is ours is known by its claims.
        let id_claims = claims_of(id_token);
        for marker in ["nonce", "at_hash"] {
            let mut claims = id_claims.clone();
            claims["aud"] = json!(AUDIENCE);
            claims
                .as_object_mut()
                .unwrap()
                .retain(|name, _| name != if marker == "nonce" { "at_hash" } else { "nonce" });
            assert!(claims.get(marker).is_some());
            let token = idp.forge(&json!({}), &claims);
            assert_invalid(validator.validate(&token).await, Refusal::IdToken);
        }
        for typ in ["id_token+jwt", "application/logout+jwt", "JOSE"] {
            let token = idp.forge(&json!({ "typ": typ }), &json!({}));
            assert_invalid(validator.validate(&token).await, Refusal::WrongType);
        }
    }

    #[tokio::test]
    async fn tokens_signed_by_a_key_outside_the_jwks_are_refused() {
        let idp = start().await;
        let other =
            within("another dev-idp starting", dev_idp::spawn(Config { port: 0, ..Config::default() })).await.unwrap();
        let validator = idp.local();
        let our_kid = idp.provider().active_kid();
        // Another RSA key, claiming our kid.
        let token = forge_with(other.provider(), idp.issuer(), &json!({ "kid": our_kid }), &json!({}));
        assert_invalid(validator.validate(&token).await, Refusal::BadSignature);
        // Another RSA key under its own kid.
        let token = forge_with(other.provider(), idp.issuer(), &json!({}), &json!({}));
        assert_invalid(validator.validate(&token).await, Refusal::UnknownKey);
        // Another issuer's genuine token.
        let (status, answer) = {
            let response = idp
                .http
                .post(format!("{}/v1/token", other.issuer()))
                .basic_auth(ITEMS_API_CLIENT_ID, Some(ITEMS_API_DEMO_SECRET))
                .form(&[("grant_type", "client_credentials"), ("scope", "items:read")])
                .send()
                .await
                .unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        };
        assert_eq!(status, 200);
        let _ = assert_any_invalid(validator.validate(answer["access_token"].as_str().unwrap()).await);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn key_rotation_is_followed_with_single_flight_rate_limited_refetches() {
        let idp = start().await;
        let validator = idp.local();
        let first = idp.client_credentials().await;
        validator.validate(&first).await.unwrap();
        assert_eq!(fetches(&validator), stats(1, 1));

        // dev-idp rotates; the old key stays published.
        let provider = idp.provider().clone();
        let second_kid =
            within("dev-idp rotating its keys", tokio::task::spawn_blocking(move || provider.rotate_keys()))
                .await
                .unwrap()
                .unwrap();
        let second = idp.client_credentials().await;
        assert_eq!(header_kid(&second), second_kid);
        validator.validate(&first).await.expect("the old kid is still cached and published");
        // The first unknown kid is looked up at once: the new key is accepted.
        validator.validate(&second).await.expect("the new kid, found by a refetch");
        validator.validate(&first).await.expect("the old kid, still published");
        assert_eq!(fetches(&validator), stats(2, 1));

        // Another rotation: the first key leaves the JWKS.
        let provider = idp.provider().clone();
        within("dev-idp rotating its keys", tokio::task::spawn_blocking(move || provider.rotate_keys()))
            .await
            .unwrap()
            .unwrap();
        let third = idp.client_credentials().await;
        for _ in 0..20 {
            assert_invalid(validator.validate(&third).await, Refusal::UnknownKey);
        }
        assert_eq!(fetches(&validator), stats(2, 1), "the rate limit holds");
        idp.advance(11);
        validator.validate(&third).await.expect("found after the interval");
        assert_invalid(validator.validate(&first).await, Refusal::UnknownKey);
        validator.validate(&second).await.expect("still published");
        assert_eq!(fetches(&validator), stats(3, 1));

        // A burst of new and unknown kids at once: one fetch (single flight).
        idp.advance(11);
        let provider = idp.provider().clone();
        within("dev-idp rotating its keys", tokio::task::spawn_blocking(move || provider.rotate_keys()))
            .await
            .unwrap()
            .unwrap();
        let fourth = idp.client_credentials().await;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..64 {
            let validator = validator.clone();
            let token = if i % 2 == 0 { fourth.clone() } else { idp.forge(&json!({ "kid": random() }), &json!({})) };
            tasks.spawn(async move { (i % 2 == 0, validator.validate(&token).await) });
        }
        while let Some(joined) = within("a validation of the burst", tasks.join_next()).await {
            let (genuine, result) = joined.unwrap();
            if genuine {
                result.expect("the new key");
            } else {
                assert_invalid(result, Refusal::UnknownKey);
            }
        }
        assert_eq!(fetches(&validator), stats(4, 1), "one fetch for the whole burst");
    }

    async fn burst(validator: &TokenValidator, tokens: Vec<String>) -> Vec<Result<(), AuthError>> {
        let mut tasks = tokio::task::JoinSet::new();
        for token in tokens {
            let validator = validator.clone();
            tasks.spawn(async move { validator.validate(&token).await.map(|_| ()) });
        }
        let mut results = Vec::new();
        while let Some(joined) = within("a validation of the burst", tasks.join_next()).await {
            results.push(joined.unwrap());
        }
        results
    }

    /// Single flight on its own (the rate limit off): requests that waited
    /// behind a fetch use its result instead of fetching again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_share_one_fetch_even_without_a_rate_limit() {
        let idp = start().await;
        let fake = FakeIssuer::start().await;
        fake.set("keys", Reply::json(&idp.jwks().await).delayed(Duration::from_millis(300)));
        let mut options = idp.options();
        options.refetch_interval = Duration::ZERO;
        let validator = TokenValidator::with_options(config_for(&fake.issuer, Mode::Local), options).unwrap();
        let forge = |header: &Value| forge_with(idp.provider(), &fake.issuer, header, &json!({}));

        // A cold start under load: one discovery, one JWKS fetch.
        let genuine = forge(&json!({}));
        for result in burst(&validator, vec![genuine; 32]).await {
            result.expect("valid");
        }
        assert_eq!((fake.hits("discovery"), fake.hits("keys")), (1, 1));

        // A burst of unknown kids: one refetch.
        let unknown: Vec<String> = (0..32).map(|_| forge(&json!({ "kid": random() }))).collect();
        for result in burst(&validator, unknown).await {
            assert_invalid(result, Refusal::UnknownKey);
        }
        assert_eq!((fake.hits("discovery"), fake.hits("keys")), (1, 2));
        assert_eq!(fetches(&validator), stats(2, 1));
    }

    fn header_kid(jwt: &str) -> String {
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(jwt.split('.').next().unwrap()).unwrap()).unwrap();
        header["kid"].as_str().unwrap().to_owned()
    }

    #[tokio::test]
    async fn the_jwks_max_age_is_honoured_and_capped() {
        // max-age=60: cached for a minute.
        let idp = start_with(|config| config.keys.jwks_max_age_secs = 60).await;
        let validator = idp.local();
        validator.validate(&idp.forge(&json!({}), &json!({}))).await.unwrap();
        idp.advance(59);
        validator.validate(&idp.forge(&json!({}), &json!({}))).await.unwrap();
        assert_eq!(fetches(&validator), stats(1, 1));
        idp.advance(2);
        validator.validate(&idp.forge(&json!({}), &json!({}))).await.unwrap();
        assert_eq!(fetches(&validator), stats(2, 1));

        // max-age of 30 days: capped at 24 h.
        let idp = start_with(|config| config.keys.jwks_max_age_secs = 30 * 24 * 3600).await;
        let validator = idp.local();
        validator.validate(&idp.forge(&json!({}), &json!({}))).await.unwrap();
        idp.advance(23 * 3600);
        validator.validate(&idp.forge(&json!({}), &json!({}))).await.unwrap();
        assert_eq!(fetches(&validator), stats(1, 1));
        idp.advance(2 * 3600);
        validator.validate(&idp.forge(&json!({}), &json!({}))).await.unwrap();
        assert_eq!(fetches(&validator), stats(2, 1));

        // max-age=0: refreshed at most once per refetch interval.
        let idp = start_with(|config| config.keys.jwks_max_age_secs = 0).await;
        let validator = idp.local();
        for _ in 0..5 {
            validator.validate(&idp.forge(&json!({}), &json!({}))).await.unwrap();
        }
        assert_eq!(fetches(&validator), stats(1, 1));
        idp.advance(11);
        validator.validate(&idp.forge(&json!({}), &json!({}))).await.unwrap();
        assert_eq!(fetches(&validator), stats(2, 1));
    }

    #[tokio::test]
    async fn without_max_age_keys_live_five_minutes_and_serve_stale_while_the_issuer_is_down() {
        let idp = start().await;
        let fake = FakeIssuer::start().await;
        fake.set("keys", Reply::json(&idp.jwks().await));
        let validator = TokenValidator::with_options(config_for(&fake.issuer, Mode::Local), idp.options()).unwrap();
        let token = || forge_with(idp.provider(), &fake.issuer, &json!({}), &json!({}));
        validator.validate(&token()).await.unwrap();
        idp.advance(299);
        validator.validate(&token()).await.unwrap();
        assert_eq!((fetches(&validator), fake.hits("keys")), (stats(1, 1), 1));
        idp.advance(2);
        validator.validate(&token()).await.unwrap();
        assert_eq!((fetches(&validator), fake.hits("keys")), (stats(2, 1), 2));

        // The issuer fails: cached keys keep serving, readiness says no.
        fake.set("keys", Reply::status(500, "{}"));
        idp.advance(301);
        validator.validate(&token()).await.expect("stale keys serve while the issuer is down");
        assert_eq!(fake.hits("keys"), 3);
        assert_unavailable(validator.check_ready().await);
        // ... but not past the 24 h cap.
        idp.advance(24 * 3600);
        assert_unavailable(validator.validate(&token()).await);
        // The issuer is back.
        fake.set("keys", Reply::json(&idp.jwks().await));
        idp.advance(2);
        validator.validate(&token()).await.expect("fresh keys");
        validator.check_ready().await.expect("ready again");
    }

    #[tokio::test]
    async fn an_unreachable_or_silent_issuer_is_unavailable() {
        let issuer = closed_port_issuer().await;
        let validator = TokenValidator::new(config_for(&issuer, Mode::Local)).unwrap();
        let idp = start().await;
        let token = idp.client_credentials().await;
        assert_unavailable(validator.validate(&token).await);
        assert_unavailable(validator.check_ready().await);

        // A server that accepts connections and never answers: the timeout ends it.
        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}/oauth2/default", silent.local_addr().unwrap());
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = silent.accept().await {
                held.push(socket);
            }
        });
        let mut config = config_for(&issuer, Mode::Local);
        config.timeout = Duration::from_millis(300);
        let validator = TokenValidator::new(config).unwrap();
        let started = Instant::now();
        assert_unavailable(validator.validate(&token).await);
        assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
        hold.abort();
    }

    #[tokio::test]
    async fn discovery_must_name_our_issuer_and_redirects_are_not_followed() {
        let fake = FakeIssuer::start().await;
        let options = || ValidatorOptions::default();
        // Discovery names another issuer.
        let mut lying = fake.discovery();
        lying["issuer"] = json!("https://evil.example/oauth2/default");
        fake.set("discovery", Reply::json(&lying));
        let validator = TokenValidator::with_options(config_for(&fake.issuer, Mode::Local), options()).unwrap();
        let chain = assert_unavailable(validator.check_ready().await);
        assert!(chain.contains("names issuer"), "{chain}");

        // Discovery redirects to a valid document elsewhere: not followed.
        fake.set("discovery", Reply::status(302, "").header("location", &format!("{}/elsewhere", fake.base)));
        let validator = TokenValidator::with_options(config_for(&fake.issuer, Mode::Local), options()).unwrap();
        let chain = assert_unavailable(validator.check_ready().await);
        assert!(chain.contains("302"), "{chain}");
        assert_eq!(fake.hits("elsewhere"), 0);

        // A JWKS over the size cap.
        fake.set("discovery", Reply::json(&fake.discovery()));
        let huge = json!({ "keys": [], "padding": "x".repeat(300 * 1024) });
        fake.set("keys", Reply::json(&huge));
        let validator = TokenValidator::with_options(config_for(&fake.issuer, Mode::Local), options()).unwrap();
        let chain = assert_unavailable(validator.check_ready().await);
        assert!(chain.contains("larger than"), "{chain}");

        // A JWKS that is not JSON.
        fake.set("keys", Reply::status(200, "<html>"));
        let validator = TokenValidator::with_options(config_for(&fake.issuer, Mode::Local), options()).unwrap();
        assert_unavailable(validator.check_ready().await);

        // A sane one.
        fake.set("keys", Reply::json(&json!({ "keys": [] })));
        let validator = TokenValidator::with_options(config_for(&fake.issuer, Mode::Local), options()).unwrap();
        validator.check_ready().await.expect("discovery and JWKS fetched");
    }
}

// ===== introspection mode =======================================================

mod introspection {
    use super::*;

    #[tokio::test]
    async fn a_persons_token_and_a_client_credentials_token_are_accepted() {
        let idp = start().await;
        let validator = idp.introspecting(Duration::from_secs(60));
        validator.check_ready().await.expect("ready");

        let tokens = idp.sign_in(DESKTOP_CLIENT_ID, None, PERSON_SCOPE).await;
        let access = tokens["access_token"].as_str().unwrap();
        let claims = validator.validate(access).await.expect("a person's token");
        assert_eq!(claims.subject, "alice@example.com");
        assert_eq!(claims.client_id.as_deref(), Some(DESKTOP_CLIENT_ID));
        assert_eq!(claims.user_id.as_deref(), Some("00u1alice0000000001"));
        assert_eq!(claims.scopes, ["openid", "profile", "email", "offline_access", "items:read"]);
        assert_eq!(claims.issuer, idp.issuer());
        assert_eq!(claims.expires_at, claims_of(access)["exp"].as_i64().unwrap());
        assert!(!claims.all.contains_key("active"));

        let token = idp.client_credentials().await;
        let claims = validator.validate(&token).await.expect("a client's token");
        assert_eq!(claims.subject, ITEMS_API_CLIENT_ID);
        assert_eq!(claims.client_id.as_deref(), Some(ITEMS_API_CLIENT_ID));
        assert_eq!(claims.scopes, ["items:read"]);
        assert_eq!(validator.stats().introspections, 2);
        // Both were JWTs, checked against the keys first (fetched once).
        assert_eq!(validator.stats().jwks_fetches, 1);

        // An ID token is refused by its claims, before any introspection.
        assert_invalid(validator.validate(tokens["id_token"].as_str().unwrap()).await, Refusal::WrongAudience);
        // Garbage never reaches the issuer.
        let _ = assert_any_invalid(validator.validate("not a token").await);
        assert_eq!(validator.stats().introspections, 2);
    }

    #[tokio::test]
    async fn revoked_and_expired_tokens_are_refused() {
        let idp = start().await;
        let validator = idp.introspecting(Duration::ZERO);
        let token = idp.client_credentials().await;
        validator.validate(&token).await.unwrap();
        idp.revoke(&token).await;
        assert_invalid(validator.validate(&token).await, Refusal::Inactive);

        let token = idp.client_credentials().await;
        validator.validate(&token).await.unwrap();
        idp.advance(3601 + LEEWAY);
        // Expired: seen locally, the issuer is not asked (issue 14, item 6).
        assert_invalid(validator.validate(&token).await, Refusal::Expired);
        assert_eq!(validator.stats().introspections, 3, "a zero cache_ttl asks every time");
    }

    #[tokio::test]
    async fn a_refresh_token_is_never_a_bearer_token() {
        // Let the items-api client sign people in, so that dev-idp tells it
        // about its own refresh tokens (it answers only the issuing client).
        let idp = start_with(|config| {
            let client: &mut ClientConfig =
                config.clients.iter_mut().find(|c| c.client_id == ITEMS_API_CLIENT_ID).unwrap();
            client.grant_types.extend([grant::AUTHORIZATION_CODE.to_owned(), grant::REFRESH_TOKEN.to_owned()]);
            client.redirect_uris.push(tokens::LOOPBACK.to_owned());
            client.allowed_scopes = None;
        })
        .await;
        let tokens = idp.sign_in(ITEMS_API_CLIENT_ID, Some(ITEMS_API_DEMO_SECRET), PERSON_SCOPE).await;
        let refresh = tokens["refresh_token"].as_str().expect("a refresh token");
        let answer = idp.introspect_directly(refresh).await;
        assert_eq!(answer["active"], true, "dev-idp calls it active: {answer}");
        assert_eq!(answer["token_type"], "refresh_token");

        let validator = idp.introspecting(Duration::from_secs(60));
        assert_invalid(validator.validate(refresh).await, Refusal::NotAccessToken);
        assert_invalid(validator.validate(refresh).await, Refusal::NotAccessToken);
        let stats = validator.stats();
        assert_eq!(stats.cache_hits, 0, "a refused answer is never taken for an active one");
        assert_eq!((stats.introspections, stats.refusal_hits), (1, 1), "the refusal is remembered");
        let _ = assert_any_invalid(idp.local().validate(refresh).await);
        // Its access token is fine.
        validator.validate(tokens["access_token"].as_str().unwrap()).await.unwrap();
    }

    /// A refusal is remembered for 30 s, at most `cache_ttl`: a client that
    /// keeps sending a revoked token costs the issuer one request per 30 s.
    #[tokio::test]
    async fn a_refusal_is_remembered_for_30_s_at_most() {
        let idp = start().await;
        let token = idp.client_credentials().await;
        idp.revoke(&token).await;
        let validator = idp.introspecting(Duration::from_secs(60));
        let short = idp.introspecting(Duration::from_secs(5));
        let never = idp.introspecting(Duration::ZERO);
        for v in [&validator, &short, &never] {
            assert_invalid(v.validate(&token).await, Refusal::Inactive);
            assert_invalid(v.validate(&token).await, Refusal::Inactive);
        }
        let counts = |v: &TokenValidator| (v.stats().introspections, v.stats().refusal_hits, v.stats().cache_hits);
        assert_eq!(counts(&validator), (1, 1, 0));
        assert_eq!(counts(&short), (1, 1, 0));
        assert_eq!(counts(&never), (2, 0, 0), "a zero cache_ttl remembers nothing");

        idp.advance(6);
        assert_invalid(validator.validate(&token).await, Refusal::Inactive);
        assert_invalid(short.validate(&token).await, Refusal::Inactive);
        assert_eq!(counts(&validator), (1, 2, 0), "30 s");
        assert_eq!(counts(&short), (2, 1, 0), "the cache's 5 s bound it");
        idp.advance(25);
        assert_invalid(validator.validate(&token).await, Refusal::Inactive);
        assert_eq!(counts(&validator), (2, 2, 0), "asked again once 30 s have passed");
    }

    /// Issue 14, item 6: tokens that cannot be checked locally (opaque) are
    /// introspected from a bucket of `introspection_burst`, refilled at
    /// `introspections_per_minute`; past it they are refused unasked (and
    /// asked about once it refills), while cached answers and JWTs the
    /// issuer signed keep working.
    #[tokio::test]
    async fn opaque_tokens_are_introspected_within_the_bucket() {
        let idp = start().await;
        let fake = FakeIssuer::start().await;
        let mut options = idp.options();
        options.introspection_burst = 2;
        options.introspections_per_minute = 60;
        let validator = TokenValidator::with_options(
            config_for(&fake.issuer, introspection_mode(Duration::from_secs(60))),
            options,
        )
        .unwrap();
        let now = idp.now();
        fake.set(
            "introspect",
            Reply::json(&json!({
                "active": true, "token_type": "Bearer", "scope": "items:read", "sub": "s", "exp": now + 300,
                "iss": fake.issuer, "aud": AUDIENCE,
            })),
        );
        validator.validate("opaque-a").await.expect("within the bucket");
        validator.validate("opaque-b").await.expect("within the bucket");
        assert_invalid(validator.validate("opaque-c").await, Refusal::NotChecked);
        assert_invalid(validator.validate("opaque-c").await, Refusal::NotChecked);
        assert_eq!(fake.hits("introspect"), 2, "past the bucket, the issuer is not asked");
        validator.validate("opaque-a").await.expect("a cached answer needs no bucket");
        assert_eq!(validator.stats().rate_limited, 2);
        idp.advance(1);
        validator.validate("opaque-c").await.expect("one more a second later, and not remembered as refused");
        assert_invalid(validator.validate("opaque-d").await, Refusal::NotChecked);
        assert_eq!(fake.hits("introspect"), 3);

        // At dev-idp: the bucket emptied by garbage, a token the issuer
        // signed is still asked about; forged ones are refused unasked.
        let mut options = idp.options();
        options.introspection_burst = 1;
        options.introspections_per_minute = 0;
        let validator =
            TokenValidator::with_options(config_for(idp.issuer(), introspection_mode(Duration::ZERO)), options)
                .unwrap();
        assert_invalid(validator.validate("garbage-1").await, Refusal::Inactive);
        assert_invalid(validator.validate("garbage-2").await, Refusal::NotChecked);
        assert_invalid(
            validator.validate(&idp.forge(&json!({}), &json!({ "aud": "api://other" }))).await,
            Refusal::WrongAudience,
        );
        validator.validate(&idp.client_credentials().await).await.expect("a genuine JWT");
        assert_eq!(validator.stats().introspections, 2);
    }

    /// The documented trade-off: a cached answer outlives a revocation, for
    /// at most `cache_ttl`.
    #[tokio::test]
    async fn a_revoked_token_stays_accepted_until_its_cache_entry_ends() {
        let idp = start().await;
        let validator = idp.introspecting(Duration::from_secs(60));
        let token = idp.client_credentials().await;
        validator.validate(&token).await.unwrap();
        idp.revoke(&token).await;
        assert_eq!(idp.introspect_directly(&token).await["active"], false);
        idp.advance(59);
        validator.validate(&token).await.expect("still cached");
        assert_eq!((validator.stats().introspections, validator.stats().cache_hits), (1, 1));
        idp.advance(2);
        assert_invalid(validator.validate(&token).await, Refusal::Inactive);
        assert_eq!(validator.stats().introspections, 2);
    }

    /// ... and never past the token's `exp`, however long `cache_ttl` is.
    #[tokio::test]
    async fn the_tokens_expiry_bounds_its_cache_entry() {
        let idp = start_with(|config| config.lifetimes.access_token_secs = 120).await;
        let validator = idp.introspecting(Duration::from_secs(3600));
        let token = idp.client_credentials().await;
        validator.validate(&token).await.unwrap();
        idp.revoke(&token).await;
        idp.advance(119);
        validator.validate(&token).await.expect("still cached");
        assert_eq!(validator.stats().introspections, 1);
        idp.advance(2);
        assert_any_invalid(validator.validate(&token).await);
        assert_eq!(validator.stats().introspections, 2, "the entry ended at exp");
    }

    #[tokio::test]
    async fn the_client_authenticates_and_answers_are_checked() {
        let idp = start().await;
        let fake = FakeIssuer::start().await;
        let secret = "s3cr3t/with+chars&more";
        let mode = Mode::Introspection {
            client_id: "rs client".to_owned(),
            client_secret: oauth2::ClientSecret::new(secret.to_owned()),
            cache_ttl: Duration::ZERO,
        };
        let validator = TokenValidator::with_options(config_for(&fake.issuer, mode), idp.options()).unwrap();
        let token = "opaque-token_1.2~3";
        let now = idp.now();
        let active = json!({
            "active": true, "token_type": "Bearer", "scope": "items:read", "client_id": "c", "sub": "s",
            "exp": now + 300, "iat": now, "iss": fake.issuer, "aud": AUDIENCE,
        });
        fake.set("introspect", Reply::json(&active));
        validator.validate(token).await.expect("active");

        // What the issuer was sent: RFC 6749 §2.3.1 Basic credentials, the token in the form.
        let (auth, body) = fake.state.requests.lock().unwrap()[0].clone();
        let basic = base64::engine::general_purpose::STANDARD.decode(auth.strip_prefix("Basic ").unwrap()).unwrap();
        let basic = String::from_utf8(basic).unwrap();
        assert_eq!(basic, "rs+client:s3cr3t%2Fwith%2Bchars%26more");
        let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        assert_eq!(form.get("token").map(String::as_str), Some(token));
        assert_eq!(form.get("token_type_hint").map(String::as_str), Some("access_token"));

        let mut without_iss = active.clone();
        merge(&mut without_iss, &json!({ "iss": null }));
        fake.set("introspect", Reply::json(&without_iss));
        validator.validate(token).await.expect("iss is checked only when present");

        for (change, reason) in [
            (json!({ "active": false }), Refusal::Inactive),
            (json!({ "iss": "https://evil.example/oauth2/default" }), Refusal::WrongIssuer),
            (json!({ "aud": "api://other" }), Refusal::WrongAudience),
            (json!({ "aud": ["api://other"] }), Refusal::WrongAudience),
            (json!({ "exp": now - 120 }), Refusal::Expired),
            (json!({ "exp": null }), Refusal::NoExpiry),
            (json!({ "nbf": now + 600 }), Refusal::NotYetValid),
            (json!({ "token_type": "refresh_token" }), Refusal::NotAccessToken),
            (json!({ "token_type": "urn:ietf:params:oauth:token-type:refresh_token" }), Refusal::NotAccessToken),
        ] {
            let mut answer = active.clone();
            merge(&mut answer, &change);
            fake.set("introspect", Reply::json(&answer));
            assert_invalid(validator.validate(token).await, reason);
        }
    }

    /// Issue 14, item 7: an active answer that does not name our audience
    /// (none, another, an empty list) or names another issuer is refused,
    /// whatever else it says; the right ones are taken.
    #[tokio::test]
    async fn an_active_answer_must_name_our_audience_and_our_issuer_when_it_names_one() {
        let idp = start().await;
        let fake = FakeIssuer::start().await;
        let validator =
            TokenValidator::with_options(config_for(&fake.issuer, introspection_mode(Duration::ZERO)), idp.options())
                .unwrap();
        let now = idp.now();
        let right = json!({
            "active": true, "token_type": "Bearer", "scope": "items:read items:write", "client_id": "c",
            "sub": "alice", "exp": now + 300, "iat": now, "iss": fake.issuer, "aud": AUDIENCE,
        });
        let answering = |change: Value| {
            let mut answer = right.clone();
            merge(&mut answer, &change);
            fake.set("introspect", Reply::json(&answer));
        };
        let other_issuer = format!("{}/oauth2/other", fake.base);
        for (i, (change, reason)) in [
            (json!({ "aud": null }), Refusal::WrongAudience),
            (json!({ "aud": null, "iss": null }), Refusal::WrongAudience),
            (json!({ "aud": [] }), Refusal::WrongAudience),
            (json!({ "aud": "api://other" }), Refusal::WrongAudience),
            (json!({ "aud": ["api://other", "tessera-desktop"] }), Refusal::WrongAudience),
            (json!({ "aud": "API://DEFAULT" }), Refusal::WrongAudience),
            (json!({ "iss": "https://evil.example/oauth2/default" }), Refusal::WrongIssuer),
            (json!({ "iss": other_issuer }), Refusal::WrongIssuer),
            (json!({ "iss": format!("{}/", fake.issuer) }), Refusal::WrongIssuer),
            (json!({ "aud": null, "token_type": "refresh_token" }), Refusal::NotAccessToken),
        ]
        .into_iter()
        .enumerate()
        {
            answering(change.clone());
            assert_invalid(validator.validate(&format!("opaque-{i}")).await, reason);
        }
        // The right ones: our audience alone or among others, with our
        // issuer or none.
        for (i, change) in [
            json!({}),
            json!({ "aud": ["api://other", AUDIENCE] }),
            json!({ "iss": null }),
            json!({ "iss": null, "aud": [AUDIENCE] }),
        ]
        .into_iter()
        .enumerate()
        {
            answering(change.clone());
            let claims = validator.validate(&format!("good-{i}")).await.unwrap_or_else(|e| panic!("{change}: {e}"));
            assert_eq!(claims.subject, "alice");
        }
        assert_eq!(fake.hits("introspect"), 14, "each answer came from the provider");
    }

    #[tokio::test]
    async fn timeouts_errors_and_malformed_answers_deny_as_unavailable() {
        let fake = FakeIssuer::start().await;
        let secret = "the-client-secret-value";
        let token = "a-token-that-must-not-leak";
        let mut config = config_for(
            &fake.issuer,
            Mode::Introspection {
                client_id: ITEMS_API_CLIENT_ID.to_owned(),
                client_secret: oauth2::ClientSecret::new(secret.to_owned()),
                cache_ttl: Duration::from_secs(60),
            },
        );
        config.timeout = Duration::from_millis(300);
        let validator = TokenValidator::new(config.clone()).unwrap();
        for reply in [
            Reply::status(200, "not json"),
            Reply::status(200, "[true]"),
            Reply::json(&json!({})),
            Reply::json(&json!({ "active": "true" })),
            Reply::json(&json!({ "active": 1 })),
            Reply::json(&json!({ "active": true, "sub": "s", "exp": "later", "aud": AUDIENCE })),
            Reply::json(&json!({ "active": true, "sub": "s", "exp": 4_000_000_000_u64, "aud": 7 })),
            Reply::status(500, "{}"),
            Reply::status(401, r#"{"error":"invalid_client"}"#),
            Reply::status(302, "").header("location", &format!("{}/elsewhere", fake.base)),
            Reply::json(&json!({ "active": false, "padding": "x".repeat(100 * 1024) })),
            Reply::json(&json!({ "active": true })).delayed(Duration::from_secs(2)),
        ] {
            let status = reply.status;
            fake.set("introspect", reply);
            let started = Instant::now();
            let chain = assert_unavailable(validator.validate(token).await);
            assert!(started.elapsed() < Duration::from_secs(2), "bounded by the timeout");
            assert!(!chain.contains(secret) && !chain.contains(token), "{status}: {chain}");
        }
        assert_eq!(fake.hits("elsewhere"), 0, "redirects are not followed");
        assert_eq!(validator.stats().cache_hits, 0);

        // Secrets stay out of Debug output too.
        let debug = format!("{validator:?} {config:?}");
        assert!(!debug.contains(secret), "{debug}");

        // Unreachable issuer.
        let closed = closed_port_issuer().await;
        let validator = TokenValidator::new(config_for(&closed, introspection_mode(Duration::from_secs(60)))).unwrap();
        assert_unavailable(validator.validate(token).await);
        assert_unavailable(validator.check_ready().await);

        // Discovery without an introspection endpoint.
        let mut discovery = fake.discovery();
        merge(&mut discovery, &json!({ "introspection_endpoint": null }));
        fake.set("discovery", Reply::json(&discovery));
        let validator = TokenValidator::new(config_for(&fake.issuer, introspection_mode(Duration::ZERO))).unwrap();
        assert_unavailable(validator.check_ready().await);
    }
}
