//! Redirect URIs compared exactly, port included, as Okta does
//! (`loopback_any_port = false`), and the RFC 8252 §7.3 any-port mode.

use dev_idp::config::DEMO_LOOPBACK_PORTS;
use dev_idp::testing::{Browser, Page};
use reqwest::StatusCode;
use url::Url;

use crate::support::{ALICE, DESKTOP, Idp, query, start_with};

async fn exact() -> Idp {
    start_with(|c| c.loopback_any_port = false).await
}

/// Signs alice in with `redirect_uri` and exchanges the code: the token answer's status.
async fn sign_in_via(idp: &Idp, browser: &Browser, redirect_uri: &str) -> StatusCode {
    let request = idp.request("openid offline_access", &[("redirect_uri", redirect_uri)]);
    let url = browser.sign_in(&request.url, ALICE.0, ALICE.1).await.unwrap();
    assert!(url.as_str().starts_with(redirect_uri), "{url} for {redirect_uri}");
    idp.exchange(&request, &url).await.status
}

/// The error page an authorization request with `redirect_uri` meets.
async fn refused(idp: &Idp, redirect_uri: &str) -> String {
    let request = idp.request("openid", &[("redirect_uri", redirect_uri)]);
    match Browser::new().open(&request.url).await.unwrap() {
        Page::Error { status, message } => {
            assert_eq!(status, StatusCode::BAD_REQUEST, "{redirect_uri}: {message}");
            message
        }
        other => panic!("{redirect_uri} gave {other:?}"),
    }
}

#[tokio::test]
async fn a_registered_loopback_uri_with_its_port_is_accepted_on_both_ip_families() {
    let idp = exact().await;
    let browser = Browser::new();
    for port in DEMO_LOOPBACK_PORTS {
        for host in ["127.0.0.1", "[::1]"] {
            let redirect = format!("http://{host}:{port}/callback");
            assert_eq!(sign_in_via(&idp, &browser, &redirect).await, StatusCode::OK, "{redirect}");
        }
    }
    assert_eq!(sign_in_via(&idp, &browser, "com.example.tessera:/callback").await, StatusCode::OK);
}

#[tokio::test]
async fn another_port_is_refused_on_a_page_naming_the_uri_and_saying_port_included() {
    let idp = exact().await;
    let message = refused(&idp, "http://127.0.0.1:53682/callback").await;
    assert!(message.contains("\"http://127.0.0.1:53682/callback\""), "names the URI sent: {message}");
    assert!(message.contains("registered exactly"), "{message}");
    assert!(message.contains("port included"), "{message}");
    assert!(message.contains(DESKTOP), "names the client: {message}");
    refused(&idp, "http://[::1]:8768/callback").await;
    refused(&idp, "http://127.0.0.1:8765/callback/").await;
    refused(&idp, "https://127.0.0.1:8765/callback").await;
}

#[tokio::test]
async fn localhost_is_refused_even_on_a_registered_port() {
    let idp = exact().await;
    let message = refused(&idp, "http://localhost:8765/callback").await;
    assert!(message.contains("http://localhost:8765/callback"), "{message}");
    // Not in any-port mode either: localhost is no loopback IP literal.
    let idp = start_with(|c| c.loopback_any_port = true).await;
    refused(&idp, "http://localhost:8765/callback").await;
}

#[tokio::test]
async fn a_clients_own_setting_wins_over_the_providers() {
    // The provider compares exactly; the desktop client asks for any port.
    let idp = start_with(|c| {
        c.loopback_any_port = false;
        c.clients[0].loopback_any_port = Some(true);
    })
    .await;
    assert_eq!(sign_in_via(&idp, &Browser::new(), "http://127.0.0.1:53682/callback").await, StatusCode::OK);
    // The other way round: any port for the provider, exact for the client.
    let idp = start_with(|c| {
        c.loopback_any_port = true;
        c.clients[0].loopback_any_port = Some(false);
    })
    .await;
    let message = refused(&idp, "http://127.0.0.1:53682/callback").await;
    assert!(message.contains("port included"), "{message}");
    assert_eq!(sign_in_via(&idp, &Browser::new(), "http://127.0.0.1:8766/callback").await, StatusCode::OK);
}

#[tokio::test]
async fn any_port_mode_still_accepts_every_loopback_port() {
    let idp = start_with(|c| c.loopback_any_port = true).await;
    let browser = Browser::new();
    for redirect in ["http://127.0.0.1:53682/callback", "http://[::1]:1/callback", "http://127.0.0.1:8765/callback"] {
        assert_eq!(sign_in_via(&idp, &browser, redirect).await, StatusCode::OK, "{redirect}");
    }
    let message = refused(&idp, "http://127.0.0.1:53682/other").await;
    assert!(message.contains("\"http://127.0.0.1:53682/other\""), "{message}");
}

#[tokio::test]
async fn a_pushed_request_is_held_to_the_same_comparison() {
    let idp = exact().await;
    let pushed = |redirect: &'static str| {
        let request = idp.request("openid", &[("redirect_uri", redirect)]);
        let url = Url::parse(&request.url).unwrap();
        url.query_pairs().map(|(n, v)| (n.into_owned(), v.into_owned())).collect::<Vec<_>>()
    };
    let form = pushed("http://127.0.0.1:53682/callback");
    let form: Vec<(&str, &str)> = form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let answer = idp.post("par", &form, None).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.json);
    assert_eq!(answer.error(), "invalid_request");
    assert!(answer.json["error_description"].as_str().unwrap().contains("port included"), "{}", answer.json);
    let form = pushed("http://127.0.0.1:8767/callback");
    let form: Vec<(&str, &str)> = form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_eq!(idp.post("par", &form, None).await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_post_logout_redirect_uri_must_be_registered_with_its_port() {
    let idp = exact().await;
    let browser = Browser::new();
    let request = idp.request("openid", &[("redirect_uri", "http://127.0.0.1:8765/callback")]);
    let url = browser.sign_in(&request.url, ALICE.0, ALICE.1).await.unwrap();
    let tokens = idp.exchange(&request, &url).await.json;
    let id_token = tokens["id_token"].as_str().unwrap();
    let logout = |target: &str| {
        let mut url = Url::parse(&idp.endpoint("logout")).unwrap();
        url.query_pairs_mut().append_pair("id_token_hint", id_token).append_pair("post_logout_redirect_uri", target);
        String::from(url)
    };
    match browser.open(&logout("http://127.0.0.1:4321/signed-out")).await.unwrap() {
        Page::Error { status, message } => {
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert!(message.contains("\"http://127.0.0.1:4321/signed-out\""), "{message}");
            assert!(message.contains("port included"), "{message}");
        }
        other => panic!("refused, got {other:?}"),
    }
    let Page::Redirect(back) = browser.open(&logout("http://[::1]:8766/signed-out")).await.unwrap() else {
        panic!("a registered port is accepted")
    };
    assert_eq!(back.port(), Some(8766));
    assert!(query(&back, "state").is_none());
}
