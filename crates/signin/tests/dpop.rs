//! DPoP in the sign-in core (RFC 9449) against dev-idp on port 0, whose
//! desktop client must use DPoP and whose token endpoint asks for nonces as
//! Okta does: a browser sign-in through a pushed request binds the tokens
//! to a new key kept with the refresh token; refreshes (also after a
//! restart) prove the same key; the refresh token alone, or with another
//! key, is refused; a bound access token is refused as a bearer token.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use dev_idp::config::{DEMO_ALICE_PASSWORD, DESKTOP_CLIENT_ID};
use dev_idp::{Config, DevIdp, ManualClock};
use oauth2::RefreshToken;
use openidconnect::IssuerUrl;
use signin::accounts::AccountBook;
use signin::flow::browser::HttpBrowser;
use signin::flow::config::SigninConfig;
use signin::flow::dpop::DpopKey;
use signin::flow::provider::{self, Provider};
use signin::store::{MemoryStore, TokenStore};
use signin::{AccountKey, Session, SignInMethod};
use url::Url;
use wait::within;

use testkit as wait;

/// dev-idp's access tokens live this long here.
const ACCESS_TOKEN_SECS: u64 = 120;

struct Env {
    idp: DevIdp,
    clock: Arc<ManualClock>,
    provider: Arc<Provider>,
    dir: tempfile::TempDir,
}

/// dev-idp whose clients must bind their tokens (and nonces required, the default).
async fn start() -> Env {
    start_with(|_| {}).await
}

async fn start_with(change: impl FnOnce(&mut Config)) -> Env {
    let mut config = Config { port: 0, ..Config::default() };
    config.lifetimes.access_token_secs = ACCESS_TOKEN_SECS;
    for client in &mut config.clients {
        client.dpop_bound_access_tokens = true;
    }
    change(&mut config);
    assert!(config.dpop.require_nonce, "the tests expect nonces asked for, as Okta does");
    let clock = Arc::new(ManualClock::starting_now());
    let idp = within("dev-idp starting", dev_idp::spawn_with_clock(config, clock.clone())).await.unwrap();
    let issuer = IssuerUrl::new(idp.issuer().to_owned()).unwrap();
    let http = provider::http_client().unwrap();
    let discovery = Provider::discover_uncached(&issuer, &http);
    let provider = Arc::new(within("discovery at dev-idp", discovery).await.unwrap().with_clock(clock.clone()));
    Env { idp, clock, provider, dir: tempfile::tempdir().unwrap() }
}

impl Env {
    fn session(&self, store: Arc<dyn TokenStore>, dpop: bool) -> Session {
        let mut config = SigninConfig::demo();
        config.issuer = IssuerUrl::new(self.idp.issuer().to_owned()).unwrap();
        config.timeout = Duration::from_secs(20);
        config.dpop = dpop;
        Session::new(config, store, AccountBook::load(self.dir.path().join("accounts.json")).unwrap())
            .with_clock(self.clock.clone())
            .with_provider(self.provider.clone())
    }

