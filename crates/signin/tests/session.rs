//! The session layer end to end: real sign-ins against dev-idp on port 0 with
//! the HTTP-driver browser, a movable clock for expiry, and a small counting
//! proxy in front of dev-idp's token endpoint to count refresh requests.
//!
//! The keyring test needs the private session of `scripts/keyring-session.sh`
//! (it prints "skipped" outside it unless `TESSERA_REQUIRE_KEYRING=1`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use dev_idp::config::{DEMO_ALICE_PASSWORD, DEMO_BOB_PASSWORD, DESKTOP_CLIENT_ID};
use dev_idp::misbehave::Misbehavior;
use dev_idp::testing::{Browser as Driver, Page};
use dev_idp::{Config, DevIdp, ManualClock};
use oauth2::{AccessToken, RefreshToken};
use openidconnect::{IssuerUrl, TokenUrl};
use signin::accounts::AccountBook;
use signin::flow::browser::HttpBrowser;
use signin::flow::config::SigninConfig;
use signin::flow::provider::{self, Provider};
use signin::session::{DeviceCodeInfo, KEEP_FRESH_MAX_WAIT, KEEP_FRESH_RETRY, REFRESH_MARGIN, retry_wait};
use signin::store::{KeyringBackend, KeyringStore, MemoryStore, StoredGrant, TokenStore};
use signin::{AccountKey, ErrorKind, Session, SessionError, SignInMethod};
use url::Url;
use wait::within;

use testkit as wait;

const ALICE: (&str, &str) = ("alice", DEMO_ALICE_PASSWORD);
const BOB: (&str, &str) = ("bob", DEMO_BOB_PASSWORD);
const ALICE_SUB: &str = "00u1alice0000000001";
/// dev-idp's access tokens live this long in these tests.
const ACCESS_TOKEN_SECS: u64 = 120;
/// Moving the clock this far makes an access token "expiring within 60 s".
const INTO_REFRESH_WINDOW: Duration = Duration::from_secs(70);
const SIGNED_OUT: &str = "http://127.0.0.1/signed-out";

// ---------------------------------------------------------------------------
// Set-up

struct Env {
    idp: DevIdp,
    clock: Arc<ManualClock>,
    provider: Arc<Provider>,
    /// Requests that reached the token endpoint through the proxy.
    token_requests: Arc<AtomicUsize>,
    dir: tempfile::TempDir,
}

async fn start() -> Env {
    start_with(|_| {}).await
}

async fn start_with(change: impl FnOnce(&mut Config)) -> Env {
    let mut config = Config { port: 0, ..Config::default() };
    config.lifetimes.access_token_secs = ACCESS_TOKEN_SECS;
    change(&mut config);
    let clock = Arc::new(ManualClock::starting_now());
    let idp =
        within("dev-idp starting", dev_idp::spawn_with_clock(config, clock.clone())).await.expect("dev-idp starts");
    let http = provider::http_client().unwrap();
    let discovered = within("discovery at dev-idp", Provider::discover_uncached(&issuer(&idp), &http)).await.unwrap();
    let target = discovered.metadata().token_endpoint().unwrap().url().clone();
    let token_requests = Arc::new(AtomicUsize::new(0));
    let proxy = spawn_counting_proxy(target, token_requests.clone()).await;
    let metadata = discovered.metadata().clone().set_token_endpoint(Some(TokenUrl::from_url(proxy)));
    let provider = Arc::new(Provider::from_metadata(metadata, http).with_clock(clock.clone()));
    Env { idp, clock, provider, token_requests, dir: tempfile::tempdir().unwrap() }
}

fn issuer(idp: &DevIdp) -> IssuerUrl {
    IssuerUrl::new(idp.issuer().to_owned()).unwrap()
}

#[derive(Clone)]
struct Proxy {
    target: Url,
    count: Arc<AtomicUsize>,
    http: reqwest::Client,
}

