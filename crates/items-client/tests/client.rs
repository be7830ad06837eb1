//! The items client against the real items API and dev-idp on port 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dev_idp::config::{ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET};
use items_api::auth::{Mode, TokenValidator, ValidatorConfig};
use items_api::policy::Policy;
use items_api::store::Store;
use items_client::{Credential, ItemPatch, ItemsClient, ItemsError, ListOptions, NewItem, TokenSource};
use oauth2::AccessToken;
use url::Url;

// Every wait is bounded (issue 24, item 4: a broken check fails, never hangs).
use testkit::{http, within};

struct Stack {
    idp: dev_idp::DevIdp,
    api: Url,
    _dir: tempfile::TempDir,
}

async fn stack() -> Stack {
    let idp =
        within("dev-idp starting", dev_idp::spawn(dev_idp::Config { port: 0, ..Default::default() })).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("items.db").display());
    let store = within("opening the items database", Store::connect(&database)).await.unwrap();
    let validator = TokenValidator::new(ValidatorConfig {
        issuer: Url::parse(idp.issuer()).unwrap(),
        audience: "api://default".into(),
        leeway: Duration::from_secs(5),
        timeout: Duration::from_secs(3),
        mode: Mode::Local,
    })
    .unwrap();
    let app = items_api::router(items_api::AppState::new(validator, store, Policy::None));
    let api = Url::parse(&format!("http://{}", testkit::serve(app).await)).unwrap();
    Stack { idp, api, _dir: dir }
}

impl Stack {
    async fn token(&self, scope: &str) -> AccessToken {
        let endpoint = format!("{}/v1/token", self.idp.issuer());
        let client = (ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET);
        AccessToken::new(testkit::client_credentials_token(&http(), &endpoint, client, scope).await)
    }
}

/// Hands out `current`, and on renewal the next of `renewals` (or fails).
struct Tokens {
    current: Mutex<AccessToken>,
    renewals: Mutex<Vec<AccessToken>>,
    renewed: AtomicUsize,
}