    async fn introspect(&self, token: &str) -> serde_json::Value {
        wait::http()
            .post(format!("{}/v1/introspect", self.idp.issuer()))
            .form(&[("client_id", DESKTOP_CLIENT_ID), ("token", token)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A refresh request made by someone else: the token `refresh_token`,
    /// with a proof from `key` (and the nonce it is asked for) or none.
    async fn stolen_refresh(&self, refresh_token: &str, key: Option<&DpopKey>) -> (u16, serde_json::Value) {
        let url = Url::parse(&format!("{}/v1/token", self.idp.issuer())).unwrap();
        let form =
            [("grant_type", "refresh_token"), ("client_id", DESKTOP_CLIENT_ID), ("refresh_token", refresh_token)];
        let mut nonce: Option<String> = None;
        loop {
            let mut request = wait::http().post(url.clone()).form(&form);
            if let Some(key) = key {
                let proof = key.proof("POST", &url, None, nonce.as_deref(), self.idp.provider().now_unix()).unwrap();
                request = request.header("DPoP", proof);
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let fresh = response.headers().get("dpop-nonce").map(|v| v.to_str().unwrap().to_owned());
            let body: serde_json::Value = response.json().await.unwrap();
            if body["error"] == "use_dpop_nonce" && nonce.is_none() {
                nonce = fresh;
                continue;
            }
            return (status, body);
        }
    }
}

fn browser() -> SignInMethod {
    SignInMethod::Browser {
        browser: Arc::new(HttpBrowser::new("alice", DEMO_ALICE_PASSWORD)),
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

/// The saved sign-in of `key`: the refresh token and its DPoP key.
fn stored(store: &dyn TokenStore, key: &AccountKey) -> (RefreshToken, Option<Arc<DpopKey>>) {
    let grant = store.load(key).unwrap().expect("a saved sign-in");
    (grant.refresh_token, grant.dpop)
}

#[tokio::test]
async fn a_dpop_sign_in_binds_the_tokens_to_a_key_kept_with_the_refresh_token() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let session = env.session(store.clone(), true);
    let alice = within("session.sign_in", session.sign_in(browser(), false))
        .await
        .expect("signs in, the nonce asked for and given")
        .account;

    // The request went through PAR: the browser saw only its handle.
    let sent = env.idp.provider().authorization_requests().pop().unwrap();
    assert!(sent.pushed);
    // The refresh token is stored with its key, in the one entry.
    let grant = store.load(&alice.key).unwrap().unwrap();
    assert!(grant.dpop.is_some(), "stored with its key");
    assert!(grant.id_token.is_some(), "and the ID token, for id_token_hint after a restart");
    let (refresh_token, key) = stored(store.as_ref(), &alice.key);
    let key = key.expect("a DPoP key is stored");
    // The code was bound to the same key (RFC 9449 §10).
    assert_eq!(sent.get("dpop_jkt"), Some(key.thumbprint()), "{sent:?}");
    assert!(!refresh_token.secret().contains(' '));
    // The access token is bound to that key.
    let access = within("session.access_token", session.access_token()).await.unwrap();
    let about = within("env.introspect", env.introspect(access.secret())).await;
    assert_eq!(about["active"], true, "{about}");
    assert_eq!(about["token_type"], "DPoP", "{about}");
    assert_eq!(about["cnf"]["jkt"], key.thumbprint(), "{about}");
    // Userinfo was asked with a proof (dev-idp refuses the bound token
    // otherwise): the identity is there.
    assert_eq!(alice.identity.email.as_deref(), Some("alice@example.com"));
    assert_eq!(env.idp.provider().userinfo_requests(), 1);
}

#[tokio::test]
async fn refreshes_prove_the_same_key_also_after_a_restart() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let session = env.session(store.clone(), true);
    let alice = within("session.sign_in", session.sign_in(browser(), false)).await.unwrap().account;
    let (first_token, key) = stored(store.as_ref(), &alice.key);
    let jkt = key.unwrap().thumbprint().to_owned();
    let before = within("session.access_token", session.access_token()).await.unwrap();

    env.clock.advance(Duration::from_secs(ACCESS_TOKEN_SECS - 30));
    let after = within("session.access_token", session.access_token()).await.expect("a refresh with a proof");
    assert_ne!(after.secret(), before.secret());
    assert_eq!(within("env.introspect", env.introspect(after.secret())).await["cnf"]["jkt"], jkt.as_str());
    // The rotated refresh token is stored with the same key.
    let (rotated, key) = stored(store.as_ref(), &alice.key);
    assert_ne!(rotated.secret(), first_token.secret());
    assert_eq!(key.unwrap().thumbprint(), jkt);

    // A restart: nothing in memory, the key comes from the store.
    drop(session);
    let restarted = env.session(store.clone(), true);
    env.clock.advance(Duration::from_secs(ACCESS_TOKEN_SECS));
    let again =
        within("restarted.access_token", restarted.access_token()).await.expect("the stored key proves the refresh");
    assert_eq!(within("env.introspect", env.introspect(again.secret())).await["cnf"]["jkt"], jkt.as_str());
    assert_eq!(env.idp.provider().refreshes(), 2);
}

#[tokio::test]
async fn a_refresh_token_without_its_key_is_of_no_use() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let session = env.session(store.clone(), true);
    let alice = within("session.sign_in", session.sign_in(browser(), false)).await.unwrap().account;
    let (refresh_token, _) = stored(store.as_ref(), &alice.key);

    // Copied out without the key: as a bearer refresh token, and with a
    // proof from the thief's own key.
    let (status, answer) = within("env.stolen_refresh", env.stolen_refresh(refresh_token.secret(), None)).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "invalid_dpop_proof", "{answer}");
    let thief = DpopKey::generate().unwrap();
    let (status, answer) = within("env.stolen_refresh", env.stolen_refresh(refresh_token.secret(), Some(&thief))).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "invalid_grant", "{answer}");
    assert_eq!(env.idp.provider().refreshes(), 0, "no tokens were issued to the thief");

    // The owner, with the key, still refreshes.
    env.clock.advance(Duration::from_secs(ACCESS_TOKEN_SECS));
    within("session.access_token", session.access_token()).await.expect("the owner's refresh works");
}

#[tokio::test]
async fn a_bound_access_token_is_refused_as_a_bearer_token_and_proofs_name_the_request() {
    let env = start().await;
    let session = env.session(Arc::new(MemoryStore::new()), true);
    within("session.sign_in", session.sign_in(browser(), false)).await.unwrap();
    let access = within("session.access_token", session.access_token()).await.unwrap();
    let userinfo = Url::parse(&format!("{}/v1/userinfo", env.idp.issuer())).unwrap();

    // Stolen and used as a bearer token: refused (RFC 9449 §7.2).
    let response = wait::http().get(userinfo.clone()).bearer_auth(access.secret()).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let challenge = response.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.starts_with("DPoP ") && challenge.contains("invalid_token"), "{challenge}");