/// A token endpoint that counts each request and forwards it to dev-idp.
async fn spawn_counting_proxy(target: Url, count: Arc<AtomicUsize>) -> Url {
    async fn forward(State(proxy): State<Proxy>, headers: HeaderMap, body: Bytes) -> Response {
        proxy.count.fetch_add(1, Ordering::SeqCst);
        wait::forward_post(&proxy.http, proxy.target.as_str(), &headers, body).await
    }
    let state = Proxy { target, count, http: wait::http() };
    let router = axum::Router::new().route("/token", axum::routing::post(forward)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    Url::parse(&format!("http://{addr}/token")).unwrap()
}

impl Env {
    fn book_path(&self) -> std::path::PathBuf {
        self.dir.path().join("accounts.json")
    }

    fn config(&self) -> SigninConfig {
        let mut config = SigninConfig::demo();
        config.issuer = issuer(&self.idp);
        config.timeout = Duration::from_secs(20);
        config
    }

    /// A session as a new process would make it: the book read from its file.
    fn session(&self, store: Arc<dyn TokenStore>) -> Session {
        Session::new(self.config(), store, AccountBook::load(self.book_path()).unwrap())
            .with_clock(self.clock.clone())
            .with_provider(self.provider.clone())
            .with_post_logout_redirect(Url::parse(SIGNED_OUT).unwrap())
    }

    fn token_requests(&self) -> usize {
        self.token_requests.load(Ordering::SeqCst)
    }

    async fn post(&self, endpoint: &str, token: &str) -> serde_json::Value {
        let response = wait::http()
            .post(format!("{}/v1/{endpoint}", self.idp.issuer()))
            .form(&[("client_id", DESKTOP_CLIENT_ID), ("token", token)])
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{endpoint}: {}", response.status());
        if endpoint == "revoke" { serde_json::Value::Null } else { response.json().await.unwrap() }
    }

    /// Whether dev-idp still takes `token` (RFC 7662 introspection).
    async fn active(&self, token: &str) -> bool {
        within("self.post", self.post("introspect", token)).await["active"] == true
    }
}

fn browser(browser: &HttpBrowser) -> SignInMethod {
    SignInMethod::Browser {
        browser: Arc::new(browser.clone()),
        on_link: Arc::new(|link| {
            assert!(
                matches!(link.browser, signin::flow::redirect::Opening::Opened),
                "the test browser always opens; asked to print {}",
                link.url
            );
            signin::flow::redirect::Shown::No
        }),
    }
}

/// Runs the sign-in on a task of its own and waits until it has shown a URL
/// (through `shown`, which `method`'s callback fills).
async fn sign_in_until_shown(
    session: &Arc<Session>,
    method: SignInMethod,
    shown: &Mutex<Option<Url>>,
) -> (tokio::task::JoinHandle<Result<signin::SignedInAccount, SessionError>>, Url) {
    let signing_in = tokio::spawn({
        let session = session.clone();
        async move { within("session.sign_in", session.sign_in(method, false)).await }
    });
    within("the sign-in showing its URL", async {
        loop {
            if let Some(url) = shown.lock().unwrap().clone() {
                return (signing_in, url);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}

/// A session as a new process makes it over a new memory store, with alice
/// signed in through a test browser (kept: its cookies are her provider
/// session).
async fn alice_signed_in(env: &Env) -> (Arc<MemoryStore>, Session, HttpBrowser, signin::accounts::Account) {
    let store = Arc::new(MemoryStore::new());
    let session = env.session(store.clone());
    let alice_browser = HttpBrowser::new(ALICE.0, ALICE.1);
    let alice = within("session.sign_in", session.sign_in(browser(&alice_browser), false)).await.unwrap().account;
    (store, session, alice_browser, alice)
}

fn stored(store: &dyn TokenStore, key: &AccountKey) -> Option<String> {
    store.load(key).unwrap().map(|grant| grant.refresh_token.secret().clone())
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(n, _)| n == name).map(|(_, v)| v.into_owned())
}

// ---------------------------------------------------------------------------
// Signing in, accounts

#[tokio::test]
async fn signing_in_stores_only_the_refresh_token_and_makes_the_account_active() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let session = env.session(store.clone());
    assert!(session.active().is_none());

    let alice = within("session.sign_in", session.sign_in(browser(&HttpBrowser::new(ALICE.0, ALICE.1)), false))
        .await
        .unwrap()
        .account;
    assert_eq!(alice.key.subject, ALICE_SUB);
    assert_eq!(alice.key.issuer, env.idp.issuer());
    assert_eq!(alice.key.client_id, DESKTOP_CLIENT_ID);
    assert_eq!(session.active().unwrap().key, alice.key);
    assert_eq!(session.accounts().len(), 1);

    // The store holds one entry: the refresh token.
    assert_eq!(store.len(), 1);
    let refresh = stored(store.as_ref(), &alice.key).unwrap();
    let answer = within("env.post", env.post("introspect", &refresh)).await;
    assert_eq!(answer["token_type"], "refresh_token", "{answer}");

    // The fresh access token is used as it is: no token request.
    let before = env.token_requests();
    let access = within("session.access_token", session.access_token()).await.unwrap();
    assert_eq!(env.token_requests(), before);
    assert!(within("env.active", env.active(access.secret())).await);
    let whoami = within("session.whoami", session.whoami()).await.unwrap();
    assert_eq!(whoami.account.key, alice.key);
    assert!(whoami.scopes.iter().any(|s| s == "items:read"), "{:?}", whoami.scopes);

    // Nothing secret in the book.
    let book = std::fs::read_to_string(env.book_path()).unwrap();
    assert!(!book.contains(&refresh) && !book.contains(access.secret().as_str()));
    assert!(book.contains(ALICE_SUB));

    // The bound token is the same one, a bearer token here.
    let bound = within("session.token", session.token()).await.unwrap();
    assert_eq!(bound.access_token.secret(), access.secret());
    assert!(bound.dpop.is_none());
}

#[tokio::test]
async fn two_accounts_side_by_side_and_switching_sends_prompt_login_consent() {
    let env = start().await;
    let (store, session, alice_browser, alice) = alice_signed_in(&env).await;
    let alice_token = within("session.access_token", session.access_token()).await.unwrap();

    // The same browser (its provider session is alice's) adds bob.
    let bob_browser = alice_browser.signing_in_as(BOB.0, BOB.1);
    let added = within("session.sign_in", session.sign_in(browser(&bob_browser), true)).await.unwrap();
    assert!(!added.same_person_again, "bob is new here");
    let bob = added.account;
    let sent = env.idp.provider().authorization_requests().pop().unwrap();
    assert_eq!(sent.get("prompt"), Some("login consent"), "{sent:?}");
    assert!(within("bob_browser.delivered", bob_browser.delivered()).await.is_ok());
    assert_ne!(bob.key, alice.key, "never overwrite a different person");
    assert_eq!(session.accounts().len(), 2);
    assert_eq!(session.active().unwrap().key, bob.key);
    let bob_token = within("session.access_token", session.access_token()).await.unwrap();
    assert_ne!(bob_token.secret(), alice_token.secret());
    assert_eq!(within("session.whoami", session.whoami()).await.unwrap().account.key, bob.key);
    assert!(stored(store.as_ref(), &alice.key).is_some() && stored(store.as_ref(), &bob.key).is_some());

    // Switching back uses alice's tokens as they are.
    let before = env.token_requests();
    assert_eq!(session.use_account("alice").unwrap().key, alice.key);
    assert_eq!(within("session.access_token", session.access_token()).await.unwrap().secret(), alice_token.secret());
    assert_eq!(env.token_requests(), before);

    // Alice again: her account is updated, not added.
    let again_browser = bob_browser.signing_in_as(ALICE.0, ALICE.1);
    let again = within("session.sign_in", session.sign_in(browser(&again_browser), true)).await.unwrap();
    assert!(again.same_person_again, "asked to add someone, alice came back: said so");
    let again = again.account;
    assert_eq!(again.key, alice.key);
    assert_eq!(session.accounts().len(), 2);
    assert_eq!(session.active().unwrap().key, alice.key);

    // Unknown and ambiguous selectors.
    let error = session.use_account("carol").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NoSuchAccount, "{error}");
}

/// `act_for` uses another account's tokens in this session only: the
/// book's active account stays, and `None` goes back to it;
/// `token_details` answers the token with its expiry, scopes and type.
#[tokio::test]
async fn act_for_uses_another_account_without_changing_the_active_one() {
    let env = start().await;
    let (_store, session, alice_browser, alice) = alice_signed_in(&env).await;
    let alice_token = within("session.access_token", session.access_token()).await.unwrap();
    let bob_browser = alice_browser.signing_in_as(BOB.0, BOB.1);
    let bob = within("session.sign_in", session.sign_in(browser(&bob_browser), true)).await.unwrap().account;
    let bob_token = within("session.access_token", session.access_token()).await.unwrap();

    assert_eq!(session.act_for(Some("alice")).unwrap().unwrap().key, alice.key);
    let details = within("session.token_details", session.token_details()).await.unwrap();
    assert_eq!(details.token.access_token.secret(), alice_token.secret());
    assert_eq!(details.token.token_type(), "Bearer");
    assert!(details.scopes.iter().any(|s| s == "openid"), "{:?}", details.scopes);
    let left = details.expires_at.duration_since(std::time::SystemTime::now()).unwrap();
    assert!(left > std::time::Duration::from_secs(60), "{left:?}");
    assert_eq!(within("session.whoami", session.whoami()).await.unwrap().account.key, alice.key);
    assert_eq!(session.active().unwrap().key, bob.key, "the active account is unchanged");
    let book = signin::accounts::AccountBook::load(env.book_path()).unwrap();
    assert_eq!(book.active().unwrap().key, bob.key, "and so is the book on disk");

    assert_eq!(session.act_for(None).unwrap(), None);
    assert_eq!(within("session.access_token", session.access_token()).await.unwrap().secret(), bob_token.secret());
    let error = session.act_for(Some("carol")).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NoSuchAccount, "{error}");
    assert_eq!(within("session.whoami", session.whoami()).await.unwrap().account.key, bob.key);
}

#[tokio::test]
async fn keep_fresh_refreshes_ahead_of_expiry_and_announces_it() {
    let env = start().await;
    let session = env.session(Arc::new(MemoryStore::new()));
    assert_eq!(
        within("session.keep_fresh", session.keep_fresh()).await,
        KEEP_FRESH_MAX_WAIT,
        "nobody signed in: nothing to do"
    );
    let mut changes = session.subscribe();
    within("session.sign_in", session.sign_in(browser(&HttpBrowser::new(ALICE.0, ALICE.1)), false)).await.unwrap();
    assert!(changes.has_changed().unwrap(), "the sign-in is announced");
    changes.mark_unchanged();
    let requests = env.token_requests();

    // Fresh: no refresh; the next check is due when the refresh margin begins.
    let wait = within("session.keep_fresh", session.keep_fresh()).await;
    assert_eq!(env.token_requests(), requests);
    let due = Duration::from_secs(ACCESS_TOKEN_SECS) - REFRESH_MARGIN;
    assert!(wait <= due && wait + Duration::from_secs(5) >= due, "{wait:?}, due in {due:?}");
    assert!(!changes.has_changed().unwrap());
    assert_eq!(within("session.whoami", session.whoami()).await.unwrap().refreshed_at, None);

    // Due: one refresh, announced, and recorded for the session panel.
    env.clock.advance(wait + Duration::from_secs(1));
    let next = within("session.keep_fresh", session.keep_fresh()).await;
    assert_eq!(env.token_requests(), requests + 1);
    assert!(changes.has_changed().unwrap(), "the refresh is announced");
    assert!(within("session.whoami", session.whoami()).await.unwrap().refreshed_at.is_some());
    assert!(next > Duration::from_secs(5), "the new token is fresh: {next:?}");
    assert_eq!(env.token_requests(), requests + 1, "whoami used the refreshed token");
}

/// Whether `wait` is `base` plus at most a fifth (the random spread).
fn spread_from(wait: Duration, base: Duration) -> bool {
    wait >= base && wait <= base.mul_f64(1.2)
}

#[tokio::test]
async fn keep_fresh_backs_off_while_the_provider_is_unreachable_and_keeps_the_session() {
    let env = start().await;
    let (store, session, _, alice) = alice_signed_in(&env).await;
    let mut changes = session.subscribe();
    changes.mark_unchanged();
    let Env { idp, clock, dir: _dir, .. } = env;
    clock.advance(Duration::from_secs(ACCESS_TOKEN_SECS));
    within("idp.shutdown", idp.shutdown()).await;
    assert_eq!(session.offline(), None);

    // 5 s, then twice as long at each failure in a row, up to 5 minutes.
    let mut waits = Vec::new();
    for _ in 0..8 {
        waits.push(within("session.keep_fresh", session.keep_fresh()).await);
    }
    let bases = [5, 10, 20, 40, 80, 160, 300, 300].map(Duration::from_secs);
    for (wait, base) in waits.iter().zip(bases) {
        assert!(spread_from(*wait, base), "waited {wait:?} where {base:?} (+20%) was due: {waits:?}");
    }
    assert_eq!(retry_wait(1, 0.0), KEEP_FRESH_RETRY);
    assert!(waits[6] <= KEEP_FRESH_MAX_WAIT.mul_f64(1.2));

    // The offline state: since the first failure, how many, what went wrong.
    let offline = session.offline().expect("the session says it is offline");
    assert_eq!(offline.attempts, 8);
    assert!(offline.since <= offline.retry_at);
    assert!(offline.reason.contains("the token request failed"), "{}", offline.reason);
    assert!(changes.has_changed().unwrap(), "subscribers hear that the session is offline");

    assert!(stored(store.as_ref(), &alice.key).is_some(), "the refresh token is kept");
    assert!(!session.active().unwrap().needs_sign_in, "no new sign-in is asked for");
}

#[tokio::test]
async fn keep_fresh_is_online_again_as_soon_as_a_refresh_works() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let session = env.session(store.clone());
    within("session.sign_in", session.sign_in(browser(&HttpBrowser::new(ALICE.0, ALICE.1)), false)).await.unwrap();
    env.clock.advance(Duration::from_secs(ACCESS_TOKEN_SECS));
    // The provider fails: its answers are cut off halfway.
    env.idp.provider().misbehave(&[Misbehavior::TokenResponseCutOff]);
    let first = within("session.keep_fresh", session.keep_fresh()).await;
    let second = within("session.keep_fresh", session.keep_fresh()).await;
    assert!(spread_from(first, KEEP_FRESH_RETRY) && spread_from(second, KEEP_FRESH_RETRY * 2), "{first:?} {second:?}");
    let offline = session.offline().expect("offline while the provider fails");
    assert_eq!(offline.attempts, 2);

    let mut changes = session.subscribe();
    changes.mark_unchanged();
    env.idp.provider().misbehave(&[]);
    let next = within("session.keep_fresh", session.keep_fresh()).await;
    assert_eq!(session.offline(), None, "back online");
    assert!(changes.has_changed().unwrap(), "subscribers hear that the session is back");
    assert!(next > KEEP_FRESH_RETRY * 4, "the next check waits for the new token's expiry, not a retry: {next:?}");
    // A later failure starts the back-off from the beginning.
    env.clock.advance(Duration::from_secs(ACCESS_TOKEN_SECS));
    env.idp.provider().misbehave(&[Misbehavior::TokenResponseCutOff]);
    assert!(spread_from(within("session.keep_fresh", session.keep_fresh()).await, KEEP_FRESH_RETRY));
}

