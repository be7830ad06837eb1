//! DPoP and PAR end to end (issue 8), across the crates as the apps use them:
//! the demo stack (dev-idp and the items API on loopback), a session signed
//! in through a pushed request with `dpop` on, and the items client calling
//! the API with proofs. A stolen access token and a stolen refresh token are
//! each of no use without the key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use app::SessionTokens;
use demo::DemoStack;
use items_client::{ItemsClient, ItemsError, ListOptions, NewItem};
use signin::accounts::AccountBook;
use signin::flow::browser::HttpBrowser;
use signin::flow::config::SigninConfig;
use signin::flow::dpop;
use signin::store::{MemoryStore, TokenStore};
use signin::{Session, SignInMethod};
use wait::within;

use testkit as wait;

async fn signed_in(stack: &DemoStack, store: Arc<MemoryStore>, dir: &tempfile::TempDir) -> Arc<Session> {
    let mut config = SigninConfig::demo();
    stack.configure(&mut config).unwrap();
    config.dpop = true;
    config.timeout = Duration::from_secs(20);
    let session = Arc::new(Session::new(config, store, AccountBook::load(dir.path().join("accounts.json")).unwrap()));
    let browser = SignInMethod::Browser {
        browser: Arc::new(HttpBrowser::new("alice", dev_idp::config::DEMO_ALICE_PASSWORD)),
        on_link: Arc::new(|link| {
            assert!(
                matches!(link.browser, signin::flow::redirect::Opening::Opened),
                "the test browser always opens; asked to print {}",
                link.url
            );
            signin::flow::redirect::Shown::No
        }),
    };
    within("session.sign_in", session.sign_in(browser, false)).await.unwrap();
    session
}

/// `GET url` with `token` under the DPoP scheme and `proof`.
async fn dpop_get(url: &url::Url, token: &str, proof: String) -> reqwest::Response {
    wait::http()
        .get(url.clone())
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_dpop_session_uses_the_items_api_and_its_tokens_are_useless_elsewhere() {
    let stack = within("the demo stack starting", DemoStack::start()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let session = within("alice signing in", signed_in(&stack, store.clone(), &dir)).await;

    // The demo API asks for a nonce of its own in each proof (RFC 9449 §9):
    // a proof without one is refused, and the nonce handed out.
    let access = within("session.access_token", session.access_token()).await.unwrap();
    let url = stack.items_api().join("/v1/items").unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let bound = within("session.token", session.token()).await.unwrap();
    let proof = bound.proof("GET", &url, None, now).unwrap().expect("a bound token");
    let asked = within("a DPoP GET", dpop_get(&url, access.secret(), proof)).await;
    assert_eq!(asked.status(), 401);
    assert!(asked.headers()["www-authenticate"].to_str().unwrap().contains("use_dpop_nonce"));
    let api_nonce = asked.headers()["dpop-nonce"].to_str().unwrap().to_owned();

    // The items API takes the session's calls, each with a fresh proof
    // (the client gives the API's nonce when asked, then keeps it).
    let items = ItemsClient::new(stack.items_api().clone(), SessionTokens(session.clone())).unwrap();
    let seeded = within("items.list", items.list(&ListOptions::default())).await.expect("a DPoP-bound read");
    assert!(!seeded.items.is_empty(), "alice's demo items");
    let lamp = NewItem { name: "Lamp".into(), description: String::new(), price: 12.0, tags: vec![] };
    let created = within("items.create", items.create(&lamp)).await.expect("a DPoP-bound write");
    assert_eq!(within("items.get", items.get(&created.id)).await.unwrap(), created);
    assert_eq!(
        within("session.whoami", session.whoami()).await.unwrap().refreshed_at,
        None,
        "the API's nonce cost no token refresh"
    );
    // Several first calls at once, each asked for the nonce: each gives it.
    let fresh = ItemsClient::new(stack.items_api().clone(), SessionTokens(session.clone())).unwrap();
    let options = ListOptions::default();
    let at_once = within("four first calls at once", async {
        tokio::join!(fresh.list(&options), fresh.list(&options), fresh.list(&options), fresh.get(&created.id))
    })
    .await;
    assert!(at_once.0.is_ok() && at_once.1.is_ok() && at_once.2.is_ok() && at_once.3.is_ok(), "{at_once:?}");
    assert_eq!(within("session.whoami", session.whoami()).await.unwrap().refreshed_at, None, "still no token refresh");

    // The access token, stolen, is refused as a bearer token and with
    // another key's proof (with the API's nonce).
    let http = wait::http();
    let answer = http.get(url.clone()).bearer_auth(access.secret()).send().await.unwrap();
    assert_eq!(answer.status(), 401);
    let challenge = answer.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.starts_with("DPoP ") && challenge.contains("invalid_token"), "{challenge}");
    let thief = dpop::DpopKey::generate().unwrap();
    let theirs = thief.proof("GET", &url, Some(access.secret()), Some(&api_nonce), now).unwrap();
    let answer = within("a DPoP GET with another key", dpop_get(&url, access.secret(), theirs)).await;
    assert_eq!(answer.status(), 401);
    let challenge = answer.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.contains("error=\"invalid_token\""), "another key, not a missing nonce: {challenge}");

    // The refresh token, stolen without its key, gets nothing.
    let key = session.active().unwrap().key;
    let grant = store.load(&key).unwrap().unwrap();
    let refresh_token = grant.refresh_token;
    assert!(grant.dpop.is_some(), "the key is kept with the token");
    let answer = http
        .post(format!("{}/v1/token", stack.issuer()))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", signin::flow::config::DEMO_CLIENT_ID),
            ("refresh_token", refresh_token.secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 400);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"], "invalid_dpop_proof", "{body}");

    // The owner goes on.
    assert!(matches!(
        within("items.get", items.get("0192f000-0000-7000-8000-000000000000")).await,
        Err(ItemsError::NotFound)
    ));
    assert_eq!(within("items.list", items.list(&ListOptions::default())).await.unwrap().items.first(), Some(&created));

    // Proofs' iat comes from the client's clock: ten minutes behind, the API
    // refuses them, renewal or not.
    let behind = Arc::new(dev_idp::ManualClock::starting_at(std::time::SystemTime::now() - Duration::from_secs(600)));
    let stale = ItemsClient::new(stack.items_api().clone(), SessionTokens(session.clone())).unwrap().with_clock(behind);
    let refused = within("a call with old proofs", stale.list(&ListOptions::default())).await.unwrap_err();
    assert!(matches!(refused, ItemsError::Unauthorized { .. }), "{refused:?}");
}
