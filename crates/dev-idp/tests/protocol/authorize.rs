use dev_idp::testing::{Browser, Page};
use reqwest::StatusCode;

use crate::support::{ALICE, BOB, DESKTOP, FULL_SCOPE, expect_error_redirect, query, start};

#[tokio::test]
async fn sign_in_and_consent_redirect_back_with_code_state_and_iss() {
    let idp = start().await;
    let browser = Browser::new();
    let request = idp.request(FULL_SCOPE, &[]);
    let Page::SignIn(form) = browser.open(&request.url).await.unwrap() else { panic!("sign-in form first") };
    assert_eq!(form.buttons, ["sign-in", "cancel"]);
    let page = browser.submit(&form, &[("username", ALICE.0), ("password", ALICE.1)], "sign-in").await.unwrap();
    let Page::Consent(consent) = page else { panic!("consent after sign-in, got {page:?}") };
    let Page::Redirect(url) = browser.submit(&consent, &[], "allow").await.unwrap() else { panic!("redirect") };
    assert!(url.as_str().starts_with("http://127.0.0.1:8765/callback?"), "{url}");
    assert!(query(&url, "code").is_some_and(|c| c.len() >= 43));
    assert_eq!(query(&url, "state").as_deref(), Some(request.state.as_str()));
    assert_eq!(query(&url, "iss").as_deref(), Some(idp.issuer()));
}

#[tokio::test]
async fn loopback_redirects_match_any_port_on_both_ip_families_and_custom_schemes_exactly() {
    let idp = crate::support::start_with(|c| c.loopback_any_port = true).await;
    let browser = Browser::new();
    for redirect in ["http://127.0.0.1:1/callback", "http://[::1]:65000/callback", "com.example.tessera:/callback"] {
        let request = idp.request("openid", &[("redirect_uri", redirect)]);
        let url = browser.sign_in(&request.url, ALICE.0, ALICE.1).await.unwrap();
        assert!(url.as_str().starts_with(redirect), "{url} for {redirect}");
        assert!(query(&url, "code").is_some());
        let tokens = idp.exchange(&request, &url).await;
        assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.json);
    }
}

#[tokio::test]
async fn a_bad_client_or_redirect_uri_is_shown_on_a_page_and_never_redirected() {
    let idp = start().await;
    let browser = Browser::new();
    for extra in [
        vec![("redirect_uri", "http://localhost:5000/callback")],
        vec![("redirect_uri", "http://127.0.0.1:5000/other")],
        vec![("redirect_uri", "https://evil.example/callback")],
        vec![("redirect_uri", "com.example.tessera:/callback#x")],
        vec![("redirect_uri", "")],
        vec![("client_id", "nobody")],
        vec![("client_id", "")],
    ] {
        let request = idp.request("openid", &extra);
        match browser.open(&request.url).await.unwrap() {
            Page::Error { status, message } => {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{extra:?}");
                assert!(!message.is_empty());
            }
            other => panic!("{extra:?} gave {other:?}"),
        }
    }
    // A repeated redirect_uri is ambiguous: also a page.
    let request = idp.request("openid", &[]);
    let page = browser.open(&format!("{}&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback", request.url)).await.unwrap();
    assert!(matches!(page, Page::Error { .. }), "{page:?}");
}

#[tokio::test]
async fn request_errors_go_back_to_the_client_with_state_and_iss() {
    let idp = start().await;
    let browser = Browser::new();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("code_challenge", ""), ("code_challenge_method", "")], "invalid_request"),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge_method", "")], "invalid_request"),
        (vec![("code_challenge", "too-short")], "invalid_request"),
        (vec![("state", "")], "invalid_request"),
        (vec![("response_type", "token")], "unsupported_response_type"),
        (vec![("response_type", "")], "invalid_request"),
        (vec![("scope", "openid items:delete")], "invalid_scope"),
        (vec![("scope", "openid items:admin")], "invalid_scope"),
        (vec![("scope", "")], "invalid_request"),
        (vec![("prompt", "none login")], "invalid_request"),
        (vec![("prompt", "select_account")], "invalid_request"),
        (vec![("max_age", "-1")], "invalid_request"),
        (vec![("response_mode", "fragment")], "invalid_request"),
    ];
    for (extra, error) in cases {
        let request = idp.request("openid", &extra);
        let page = browser.open(&request.url).await.unwrap();
        if extra.iter().any(|(n, v)| *n == "state" && v.is_empty()) {
            let Page::Redirect(url) = &page else { panic!("{page:?}") };
            assert_eq!(query(url, "error").as_deref(), Some(error));
            assert!(query(url, "state").is_none());
            continue;
        }
        let url = expect_error_redirect(&page, &request, error);
        assert_eq!(query(&url, "iss").as_deref(), Some(idp.issuer()), "{extra:?}");
        assert!(query(&url, "error_description").is_some_and(|d| !d.is_empty()));
    }
    let request = idp.request("openid", &[]);
    let page = browser.open(&format!("{}&scope=openid", request.url)).await.unwrap();
    expect_error_redirect(&page, &request, "invalid_request");
}