impl Tokens {
    fn new(current: AccessToken, renewals: Vec<AccessToken>) -> Self {
        Self { current: Mutex::new(current), renewals: Mutex::new(renewals), renewed: AtomicUsize::new(0) }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the refresh token was refused")]
struct Refused;

impl TokenSource for Tokens {
    type Error = Refused;

    async fn token(&self) -> Result<Credential, Refused> {
        Ok(Credential::bearer(self.current.lock().unwrap().clone()))
    }

    async fn renew(&self, _rejected: &AccessToken) -> Result<Credential, Refused> {
        self.renewed.fetch_add(1, Ordering::SeqCst);
        let next = self.renewals.lock().unwrap().pop().ok_or(Refused)?;
        *self.current.lock().unwrap() = next.clone();
        Ok(Credential::bearer(next))
    }
}

fn bad() -> AccessToken {
    AccessToken::new("not-a-valid-token".to_owned())
}

#[tokio::test]
async fn crud_round_trip() {
    let s = stack().await;
    let client = ItemsClient::new(s.api.clone(), Tokens::new(s.token("items:read items:write").await, vec![])).unwrap();
    let item = NewItem { name: "Lamp".into(), description: "desk".into(), price: 12.5, tags: vec!["home".into()] };
    let created = within("client.create", client.create(&item)).await.unwrap();
    assert_eq!((created.name.as_str(), created.price, created.owner.as_str()), ("Lamp", 12.5, ITEMS_API_CLIENT_ID));
    assert_eq!(within("client.get", client.get(&created.id)).await.unwrap(), created);
    let changed =
        within("client.update", client.update(&created.id, &ItemPatch { price: Some(10.0), ..ItemPatch::default() }))
            .await
            .unwrap();
    assert_eq!(changed.price, 10.0);
    let page = within("client.list", client.list(&ListOptions { tag: Some("home".into()), ..ListOptions::default() }))
        .await
        .unwrap();
    assert_eq!(page.items, vec![changed.clone()]);
    assert_eq!(page.next_cursor, None);
    assert_eq!(within("client.me", client.me()).await.unwrap()["sub"], ITEMS_API_CLIENT_ID);
    within("client.delete", client.delete(&created.id)).await.unwrap();
    assert!(matches!(within("client.get", client.get(&created.id)).await, Err(ItemsError::NotFound)));
    assert!(matches!(within("client.delete", client.delete(&created.id)).await, Err(ItemsError::NotFound)));
}

#[tokio::test]
async fn a_401_renews_the_token_once_and_retries() {
    let s = stack().await;
    let good = s.token("items:read").await;
    let client = ItemsClient::new(s.api.clone(), Tokens::new(bad(), vec![good])).unwrap();
    within("client.list", client.list(&ListOptions::default())).await.expect("succeeds after one renewal");
    assert_eq!(client.tokens().renewed.load(Ordering::SeqCst), 1);
    within("client.list", client.list(&ListOptions::default())).await.unwrap();
    assert_eq!(client.tokens().renewed.load(Ordering::SeqCst), 1, "the renewed token is reused");
}

#[tokio::test]
async fn a_second_401_or_a_failed_renewal_asks_for_a_new_sign_in() {
    let s = stack().await;
    let client = ItemsClient::new(s.api.clone(), Tokens::new(bad(), vec![bad()])).unwrap();
    let error = within("client.list", client.list(&ListOptions::default())).await.unwrap_err();
    assert!(matches!(error, ItemsError::Unauthorized { .. }), "{error:?}");
    assert_eq!(client.tokens().renewed.load(Ordering::SeqCst), 1, "one renewal, not a loop");
    let error = within("client.list", client.list(&ListOptions::default())).await.unwrap_err();
    assert!(matches!(error, ItemsError::SignInRequired(Refused)), "the source's own error, typed: {error:?}");
    assert_eq!(error.to_string(), "you need to sign in again");
}

#[tokio::test]
async fn refusals_are_told_apart() {
    let s = stack().await;
    let reader = ItemsClient::new(s.api.clone(), Tokens::new(s.token("items:read").await, vec![])).unwrap();
    let item = NewItem { name: "x".into(), description: String::new(), price: 1.0, tags: vec![] };
    match within("reader.create", reader.create(&item)).await {
        Err(ItemsError::MissingScope { scope }) => assert_eq!(scope, "items:write"),
        other => panic!("{other:?}"),
    }
    let writer = ItemsClient::new(s.api.clone(), Tokens::new(s.token("items:read items:write").await, vec![])).unwrap();
    let blank = NewItem { name: " ".into(), ..item.clone() };
    match within("writer.create", writer.create(&blank)).await {
        Err(ItemsError::Invalid { field, .. }) => assert_eq!(field.as_deref(), Some("name")),
        other => panic!("{other:?}"),
    }
    // An id cannot smuggle in path segments: it is percent-encoded, and the
    // API refuses an encoded `/` (400, issue 14 item 5).
    assert!(matches!(
        within("writer.get", writer.get("../../v1/me")).await,
        Err(ItemsError::Invalid { field: None, .. })
    ));
    let offline = ItemsClient::new(Url::parse("http://127.0.0.1:9").unwrap(), Tokens::new(bad(), vec![])).unwrap();
    assert!(matches!(within("offline.list", offline.list(&ListOptions::default())).await, Err(ItemsError::Network(_))));
}

// ---------------------------------------------------------------------------
// An items API that fails: a proxy in front of the real one, answering each
// request as its script says.

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy)]
enum Fault {
    /// Forwards it and answers the API's answer.
    Pass,
    /// Answers this status (with `Retry-After: 0`) without forwarding.
    Fail(u16),
    /// Answers nothing for longer than the client waits, without forwarding.
    Stall,
    /// Forwards it (the API acts on it) but the answer never arrives in time.
    Lose,
    /// Answers 429 with this `Retry-After` in seconds (none: no header),
    /// without forwarding.
    Limit(Option<&'static str>),
    /// Answers 429 with a `Retry-After` date this many seconds after its
    /// `Date`, both an hour behind this machine's clock (the API's clock
    /// is off: the wait is measured from its `Date`).
    LimitUntil(u64),
}

/// A request as the proxy saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    idempotency_key: Option<String>,
}

#[derive(Clone)]
struct Proxy {
    api: Url,
    script: std::sync::Arc<Mutex<std::collections::VecDeque<Fault>>>,
    seen: std::sync::Arc<Mutex<Vec<Seen>>>,
}

/// The client's limit per request in these tests (a stall lasts longer).
const CLIENT_TIMEOUT: Duration = Duration::from_millis(500);

