//! The refresh exchange (RFC 6749 §6, OIDC Core §12.2).

use std::time::Duration;

use signin::Rotation;
use signin::flow::SigninError;
use signin::flow::browser::HttpBrowser;
use signin::flow::login::AuthOptions;
use signin::flow::refresh::refresh;

use crate::support::{ALICE, ALICE_SUB, LOCALHOST_V4, loopback_sign_in, start, within};

#[tokio::test]
async fn a_refresh_rotates_the_refresh_token_and_keeps_the_person() {
    let env = start().await;
    let browser = HttpBrowser::new(ALICE.0, ALICE.1);
    let signed_in = loopback_sign_in(&env, LOCALHOST_V4, None, &browser, &AuthOptions::default()).await.unwrap();
    let old = signed_in.refresh_token.clone().unwrap();
    let refreshed = within("a refresh", refresh(&env.provider, &signed_in.key, &old, None, None)).await.unwrap();
    let tokens = &refreshed.tokens;
    assert_ne!(tokens.access_token.secret(), signed_in.tokens.access_token.secret());
    let Rotation::Rotated(new) = refreshed.refresh_token else { panic!("rotation is on in dev-idp") };
    assert_ne!(new.secret(), old.secret(), "rotation is on in dev-idp");
    assert!(tokens.id_token.is_some(), "dev-idp sends a new ID token");
    assert!(tokens.scopes.iter().any(|s| s == "items:read"));

    // Narrower scopes are fine.
    let narrow_scopes = ["openid".to_owned(), "offline_access".to_owned()];
    let narrowing = refresh(&env.provider, &signed_in.key, &new, Some(&narrow_scopes), None);
    let narrow = within("a refresh", narrowing).await.unwrap();
    assert!(!narrow.tokens.scopes.iter().any(|s| s == "items:read"), "{:?}", narrow.tokens.scopes);

    // The first token, reused after the grace period: the family is revoked.
    env.clock.advance(Duration::from_secs(31));
    let error = within("a refresh", refresh(&env.provider, &signed_in.key, &old, None, None)).await.unwrap_err();
    assert!(matches!(error, SigninError::RefreshTokenRejected { .. }), "{error:?}");
    assert!(error.to_string().contains("sign in again"), "{error}");
    let Rotation::Rotated(current) = narrow.refresh_token else { panic!("rotated again") };
    let error = within("a refresh", refresh(&env.provider, &signed_in.key, &current, None, None)).await.unwrap_err();
    assert!(matches!(error, SigninError::RefreshTokenRejected { .. }), "the whole family: {error:?}");
    assert_eq!(signed_in.key.subject, ALICE_SUB);
}

#[tokio::test]
async fn an_account_of_another_provider_is_not_refreshed_here() {
    let env = start().await;
    let browser = HttpBrowser::new(ALICE.0, ALICE.1);
    let signed_in = loopback_sign_in(&env, LOCALHOST_V4, None, &browser, &AuthOptions::default()).await.unwrap();
    let mut key = signed_in.key.clone();
    key.issuer = "https://other.example/oauth2/default".to_owned();
    let error =
        within("a refresh", refresh(&env.provider, &key, signed_in.refresh_token.as_ref().unwrap(), None, None))
            .await
            .unwrap_err();
    assert!(matches!(error, SigninError::IssuerMismatch { .. }), "{error:?}");
}
