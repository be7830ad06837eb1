//! The deep-link redirect (RFC 8252 §7.1): the link the OS hands to the app
//! completes the sign-in waiting under its `state`, through the same flow
//! (and every check) as the loopback redirect.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dev_idp::testing::Browser as Driver;
use openidconnect::RedirectUrl;
use signin::SignedIn;
use signin::flow::SigninError;
use signin::flow::browser::{Browser, BrowserError};
use signin::flow::deep_link::DeepLinks;
use signin::flow::login::AuthOptions;
use signin::flow::provider::Provider;
use signin::flow::redirect::{self, Request};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::support::{ALICE, ALICE_SUB, Env, client_id, no_browser, scopes, start, with_param, within};

const DEEP_LINK: &str = "com.example.tessera:/callback";

/// A browser that signs alice in on dev-idp's pages and keeps the link the
/// provider redirected to, as the OS would before handing it to the app.
#[derive(Clone, Default)]
struct LinkBrowser {
    links: Arc<Mutex<Vec<Url>>>,
}

impl Browser for LinkBrowser {
    fn open(&self, url: &Url) -> Result<(), BrowserError> {
        let (url, links) = (url.clone(), self.links.clone());
        tokio::spawn(async move {
            let link = Driver::new().sign_in(url.as_str(), ALICE.0, ALICE.1).await.expect("dev-idp's pages");
            links.lock().unwrap().push(link);
        });
        Ok(())
    }
}

impl LinkBrowser {
    /// The `n`th link the provider sent (waits for it).
    async fn link(&self, n: usize) -> Url {
        within("the provider's redirect to the app", async {
            loop {
                if let Some(link) = self.links.lock().unwrap().get(n).cloned() {
                    break link;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
    }
}

fn links() -> DeepLinks {
    DeepLinks::new(RedirectUrl::new(DEEP_LINK.to_owned()).unwrap())
}

/// A deep-link sign-in running in the background, with `timeout`.
fn signing_in(
    env: &Env,
    links: &DeepLinks,
    browser: &LinkBrowser,
    timeout: Duration,
) -> JoinHandle<Result<SignedIn, SigninError>> {
    let provider = Provider::from_metadata(env.provider.metadata().clone(), env.http.clone());
    let (redirect, browser) = (links.redirect(), browser.clone());
    tokio::spawn(async move {
        let (client_id, scopes, options) = (client_id(), scopes(), AuthOptions::default());
        let request = Request { client_id: &client_id, scopes: &scopes, options: &options, timeout };
        redirect::sign_in(&provider, request, redirect, &browser, &no_browser, &CancellationToken::new()).await
    })
}

#[tokio::test]
async fn a_deep_link_completes_the_sign_in_waiting_under_its_state_once() {
    let env = start().await;
    let (links, first, second) = (links(), LinkBrowser::default(), LinkBrowser::default());
    let one = signing_in(&env, &links, &first, Duration::from_secs(20));
    let two = signing_in(&env, &links, &second, Duration::from_secs(20));
    let (link_one, link_two) = (first.link(0).await, second.link(0).await);
    assert_eq!(link_one.scheme(), "com.example.tessera");
    assert_eq!(links.waiting(), 2);
    // Out of order: each finds its own.
    links.deliver(&link_two).unwrap();
    assert_eq!(within("the second sign-in", two).await.unwrap().unwrap().key.subject, ALICE_SUB);
    links.deliver(&link_one).unwrap();
    assert_eq!(within("the first sign-in", one).await.unwrap().unwrap().key.subject, ALICE_SUB);
    assert_eq!(links.waiting(), 0);
    let again = links.deliver(&link_one).unwrap_err();
    assert!(matches!(again, SigninError::UnknownState), "{again:?}");
    assert!(again.to_string().contains("sign in again"), "{again}");
}

/// A link for no waiting sign-in, without a state, or on another scheme or
/// path (another app's, or a forged one) is refused, and the waiting
/// sign-in keeps waiting for its own.
#[tokio::test]
async fn a_stray_link_is_refused_and_the_sign_in_keeps_waiting() {
    let env = start().await;
    let (links, browser) = (links(), LinkBrowser::default());
    let waiting = signing_in(&env, &links, &browser, Duration::from_secs(20));
    let link = browser.link(0).await;
    let unknown = links.deliver(&with_param(&link, "state", Some("other"))).unwrap_err();
    assert!(matches!(unknown, SigninError::UnknownState), "{unknown:?}");
    let missing = links.deliver(&with_param(&link, "state", None)).unwrap_err();
    assert!(matches!(missing, SigninError::MissingState), "{missing:?}");
    for elsewhere in ["com.example.tessera:/elsewhere", "com.example.other:/callback", "https://app.example/callback"] {
        let mut forged = Url::parse(elsewhere).unwrap();
        forged.set_query(link.query());
        let error = links.deliver(&forged).unwrap_err();
        assert!(matches!(error, SigninError::BadCallback(_)), "{elsewhere}: {error:?}");
    }
    assert_eq!(links.waiting(), 1, "the real one still waits");
    links.deliver(&link).unwrap();
    assert_eq!(within("the sign-in", waiting).await.unwrap().unwrap().key.subject, ALICE_SUB);
}

#[tokio::test]
async fn a_deep_link_still_gets_every_check_of_the_code_flow() {
    let env = start().await;
    let (links, browser) = (links(), LinkBrowser::default());
    let waiting = signing_in(&env, &links, &browser, Duration::from_secs(20));
    let link = browser.link(0).await;
    links.deliver(&with_param(&link, "iss", Some("https://attacker.example"))).unwrap();
    let error = within("the sign-in", waiting).await.unwrap().unwrap_err();
    assert!(matches!(error, SigninError::IssuerMismatch { .. }), "{error:?}");
}

#[tokio::test]
async fn a_sign_in_whose_link_never_comes_times_out_and_is_forgotten() {
    let env = start().await;
    let (links, browser) = (links(), LinkBrowser::default());
    let waiting = signing_in(&env, &links, &browser, Duration::from_secs(1));
    let link = browser.link(0).await;
    let error = within("the sign-in", waiting).await.unwrap().unwrap_err();
    assert!(matches!(error, SigninError::TimedOut { .. }), "{error:?}");
    assert_eq!(links.waiting(), 0, "nothing waits any more");
    let late = links.deliver(&link).unwrap_err();
    assert!(matches!(late, SigninError::UnknownState), "{late:?}");
}