impl Proxy {
    /// Starts a proxy to `api` with `script` (then `Pass` for ever); answers its URL.
    async fn start(api: &Url, script: &[Fault]) -> (Self, Url) {
        let proxy = Self {
            api: api.clone(),
            script: std::sync::Arc::new(Mutex::new(script.iter().copied().collect())),
            seen: std::sync::Arc::default(),
        };
        let app = axum::Router::new().fallback(Self::handle).with_state(proxy.clone());
        let url = Url::parse(&format!("http://{}", testkit::serve(app).await)).unwrap();
        (proxy, url)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    async fn handle(
        axum::extract::State(proxy): axum::extract::State<Self>,
        request: axum::extract::Request,
    ) -> axum::response::Response {
        use axum::response::IntoResponse as _;
        let (parts, body) = request.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let key = parts.headers.get("idempotency-key").map(|v| v.to_str().unwrap().to_owned());
        proxy.seen.lock().unwrap().push(Seen { method: parts.method.to_string(), idempotency_key: key });
        let fault = proxy.script.lock().unwrap().pop_front().unwrap_or(Fault::Pass);
        match fault {
            Fault::Fail(status) => {
                let status = axum::http::StatusCode::from_u16(status).unwrap();
                return (status, [("retry-after", "0")], "{}").into_response();
            }
            Fault::Limit(retry_after) => {
                let mut answer = (axum::http::StatusCode::TOO_MANY_REQUESTS, "{}").into_response();
                if let Some(seconds) = retry_after {
                    answer.headers_mut().insert("retry-after", seconds.parse().unwrap());
                }
                return answer;
            }
            Fault::LimitUntil(seconds) => {
                let date = std::time::SystemTime::now() - Duration::from_secs(3600);
                let at = httpdate::fmt_http_date(date + Duration::from_secs(seconds));
                let headers = [("date", httpdate::fmt_http_date(date)), ("retry-after", at)];
                return (axum::http::StatusCode::TOO_MANY_REQUESTS, headers, "{}").into_response();
            }
            Fault::Stall => {
                tokio::time::sleep(CLIENT_TIMEOUT * 4).await;
                return axum::http::StatusCode::GATEWAY_TIMEOUT.into_response();
            }
            Fault::Pass | Fault::Lose => {}
        }
        let mut url = proxy.api.clone();
        url.set_path(parts.uri.path());
        url.set_query(parts.uri.query());
        let mut forward = http().request(parts.method.clone(), url).body(body);
        for (name, value) in &parts.headers {
            if name != "host" {
                forward = forward.header(name, value);
            }
        }
        let answer = forward.send().await.unwrap();
        let status = answer.status();
        let headers = answer.headers().clone();
        let bytes = answer.bytes().await.unwrap();
        if matches!(fault, Fault::Lose) {
            tokio::time::sleep(CLIENT_TIMEOUT * 4).await;
        }
        let mut response = (status, bytes).into_response();
        for name in ["content-type", "location", "retry-after", "www-authenticate", "idempotent-replayed"] {
            if let Some(value) = headers.get(name) {
                response.headers_mut().insert(name, value.clone());
            }
        }
        response
    }
}

/// A client through `proxy_url` with quick retries.
async fn retrying_client(s: &Stack, proxy_url: Url) -> ItemsClient<Tokens> {
    let tokens = Tokens::new(s.token("items:read items:write").await, vec![]);
    ItemsClient::with_timeout(proxy_url, tokens, CLIENT_TIMEOUT).unwrap().retrying(items_client::RetryPolicy {
        attempts: 3,
        first_wait: Duration::from_millis(20),
        max_wait: Duration::from_secs(1),
    })
}

fn lamp() -> NewItem {
    NewItem { name: "Lamp".into(), description: "desk".into(), price: 12.5, tags: vec!["home".into()] }
}

#[tokio::test]
async fn reads_are_retried_after_a_failure_and_a_timeout() {
    let s = stack().await;
    let (proxy, url) = Proxy::start(&s.api, &[Fault::Fail(503), Fault::Stall]).await;
    let client = retrying_client(&s, url).await;
    let page = within("client.list", client.list(&ListOptions::default())).await.expect("the third attempt answers");
    assert_eq!(page.items, vec![]);
    let seen = proxy.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen.iter().all(|r| r.method == "GET" && r.idempotency_key.is_none()), "{seen:?}");
}

