//! Deep-link completion (RFC 8252 §7.1): a callback URL handed in from the
//! desktop shell completes the pending sign-in with its `state`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use dev_idp::testing::Browser as Driver;
use openidconnect::RedirectUrl;
use signin::flow::SigninError;
use signin::flow::login::AuthOptions;
use signin::flow::pending::PendingLogins;
use url::Url;

use crate::support::{ALICE, ALICE_SUB, Env, client_id, scopes, start, with_param, within};

const DEEP_LINK: &str = "com.example.tessera:/callback";

/// Begins a deep-link sign-in, registers it, and signs alice in: the
/// callback URL the OS would hand to the app.
async fn begin_and_sign_in(env: &Env, registry: &PendingLogins) -> Url {
    let redirect = RedirectUrl::new(DEEP_LINK.to_owned()).unwrap();
    let url = registry.begin(&env.provider, &client_id(), redirect, &scopes(), &AuthOptions::default()).unwrap();
    let callback =
        within("dev-idp's sign-in pages", Driver::new().sign_in(url.as_str(), ALICE.0, ALICE.1)).await.unwrap();
    assert_eq!(callback.scheme(), "com.example.tessera");
    callback
}

#[tokio::test]
async fn a_deep_link_completes_the_sign_in_with_its_state_once() {
    let env = start().await;
    let registry = PendingLogins::default();
    let first = within("a sign-in at dev-idp", begin_and_sign_in(&env, &registry)).await;
    let second = within("a sign-in at dev-idp", begin_and_sign_in(&env, &registry)).await;
    assert_eq!(registry.len(), 2);
    // Out of order: each finds its own.
    let signed_in = within("completing a deep link", registry.complete_from_url(&env.provider, &second)).await.unwrap();
    assert_eq!(signed_in.key.subject, ALICE_SUB);
    let signed_in = within("completing a deep link", registry.complete_from_url(&env.provider, &first)).await.unwrap();
    assert_eq!(signed_in.key.subject, ALICE_SUB);
    assert!(registry.is_empty());
    let again = within("completing a deep link", registry.complete_from_url(&env.provider, &first)).await.unwrap_err();
    assert!(matches!(again, SigninError::UnknownState), "{again:?}");
}

#[tokio::test]
async fn an_unknown_or_missing_state_is_a_clear_error() {
    let env = start().await;
    let registry = PendingLogins::default();
    let callback = within("a sign-in at dev-idp", begin_and_sign_in(&env, &registry)).await;
    let error = within(
        "completing a deep link",
        registry.complete_from_url(&env.provider, &with_param(&callback, "state", Some("other"))),
    )
    .await;
    let error = error.unwrap_err();
    assert!(matches!(error, SigninError::UnknownState), "{error:?}");
    assert!(error.to_string().contains("sign in again"), "{error}");
    let error = within(
        "completing a deep link",
        registry.complete_from_url(&env.provider, &with_param(&callback, "state", None)),
    )
    .await
    .unwrap_err();
    assert!(matches!(error, SigninError::MissingState), "{error:?}");
    assert_eq!(registry.len(), 1, "the real one still waits");
}

#[tokio::test]
async fn a_deep_link_still_checks_iss() {
    let env = start().await;
    let registry = PendingLogins::default();
    let callback = within("a sign-in at dev-idp", begin_and_sign_in(&env, &registry)).await;
    let forged = with_param(&callback, "iss", Some("https://attacker.example"));
    let error = within("completing a deep link", registry.complete_from_url(&env.provider, &forged)).await.unwrap_err();
    assert!(matches!(error, SigninError::IssuerMismatch { .. }), "{error:?}");
}

/// The link must come back on this sign-in's redirect URI: another path or
/// another scheme carrying the right answer is refused (the pending sign-in
/// is then spent: a link handed in by another app must not complete it).
#[tokio::test]
async fn a_link_on_another_scheme_or_path_is_refused() {
    let env = start().await;
    let registry = PendingLogins::default();
    for elsewhere in ["com.example.tessera:/elsewhere", "com.example.other:/callback", "https://app.example/callback"] {
        let callback = within("a sign-in at dev-idp", begin_and_sign_in(&env, &registry)).await;
        let mut forged = Url::parse(elsewhere).unwrap();
        forged.set_query(callback.query());
        let error =
            within("completing a deep link", registry.complete_from_url(&env.provider, &forged)).await.unwrap_err();
        assert!(matches!(error, SigninError::BadCallback(_)), "{elsewhere}: {error:?}");
        assert!(error.to_string().contains("redirect URI"), "{elsewhere}: {error}");
    }
}

#[tokio::test]
async fn pending_sign_ins_expire() {
    let env = start().await;
    let offset = Arc::new(AtomicU64::new(0));
    let now = {
        let offset = offset.clone();
        Arc::new(move || SystemTime::now() + Duration::from_secs(offset.load(Ordering::SeqCst)))
    };
    let registry = PendingLogins::with_clock(Duration::from_secs(600), now);
    let callback = within("a sign-in at dev-idp", begin_and_sign_in(&env, &registry)).await;
    offset.store(601, Ordering::SeqCst);
    let error =
        within("completing a deep link", registry.complete_from_url(&env.provider, &callback)).await.unwrap_err();
    assert!(matches!(error, SigninError::ExpiredSignin), "{error:?}");
    assert!(error.to_string().contains("expired"), "{error}");

    // Within the time it works.
    offset.store(0, Ordering::SeqCst);
    let callback = within("a sign-in at dev-idp", begin_and_sign_in(&env, &registry)).await;
    offset.store(599, Ordering::SeqCst);
    assert_eq!(
        within("completing a deep link", registry.complete_from_url(&env.provider, &callback))
            .await
            .unwrap()
            .key
            .subject,
        ALICE_SUB
    );
}
