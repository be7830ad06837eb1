//! Pushed authorization requests (RFC 9126): the client posts its request to
//! `/v1/par` and opens the browser with only `client_id` and the one-time
//! `request_uri` it got.

use dev_idp::config::ITEMS_API_CLIENT_ID;
use dev_idp::testing::{Browser, Page};
use reqwest::StatusCode;
use url::Url;

use crate::support::{ALICE, DESKTOP, FULL_SCOPE, Idp, Request, query, start, start_with};

/// Pushes `request`'s parameters (its authorization URL's query, with
/// `extra` replacing or, when empty, removing parameters).
async fn push(idp: &Idp, request: &Request, extra: &[(&str, &str)]) -> crate::support::Answer {
    let url = Url::parse(&request.url).unwrap();
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    for (name, value) in extra {
        form.retain(|(n, _)| n != name);
        if !value.is_empty() {
            form.push(((*name).to_owned(), (*value).to_owned()));
        }
    }
    let form: Vec<(&str, &str)> = form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    idp.post("par", &form, None).await
}

/// The browser's URL for a pushed request: `client_id` and `request_uri` only.
fn browser_url(idp: &Idp, client_id: &str, request_uri: &str) -> String {
    let mut url = Url::parse(&idp.endpoint("authorize")).unwrap();
    url.query_pairs_mut().append_pair("client_id", client_id).append_pair("request_uri", request_uri);
    url.into()
}

fn request_uri(answer: &crate::support::Answer) -> String {
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json);
    answer.json["request_uri"].as_str().expect("a request_uri").to_owned()
}

#[tokio::test]
async fn discovery_announces_the_endpoint() {
    let idp = start().await;
    let document = idp.discovery().await;
    assert_eq!(document["pushed_authorization_request_endpoint"], idp.endpoint("par"));
    assert_eq!(document["require_pushed_authorization_requests"], false);
}

#[tokio::test]
async fn a_pushed_request_signs_in_with_only_its_request_uri_in_the_browser() {
    let idp = start().await;
    let request = idp.request(FULL_SCOPE, &[]);
    let answer = push(&idp, &request, &[]).await;
    let uri = request_uri(&answer);
    assert!(uri.starts_with("urn:ietf:params:oauth:request_uri:") && uri.len() > 60, "{uri}");
    assert_eq!(answer.json["expires_in"], 60);
    assert_eq!(answer.headers["cache-control"], "no-store");

    let browser = Browser::new();
    let redirect = browser.sign_in(&browser_url(&idp, DESKTOP, &uri), ALICE.0, ALICE.1).await.unwrap();
    assert!(redirect.as_str().starts_with(&request.redirect_uri), "{redirect}");
    assert_eq!(query(&redirect, "state").as_deref(), Some(request.state.as_str()), "the pushed state");
    assert_eq!(query(&redirect, "iss").as_deref(), Some(idp.issuer()));
    // The code is bound to the pushed PKCE challenge and redirect URI.
    let tokens = idp.exchange(&request, &redirect).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.json);
    assert_eq!(crate::support::claims(tokens.json["id_token"].as_str().unwrap())["nonce"], request.nonce.as_str());
}

#[tokio::test]
async fn a_request_uri_works_once_for_its_client_until_it_expires() {
    let idp = start().await;
    let browser = Browser::new();
    let refused = |page: Page| match page {
        Page::Error { status, message } => {
            assert_eq!(status, StatusCode::BAD_REQUEST);
            message
        }
        other => panic!("expected an error page, got {other:?}"),
    };

    // Used once: a second use is refused.
    let request = idp.request(FULL_SCOPE, &[]);
    let uri = request_uri(&push(&idp, &request, &[]).await);
    browser.sign_in(&browser_url(&idp, DESKTOP, &uri), ALICE.0, ALICE.1).await.unwrap();
    let again = refused(browser.open(&browser_url(&idp, DESKTOP, &uri)).await.unwrap());
    assert!(again.contains("unknown, expired or already used"), "{again}");

    // Expired after 60 s.
    let uri = request_uri(&push(&idp, &idp.request(FULL_SCOPE, &[]), &[]).await);
    idp.advance(61);
    let expired = refused(browser.open(&browser_url(&idp, DESKTOP, &uri)).await.unwrap());
    assert!(expired.contains("unknown, expired or already used"), "{expired}");

    // Another client's request_uri, a made-up one, none with a client_id.
    let uri = request_uri(&push(&idp, &idp.request(FULL_SCOPE, &[]), &[]).await);
    let other = refused(browser.open(&browser_url(&idp, ITEMS_API_CLIENT_ID, &uri)).await.unwrap());
    assert!(other.contains("another application"), "{other}");
    let forged =
        refused(browser.open(&browser_url(&idp, DESKTOP, "urn:ietf:params:oauth:request_uri:made-up")).await.unwrap());
    assert!(forged.contains("unknown"), "{forged}");
    let mut no_client = Url::parse(&idp.endpoint("authorize")).unwrap();
    no_client.query_pairs_mut().append_pair("request_uri", &uri);
    refused(browser.open(no_client.as_str()).await.unwrap());
}

