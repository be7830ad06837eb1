//! The pages the browser is left on (signed in, failed, signed out): in
//! Tessera's style, self-contained, under a Content-Security-Policy that
//! allows nothing but their own style (by its hash), and telling the person
//! to return to Tessera (issue 19, item 3).

use std::time::Duration;

use base64::Engine as _;
use sha2::Digest as _;
use signin::flow::signed_out::SignedOutPage;
use url::Url;

use crate::support::within;

#[tokio::test]
async fn the_signed_out_page_is_styled_self_contained_and_points_back_to_the_app() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let uri = Url::parse(&format!("http://127.0.0.1:{port}/signed-out")).unwrap();
    let page = SignedOutPage::bind(&uri).await.unwrap().unwrap();
    let serving = tokio::spawn(page.serve("https://dev-1.okta.com/oauth2/default", Duration::from_secs(20)));
    let response = within("the page", reqwest::get(uri.as_str())).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let csp = response.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let body = within("the body", response.text()).await.unwrap();
    within("the page server ending", serving).await.unwrap();

    // The style is the page's only resource, allowed by its own hash.
    let style = body.split("<style>").nth(1).and_then(|s| s.split("</style>").next()).expect("an inline style");
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style.as_bytes()));
    assert!(csp.starts_with("default-src 'none'; "), "{csp}");
    assert!(csp.contains(&format!("style-src 'sha256-{hash}'")), "{csp}");
    assert!(!csp.contains("unsafe"), "{csp}");
    for external in ["src=", "href=", "url(", "@import", "<script"] {
        assert!(!body.contains(external), "the page loads something ({external}): {body}");
    }
    // Light and dark, as the app.
    assert!(style.contains("prefers-color-scheme:dark"), "{style}");
    assert!(body.contains("<h1>Signed out</h1>"), "{body}");
    assert!(
        body.contains("<p data-message>You are signed out of https://dev-1.okta.com/oauth2/default.</p>"),
        "{body}"
    );
    assert!(body.contains("Return to Tessera"), "{body}");
}
