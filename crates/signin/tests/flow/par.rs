//! Pushed authorization requests, chosen and renewed (RFC 9126; issue 16,
//! item 7): `never` sends a plain request, `always` insists, `auto` falls
//! back when the push is refused, and the link shown to the person is pushed
//! again before its request expires (at once when the browser spent it;
//! issue 19, item 2), a plain request or a link nobody is shown never.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::http::StatusCode;
use dev_idp::testing::Browser as Driver;
use signin::SignedIn;
use signin::flow::SigninError;
use signin::flow::browser::{Browser, BrowserError, HttpBrowser};
use signin::flow::login::{AuthOptions, ParMode};
use signin::flow::provider::Provider;
use signin::flow::redirect::{self, Link, Opening, Request};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::support::{
    ALICE, ALICE_SUB, Env, LOCALHOST_V4, client_id, no_browser, registered_listener, scopes, start, start_with, within,
};

/// One link handed out: its URL, whether the browser was opened, whether it
/// renewed the one before.
#[derive(Debug, Clone)]
struct Shown {
    url: Url,
    opened: bool,
    renewed: bool,
}

/// Every link the sign-in hands out, kept.
#[derive(Clone, Default)]
struct Links(Arc<Mutex<Vec<Shown>>>);

impl Links {
    fn show(&self) -> impl Fn(Link<'_>) -> signin::flow::redirect::Shown + Send + Sync + 'static {
        let links = self.0.clone();
        move |link: Link<'_>| {
            let opened = matches!(link.browser, Opening::Opened);
            links.lock().unwrap().push(Shown { url: link.url.clone(), opened, renewed: link.renewed });
            signin::flow::redirect::Shown::Yes
        }
    }

