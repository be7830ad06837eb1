//! The page the browser comes back to after signing out at the provider
//! (issue 16, item 5): served once, on the exact path of the loopback
//! `post_logout_redirect_uri`, for a short while.

use std::time::Duration;

use dev_idp::testing::Browser as Driver;
use signin::flow::signed_out::SignedOutPage;
use url::Url;

use crate::support::within;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn the_signed_out_page_is_served_once_on_its_exact_path() {
    let uri = Url::parse(&format!("http://127.0.0.1:{}/signed-out", free_port())).unwrap();
    let page = SignedOutPage::bind(&uri).await.unwrap().expect("a loopback URI gets a page");
    let serving = tokio::spawn(page.serve("https://dev-1.okta.com/oauth2/default", Duration::from_secs(20)));
    let driver = Driver::new();
    let (status, _) = within("another path", driver.get(uri.join("/elsewhere").unwrap().as_str())).await.unwrap();
    assert_eq!(status.as_u16(), 404);
    let (status, body) = within("the page", driver.get(&format!("{uri}?state=x"))).await.unwrap();
    assert_eq!(status.as_u16(), 200, "{body}");
    assert!(body.contains("You are signed out of https://dev-1.okta.com/oauth2/default"), "{body}");
    assert!(within("the page server ending", serving).await.unwrap(), "the browser came");
    // Served once: the port is let go.
    assert!(std::net::TcpListener::bind(("127.0.0.1", uri.port().unwrap())).is_ok());
}

#[tokio::test]
async fn nobody_coming_ends_the_wait_and_other_uris_get_no_page() {
    let uri = Url::parse(&format!("http://127.0.0.1:{}/signed-out", free_port())).unwrap();
    let page = SignedOutPage::bind(&uri).await.unwrap().unwrap();
    assert!(!within("the page server", page.serve("issuer", Duration::from_millis(200))).await);
    for other in ["com.example.tessera:/signed-out", "https://app.example/signed-out", "http://127.0.0.1/signed-out"] {
        assert!(SignedOutPage::bind(&Url::parse(other).unwrap()).await.unwrap().is_none(), "{other}");
    }
}