#[tokio::test]
async fn cancel_on_the_sign_in_form_and_deny_on_consent_answer_access_denied() {
    let idp = start().await;
    let browser = Browser::new();
    let request = idp.request("openid", &[]);
    let Page::SignIn(form) = browser.open(&request.url).await.unwrap() else { panic!() };
    let page = browser.submit(&form, &[], "cancel").await.unwrap();
    expect_error_redirect(&page, &request, "access_denied");
    // The interaction is over: submitting the same form again is refused.
    let again = browser.submit(&form, &[("username", ALICE.0), ("password", ALICE.1)], "sign-in").await.unwrap();
    assert!(matches!(again, Page::Error { status: StatusCode::BAD_REQUEST, .. }), "{again:?}");

    let request = idp.request("openid", &[]);
    let Page::SignIn(form) = browser.open(&request.url).await.unwrap() else { panic!() };
    let Page::Consent(consent) =
        browser.submit(&form, &[("username", ALICE.0), ("password", ALICE.1)], "sign-in").await.unwrap()
    else {
        panic!()
    };
    let page = browser.submit(&consent, &[], "deny").await.unwrap();
    expect_error_redirect(&page, &request, "access_denied");
}

#[tokio::test]
async fn a_wrong_password_shows_the_form_again_and_the_sign_in_can_still_finish() {
    let idp = start().await;
    let browser = Browser::new();
    let request = idp.request("openid", &[]);
    let Page::SignIn(form) = browser.open(&request.url).await.unwrap() else { panic!() };
    for (user, password) in [(ALICE.0, "wrong"), ("mallory", "x"), (ALICE.0, "")] {
        let Page::SignIn(again) =
            browser.submit(&form, &[("username", user), ("password", password)], "sign-in").await.unwrap()
        else {
            panic!("form again for {user}")
        };
        assert_eq!(again.error.as_deref(), Some("Wrong username or password."));
        assert_eq!(again.field("interaction"), form.field("interaction"));
    }
    let url = {
        let Page::Consent(c) = browser
            .submit(&form, &[("username", "ALICE@example.com"), ("password", ALICE.1)], "sign-in")
            .await
            .unwrap()
        else {
            panic!()
        };
        let Page::Redirect(url) = browser.submit(&c, &[], "allow").await.unwrap() else { panic!() };
        url
    };
    assert_eq!(idp.exchange(&request, &url).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_session_is_reused_until_prompt_or_max_age_says_otherwise() {
    let idp = start().await;
    let browser = Browser::new();
    idp.sign_in(&browser, ALICE, "openid items:read").await;

    // Same browser, same scopes: straight back, no form, no consent.
    let request = idp.request("openid items:read", &[]);
    let Page::Redirect(url) = browser.open(&request.url).await.unwrap() else { panic!("session reused") };
    assert!(query(&url, "code").is_some());

    // prompt=none works with a session and consent in place.
    let request = idp.request("openid", &[("prompt", "none")]);
    let Page::Redirect(url) = browser.open(&request.url).await.unwrap() else { panic!() };
    assert!(query(&url, "code").is_some(), "{url}");

    // More scopes than consented: prompt=none fails with consent_required.
    let request = idp.request("openid items:read items:write", &[("prompt", "none")]);
    expect_error_redirect(&browser.open(&request.url).await.unwrap(), &request, "consent_required");

    // prompt=consent asks again even though consent exists.
    let request = idp.request("openid", &[("prompt", "consent")]);
    let page = browser.open(&request.url).await.unwrap();
    let Page::Consent(form) = page else { panic!("consent again, got {page:?}") };
    assert!(matches!(browser.submit(&form, &[], "allow").await.unwrap(), Page::Redirect(_)));

    // prompt=login asks for credentials again, and may switch the person.
    let request = idp.request("openid", &[("prompt", "login consent"), ("login_hint", "bob")]);
    let Page::SignIn(form) = browser.open(&request.url).await.unwrap() else { panic!("form again") };
    assert_eq!(form.field("username"), Some("bob"), "login_hint prefills");
    let Page::Consent(consent) = browser.submit(&form, &[("password", BOB.1)], "sign-in").await.unwrap() else {
        panic!()
    };
    let Page::Redirect(url) = browser.submit(&consent, &[], "allow").await.unwrap() else { panic!() };
    let tokens = idp.exchange(&request, &url).await.json;
    let id = crate::support::claims(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["sub"], "00u2bob00000000002", "bob now");

    // max_age: a fresh enough sign-in passes, an old one asks again.
    let request = idp.request("openid", &[("max_age", "600")]);
    assert!(matches!(browser.open(&request.url).await.unwrap(), Page::Redirect(_)));
    idp.advance(601);
    let request = idp.request("openid", &[("max_age", "600")]);
    assert!(matches!(browser.open(&request.url).await.unwrap(), Page::SignIn(_)));
    let request = idp.request("openid", &[("max_age", "600"), ("prompt", "none")]);
    expect_error_redirect(&browser.open(&request.url).await.unwrap(), &request, "login_required");
    let request = idp.request("openid", &[("max_age", "0")]);
    assert!(matches!(browser.open(&request.url).await.unwrap(), Page::SignIn(_)));
}

#[tokio::test]
async fn prompt_none_without_a_session_answers_login_required() {
    let idp = start().await;
    let request = idp.request("openid", &[("prompt", "none")]);
    let page = Browser::new().open(&request.url).await.unwrap();
    expect_error_redirect(&page, &request, "login_required");
}

#[tokio::test]
async fn the_session_expires() {
    let idp = start().await;
    let browser = Browser::new();
    idp.sign_in(&browser, ALICE, "openid").await;
    idp.advance(2 * 3600 + 1);
    let request = idp.request("openid", &[]);
    assert!(matches!(browser.open(&request.url).await.unwrap(), Page::SignIn(_)));
}

#[tokio::test]
async fn an_unused_sign_in_form_expires() {
    let idp = start().await;
    let browser = Browser::new();
    let request = idp.request("openid", &[]);
    let Page::SignIn(form) = browser.open(&request.url).await.unwrap() else { panic!() };
    idp.advance(901);
    let page = browser.submit(&form, &[("username", ALICE.0), ("password", ALICE.1)], "sign-in").await.unwrap();
    assert!(matches!(page, Page::Error { status: StatusCode::BAD_REQUEST, .. }), "{page:?}");
}

#[tokio::test]
async fn the_authorization_request_may_be_posted() {
    let idp = start().await;
    let request = idp.request("openid", &[]);
    let (_, query) = request.url.split_once('?').unwrap();
    let response = idp
        .http
        .post(idp.endpoint("authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(query.to_owned())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("id=\"sign-in\""));
    let _ = DESKTOP;
}

#[tokio::test]
async fn prompt_consent_with_a_live_session_asks_consent_and_keeps_the_sessions_person() {
    // Okta: with a browser session, prompt=consent shows consent again and
    // signs the same person in; it neither asks for credentials nor switches.
    let idp = start().await;
    let browser = Browser::new();
    idp.sign_in(&browser, ALICE, "openid profile").await;

    let request = idp.request("openid profile", &[("prompt", "consent"), ("login_hint", "bob")]);
    let (status, html) = browser.get(&request.url).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Alice Liddell"), "consent names the session's person: {html}");
    assert!(!html.contains("name=\"password\""), "no credentials asked");
    let request = idp.request("openid profile", &[("prompt", "consent"), ("login_hint", "bob")]);
    let page = browser.open(&request.url).await.unwrap();
    let Page::Consent(form) = page else { panic!("consent, not the sign-in form: {page:?}") };
    let Page::Redirect(url) = browser.submit(&form, &[], "allow").await.unwrap() else { panic!("redirect") };
    let tokens = idp.exchange(&request, &url).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.json);
    let id = crate::support::claims(tokens.json["id_token"].as_str().unwrap());
    assert_eq!(id["sub"], "00u1alice0000000001", "still alice, whatever login_hint says");

    // prompt=login asks for credentials, and the person may change there.
    let request = idp.request("openid profile", &[("prompt", "login")]);
    let Page::SignIn(form) = browser.open(&request.url).await.unwrap() else { panic!("credentials asked") };
    let page = browser.submit(&form, &[("username", BOB.0), ("password", BOB.1)], "sign-in").await.unwrap();
    let Page::Consent(consent) = page else { panic!("bob has not consented yet: {page:?}") };
    let Page::Redirect(url) = browser.submit(&consent, &[], "allow").await.unwrap() else { panic!("redirect") };
    let id = crate::support::claims(idp.exchange(&request, &url).await.json["id_token"].as_str().unwrap());
    assert_eq!(id["sub"], "00u2bob00000000002");
}