    async fn nth(&self, n: usize) -> Shown {
        within("a link handed out", async {
            loop {
                if let Some(shown) = self.0.lock().unwrap().get(n).cloned() {
                    break shown;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// A browser that opens (it says so) and where the person does not finish:
/// they will use a link the app shows instead.
#[derive(Clone, Default)]
struct IdleBrowser(Arc<Mutex<Vec<Url>>>);

impl Browser for IdleBrowser {
    fn open(&self, url: &Url) -> Result<(), BrowserError> {
        self.0.lock().unwrap().push(url.clone());
        Ok(())
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
    show: &(dyn Fn(Link<'_>) -> signin::flow::redirect::Shown + Send + Sync),
    par: ParMode,
) -> Result<SignedIn, SigninError> {
    let listener = registered_listener(LOCALHOST_V4).await;
    let (client_id, scopes) = (client_id(), scopes());
    let options = AuthOptions { par, ..AuthOptions::default() };
    let request =
        Request { client_id: &client_id, scopes: &scopes, options: &options, timeout: Duration::from_secs(20) };
    redirect::sign_in(provider, request, listener, browser, show, &CancellationToken::new()).await
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
    let links = Links::default();
    let signing_in = tokio::spawn({
        let (env, show) = (env.clone(), links.show());
        async move { sign_in_with(&env.provider, &NoSuchBrowser, &show, ParMode::Auto).await }
    });
    let first = links.nth(0).await;
    assert!(!first.opened && !first.renewed, "{first:?}");
    let second = links.nth(1).await;
    assert!(!second.opened && second.renewed, "{second:?}");
    assert_ne!(first.url, second.url, "a new request_uri");
    assert!(second.url.query_pairs().any(|(name, _)| name == "request_uri"), "{}", second.url);
    // Time passes at the provider: the links handed out so far die with
    // their requests; the next one, pushed after, works.
    env.clock.advance(Duration::from_secs(3));
    let handed_out = links.count();
    let (status, page) = within("the first link", Driver::new().get(first.url.as_str())).await.unwrap();
    assert_eq!(status.as_u16(), 400, "{page}");
    let latest = links.nth(handed_out).await;
    let person = HttpBrowser::new(ALICE.0, ALICE.1);
    person.open(&latest.url).unwrap();
    let signed_in = within("the sign-in through the renewed link", signing_in).await.unwrap().unwrap();
    assert_eq!(signed_in.key.subject, ALICE_SUB);
}

/// The browser opened, but the person closed the page or wants another
/// browser (the desktop's *Copy link*): the link the browser was sent to is
/// spent (a `request_uri` is for one use) and dies within a minute, so a
/// fresh one comes at once and another before each dies; the latest one
/// completes the same sign-in after the first expired.
#[tokio::test]
async fn with_the_browser_open_a_fresh_link_comes_at_once_and_is_renewed_before_it_expires() {
    let env = Arc::new(start_with(|config| config.lifetimes.pushed_request_secs = 2).await);
    let (links, browser) = (Links::default(), IdleBrowser::default());
    let started = std::time::Instant::now();
    let signing_in = tokio::spawn({
        let (env, show, browser) = (env.clone(), links.show(), browser.clone());
        async move { sign_in_with(&env.provider, &browser, &show, ParMode::Auto).await }
    });
    let first = links.nth(0).await;
    assert!(first.opened && !first.renewed, "{first:?}");
    assert_eq!(browser.0.lock().unwrap().as_slice(), std::slice::from_ref(&first.url), "the browser got the first");
    // The browser loads its page: that link is spent.
    let (status, page) = within("the browser's page", Driver::new().get(first.url.as_str())).await.unwrap();
    assert_eq!(status.as_u16(), 200, "{page}");
    let (status, _) = within("the spent link again", Driver::new().get(first.url.as_str())).await.unwrap();
    assert_eq!(status.as_u16(), 400, "a request_uri is for one use");

    let fresh = links.nth(1).await;
    assert!(started.elapsed() < Duration::from_secs(2), "a fresh link before the first expires");
    assert!(fresh.opened && fresh.renewed, "{fresh:?}");
    assert_ne!(fresh.url, first.url, "a new request_uri");
    assert!(fresh.url.query_pairs().any(|(name, _)| name == "request_uri"), "{}", fresh.url);
    let renewed = links.nth(2).await;
    assert!(renewed.opened && renewed.renewed, "{renewed:?}");
    assert!(![&first.url, &fresh.url].contains(&&renewed.url), "each renewal is a new request_uri");

    // The first link's request expires at the provider; the latest link,
    // pushed after, completes the sign-in in another browser.
    env.clock.advance(Duration::from_secs(3));
    let handed_out = links.count();
    let latest = links.nth(handed_out).await;
    let person = HttpBrowser::new(ALICE.0, ALICE.1);
    person.open(&latest.url).unwrap();
    let signed_in = within("the sign-in through the renewed link", signing_in).await.unwrap().unwrap();
    assert_eq!(signed_in.key.subject, ALICE_SUB);
    assert_eq!(within("the person's page", person.delivered()).await.unwrap().status, 200);
    assert_eq!(browser.0.lock().unwrap().len(), 1, "the browser was opened once");
}

/// A plain request (the provider takes no pushed requests, or `par = never`)
/// has no lifetime of its own: its one link is never renewed, whether the
/// browser opened or not.
#[tokio::test]
async fn a_plain_request_is_never_renewed() {
    let without_par = Arc::new(start_with(|config| config.pushed_authorization_requests = false).await);
    let short_par = Arc::new(start_with(|config| config.lifetimes.pushed_request_secs = 1).await);
    let cases: [(&Arc<Env>, ParMode, Arc<dyn Browser>); 3] = [
        (&without_par, ParMode::Auto, Arc::new(IdleBrowser::default())),
        (&without_par, ParMode::Auto, Arc::new(NoSuchBrowser)),
        (&short_par, ParMode::Never, Arc::new(IdleBrowser::default())),
    ];
    // One at a time: each holds one of the few registered loopback ports.
    for (n, (env, par, browser)) in cases.into_iter().enumerate() {
        let links = Links::default();
        let signing_in = tokio::spawn({
            let (env, show) = (env.clone(), links.show());
            async move { sign_in_with(&env.provider, &*browser, &show, par).await }
        });
        let first = links.nth(0).await;
        assert!(!first.url.query_pairs().any(|(name, _)| name == "request_uri"), "case {n}: {}", first.url);
        // Longer than a renewal at once, or at 3/4 of a one-second push, would take.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(links.count(), 1, "case {n}: one link, never renewed");
        assert!(!signing_in.is_finished(), "case {n}: still waiting");
        signing_in.abort();
        let _ = signing_in.await;
    }
}

/// A shell that does not show the link (the CLI once the browser has the
/// page) answers `Shown::No`: nothing is pushed again for it, browser open
/// or not, and the sign-in still completes in the browser.
#[tokio::test]
async fn a_link_nobody_is_shown_is_never_renewed() {
    let env = Arc::new(start_with(|config| config.lifetimes.pushed_request_secs = 1).await);
    for (n, browser) in
        [Arc::new(IdleBrowser::default()) as Arc<dyn Browser>, Arc::new(NoSuchBrowser)].into_iter().enumerate()
    {
        let before = env.idp.provider().authorization_requests().len();
        let links = Links::default();
        let hidden = {
            let show = links.show();
            move |link: Link<'_>| {
                show(link);
                redirect::Shown::No
            }
        };
        let signing_in = tokio::spawn({
            let env = env.clone();
            async move { sign_in_with(&env.provider, &*browser, &hidden, ParMode::Auto).await }
        });
        let first = links.nth(0).await;
        assert!(first.url.query_pairs().any(|(name, _)| name == "request_uri"), "case {n}: {}", first.url);
        // Longer than a renewal at once, or at 3/4 of a one-second push, would take.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(links.count(), 1, "case {n}: one link");
        assert_eq!(env.idp.provider().authorization_requests().len(), before + 1, "case {n}: pushed once");
        if n == 0 {
            // The browser has the (unexpired) page: the person signs in there.
            let person = HttpBrowser::new(ALICE.0, ALICE.1);
            person.open(&first.url).unwrap();
            let signed_in = within("the sign-in in the browser", signing_in).await.unwrap().unwrap();
            assert_eq!(signed_in.key.subject, ALICE_SUB);
        } else {
            signing_in.abort();
            let _ = signing_in.await;
        }
    }
}