    // The session's proofs for the items API: its key, the method, the URL
    // and the token's hash.
    let items = Url::parse("http://127.0.0.1:8081/v1/items?limit=5").unwrap();
    let bound = within("session.token", session.token()).await.unwrap();
    assert_eq!(bound.access_token.secret(), access.secret());
    let now = env.idp.provider().now_unix();
    let proof = bound.proof("GET", &items, None, now).unwrap().expect("a bound token gets a proof");
    let expected = ::dpop::Expected {
        method: "GET",
        url: &items,
        access_token: Some(access.secret()),
        nonce: None,
        now,
        max_age: 60,
        leeway: 60,
    };
    let verified = ::dpop::verify(&proof, &expected).expect("a valid proof");
    assert_eq!(within("env.introspect", env.introspect(access.secret())).await["cnf"]["jkt"], verified.jkt.as_str());
    let wrong = ::dpop::Expected { method: "DELETE", ..expected };
    assert!(::dpop::verify(&proof, &wrong).is_err());
    // The API's nonce, when it asks for one, goes into the proof.
    let with_nonce = bound.proof("GET", &items, Some("api-nonce"), now).unwrap().unwrap();
    let verified = ::dpop::verify(&with_nonce, &::dpop::Expected { nonce: Some("api-nonce"), ..expected }).unwrap();
    assert_eq!(verified.nonce.as_deref(), Some("api-nonce"));
    // A bearer token gets no proof.
    let bearer = signin::session::BoundToken { access_token: oauth2::AccessToken::new("other".into()), dpop: None };
    assert!(bearer.proof("GET", &items, None, now).unwrap().is_none());
}

#[tokio::test]
async fn without_dpop_configured_tokens_stay_bearer_tokens() {
    let mut config = Config { port: 0, ..Config::default() };
    config.lifetimes.access_token_secs = ACCESS_TOKEN_SECS;
    let idp = within("dev-idp starting", dev_idp::spawn(config)).await.unwrap();
    let issuer = IssuerUrl::new(idp.issuer().to_owned()).unwrap();
    let http = provider::http_client().unwrap();
    let discovery = Provider::discover_uncached(&issuer, &http);
    let provider = Arc::new(within("discovery at dev-idp", discovery).await.unwrap());
    assert!(provider.offers_dpop(), "dev-idp offers DPoP");
    let env = Env { idp, clock: Arc::new(ManualClock::starting_now()), provider, dir: tempfile::tempdir().unwrap() };
    let store = Arc::new(MemoryStore::new());
    let session = env.session(store.clone(), false);
    let alice = within("session.sign_in", session.sign_in(browser(), false)).await.unwrap().account;
    let grant = store.load(&alice.key).unwrap().unwrap();
    assert!(grant.dpop.is_none(), "no key is stored for a bearer token");
    let pushed = env.idp.provider().authorization_requests().into_iter().rfind(|r| r.pushed).unwrap();
    assert_eq!(pushed.get("dpop_jkt"), None, "no key, no dpop_jkt");
    let access = within("session.access_token", session.access_token()).await.unwrap();
    let about = within("env.introspect", env.introspect(access.secret())).await;
    assert_eq!(about["token_type"], "Bearer", "{about}");
    assert!(about.get("cnf").is_none(), "{about}");
}

#[tokio::test]
async fn a_nonce_that_went_stale_is_replaced_when_the_provider_asks() {
    // Nonces live 60 s here (the previous one is still taken): after 130 s
    // the session's nonce is two windows old and refused. (Two rounds: the
    // proofs' iat is this machine's clock, dev-idp's moves ahead of it and
    // takes proofs up to 300 s old.)
    let env = start_with(|config| config.dpop.nonce_lifetime_secs = 60).await;
    let store = Arc::new(MemoryStore::new());
    let session = env.session(store.clone(), true);
    let alice = within("session.sign_in", session.sign_in(browser(), false)).await.unwrap().account;
    let jkt = stored(store.as_ref(), &alice.key).1.unwrap().thumbprint().to_owned();
    for round in 1..=2 {
        env.clock.advance(Duration::from_secs(130));
        let token = within("session.access_token", session.access_token())
            .await
            .unwrap_or_else(|e| panic!("refresh {round}: {e}"));
        assert_eq!(within("env.introspect", env.introspect(token.secret())).await["cnf"]["jkt"], jkt.as_str());
    }
    assert_eq!(env.idp.provider().refreshes(), 2);
}