#[tokio::test]
async fn the_device_grant_signs_in_too() {
    let env = start_with(|c| c.device.poll_interval_secs = 0).await;
    let session = Arc::new(
        env.session(Arc::new(MemoryStore::new()))
            .with_device_sleep(Arc::new(|_| Box::pin(tokio::time::sleep(Duration::from_millis(20))))),
    );
    let shown: Arc<Mutex<Option<Url>>> = Arc::default();
    let method = SignInMethod::Device {
        on_code: Arc::new({
            let shown = shown.clone();
            move |info: &DeviceCodeInfo| {
                assert!(!info.user_code.is_empty());
                *shown.lock().unwrap() = info.verification_uri_complete.clone();
            }
        }),
        on_wait: Arc::new(|wait| panic!("no rate limit here, yet asked to wait {wait:?}")),
    };
    let (signing_in, url) = sign_in_until_shown(&session, method, &shown).await;
    let driver = Driver::new();
    let Page::Device(form) = within("driver.open", driver.open(url.as_str())).await.unwrap() else {
        panic!("expected the device page")
    };
    within("driver.submit", driver.submit(&form, &[("username", ALICE.0), ("password", ALICE.1)], "approve"))
        .await
        .unwrap();
    let account = within("the device sign-in after approval", signing_in).await.unwrap().unwrap().account;
    assert_eq!(account.key.subject, ALICE_SUB);
    assert!(within("session.access_token", session.access_token()).await.is_ok());
}

