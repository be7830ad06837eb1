use dev_idp::testing::Browser;
use reqwest::StatusCode;

use crate::support::{ALICE, DESKTOP, FULL_SCOPE, claims, start, start_with};

#[tokio::test]
async fn refresh_rotates_keeps_the_person_and_allows_the_old_token_for_the_grace_period() {
    let idp = start().await;
    let browser = Browser::new();
    let first = idp.sign_in(&browser, ALICE, FULL_SCOPE).await;
    let old = first["refresh_token"].as_str().unwrap();
    let first_id = claims(first["id_token"].as_str().unwrap());

    idp.advance(60);
    let second = idp.refresh(old).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.json);
    let new = second.json["refresh_token"].as_str().unwrap();
    assert_ne!(new, old, "rotated");
    let id = claims(second.json["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], first_id["iss"]);
    assert_eq!(id["sub"], first_id["sub"]);
    assert_eq!(id["auth_time"], first_id["auth_time"], "auth_time is the original sign-in");
    assert!(id.get("nonce").is_none());
    assert_ne!(second.json["access_token"], first["access_token"]);

    // A retry within 30 s (a lost response) still works.
    idp.advance(29);
    let retry = idp.refresh(old).await;
    assert_eq!(retry.status, StatusCode::OK, "grace period: {}", retry.json);
    let newest = retry.json["refresh_token"].as_str().unwrap().to_owned();

    // After the grace period, reuse is theft: the whole family dies.
    assert_eq!(idp.idp.provider().reused_refresh_tokens(), 0, "a retry within the grace period is no reuse");
    idp.advance(2);
    let stolen = idp.refresh(old).await;
    assert_eq!(stolen.error(), "invalid_grant");
    assert_eq!(idp.idp.provider().reused_refresh_tokens(), 1, "tests count the revoked families");
    assert_eq!(idp.refresh(new).await.error(), "invalid_grant", "family revoked");
    assert_eq!(idp.refresh(&newest).await.error(), "invalid_grant", "family revoked");
    let access = retry.json["access_token"].as_str().unwrap();
    assert_eq!(idp.introspect(access).await["active"], false, "access tokens of the family revoked");
}

#[tokio::test]
async fn without_rotation_the_same_refresh_token_keeps_working() {
    let idp = start_with(|c| c.refresh_token_rotation.enabled = false).await;
    let browser = Browser::new();
    let tokens = idp.sign_in(&browser, ALICE, FULL_SCOPE).await;
    let token = tokens["refresh_token"].as_str().unwrap();
    for _ in 0..3 {
        idp.advance(3600);
        let answer = idp.refresh(token).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json);
        assert_eq!(answer.json["refresh_token"], token);
    }
}

#[tokio::test]
async fn scopes_may_narrow_on_refresh_but_never_widen() {
    let idp = start().await;
    let browser = Browser::new();
    let tokens = idp.sign_in(&browser, ALICE, "openid offline_access items:read").await;
    let token = tokens["refresh_token"].as_str().unwrap();
    let narrow = idp
        .post(
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", DESKTOP),
                ("refresh_token", token),
                ("scope", "items:read"),
            ],
            None,
        )
        .await;
    assert_eq!(narrow.status, StatusCode::OK, "{}", narrow.json);
    assert_eq!(narrow.json["scope"], "items:read");
    assert!(narrow.json.get("id_token").is_none(), "no openid, no ID token");
    let next = narrow.json["refresh_token"].as_str().unwrap();
    let wide = idp
        .post(
            "token",
            &[
                ("grant_type", "refresh_token"),
                ("client_id", DESKTOP),
                ("refresh_token", next),
                ("scope", "items:read items:write"),
            ],
            None,
        )
        .await;
    assert_eq!(wide.error(), "invalid_scope");
}

#[tokio::test]
async fn revoked_expired_and_foreign_refresh_tokens_are_invalid_grant() {
    let idp = start_with(|c| {
        c.lifetimes.refresh_token_secs = 1000;
        c.clients[1].grant_types.push("refresh_token".to_owned());
    })
    .await;
    let browser = Browser::new();
    let tokens = idp.sign_in(&browser, ALICE, FULL_SCOPE).await;
    let token = tokens["refresh_token"].as_str().unwrap();

    // Another client cannot use it.
    let foreign = idp
        .post(
            "token",
            &[("grant_type", "refresh_token"), ("refresh_token", token)],
            Some(("items-api", dev_idp::config::ITEMS_API_DEMO_SECRET)),
        )
        .await;
    assert_eq!(foreign.error(), "invalid_grant");

    // Revoked through /revoke.
    let revoked = idp
        .post("revoke", &[("client_id", DESKTOP), ("token", token), ("token_type_hint", "refresh_token")], None)
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(idp.refresh(token).await.error(), "invalid_grant");

    // Expired.
    let tokens = idp.sign_in(&browser, ALICE, FULL_SCOPE).await;
    let token = tokens["refresh_token"].as_str().unwrap();
    idp.advance(1001);
    assert_eq!(idp.refresh(token).await.error(), "invalid_grant");
}

/// Signs alice in and refreshes once: the rotated-away refresh token and
/// its successor.
async fn rotated_once(idp: &crate::support::Idp) -> (String, String) {
    let first = idp.sign_in(&Browser::new(), ALICE, FULL_SCOPE).await;
    let old = first["refresh_token"].as_str().unwrap().to_owned();
    let second = idp.refresh(&old).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.json);
    (old, second.json["refresh_token"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn the_grace_period_is_a_setting_and_ends_exactly_at_its_last_second() {
    let idp = start_with(|c| c.refresh_token_rotation.grace_period_secs = 10).await;
    let (old, new) = rotated_once(&idp).await;
    // One second before the end: the old token still answers new tokens.
    idp.advance(9);
    let retry = idp.refresh(&old).await;
    assert_eq!(retry.status, StatusCode::OK, "inside the grace period: {}", retry.json);
    let newest = retry.json["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(newest, old, "a retry answers a new refresh token");
    // Ten seconds after the rotation: reuse, and the whole family is revoked.
    idp.advance(1);
    assert_eq!(idp.refresh(&old).await.error(), "invalid_grant", "grace period over");
    for token in [&new, &newest] {
        assert_eq!(idp.refresh(token).await.error(), "invalid_grant", "family revoked");
    }
}

#[tokio::test]
async fn the_default_grace_period_is_okta_s_30_seconds() {
    let idp = start().await;
    assert_eq!(idp.idp.provider().config().refresh_token_rotation.grace_period_secs, 30);
    let (old, new) = rotated_once(&idp).await;
    idp.advance(29);
    assert_eq!(idp.refresh(&old).await.status, StatusCode::OK, "29 s after the rotation");
    idp.advance(1);
    assert_eq!(idp.refresh(&old).await.error(), "invalid_grant", "30 s after the rotation");
    assert_eq!(idp.refresh(&new).await.error(), "invalid_grant", "family revoked");
}

#[tokio::test]
async fn with_no_grace_period_the_first_reuse_revokes_the_family() {
    let idp = start_with(|c| c.refresh_token_rotation.grace_period_secs = 0).await;
    let (old, new) = rotated_once(&idp).await;
    assert_eq!(idp.refresh(&old).await.error(), "invalid_grant");
    assert_eq!(idp.refresh(&new).await.error(), "invalid_grant", "family revoked");
}
