use dev_idp::testing::{Browser, Page};
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{ALICE, DESKTOP, Idp, claims, start, start_with};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn authorize(idp: &Idp, scope: &str) -> Value {
    let answer = idp.post("device/authorize", &[("client_id", DESKTOP), ("scope", scope)], None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
    answer.json
}

async fn poll(idp: &Idp, device_code: &str) -> crate::support::Answer {
    idp.post("token", &[("grant_type", DEVICE_GRANT), ("client_id", DESKTOP), ("device_code", device_code)], None).await
}

#[tokio::test]
async fn the_device_flow_goes_pending_then_slow_down_then_tokens_once_approved() {
    let idp = start().await;
    let device = authorize(&idp, "openid profile offline_access").await;
    let origin = idp.issuer().trim_end_matches("/oauth2/default").to_owned();
    assert_eq!(device["verification_uri"], format!("{origin}/activate").as_str());
    let user_code = device["user_code"].as_str().unwrap();
    assert_eq!(device["verification_uri_complete"], format!("{origin}/activate?user_code={user_code}").as_str());
    assert_eq!(device["interval"], 5);
    assert_eq!(device["expires_in"], 600);
    let device_code = device["device_code"].as_str().unwrap();

    assert_eq!(poll(&idp, device_code).await.error(), "authorization_pending");
    assert_eq!(poll(&idp, device_code).await.error(), "slow_down", "polled at once");
    idp.advance(9);
    assert_eq!(poll(&idp, device_code).await.error(), "slow_down", "the interval grew to 10 s");
    idp.advance(15);
    assert_eq!(poll(&idp, device_code).await.error(), "authorization_pending", "15 s is enough");

    // The person types the code (in lower case, with a space) and signs in.
    let browser = Browser::new();
    let Page::DeviceCode(form) = browser.open(&format!("{origin}/activate")).await.unwrap() else { panic!() };
    let typed = user_code.replace('-', " ").to_lowercase();
    let Page::Device(form) = browser.submit(&form, &[("user_code", &typed)], "").await.unwrap() else { panic!() };
    let page = browser.submit(&form, &[("username", ALICE.0), ("password", "wrong")], "approve").await.unwrap();
    let Page::Device(form) = page else { panic!("asked again, got {page:?}") };
    assert_eq!(form.error.as_deref(), Some("Wrong username or password."));
    let page = browser.submit(&form, &[("username", ALICE.0), ("password", ALICE.1)], "approve").await.unwrap();
    assert!(matches!(page, Page::Other { status: StatusCode::OK, .. }), "{page:?}");

    idp.advance(15);
    let tokens = poll(&idp, device_code).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.json);
    assert_eq!(claims(tokens.json["id_token"].as_str().unwrap())["sub"], "00u1alice0000000001");
    assert!(tokens.json["refresh_token"].is_string());
    idp.advance(10);
    assert_eq!(poll(&idp, device_code).await.error(), "invalid_grant", "a device code is used once");
}

#[tokio::test]
async fn a_denied_device_gets_access_denied_and_an_old_one_expired_token() {
    let idp = start_with(|c| c.device.poll_interval_secs = 0).await;
    let device = authorize(&idp, "openid").await;
    let browser = Browser::new();
    let Page::Device(form) = browser.open(device["verification_uri_complete"].as_str().unwrap()).await.unwrap() else {
        panic!()
    };
    let page = browser.submit(&form, &[], "deny").await.unwrap();
    assert!(matches!(page, Page::Other { .. }), "{page:?}");
    assert_eq!(poll(&idp, device["device_code"].as_str().unwrap()).await.error(), "access_denied");

    let device = authorize(&idp, "openid").await;
    idp.advance(601);
    assert_eq!(poll(&idp, device["device_code"].as_str().unwrap()).await.error(), "expired_token");
    let page = browser.open(device["verification_uri_complete"].as_str().unwrap()).await.unwrap();
    let Page::DeviceCode(form) = page else { panic!("expired code is refused: {page:?}") };
    assert!(form.error.is_some());
}

#[tokio::test]
async fn a_signed_in_browser_approves_without_a_password() {
    let idp = start_with(|c| c.device.poll_interval_secs = 0).await;
    let browser = Browser::new();
    idp.sign_in(&browser, ALICE, "openid").await;
    let device = authorize(&idp, "openid").await;
    let Page::Device(form) = browser.open(device["verification_uri_complete"].as_str().unwrap()).await.unwrap() else {
        panic!()
    };
    assert!(form.field("password").is_none(), "already signed in");
    browser.submit(&form, &[], "approve").await.unwrap();
    assert_eq!(poll(&idp, device["device_code"].as_str().unwrap()).await.status, StatusCode::OK);
}

#[tokio::test]
async fn device_authorization_checks_client_and_scopes() {
    let idp = start().await;
    let answer = idp.post("device/authorize", &[("client_id", DESKTOP), ("scope", "openid items:admin")], None).await;
    assert_eq!(answer.error(), "invalid_scope");
    let answer = idp.post("device/authorize", &[("client_id", DESKTOP)], None).await;
    assert_eq!(answer.error(), "invalid_request");
    let answer = idp.post("device/authorize", &[("client_id", "nobody"), ("scope", "openid")], None).await;
    assert_eq!(answer.error(), "invalid_client");
    let answer = idp
        .post(
            "device/authorize",
            &[("scope", "items:read")],
            Some(("items-api", dev_idp::config::ITEMS_API_DEMO_SECRET)),
        )
        .await;
    assert_eq!(answer.error(), "unauthorized_client");
    assert_eq!(poll(&idp, "unknown").await.error(), "invalid_grant");
}