// ---------------------------------------------------------------------------
// Refresh

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_callers_during_expiry_cause_exactly_one_refresh() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let session = Arc::new(env.session(store.clone()));
    let alice = within("session.sign_in", session.sign_in(browser(&HttpBrowser::new(ALICE.0, ALICE.1)), false))
        .await
        .unwrap()
        .account;
    let first = within("session.access_token", session.access_token()).await.unwrap();
    let first_refresh = stored(store.as_ref(), &alice.key).unwrap();

    env.clock.advance(INTO_REFRESH_WINDOW);
    let before = env.token_requests();
    let callers: Vec<_> = (0..100)
        .map(|_| {
            let session = session.clone();
            tokio::spawn(async move { within("session.access_token", session.access_token()).await })
        })
        .collect();
    let mut tokens = Vec::new();
    for caller in callers {
        tokens.push(within("a concurrent access_token caller", caller).await.unwrap().unwrap());
    }
    assert_eq!(env.token_requests() - before, 1, "one refresh request for 100 callers");
    assert!(tokens.iter().all(|t| t.secret() == tokens[0].secret()), "everyone got the same new token");
    assert_ne!(tokens[0].secret(), first.secret());
    assert!(within("env.active", env.active(tokens[0].secret())).await);

    // The rotated refresh token replaced the old one.
    let rotated = stored(store.as_ref(), &alice.key).unwrap();
    assert_ne!(rotated, first_refresh);
    assert!(within("env.active", env.active(&rotated)).await);

    // The new token is fresh on the session's clock: no further refresh.
    assert_eq!(within("session.access_token", session.access_token()).await.unwrap().secret(), tokens[0].secret());
    assert_eq!(env.token_requests() - before, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn renew_refreshes_only_the_token_the_api_rejected() {
    let env = start().await;
    let session = Arc::new(env.session(Arc::new(MemoryStore::new())));
    within("session.sign_in", session.sign_in(browser(&HttpBrowser::new(ALICE.0, ALICE.1)), false)).await.unwrap();
    let t0 = within("session.access_token", session.access_token()).await.unwrap();
    let before = env.token_requests();

    let t1 = within("session.renew", session.renew(&t0)).await.unwrap().access_token;
    assert_ne!(t1.secret(), t0.secret());
    assert_eq!(env.token_requests() - before, 1);

    // A caller still holding t0 gets t1 without a refresh.
    assert_eq!(within("session.renew", session.renew(&t0)).await.unwrap().access_token.secret(), t1.secret());
    assert_eq!(env.token_requests() - before, 1);

    // Many callers rejected with t1 at once: one refresh.
    let callers: Vec<_> = (0..20)
        .map(|_| {
            let (session, t1) = (session.clone(), t1.clone());
            tokio::spawn(async move { within("session.renew", session.renew(&t1)).await })
        })
        .collect();
    let mut renewed = Vec::new();
    for caller in callers {
        renewed.push(within("a concurrent renew caller", caller).await.unwrap().unwrap().access_token);
    }
    assert_eq!(env.token_requests() - before, 2);
    assert!(renewed.iter().all(|t| t.secret() == renewed[0].secret() && t.secret() != t1.secret()));

    // The renewed one once more: a new refresh.
    let t3 = within("session.renew", session.renew(&renewed[0])).await.unwrap().access_token;
    assert_ne!(t3.secret(), renewed[0].secret());
    assert_eq!(env.token_requests() - before, 3);
}

#[tokio::test]
async fn a_revoked_refresh_token_asks_for_a_new_sign_in() {
    let env = start().await;
    let (store, session, alice_browser, alice) = alice_signed_in(&env).await;
    let refresh = stored(store.as_ref(), &alice.key).unwrap();
    within("env.post", env.post("revoke", &refresh)).await;

    env.clock.advance(INTO_REFRESH_WINDOW);
    let error = within("session.access_token", session.access_token()).await.unwrap_err();
    assert!(matches!(error, SessionError::SignInRequired { .. }), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::SignInRequired);
    let text = format!("{error} {error:?}");
    assert!(text.contains("sign in again"), "{text}");
    assert!(!text.contains(&refresh), "no token in errors");
    assert_eq!(stored(store.as_ref(), &alice.key), None, "the refused token is dropped");
    let account = session.active().unwrap();
    assert!(account.needs_sign_in);
    // The mark is saved.
    let reloaded = AccountBook::load(env.book_path()).unwrap();
    assert!(reloaded.get(&alice.key).unwrap().needs_sign_in);

    // A second call does not ask the provider again.
    let before = env.token_requests();
    assert_eq!(
        within("session.access_token", session.access_token()).await.unwrap_err().kind(),
        ErrorKind::SignInRequired
    );
    assert_eq!(env.token_requests(), before);

    // Signing in again (with a hint) clears it.
    let again_browser = alice_browser.signing_in_as(ALICE.0, ALICE.1);
    within("session.sign_in", session.sign_in(browser(&again_browser), true)).await.unwrap();
    assert!(within("again_browser.delivered", again_browser.delivered()).await.is_ok());
    let sent = env.idp.provider().authorization_requests().pop().unwrap();
    assert!(sent.get("login_hint").is_some(), "{sent:?}");
    assert!(!session.active().unwrap().needs_sign_in);
    assert!(within("session.access_token", session.access_token()).await.is_ok());
}

#[tokio::test]
async fn a_rotated_token_reused_after_the_grace_period_asks_for_a_new_sign_in() {
    let env = start().await;
    let (store, session, _, alice) = alice_signed_in(&env).await;
    let old = stored(store.as_ref(), &alice.key).unwrap();
    let t0 = within("session.access_token", session.access_token()).await.unwrap();
    within("session.renew", session.renew(&t0)).await.unwrap();
    assert_ne!(stored(store.as_ref(), &alice.key).unwrap(), old, "rotated");

    // Another (stale) process put the old token back; the grace period ends.
    store.save(&alice.key, &StoredGrant::bearer(RefreshToken::new(old))).unwrap();
    env.clock.advance(Duration::from_secs(31) + INTO_REFRESH_WINDOW);
    let error = within("session.access_token", session.access_token()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::SignInRequired, "{error:?}");
    assert_eq!(stored(store.as_ref(), &alice.key), None);
    assert!(session.active().unwrap().needs_sign_in);
}

#[tokio::test]
async fn a_new_process_uses_the_stored_refresh_token() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let alice = {
        let first = env.session(store.clone());
        within("first.sign_in", first.sign_in(browser(&HttpBrowser::new(ALICE.0, ALICE.1)), false))
            .await
            .unwrap()
            .account
    };
    let second = env.session(store.clone());
    assert_eq!(second.active().unwrap().key, alice.key);
    let before = env.token_requests();
    let token = within("second.access_token", second.access_token()).await.unwrap();
    assert_eq!(env.token_requests() - before, 1, "no token in memory: one refresh");
    assert!(within("env.active", env.active(token.secret())).await);
    assert_eq!(within("second.whoami", second.whoami()).await.unwrap().account.key.subject, ALICE_SUB);
}

