//! One refresh across processes (issue 17, item 5), with several
//! [`Session`]s over one store standing in for the desktop app and
//! `tessera` processes: each has its own memory, and they share the store
//! entry and the account book's folder (so the refresh lock files), as
//! processes on one machine do. The lock is a file lock on an open file, so
//! two sessions in one process exclude each other as two processes do.
//! (The same with real processes: crates/cli/tests/refresh_across_processes.rs.)
//!
//! dev-idp runs on port 0 with a movable clock and a rotation grace period
//! of 0 (reuse of a rotated refresh token revokes its family at once); its
//! token endpoint is reached through a small proxy here that counts refresh
//! requests and can hold them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use dev_idp::config::DEMO_ALICE_PASSWORD;
use dev_idp::{Config, DevIdp, ManualClock};
use openidconnect::{IssuerUrl, TokenUrl};
use signin::accounts::{AccountBook, RefreshLock};
use signin::flow::browser::HttpBrowser;
use signin::flow::config::SigninConfig;
use signin::flow::provider::{self, Provider};
use signin::store::{MemoryStore, TokenStore};
use signin::{AccountKey, ErrorKind, Session, SessionError, SignInMethod};
use testkit::within;
use url::Url;

const ALICE: (&str, &str) = ("alice", DEMO_ALICE_PASSWORD);
/// dev-idp's access tokens live this long here: due for a refresh after 60 s.
const ACCESS_TOKEN_SECS: u64 = 120;
/// Moving the clock this far makes a fresh access token due.
const INTO_REFRESH_WINDOW: Duration = Duration::from_secs(70);

struct Env {
    idp: DevIdp,
    clock: Arc<ManualClock>,
    /// The provider, its token endpoint behind the proxy.
    provider: Arc<Provider>,
    proxy: Proxy,
    /// One machine's config folder: the account book and the lock files.
    dir: tempfile::TempDir,
}

/// The token endpoint's stand-in: counts refresh requests, and holds them
/// while `hold` is locked.
#[derive(Clone)]
struct Proxy {
    target: Url,
    refreshes: Arc<AtomicUsize>,
    hold: Arc<tokio::sync::Mutex<()>>,
    http: reqwest::Client,
}

async fn forward(State(proxy): State<Proxy>, headers: HeaderMap, body: Bytes) -> Response {
    if String::from_utf8_lossy(&body).contains("grant_type=refresh_token") {
        proxy.refreshes.fetch_add(1, Ordering::SeqCst);
        drop(proxy.hold.lock().await);
    }
    testkit::forward_post(&proxy.http, proxy.target.as_str(), &headers, body).await
}

async fn start() -> Env {
    let mut config = Config { port: 0, ..Config::default() };
    config.lifetimes.access_token_secs = ACCESS_TOKEN_SECS;
    config.refresh_token_rotation.grace_period_secs = 0;
    let clock = Arc::new(ManualClock::starting_now());
    let idp = within("dev-idp starting", dev_idp::spawn_with_clock(config, clock.clone())).await.unwrap();
    let http = provider::http_client().unwrap();
    let issuer = IssuerUrl::new(idp.issuer().to_owned()).unwrap();
    let discovered = within("discovery", Provider::discover_uncached(&issuer, &http)).await.unwrap();
    let target = discovered.metadata().token_endpoint().unwrap().url().clone();
    let proxy = Proxy { target, refreshes: Arc::default(), hold: Arc::default(), http: testkit::http() };
    let router = axum::Router::new().route("/token", axum::routing::post(forward)).with_state(proxy.clone());
    let addr = testkit::serve(router).await;
    let token_url = TokenUrl::new(format!("http://{addr}/token")).unwrap();
    let metadata = discovered.metadata().clone().set_token_endpoint(Some(token_url));
    let provider = Arc::new(Provider::from_metadata(metadata, http).with_clock(clock.clone()));
    Env { idp, clock, provider, proxy, dir: tempfile::tempdir().unwrap() }
}

impl Env {
    fn book_path(&self) -> PathBuf {
        self.dir.path().join("accounts.json")
    }

    fn config(&self) -> SigninConfig {
        let mut config = SigninConfig::demo();
        config.issuer = IssuerUrl::new(self.idp.issuer().to_owned()).unwrap();
        config.timeout = Duration::from_secs(20);
        config
    }

    /// A session as a new process on this machine makes it: nothing in
    /// memory, the book read from its file, `store` shared.
    fn process(&self, store: &Arc<MemoryStore>) -> Arc<Session> {
        Arc::new(
            Session::new(self.config(), store.clone(), AccountBook::load(self.book_path()).unwrap())
                .with_clock(self.clock.clone())
                .with_provider(self.provider.clone()),
        )
    }

