use dev_idp::testing::{Browser, Page};
use reqwest::StatusCode;
use url::Url;

use crate::support::{ALICE, FULL_SCOPE, query, start};

fn logout_url(issuer: &str, pairs: &[(&str, &str)]) -> String {
    let mut url = Url::parse(&format!("{issuer}/v1/logout")).unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.into()
}

#[tokio::test]
async fn logout_ends_the_session_and_returns_to_a_registered_uri_with_state() {
    let idp = start().await;
    let browser = Browser::new();
    let tokens = idp.sign_in(&browser, ALICE, FULL_SCOPE).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let url = logout_url(
        idp.issuer(),
        &[
            ("id_token_hint", id_token),
            ("post_logout_redirect_uri", "http://127.0.0.1:8765/signed-out"),
            ("state", "s-1"),
        ],
    );
    let Page::Redirect(back) = browser.open(&url).await.unwrap() else { panic!("redirect back") };
    assert_eq!(back.path(), "/signed-out");
    assert_eq!(back.port(), Some(8765));
    assert_eq!(query(&back, "state").as_deref(), Some("s-1"));
    // The session is gone: the next sign-in asks for credentials.
    let request = idp.request("openid", &[("prompt", "none")]);
    crate::support::expect_error_redirect(&browser.open(&request.url).await.unwrap(), &request, "login_required");
    // The refresh token is not touched by logout (the client revokes it).
    assert_eq!(idp.refresh(tokens["refresh_token"].as_str().unwrap()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn logout_without_a_redirect_shows_a_page_even_for_an_expired_hint() {
    let idp = start().await;
    let browser = Browser::new();
    let tokens = idp.sign_in(&browser, ALICE, "openid").await;
    idp.advance(7200);
    let page = browser
        .open(&logout_url(idp.issuer(), &[("id_token_hint", tokens["id_token"].as_str().unwrap())]))
        .await
        .unwrap();
    let Page::Other { status, message } = page else { panic!("{page:?}") };
    assert_eq!(status, StatusCode::OK);
    assert!(message.unwrap().contains("signed out"));
}

#[tokio::test]
async fn bad_logout_requests_are_refused_on_a_page() {
    let idp = start().await;
    let browser = Browser::new();
    let tokens = idp.sign_in(&browser, ALICE, FULL_SCOPE).await;
    let id_token = tokens["id_token"].as_str().unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    for pairs in [
        vec![],
        vec![("id_token_hint", "garbage")],
        vec![("id_token_hint", access)],
        vec![("id_token_hint", id_token), ("post_logout_redirect_uri", "https://evil.example/")],
        vec![("id_token_hint", id_token), ("post_logout_redirect_uri", "http://127.0.0.1:1/callback")],
        vec![("id_token_hint", id_token), ("client_id", "items-api")],
    ] {
        let page = browser.open(&logout_url(idp.issuer(), &pairs)).await.unwrap();
        assert!(matches!(page, Page::Error { status: StatusCode::BAD_REQUEST, .. }), "{pairs:?}: {page:?}");
    }
    // None of them ended the session.
    let request = idp.request("openid", &[("prompt", "none")]);
    assert!(matches!(browser.open(&request.url).await.unwrap(), Page::Redirect(url) if query(&url, "code").is_some()));
}