#[tokio::test]
async fn without_an_account_the_errors_say_so() {
    let env = start().await;
    let session = env.session(Arc::new(MemoryStore::new()));
    assert_eq!(within("session.access_token", session.access_token()).await.unwrap_err().kind(), ErrorKind::NoAccount);
    assert_eq!(
        within("session.renew", session.renew(&AccessToken::new("x".into()))).await.unwrap_err().kind(),
        ErrorKind::NoAccount
    );
    assert_eq!(within("session.whoami", session.whoami()).await.unwrap_err().kind(), ErrorKind::NoAccount);
    assert_eq!(within("session.sign_out", session.sign_out(None)).await.unwrap_err().kind(), ErrorKind::NoAccount);
    assert_eq!(
        within("session.sign_out", session.sign_out(Some("alice"))).await.unwrap_err().kind(),
        ErrorKind::NoSuchAccount
    );
    assert!(within("session.sign_out_all", session.sign_out_all()).await.unwrap().is_empty());
}

// ---------------------------------------------------------------------------
// Sign-out

#[tokio::test]
async fn sign_out_revokes_forgets_and_answers_the_logout_url() {
    let env = start().await;
    let (store, session, alice_browser, alice) = alice_signed_in(&env).await;
    let refresh = stored(store.as_ref(), &alice.key).unwrap();
    let access = within("session.access_token", session.access_token()).await.unwrap();
    assert!(within("env.active", env.active(&refresh)).await);

    let url =
        within("session.sign_out", session.sign_out(None)).await.unwrap().expect("dev-idp has an end_session_endpoint");
    assert!(url.as_str().starts_with(&format!("{}/v1/logout", env.idp.issuer())), "{url}");
    assert!(query(&url, "id_token_hint").is_some());
    assert_eq!(query(&url, "post_logout_redirect_uri").as_deref(), Some(SIGNED_OUT));
    assert!(!within("env.active", env.active(&refresh)).await, "the refresh token is revoked");
    assert_eq!(stored(store.as_ref(), &alice.key), None);
    assert!(store.is_empty());
    assert!(session.accounts().is_empty() && session.active().is_none());
    assert!(AccountBook::load(env.book_path()).unwrap().list().is_empty());
    assert!(!url.as_str().contains(access.secret().as_str()));

    // The provider takes the logout URL (it redirects to the registered URI).
    let (status, _) = within("alice_browser.driver().get", alice_browser.driver().get(url.as_str())).await.unwrap();
    assert!(status.is_redirection() || status.is_success(), "{status}");
}

#[tokio::test]
async fn sign_out_all_revokes_every_account() {
    let env = start().await;
    let (store, session, alice_browser, alice) = alice_signed_in(&env).await;
    let bob = within("session.sign_in", session.sign_in(browser(&alice_browser.signing_in_as(BOB.0, BOB.1)), true))
        .await
        .unwrap()
        .account;
    let tokens = [stored(store.as_ref(), &alice.key).unwrap(), stored(store.as_ref(), &bob.key).unwrap()];

    // One account by name first, then everyone.
    within("session.sign_out", session.sign_out(Some("bob"))).await.unwrap();
    assert!(!within("env.active", env.active(&tokens[1])).await);
    assert_eq!(session.accounts().len(), 1);
    let bob = within("session.sign_in", session.sign_in(browser(&alice_browser.signing_in_as(BOB.0, BOB.1)), true))
        .await
        .unwrap()
        .account;
    let bob_token = stored(store.as_ref(), &bob.key).unwrap();

    within("session.sign_out_all", session.sign_out_all()).await.unwrap();
    assert!(!within("env.active", env.active(&tokens[0])).await);
    assert!(!within("env.active", env.active(&bob_token)).await);
    assert!(store.is_empty());
    assert!(session.accounts().is_empty());
}

#[tokio::test]
async fn sign_out_completes_locally_when_the_provider_is_unreachable() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let session = env.session(store.clone());
    within("session.sign_in", session.sign_in(browser(&HttpBrowser::new(ALICE.0, ALICE.1)), false)).await.unwrap();
    let Env { idp, clock: _clock, provider: _provider, token_requests: _requests, dir: _dir } = env;
    within("idp.shutdown", idp.shutdown()).await;
    let signed_out = within("session.sign_out_account", session.sign_out_account(None)).await.unwrap();
    let error = signed_out.revocation_error.expect("the revocation failed");
    assert_eq!(error.kind(), ErrorKind::Network, "{error:?}");
    assert!(store.is_empty());
    assert!(session.accounts().is_empty());
}

// ---------------------------------------------------------------------------
// Tokens go only to the issuer that issued them (issue 14, item 1)

impl Env {
    /// A session as a process configured for another provider (`issuer`,
    /// discovered on first use) would make it, over the same book.
    fn session_for(&self, issuer: &str, store: Arc<dyn TokenStore>) -> Session {
        let mut config = self.config();
        config.issuer = IssuerUrl::new(issuer.to_owned()).unwrap();
        config.http_timeout = Duration::from_secs(5);
        Session::new(config, store, AccountBook::load(self.book_path()).unwrap())
            .with_post_logout_redirect(Url::parse(SIGNED_OUT).unwrap())
    }
}