    fn refreshes(&self) -> usize {
        self.proxy.refreshes.load(Ordering::SeqCst)
    }

    async fn active(&self, token: &str) -> bool {
        let introspect = testkit::http().post(format!("{}/v1/introspect", self.idp.issuer()));
        testkit::json_of(introspect.form(&[("client_id", "tessera-desktop"), ("token", token)])).await["active"] == true
    }

    async fn revoke(&self, token: &str) {
        let revoke = testkit::http().post(format!("{}/v1/revoke", self.idp.issuer()));
        let response = revoke.form(&[("client_id", "tessera-desktop"), ("token", token)]).send().await.unwrap();
        assert!(response.status().is_success());
    }
}

fn browser(user: (&str, &str)) -> SignInMethod {
    SignInMethod::Browser {
        browser: Arc::new(HttpBrowser::new(user.0, user.1)),
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

/// Alice signed in by one "process" over `store`; her account's key.
async fn alice_signed_in(env: &Env, store: &Arc<MemoryStore>) -> AccountKey {
    let first = env.process(store);
    within("sign_in", first.sign_in(browser(ALICE), false)).await.unwrap().account.key
}

fn stored_refresh_token(store: &MemoryStore, key: &AccountKey) -> Option<String> {
    store.load(key).unwrap().map(|grant| grant.refresh_token.secret().clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_processes_at_expiry_make_one_refresh_and_later_ones_use_its_token() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let alice = alice_signed_in(&env, &store).await;

    // Eight processes with nothing in memory, each with several callers, at once.
    let processes: Vec<Arc<Session>> = (0..8).map(|_| env.process(&store)).collect();
    let callers: Vec<_> = processes
        .iter()
        .flat_map(|process| (0..5).map(move |_| process.clone()))
        .map(|process| tokio::spawn(async move { within("access_token", process.access_token()).await }))
        .collect();
    let mut tokens = Vec::new();
    for caller in callers {
        tokens.push(within("a caller", caller).await.unwrap().unwrap().secret().clone());
    }
    assert_eq!(env.refreshes(), 1, "one refresh for eight processes");
    assert!(tokens.iter().all(|t| *t == tokens[0]), "everyone got the refreshed token");
    assert!(env.active(&tokens[0]).await);
    let grant = store.load(&alice).unwrap().unwrap();
    assert_eq!(grant.access.as_ref().map(|a| a.access_token.secret().as_str()), Some(tokens[0].as_str()));
    assert!(env.active(grant.refresh_token.secret()).await, "the family was never revoked");
    assert_eq!(env.idp.provider().reused_refresh_tokens(), 0);

    // A process started later uses the stored token while it is fresh.
    let later = env.process(&store);
    let whoami = within("whoami", later.whoami()).await.unwrap();
    assert_eq!(within("access_token", later.access_token()).await.unwrap().secret(), &tokens[0]);
    assert_eq!(env.refreshes(), 1);
    assert!(whoami.refreshed_at.is_some(), "a refreshed token, by another process");
    assert!(whoami.scopes.iter().any(|s| s == "items:read"), "{:?}", whoami.scopes);

    // At the next expiry, every process at once: one more refresh.
    env.clock.advance(INTO_REFRESH_WINDOW);
    let callers: Vec<_> = processes
        .iter()
        .chain([&later])
        .map(|process| {
            let process = process.clone();
            tokio::spawn(async move { within("access_token", process.access_token()).await })
        })
        .collect();
    let mut next = Vec::new();
    for caller in callers {
        next.push(within("a caller", caller).await.unwrap().unwrap().secret().clone());
    }
    assert_eq!(env.refreshes(), 2, "one refresh per expiry");
    assert!(next.iter().all(|t| *t == next[0] && *t != tokens[0]));
    assert_eq!(env.idp.provider().reused_refresh_tokens(), 0, "no refresh token was spent twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_token_the_api_refused_is_renewed_once_across_processes() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    alice_signed_in(&env, &store).await;
    let (desktop, cli) = (env.process(&store), env.process(&store));
    let first = within("desktop.access_token", desktop.access_token()).await.unwrap();
    assert_eq!(within("cli.access_token", cli.access_token()).await.unwrap().secret(), first.secret());
    assert_eq!(env.refreshes(), 1);

    // The API refused the token both hold: one renewal, which the other uses.
    let renewed = within("desktop.renew", desktop.renew(&first)).await.unwrap().access_token;
    assert_ne!(renewed.secret(), first.secret());
    assert_eq!(within("cli.renew", cli.renew(&first)).await.unwrap().access_token.secret(), renewed.secret());
    assert_eq!(env.refreshes(), 2);
    // Refused again: a renewal.
    let again = within("cli.renew", cli.renew(&renewed)).await.unwrap().access_token;
    assert_ne!(again.secret(), renewed.secret());
    assert_eq!(env.refreshes(), 3);
    assert_eq!(env.idp.provider().reused_refresh_tokens(), 0);
}

/// Item 5's rule: `invalid_grant` drops the entry only if it still holds
/// the refused token. Here the token is refused while another process
/// signs alice in again: the new sign-in is used, not deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_token_replaced_meanwhile_is_not_dropped_and_the_new_one_is_used() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let alice = alice_signed_in(&env, &store).await;
    let refused = stored_refresh_token(&store, &alice).unwrap();
    env.revoke(&refused).await;

    // This process's refresh is held at the token endpoint…
    let cli = env.process(&store);
    let hold = env.proxy.hold.clone().lock_owned().await;
    let refreshing = tokio::spawn({
        let cli = cli.clone();
        async move { within("cli.access_token", cli.access_token()).await }
    });
    within("the refresh reaching the provider", async {
        while env.refreshes() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    // …while another one signs alice in again (a sign-in writes without the
    // refresh lock), then the provider refuses the revoked token.
    let desktop = env.process(&store);
    within("desktop.sign_in", desktop.sign_in(browser(ALICE), false)).await.unwrap();
    let signed_in_again = stored_refresh_token(&store, &alice).unwrap();
    assert_ne!(signed_in_again, refused);
    drop(hold);

    let token = within("the held refresh", refreshing).await.unwrap().expect("the new sign-in is used");
    assert!(env.active(token.secret()).await);
    assert_eq!(env.refreshes(), 2, "the refused refresh, then one with the new sign-in");
    let kept = stored_refresh_token(&store, &alice).expect("the entry was not deleted");
    assert!(env.active(&kept).await, "the new sign-in's family is alive");
    assert!(!cli.active().unwrap().needs_sign_in, "not marked as needing a sign-in");
    assert!(!AccountBook::load(env.book_path()).unwrap().get(&alice).unwrap().needs_sign_in);
    assert_eq!(env.idp.provider().reused_refresh_tokens(), 0);
}

/// The other side of the rule: refused and not replaced, the entry is
/// dropped and the account needs a sign-in, in every process.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_token_still_stored_is_dropped_once_for_every_process() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let alice = alice_signed_in(&env, &store).await;
    env.revoke(&stored_refresh_token(&store, &alice).unwrap()).await;
    let processes: Vec<Arc<Session>> = (0..4).map(|_| env.process(&store)).collect();
    let callers: Vec<_> = processes
        .iter()
        .map(|process| {
            let process = process.clone();
            tokio::spawn(async move { within("access_token", process.access_token()).await })
        })
        .collect();
    for caller in callers {
        let error = within("a caller", caller).await.unwrap().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::SignInRequired, "{error:?}");
    }
    assert_eq!(env.refreshes(), 1, "the refused token was tried once, the others found it gone");
    assert_eq!(stored_refresh_token(&store, &alice), None);
    assert!(AccountBook::load(env.book_path()).unwrap().get(&alice).unwrap().needs_sign_in);
}

/// A process that cannot get the lock within a refresh's time limit fails
/// with a clear error instead of hanging, and the entry is left as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_too_long_is_a_clear_error_not_a_hang() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let alice = alice_signed_in(&env, &store).await;
    let before = stored_refresh_token(&store, &alice);

    // Another program holds alice's lock (as a stuck process would).
    let path = RefreshLock::path(&env.book_path(), &alice);
    let stuck = RefreshLock::acquire(&path, Duration::ZERO).unwrap();
    let mut config = env.config();
    config.http_timeout = Duration::from_millis(500);
    let process = Session::new(config, store.clone(), AccountBook::load(env.book_path()).unwrap())
        .with_clock(env.clock.clone())
        .with_provider(env.provider.clone());
    let started = Instant::now();
    let error = within("access_token", process.access_token()).await.unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(error, SessionError::RefreshBusy { .. }), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Busy);
    let message = error.to_string();
    assert!(message.contains("another Tessera program") && message.contains("alice@example.com"), "{message}");
    // Two requests' time (2 × 0.5 s) and the keyring's allowance (2 s).
    assert!(waited >= Duration::from_secs(3) && waited < Duration::from_secs(10), "{waited:?}");
    assert_eq!(env.refreshes(), 0);
    assert_eq!(stored_refresh_token(&store, &alice), before);
    assert!(!process.active().unwrap().needs_sign_in);

    // Let go: the same process refreshes.
    drop(stuck);
    within("access_token", process.access_token()).await.unwrap();
    assert_eq!(env.refreshes(), 1);
}
