//! The items client against the real items API and dev-idp on port 0.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dev_idp::config::{ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET};
use items_api::auth::{Mode, TokenValidator, ValidatorConfig};
use items_api::policy::Policy;
use items_api::store::Store;
use items_client::{ItemPatch, ItemsClient, ItemsError, ListOptions, NewItem, TokenError, TokenSource};
use oauth2::AccessToken;
use url::Url;

struct Stack {
    idp: dev_idp::DevIdp,
    api: Url,
    _dir: tempfile::TempDir,
}

async fn stack() -> Stack {
    let idp = dev_idp::spawn(dev_idp::Config { port: 0, ..Default::default() }).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(&format!("sqlite://{}", dir.path().join("items.db").display())).await.unwrap();
    let validator = TokenValidator::new(ValidatorConfig {
        issuer: Url::parse(idp.issuer()).unwrap(),
        audience: "api://default".into(),
        leeway: Duration::from_secs(5),
        timeout: Duration::from_secs(3),
        mode: Mode::Local,
    })
    .unwrap();
    let app = items_api::router(items_api::AppState::new(validator, store, Policy::None));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Stack { idp, api, _dir: dir }
}

impl Stack {
    async fn token(&self, scope: &str) -> AccessToken {
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/v1/token", self.idp.issuer()))
            .basic_auth(ITEMS_API_CLIENT_ID, Some(ITEMS_API_DEMO_SECRET))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        AccessToken::new(answer["access_token"].as_str().unwrap().to_owned())
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
    async fn token(&self) -> Result<AccessToken, TokenError> {
        Ok(self.current.lock().unwrap().clone())
    }

    async fn renew(&self, _rejected: &AccessToken) -> Result<AccessToken, TokenError> {
        self.renewed.fetch_add(1, Ordering::SeqCst);
        let next = self.renewals.lock().unwrap().pop().ok_or_else(|| Box::new(Refused) as TokenError)?;
        *self.current.lock().unwrap() = next.clone();
        Ok(next)
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
    let created = client.create(&item).await.unwrap();
    assert_eq!((created.name.as_str(), created.price, created.owner.as_str()), ("Lamp", 12.5, ITEMS_API_CLIENT_ID));
    assert_eq!(client.get(&created.id).await.unwrap(), created);
    let changed = client.update(&created.id, &ItemPatch { price: Some(10.0), ..ItemPatch::default() }).await.unwrap();
    assert_eq!(changed.price, 10.0);
    let page = client.list(&ListOptions { tag: Some("home".into()), ..ListOptions::default() }).await.unwrap();
    assert_eq!(page.items, vec![changed.clone()]);
    assert_eq!(page.next_cursor, None);
    assert_eq!(client.me().await.unwrap()["sub"], ITEMS_API_CLIENT_ID);
    client.delete(&created.id).await.unwrap();
    assert!(matches!(client.get(&created.id).await, Err(ItemsError::NotFound)));
    assert!(matches!(client.delete(&created.id).await, Err(ItemsError::NotFound)));
}

#[tokio::test]
async fn a_401_renews_the_token_once_and_retries() {
    let s = stack().await;
    let good = s.token("items:read").await;
    let client = ItemsClient::new(s.api.clone(), Tokens::new(bad(), vec![good])).unwrap();
    client.list(&ListOptions::default()).await.expect("succeeds after one renewal");
    assert_eq!(client.tokens().renewed.load(Ordering::SeqCst), 1);
    client.list(&ListOptions::default()).await.unwrap();
    assert_eq!(client.tokens().renewed.load(Ordering::SeqCst), 1, "the renewed token is reused");
}

#[tokio::test]
async fn a_second_401_or_a_failed_renewal_asks_for_a_new_sign_in() {
    let s = stack().await;
    let client = ItemsClient::new(s.api.clone(), Tokens::new(bad(), vec![bad()])).unwrap();
    let error = client.list(&ListOptions::default()).await.unwrap_err();
    assert!(matches!(error, ItemsError::Unauthorized { .. }), "{error:?}");
    assert_eq!(client.tokens().renewed.load(Ordering::SeqCst), 1, "one renewal, not a loop");
    let error = client.list(&ListOptions::default()).await.unwrap_err();
    assert!(matches!(error, ItemsError::SignInRequired(_)), "{error:?}");
    assert_eq!(error.to_string(), "you need to sign in again");
}

#[tokio::test]
async fn refusals_are_told_apart() {
    let s = stack().await;
    let reader = ItemsClient::new(s.api.clone(), Tokens::new(s.token("items:read").await, vec![])).unwrap();
    let item = NewItem { name: "x".into(), description: String::new(), price: 1.0, tags: vec![] };
    match reader.create(&item).await {
        Err(ItemsError::MissingScope { scope }) => assert_eq!(scope, "items:write"),
        other => panic!("{other:?}"),
    }
    let writer = ItemsClient::new(s.api.clone(), Tokens::new(s.token("items:read items:write").await, vec![])).unwrap();
    let blank = NewItem { name: " ".into(), ..item.clone() };
    match writer.create(&blank).await {
        Err(ItemsError::Invalid { field, .. }) => assert_eq!(field.as_deref(), Some("name")),
        other => panic!("{other:?}"),
    }
    // An id cannot smuggle in path segments: it is percent-encoded.
    assert!(matches!(writer.get("../../v1/me").await, Err(ItemsError::NotFound)));
    let offline = ItemsClient::new(Url::parse("http://127.0.0.1:9").unwrap(), Tokens::new(bad(), vec![])).unwrap();
    assert!(matches!(offline.list(&ListOptions::default()).await, Err(ItemsError::Network(_))));
}