#[tokio::test]
async fn sign_out_revokes_at_the_accounts_own_issuer_not_the_configured_one() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let alice_browser = HttpBrowser::new(ALICE.0, ALICE.1);
    let alice = within("session.sign_in", env.session(store.clone()).sign_in(browser(&alice_browser), false))
        .await
        .unwrap()
        .account;
    let refresh = stored(store.as_ref(), &alice.key).unwrap();
    assert!(within("env.active", env.active(&refresh)).await);

    // The settings now name provider B.
    let (b, received) = testkit::spawn_recording_provider().await;
    let session = env.session_for(&b, store.clone());
    // Alice's tokens are not refreshed at B, nor used with B's settings.
    for error in [
        within("session.access_token", session.access_token()).await.unwrap_err(),
        within("session.whoami", session.whoami()).await.unwrap_err(),
        session.use_account("alice").unwrap_err(),
    ] {
        assert!(matches!(error, SessionError::OtherProvider { .. }), "{error:?}");
        assert_eq!(error.kind(), ErrorKind::Config);
        let said = error.to_string();
        assert!(said.contains(env.idp.issuer()) && said.contains(&b), "{said}");
    }
    assert_eq!(within("session.keep_fresh", session.keep_fresh()).await, KEEP_FRESH_MAX_WAIT);
    assert_eq!(session.offline(), None, "not an outage: nothing to retry");

    let signed_out = within("session.sign_out_all", session.sign_out_all()).await.unwrap();
    assert_eq!(signed_out.len(), 1);
    assert!(signed_out[0].revocation_error.is_none(), "{:?}", signed_out[0].revocation_error);
    assert!(!within("env.active", env.active(&refresh)).await, "the refresh token is revoked at its own issuer");
    let url = signed_out[0].logout_url.clone().expect("A's logout URL");
    assert!(url.as_str().starts_with(&format!("{}/v1/logout", env.idp.issuer())), "{url}");
    assert_eq!(query(&url, "client_id").as_deref(), Some(DESKTOP_CLIENT_ID));
    assert_eq!(query(&url, "post_logout_redirect_uri"), None, "registered for B's client, not at A");
    let received = received.lock().unwrap().clone();
    assert!(received.is_empty(), "provider B received {received:?}");
    assert!(store.is_empty() && session.accounts().is_empty());
}

#[tokio::test]
async fn sign_out_at_an_unreachable_own_issuer_forgets_locally_and_names_that_issuer() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let alice = within(
        "session.sign_in",
        env.session(store.clone()).sign_in(browser(&HttpBrowser::new(ALICE.0, ALICE.1)), false),
    )
    .await
    .unwrap()
    .account;
    let (b, received) = testkit::spawn_recording_provider().await;
    let a = env.idp.issuer().to_owned();
    let session = env.session_for(&b, store.clone());
    let Env { idp, clock: _clock, provider: _provider, token_requests: _requests, dir } = env;
    within("idp.shutdown", idp.shutdown()).await;

    let signed_out = within("session.sign_out_account", session.sign_out_account(Some("alice"))).await.unwrap();
    assert_eq!(signed_out.account.key, alice.key);
    let error = signed_out.revocation_error.expect("the revocation failed");
    assert!(matches!(&error, SessionError::NotRevoked { issuer, .. } if *issuer == a), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Network, "{error:?}");
    assert!(error.to_string().contains(&format!("could not be revoked at {a}")), "{error}");
    assert!(signed_out.logout_url.is_none());
    assert!(store.is_empty() && session.accounts().is_empty(), "forgotten here");
    assert!(AccountBook::load(dir.path().join("accounts.json")).unwrap().list().is_empty());
    let received = received.lock().unwrap().clone();
    assert!(received.is_empty(), "provider B received {received:?}");
}

// ---------------------------------------------------------------------------
// A provider that fails (HTTP 5xx) is named as such (issue 23, item 3)

/// The endpoint of the provider that fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failing {
    Token,
    Par,
    Device,
    Revocation,
    Userinfo,
}

