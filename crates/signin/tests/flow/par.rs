//! Pushed authorization requests, chosen and renewed (RFC 9126; issue 16,
//! item 7): `never` sends a plain request, `always` insists, `auto` falls
//! back when the push is refused, and a link handed to the person is pushed
//! again before its request expires.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use signin::SignedIn;
use signin::flow::SigninError;
use signin::flow::browser::{Browser, BrowserError, HttpBrowser};
use signin::flow::login::{AuthOptions, ParMode};
use signin::flow::provider::Provider;
use signin::flow::redirect::{self, Request};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::support::{
    ALICE, ALICE_SUB, Env, LOCALHOST_V4, client_id, no_browser, registered_listener, scopes, start, start_with, within,
};

/// A machine without a browser: every link it is handed is kept.
#[derive(Clone, Default)]
struct Shown(Arc<Mutex<Vec<Url>>>);

impl Shown {
    fn show(&self) -> impl Fn(&Url, &BrowserError) + Send + Sync + 'static {
        let links = self.0.clone();
        move |url: &Url, _: &BrowserError| links.lock().unwrap().push(url.clone())
    }

    async fn nth(&self, n: usize) -> Url {
        within("a link handed out", async {
            loop {
                if let Some(url) = self.0.lock().unwrap().get(n).cloned() {
                    break url;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
    }
}

struct NoSuchBrowser;

impl Browser for NoSuchBrowser {
    fn open(&self, _url: &Url) -> Result<(), BrowserError> {
        Err(BrowserError::NotFound)
    }
}

async fn sign_in_with(
    provider: &Provider,
    browser: &dyn Browser,
    no: &(dyn Fn(&Url, &BrowserError) + Send + Sync),
    par: ParMode,
) -> Result<SignedIn, SigninError> {
    let listener = registered_listener(LOCALHOST_V4).await;
    let (client_id, scopes) = (client_id(), scopes());
    let options = AuthOptions { par, ..AuthOptions::default() };
    let request =
        Request { client_id: &client_id, scopes: &scopes, options: &options, timeout: Duration::from_secs(20) };
    redirect::sign_in(provider, request, listener, browser, no, &CancellationToken::new()).await
}

#[tokio::test]
async fn never_sends_the_request_in_the_browsers_url() {
    let env = start().await;
    let browser = HttpBrowser::new(ALICE.0, ALICE.1);
    let signed_in = within("a plain sign-in", sign_in_with(&env.provider, &browser, &no_browser, ParMode::Never)).await;
    assert_eq!(signed_in.unwrap().key.subject, ALICE_SUB);
    let opened = within("the browser", browser.delivered()).await.unwrap().opened;
    assert!(opened.query_pairs().any(|(name, _)| name == "code_challenge"), "{opened}");
    assert!(!opened.query_pairs().any(|(name, _)| name == "request_uri"), "{opened}");
    assert!(!env.idp.provider().authorization_requests().pop().unwrap().pushed);
}

/// A provider whose push endpoint refuses every request, as an org that has
/// not allowed pushed requests for this client would.
async fn refusing_push(env: &Env) -> Provider {
    let app = axum::Router::new().route(
        "/par",
        axum::routing::post(|| async {
            (StatusCode::BAD_REQUEST, Json(serde_json::json!({"error": "unauthorized_client"})))
        }),
    );
    let address = testkit::serve(app).await;
    let mut metadata = env.provider.metadata().clone();
    metadata.additional_metadata_mut().pushed_authorization_request_endpoint =
        Some(Url::parse(&format!("http://{address}/par")).unwrap());
    Provider::from_metadata(metadata, env.http.clone())
}

#[tokio::test]
async fn auto_falls_back_to_a_plain_request_when_the_push_is_refused_and_always_does_not() {
    let env = start().await;
    let provider = refusing_push(&env).await;
    let browser = HttpBrowser::new(ALICE.0, ALICE.1);
    let signed_in = within("auto", sign_in_with(&provider, &browser, &no_browser, ParMode::Auto)).await;
    assert_eq!(signed_in.unwrap().key.subject, ALICE_SUB, "signed in with a plain request");
    assert!(!env.idp.provider().authorization_requests().pop().unwrap().pushed);

    let error = within("always", sign_in_with(&provider, &browser, &no_browser, ParMode::Always)).await.unwrap_err();
    assert!(matches!(&error, SigninError::PushRefused { error, .. } if error == "unauthorized_client"), "{error:?}");

    let mut metadata = env.provider.metadata().clone();
    metadata.additional_metadata_mut().pushed_authorization_request_endpoint = None;
    let without = Provider::from_metadata(metadata, env.http.clone());
    let error = within("always", sign_in_with(&without, &browser, &no_browser, ParMode::Always)).await.unwrap_err();
    assert!(matches!(error, SigninError::Push(_)), "{error:?}");
}

/// Okta's pushed requests live a minute while a sign-in waits five: a link
/// handed to the person is pushed again before it dies, and the new one
/// works.
#[tokio::test]
async fn a_link_handed_out_is_renewed_before_its_pushed_request_expires() {
    let env = Arc::new(start_with(|config| config.lifetimes.pushed_request_secs = 2).await);
    let shown = Shown::default();
    let signing_in = tokio::spawn({
        let (env, show) = (env.clone(), shown.show());
        async move { sign_in_with(&env.provider, &NoSuchBrowser, &show, ParMode::Auto).await }
    });
    let first = shown.nth(0).await;
    let second = shown.nth(1).await;
    assert_ne!(first, second, "a new request_uri");
    assert!(second.query_pairs().any(|(name, _)| name == "request_uri"), "{second}");
    // Time passes at the provider: the links handed out so far die with
    // their requests; the next one, pushed after, works.
    env.clock.advance(Duration::from_secs(3));
    let handed_out = shown.0.lock().unwrap().len();
    let (status, page) = within("the first link", dev_idp::testing::Browser::new().get(first.as_str())).await.unwrap();
    assert_eq!(status.as_u16(), 400, "{page}");
    let latest = shown.nth(handed_out).await;
    let person = HttpBrowser::new(ALICE.0, ALICE.1);
    person.open(&latest).unwrap();
    let signed_in = within("the sign-in through the renewed link", signing_in).await.unwrap().unwrap();
    assert_eq!(signed_in.key.subject, ALICE_SUB);
}