#[tokio::test]
async fn reads_give_up_after_the_attempts_with_a_clear_error() {
    let s = stack().await;
    let (proxy, url) = Proxy::start(&s.api, &[Fault::Fail(502), Fault::Fail(503), Fault::Fail(504), Fault::Pass]).await;
    let client = retrying_client(&s, url).await;
    let error = within("client.get", client.get("0192f000-0000-7000-8000-000000000000")).await.unwrap_err();
    assert!(matches!(error, ItemsError::Unavailable { status: 504 }), "{error:?}");
    assert_eq!(error.to_string(), "the items API is unavailable (HTTP 504); try again later");
    assert_eq!(proxy.seen().len(), 3);
    // Not for a refusal: a 404 is an answer, asked once.
    let (proxy, url) = Proxy::start(&s.api, &[]).await;
    let client = retrying_client(&s, url).await;
    assert!(matches!(
        within("client.get", client.get("0192f000-0000-7000-8000-000000000000")).await,
        Err(ItemsError::NotFound)
    ));
    assert_eq!(proxy.seen().len(), 1);
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_made_once() {
    let s = stack().await;
    let (proxy, url) = Proxy::start(&s.api, &[Fault::Lose, Fault::Fail(503)]).await;
    let client = retrying_client(&s, url).await;
    let created = within("client.create", client.create(&lamp()))
        .await
        .expect("the retry answers the item made by the first attempt");
    let seen = proxy.seen();
    assert_eq!(seen.len(), 3, "{seen:?}");
    let key = seen[0].idempotency_key.clone().expect("a create carries a key");
    assert!(seen.iter().all(|r| r.method == "POST" && r.idempotency_key.as_deref() == Some(key.as_str())), "{seen:?}");
    // One item at the API, the one answered.
    let direct = ItemsClient::new(s.api.clone(), Tokens::new(s.token("items:read").await, vec![])).unwrap();
    let page = within("direct.list", direct.list(&ListOptions::default())).await.unwrap();
    assert_eq!(page.items, vec![created]);
    // The next create has a key of its own.
    within("client.create", client.create(&lamp())).await.unwrap();
    let next = proxy.seen().last().unwrap().idempotency_key.clone().unwrap();
    assert_ne!(next, key);
    assert_eq!(within("direct.list", direct.list(&ListOptions::default())).await.unwrap().items.len(), 2);
}

#[tokio::test]
async fn changes_and_deletions_are_not_retried() {
    let s = stack().await;
    let (proxy, url) = Proxy::start(&s.api, &[]).await;
    let client = retrying_client(&s, url).await;
    let item = within("client.create", client.create(&lamp())).await.unwrap();
    proxy.script.lock().unwrap().extend([Fault::Fail(503), Fault::Fail(503)]);
    let patch = ItemPatch { price: Some(1.0), ..ItemPatch::default() };
    let error = within("client.update", client.update(&item.id, &patch)).await.unwrap_err();
    assert!(matches!(error, ItemsError::Unavailable { status: 503 }), "{error:?}");
    let error = within("client.delete", client.delete(&item.id)).await.unwrap_err();
    assert!(matches!(error, ItemsError::Unavailable { status: 503 }), "{error:?}");
    let methods: Vec<String> = proxy.seen().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["POST", "PATCH", "DELETE"]);
    assert_eq!(within("client.get", client.get(&item.id)).await.unwrap(), item, "unchanged and still there");
}

#[tokio::test]
async fn a_429_with_a_short_retry_after_is_retried_after_that_wait() {
    let s = stack().await;
    let (proxy, url) = Proxy::start(&s.api, &[Fault::Limit(Some("1"))]).await;
    let client = retrying_client(&s, url).await; // waits at most 1 s
    let started = std::time::Instant::now();
    let page = within("client.list", client.list(&ListOptions::default())).await.expect("retried after the wait");
    assert_eq!(page.items, vec![]);
    assert!(started.elapsed() >= Duration::from_secs(1), "waited as asked: {:?}", started.elapsed());
    assert_eq!(proxy.seen().len(), 2);
}

#[tokio::test]
async fn a_429_with_a_long_or_no_retry_after_is_reported_with_when() {
    let s = stack().await;
    for (fault, retry_after, said) in [
        (Fault::Limit(Some("120")), Some(Duration::from_secs(120)), "try again in 120 s"),
        (Fault::LimitUntil(90), Some(Duration::from_secs(90)), "try again in 90 s"),
        (Fault::Limit(None), None, "try again later"),
        (Fault::Limit(Some("soon")), None, "try again later"),
    ] {
        let (proxy, url) = Proxy::start(&s.api, &[fault]).await;
        let client = retrying_client(&s, url).await;
        let error = within("client.list", client.list(&ListOptions::default())).await.unwrap_err();
        let ItemsError::RateLimited { retry_after: got } = &error else { panic!("{fault:?}: {error:?}") };
        assert_eq!(*got, retry_after, "{fault:?}");
        assert_eq!(error.to_string(), format!("the items API is limiting requests; {said}"), "{fault:?}");
        assert_eq!(proxy.seen().len(), 1, "{fault:?}: not retried");
    }
}

#[tokio::test]
async fn a_429_on_a_change_is_reported_not_retried() {
    let s = stack().await;
    let (proxy, url) = Proxy::start(&s.api, &[]).await;
    let client = retrying_client(&s, url).await;
    let item = within("client.create", client.create(&lamp())).await.unwrap();
    proxy.script.lock().unwrap().push_back(Fault::Limit(Some("0")));
    let patch = ItemPatch { price: Some(1.0), ..ItemPatch::default() };
    let error = within("client.update", client.update(&item.id, &patch)).await.unwrap_err();
    assert!(matches!(error, ItemsError::RateLimited { retry_after: Some(wait) } if wait.is_zero()), "{error:?}");
    let methods: Vec<String> = proxy.seen().into_iter().map(|r| r.method).collect();
    assert_eq!(methods, ["POST", "PATCH"]);
}