/// An endpoint that fails: every request gets `status` with `content_type`
/// and `body`; answers how many requests reached it.
async fn spawn_failing_endpoint(
    status: u16,
    content_type: &'static str,
    body: &'static str,
) -> (Url, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let router = axum::Router::new().fallback({
        let count = count.clone();
        move || {
            count.fetch_add(1, Ordering::SeqCst);
            async move { (StatusCode::from_u16(status).unwrap(), [(header::CONTENT_TYPE, content_type)], body) }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    (Url::parse(&format!("http://{addr}/failing")).unwrap(), count)
}

/// `env`'s provider with `endpoint` moved to `failing`.
fn provider_failing_at(env: &Env, endpoint: Failing, failing: &Url) -> Arc<Provider> {
    let mut metadata = env.provider.metadata().clone();
    match endpoint {
        Failing::Token => metadata = metadata.set_token_endpoint(Some(TokenUrl::from_url(failing.clone()))),
        Failing::Userinfo => {
            metadata = metadata.set_userinfo_endpoint(Some(openidconnect::UserInfoUrl::from_url(failing.clone())));
        }
        Failing::Par => {
            metadata.additional_metadata_mut().pushed_authorization_request_endpoint = Some(failing.clone())
        }
        Failing::Device => {
            metadata.additional_metadata_mut().device_authorization_endpoint =
                Some(openidconnect::DeviceAuthorizationUrl::from_url(failing.clone()));
        }
        Failing::Revocation => metadata.additional_metadata_mut().revocation_endpoint = Some(failing.clone()),
    }
    Arc::new(Provider::from_metadata(metadata, provider::http_client().unwrap()).with_clock(env.clock.clone()))
}

/// What the person reads when `endpoint` answers `status` with `body`.
async fn told_when_failing(endpoint: Failing, status: u16, content_type: &'static str, body: &'static str) -> String {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let alice_browser = HttpBrowser::new(ALICE.0, ALICE.1);
    if matches!(endpoint, Failing::Revocation | Failing::Token) {
        // Signed in while the provider works; then it fails.
        within("session.sign_in", env.session(store.clone()).sign_in(browser(&alice_browser), false)).await.unwrap();
    }
    let (failing, count) = spawn_failing_endpoint(status, content_type, body).await;
    let session = Session::new(env.config(), store.clone(), AccountBook::load(env.book_path()).unwrap())
        .with_provider(provider_failing_at(&env, endpoint, &failing));
    let error = match endpoint {
        Failing::Revocation => {
            let signed_out = within("session.sign_out_account", session.sign_out_account(None)).await.unwrap();
            assert!(store.is_empty() && session.accounts().is_empty(), "forgotten here all the same");
            signed_out.revocation_error.expect("the revocation failed")
        }
        Failing::Token => {
            let error = within("session.access_token", session.access_token()).await.unwrap_err();
            assert_eq!(store.len(), 1, "a failing provider is no reason to drop the sign-in");
            assert!(!session.accounts()[0].needs_sign_in);
            error
        }
        Failing::Device => {
            let method = SignInMethod::Device {
                on_code: Arc::new(|_: &DeviceCodeInfo| panic!("no code to show")),
                on_wait: Arc::new(|_| panic!("no rate limit here")),
            };
            within("session.sign_in", session.sign_in(method, false)).await.unwrap_err()
        }
        Failing::Par | Failing::Userinfo => {
            within("session.sign_in", session.sign_in(browser(&alice_browser), false)).await.unwrap_err()
        }
    };
    if endpoint != Failing::Revocation && endpoint != Failing::Token {
        assert!(store.is_empty() && session.accounts().is_empty(), "{endpoint:?}: something was kept");
    }
    assert!(count.load(Ordering::SeqCst) >= 1, "{endpoint:?}: the failing endpoint was not asked");
    assert_eq!(error.kind(), ErrorKind::Network, "{endpoint:?}: {error:?}");
    signin::error_chain(&error)
}

#[tokio::test]
async fn a_failing_provider_is_named_at_every_endpoint() {
    let json = r#"{"error":"server_error","error_description":"the database is down"}"#;
    let said = "the provider failed (HTTP 500) — try again later (server_error: the database is down)";
    for endpoint in [Failing::Token, Failing::Par, Failing::Device, Failing::Revocation, Failing::Userinfo] {
        let told = told_when_failing(endpoint, 500, "application/json", json).await;
        assert!(told.contains(said), "{endpoint:?}: the person is told “{told}”");
        assert!(!told.contains("malformed"), "{endpoint:?}: {told}");
    }
}

#[tokio::test]
async fn a_failing_provider_is_named_with_its_status_and_its_own_words_only() {
    // Another status, the provider's words as plain text.
    let told = told_when_failing(Failing::Token, 503, "text/plain", "maintenance until 10:00\n").await;
    assert!(told.contains("the provider failed (HTTP 503) — try again later (maintenance until 10:00)"), "{told}");
    // An HTML error page is not shown; JSON without `error` is still a failure.
    for (content_type, body) in
        [("text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>"), ("application/json", "{}")]
    {
        for endpoint in [Failing::Token, Failing::Userinfo] {
            let told = told_when_failing(endpoint, 502, content_type, body).await;
            assert!(told.contains("the provider failed (HTTP 502) — try again later"), "{endpoint:?}: {told}");
            assert!(!told.contains("html") && !told.contains("malformed"), "{endpoint:?}: {told}");
        }
    }
}

// ---------------------------------------------------------------------------
// The real keyring

fn keyring_session(test: &str) -> bool {
    if std::env::var("TESSERA_KEYRING_SESSION").as_deref() == Ok("1") {
        return true;
    }
    assert!(
        std::env::var("TESSERA_REQUIRE_KEYRING").as_deref() != Ok("1"),
        "{test}: TESSERA_REQUIRE_KEYRING=1 but not inside scripts/keyring-session.sh"
    );
    eprintln!("skipped: {test} needs a real keyring; run under scripts/keyring-session.sh");
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keyring_keeps_the_refresh_token_across_processes() {
    if !keyring_session("the_keyring_keeps_the_refresh_token_across_processes") {
        return;
    }
    let service = format!("com.example.tessera.test.session.{}", std::process::id());
    let keyring: Arc<dyn TokenStore> = Arc::new(
        within(
            "opening the keyring",
            tokio::task::spawn_blocking(move || {
                KeyringStore::open_with_service(KeyringBackend::SecretService, &service)
            }),
        )
        .await
        .unwrap()
        .unwrap(),
    );
    let load = |key: AccountKey| {
        let keyring = keyring.clone();
        async move {
            within("a keyring read", tokio::task::spawn_blocking(move || stored(keyring.as_ref(), &key))).await.unwrap()
        }
    };
    let env = start().await;
    let alice = {
        let first = env.session(keyring.clone());
        within("first.sign_in", first.sign_in(browser(&HttpBrowser::new(ALICE.0, ALICE.1)), false))
            .await
            .unwrap()
            .account
    };
    let refresh = load(alice.key.clone()).await.expect("stored in the keyring");

    // A new process refreshes with it; the rotated token replaces it.
    let second = env.session(keyring.clone());
    within("second.access_token", second.access_token()).await.unwrap();
    let rotated = load(alice.key.clone()).await.unwrap();
    assert_ne!(rotated, refresh);

    within("second.sign_out", second.sign_out(None)).await.unwrap();
    assert_eq!(load(alice.key.clone()).await, None);
    assert!(!within("env.active", env.active(&rotated)).await);
}

// ---------------------------------------------------------------------------
// No browser, cancellation

/// A machine without a browser.
struct NoBrowser;

impl signin::flow::browser::Browser for NoBrowser {
    fn open(&self, _: &Url) -> Result<(), signin::flow::browser::BrowserError> {
        Err(signin::flow::browser::BrowserError::NotFound)
    }
}

#[tokio::test]
async fn without_a_browser_the_url_is_shown_and_the_sign_in_can_be_cancelled() {
    let env = start().await;
    let session = Arc::new(env.session(Arc::new(MemoryStore::new())));
    let shown: Arc<Mutex<Option<Url>>> = Arc::default();
    let method = SignInMethod::Browser {
        browser: Arc::new(NoBrowser),
        on_link: Arc::new({
            let shown = shown.clone();
            move |link: signin::flow::redirect::Link<'_>| {
                *shown.lock().unwrap() = Some(link.url.clone());
                signin::flow::redirect::Shown::Yes
            }
        }),
    };
    let (signing_in, url) = sign_in_until_shown(&session, method, &shown).await;
    // The URL to open by hand is short: the request itself was pushed.
    assert!(query(&url, "request_uri").is_some() && query(&url, "client_id").is_some(), "{url}");
    let sent = env.idp.provider().authorization_requests().pop().unwrap();
    assert_eq!(sent.get("code_challenge_method"), Some("S256"));
    assert_eq!(sent.get("prompt"), None, "a first sign-in sends no prompt");
    assert!(sent.get("redirect_uri").unwrap().starts_with("http://127.0.0.1:"), "{sent:?}");
    session.cancel_sign_in();
    let error = tokio::time::timeout(Duration::from_secs(5), signing_in)
        .await
        .expect("the cancelled sign-in did not end within 5 s")
        .unwrap()
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Cancelled, "{error:?}");
    assert!(session.accounts().is_empty());
}

/// One sign-in at a time, in the session (not in each shell): a second one
/// is refused as busy while the first waits; right after a cancel, a new
/// one waits for the cancelled one to end and goes ahead.
#[tokio::test]
async fn one_sign_in_at_a_time_and_try_again_right_after_cancel() {
    let env = start().await;
    let session = Arc::new(env.session(Arc::new(MemoryStore::new())));
    let shown: Arc<Mutex<Option<Url>>> = Arc::default();
    let no_browser = || SignInMethod::Browser {
        browser: Arc::new(NoBrowser),
        on_link: Arc::new({
            let shown = shown.clone();
            move |link: signin::flow::redirect::Link<'_>| {
                *shown.lock().unwrap() = Some(link.url.clone());
                signin::flow::redirect::Shown::Yes
            }
        }),
    };
    let (first, _) = sign_in_until_shown(&session, no_browser(), &shown).await;
    assert!(session.is_signing_in());
    let busy = within("a second sign-in", session.sign_in(browser(&HttpBrowser::new(ALICE.0, ALICE.1)), false))
        .await
        .unwrap_err();
    assert!(matches!(busy, SessionError::SignInInProgress), "{busy:?}");
    assert_eq!(busy.kind(), ErrorKind::Busy);
    assert!(session.accounts().is_empty(), "the refused sign-in did nothing");

    // "Cancel", then "Try again" at once: the new one waits for the first to end.
    session.cancel_sign_in();
    let alice =
        within("a sign-in right after a cancel", session.sign_in(browser(&HttpBrowser::new(ALICE.0, ALICE.1)), false))
            .await
            .unwrap()
            .account;
    assert_eq!(alice.identity.preferred_username.as_deref(), Some("alice@example.com"));
    let first = within("the cancelled sign-in", first).await.unwrap().unwrap_err();
    assert_eq!(first.kind(), ErrorKind::Cancelled, "{first:?}");
    assert!(!session.is_signing_in());
}

/// The ID token is saved with the grant, so a sign-out after a restart (no
/// tokens in memory) still sends `id_token_hint`, which Okta's logout needs.
#[tokio::test]
async fn sign_out_after_a_restart_still_sends_id_token_hint() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let first = env.session(store.clone());
    let alice_browser = HttpBrowser::new(ALICE.0, ALICE.1);
    let alice = within("session.sign_in", first.sign_in(browser(&alice_browser), false)).await.unwrap().account;
    drop(first);

    let restarted = env.session(store.clone());
    let url = within("session.sign_out", restarted.sign_out(None))
        .await
        .unwrap()
        .expect("dev-idp has an end_session_endpoint");
    let hint = query(&url, "id_token_hint").expect("the saved ID token is sent");
    let claims: serde_json::Value = {
        use base64::Engine as _;
        let payload = hint.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    };
    assert_eq!(claims["sub"].as_str(), Some(alice.key.subject.as_str()));
    assert!(store.is_empty(), "the grant, ID token included, is gone");
    let (status, _) = within("the logout URL", alice_browser.driver().get(url.as_str())).await.unwrap();
    assert!(status.is_redirection() || status.is_success(), "{status}");
}

