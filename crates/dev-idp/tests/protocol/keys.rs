use dev_idp::testing::Browser;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::{ALICE, FULL_SCOPE, header, start};

async fn kids(idp: &crate::support::Idp) -> Vec<String> {
    let jwks: Value = idp.http.get(idp.endpoint("keys")).send().await.unwrap().json().await.unwrap();
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn rotation_publishes_a_new_key_keeps_the_previous_one_and_then_drops_it() {
    let idp = start().await;
    let browser = Browser::new();
    let before = idp.sign_in(&browser, ALICE, FULL_SCOPE).await;
    let old_access = before["access_token"].as_str().unwrap().to_owned();
    let old_kid = header(&old_access)["kid"].as_str().unwrap().to_owned();

    let origin = idp.issuer().trim_end_matches("/oauth2/default").to_owned();
    let rotated: Value =
        idp.http.post(format!("{origin}/admin/rotate-keys")).send().await.unwrap().json().await.unwrap();
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(kids(&idp).await, [new_kid.clone(), old_kid.clone()]);

    let after = idp.sign_in(&browser, ALICE, FULL_SCOPE).await;
    assert_eq!(header(after["access_token"].as_str().unwrap())["kid"], new_kid.as_str());
    assert_eq!(header(after["id_token"].as_str().unwrap())["kid"], new_kid.as_str());
    assert_eq!(idp.userinfo(&old_access).await.0, StatusCode::OK, "old key still published");

    let third = idp.idp.provider().rotate_keys().unwrap();
    assert_eq!(kids(&idp).await, [third, new_kid]);
    assert_eq!(idp.userinfo(&old_access).await.0, StatusCode::UNAUTHORIZED, "old key gone");
    assert_eq!(idp.introspect(&old_access).await["active"], false);
}