#[tokio::test]
async fn only_the_pushed_parameters_count() {
    let idp = start().await;
    let request = idp.request("openid", &[]);
    let uri = request_uri(&push(&idp, &request, &[]).await);
    // Parameters beside the request_uri in the browser's URL are ignored:
    // another redirect URI and more scopes change nothing.
    let mut url = Url::parse(&browser_url(&idp, DESKTOP, &uri)).unwrap();
    url.query_pairs_mut()
        .append_pair("redirect_uri", "http://127.0.0.1:1/elsewhere")
        .append_pair("scope", "openid items:write");
    let redirect = Browser::new().sign_in(url.as_str(), ALICE.0, ALICE.1).await.unwrap();
    assert!(redirect.as_str().starts_with(&request.redirect_uri), "{redirect}");
    let tokens = idp.exchange(&request, &redirect).await;
    assert_eq!(tokens.json["scope"], "openid", "{}", tokens.json);
}

#[tokio::test]
async fn bad_pushed_requests_get_json_errors() {
    let idp = start().await;
    let request = idp.request(FULL_SCOPE, &[]);
    for (extra, status, error) in [
        (vec![("redirect_uri", "https://evil.example/callback")], StatusCode::BAD_REQUEST, "invalid_request"),
        (vec![("redirect_uri", "")], StatusCode::BAD_REQUEST, "invalid_request"),
        (vec![("request_uri", "urn:ietf:params:oauth:request_uri:x")], StatusCode::BAD_REQUEST, "invalid_request"),
        (vec![("code_challenge", "")], StatusCode::BAD_REQUEST, "invalid_request"),
        (vec![("code_challenge_method", "plain")], StatusCode::BAD_REQUEST, "invalid_request"),
        (vec![("scope", "openid items:admin")], StatusCode::BAD_REQUEST, "invalid_scope"),
        (vec![("response_type", "token")], StatusCode::BAD_REQUEST, "unsupported_response_type"),
        (vec![("client_id", "nobody")], StatusCode::UNAUTHORIZED, "invalid_client"),
        (vec![("client_id", "")], StatusCode::UNAUTHORIZED, "invalid_client"),
    ] {
        let answer = push(&idp, &request, &extra).await;
        assert_eq!((answer.status, answer.error()), (status, error), "{extra:?}: {}", answer.json);
    }
    // A confidential client must authenticate.
    let answer = push(&idp, &request, &[("client_id", ITEMS_API_CLIENT_ID)]).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.json);
}

#[tokio::test]
async fn a_client_that_requires_par_cannot_send_its_request_through_the_browser() {
    let idp = start_with(|config| {
        for client in &mut config.clients {
            client.require_pushed_authorization_requests = true;
        }
    })
    .await;
    let request = idp.request(FULL_SCOPE, &[]);
    let page = Browser::new().open(&request.url).await.unwrap();
    let Page::Redirect(redirect) = page else { panic!("an error redirect, got {page:?}") };
    assert_eq!(query(&redirect, "error").as_deref(), Some("invalid_request"));
    assert!(query(&redirect, "error_description").is_some_and(|d| d.contains("PAR")), "{redirect}");
    // Pushed, it works.
    let uri = request_uri(&push(&idp, &request, &[]).await);
    let redirect = Browser::new().sign_in(&browser_url(&idp, DESKTOP, &uri), ALICE.0, ALICE.1).await.unwrap();
    assert!(query(&redirect, "code").is_some(), "{redirect}");
}

#[tokio::test]
async fn a_provider_can_offer_no_pushed_requests() {
    let idp = start_with(|config| config.pushed_authorization_requests = false).await;
    let document = idp.discovery().await;
    assert_eq!(document.get("pushed_authorization_request_endpoint"), None);
    let answer = push(&idp, &idp.request(FULL_SCOPE, &[]), &[]).await;
    assert_eq!((answer.status, answer.error()), (StatusCode::BAD_REQUEST, "invalid_request"), "{}", answer.json);
}