/// With `prompt=consent` (no `login`), an Okta-like provider keeps the
/// person of its browser session: asked to add bob, the sign-in brings alice
/// back, and the session says so rather than "signed in as alice" alone.
#[tokio::test]
async fn switching_with_prompt_consent_brings_back_the_same_person_and_says_so() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let mut config = env.config();
    config.prompt = Some("consent".to_owned());
    let session = Session::new(config, store, AccountBook::load(env.book_path()).unwrap())
        .with_clock(env.clock.clone())
        .with_provider(env.provider.clone());
    let alice_browser = HttpBrowser::new(ALICE.0, ALICE.1);
    within("session.sign_in", session.sign_in(browser(&alice_browser), false)).await.unwrap();
    let meant_for_bob = alice_browser.signing_in_as(BOB.0, BOB.1);
    let switched = within("session.sign_in", session.sign_in(browser(&meant_for_bob), true)).await.unwrap();
    let sent = env.idp.provider().authorization_requests().pop().unwrap();
    assert_eq!(sent.get("prompt"), Some("consent"), "{sent:?}");
    assert_eq!(switched.account.key.subject, ALICE_SUB, "the provider kept its session's person");
    assert!(switched.same_person_again);
    assert_eq!(session.accounts().len(), 1);
}

#[tokio::test]
async fn a_rate_limited_refresh_says_when_is_not_sent_again_before_the_reset_and_then_succeeds() {
    let env = start_with(|c| {
        c.rate_limits.enabled = true;
        c.rate_limits.endpoints.insert("token".to_owned(), 1);
    })
    .await;
    let (_store, session, _, _alice) = alice_signed_in(&env).await;
    // The access token is due for a refresh, in a window that someone else
    // has already used up.
    env.clock.advance(INTO_REFRESH_WINDOW);
    let now = env.idp.provider().now_unix();
    if 60 - now % 60 < 5 {
        // Not in a window's last seconds: the steps below take two.
        env.clock.advance(Duration::from_secs(5));
    }
    let token_url = format!("{}/v1/token", env.idp.issuer());
    let spent = wait::http().post(&token_url).form(&[("grant_type", "none")]).send().await.unwrap();
    assert!(spent.status().is_client_error(), "counted, and refused");
    let now = env.idp.provider().now_unix();
    let reset_in = Duration::from_secs(60 - now % 60);
    let requests = env.token_requests();

    let error = within("session.token", session.token()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RateLimited, "{error:?}");
    let said = format!("the provider is limiting requests; try again in {} s", reset_in.as_secs());
    assert_eq!(error.to_string(), said);
    assert_eq!(env.token_requests(), requests + 1, "one refresh was sent");

    // Before the reset, no refresh is sent: the same error, with the time left.
    env.clock.advance(Duration::from_secs(1));
    let error = within("session.token", session.token()).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::RateLimited);
    let left = reset_in - Duration::from_secs(1);
    assert!(error.to_string().ends_with(&format!("in {} s", left.as_secs())), "{error}");
    assert_eq!(env.token_requests(), requests + 1, "not sent again before the reset");
    // keep_fresh waits until then (and up to a second more), and says why.
    let wait = within("session.keep_fresh", session.keep_fresh()).await;
    assert!(wait >= left && wait <= left + Duration::from_secs(1), "{wait:?}, reset in {left:?}");
    let offline = session.offline().expect("the session says the refresh failed");
    assert!(offline.reason.contains("limiting requests"), "{}", offline.reason);
    assert_eq!(env.token_requests(), requests + 1);
    assert!(!session.accounts()[0].needs_sign_in, "a rate limit is no reason to sign in again");

    // After the reset: refreshed.
    env.clock.advance(wait);
    within("session.token", session.token()).await.expect("refreshed after the reset");
    assert_eq!(env.token_requests(), requests + 2);
    within("session.keep_fresh", session.keep_fresh()).await;
    assert!(session.offline().is_none(), "back to normal");
}
