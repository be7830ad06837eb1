//! The checks on the provider's answer: `state` (RFC 8252 §8.9), `iss`
//! (RFC 9207), provider errors, and the authorization parameters sent.

use std::time::Duration;

use crate::support::{
    ALICE, ALICE_SUB, BOB, LOCALHOST_V4, client_id, loopback_sign_in, query, scopes, start, with_param, within,
};
use dev_idp::testing::{Browser as Driver, Page};
use signin::flow::SigninError;
use signin::flow::browser::HttpBrowser;
use signin::flow::login::{self, AuthOptions, Callback};
use signin::flow::provider::Provider;
use url::Url;

fn redirect_uri() -> openidconnect::RedirectUrl {
    openidconnect::RedirectUrl::new(crate::support::REGISTERED_REDIRECT.to_owned()).unwrap()
}

/// A loopback sign-in with `browser` that waits at most `timeout`.
async fn short_loopback_sign_in(
    env: &crate::support::Env,
    browser: &HttpBrowser,
    timeout: Duration,
) -> Result<signin::SignedIn, SigninError> {
    let listener = crate::support::registered_listener(LOCALHOST_V4).await;
    let cancel = tokio_util::sync::CancellationToken::new();
    let (client_id, scopes, options) = (client_id(), scopes(), AuthOptions::default());
    let request =
        signin::flow::redirect::Request { client_id: &client_id, scopes: &scopes, options: &options, timeout };
    let signing_in = signin::flow::redirect::sign_in(
        &env.provider,
        request,
        listener,
        browser,
        &crate::support::no_browser,
        &cancel,
    );
    within("a loopback sign-in", signing_in).await
}

/// RFC 8252 §8.9 with issue 14, item 9: an answer with another `state` is
/// refused with a page saying so, and does not end the sign-in (the real
/// answer may still come; here none does, so it times out).
#[tokio::test]
async fn a_different_state_is_refused_and_the_browser_told() {
    let env = start().await;
    let browser = HttpBrowser::new(ALICE.0, ALICE.1).rewriting(|url| with_param(&url, "state", Some("forged")));
    let error = short_loopback_sign_in(&env, &browser, Duration::from_secs(2)).await.unwrap_err();
    assert!(matches!(error, SigninError::TimedOut { .. }), "the forged answer did not end the wait: {error:?}");
    let delivered = within("the test browser's page", browser.delivered()).await.unwrap();
    assert_eq!(delivered.status, 400);
    assert!(delivered.body.contains("does not belong to the sign-in in progress"), "{}", delivered.body);
    // Completing with it directly is refused too.
    let (url, pending) =
        login::begin(&env.provider, &client_id(), redirect_uri(), &scopes(), &AuthOptions::default()).unwrap();
    let redirect =
        within("dev-idp's sign-in pages", Driver::new().sign_in(url.as_str(), ALICE.0, ALICE.1)).await.unwrap();
    let forged = Callback::from_url(&with_param(&redirect, "state", Some("forged"))).unwrap();
    let error = within("a refused completion", login::complete(&env.provider, pending, &forged)).await.unwrap_err();
    assert!(matches!(error, SigninError::StateMismatch), "{error:?}");
}

#[tokio::test]
async fn a_missing_state_is_refused() {
    let env = start().await;
    let browser = HttpBrowser::new(ALICE.0, ALICE.1).rewriting(|url| with_param(&url, "state", None));
    let error = short_loopback_sign_in(&env, &browser, Duration::from_secs(2)).await.unwrap_err();
    assert!(matches!(error, SigninError::TimedOut { .. }), "the answer without state did not end the wait: {error:?}");
    let delivered = within("the test browser's page", browser.delivered()).await.unwrap();
    assert_eq!(delivered.status, 400);
    let (url, pending) =
        login::begin(&env.provider, &client_id(), redirect_uri(), &scopes(), &AuthOptions::default()).unwrap();
    let redirect =
        within("dev-idp's sign-in pages", Driver::new().sign_in(url.as_str(), ALICE.0, ALICE.1)).await.unwrap();
    let stateless = Callback::from_url(&with_param(&redirect, "state", None)).unwrap();
    let error = within("a refused completion", login::complete(&env.provider, pending, &stateless)).await.unwrap_err();
    assert!(matches!(error, SigninError::MissingState), "{error:?}");
}

#[tokio::test]
async fn a_different_iss_is_refused_as_a_mix_up() {
    let env = start().await;
    let browser = HttpBrowser::new(ALICE.0, ALICE.1)
        .rewriting(|url| with_param(&url, "iss", Some("https://attacker.example/oauth2/default")));
    let error = loopback_sign_in(&env, LOCALHOST_V4, None, &browser, &AuthOptions::default()).await.unwrap_err();
    match &error {
        SigninError::IssuerMismatch { expected, got } => {
            assert_eq!(expected, env.idp.issuer());
            assert_eq!(got, "https://attacker.example/oauth2/default");
        }
        other => panic!("expected an issuer mismatch, got {other:?}"),
    }
    assert!(within("the test browser's page", browser.delivered()).await.unwrap().body.contains("mix-up"));
}

#[tokio::test]
async fn a_missing_iss_is_refused_when_discovery_promises_it() {
    let env = start().await;
    assert!(env.provider.iss_parameter_supported());
    let browser = HttpBrowser::new(ALICE.0, ALICE.1).rewriting(|url| with_param(&url, "iss", None));
    let error = loopback_sign_in(&env, LOCALHOST_V4, None, &browser, &AuthOptions::default()).await.unwrap_err();
    assert!(matches!(error, SigninError::MissingIssuer), "{error:?}");
}

#[tokio::test]
async fn a_missing_iss_is_accepted_when_discovery_does_not_promise_it() {
    let env = start().await;
    let mut metadata = env.provider.metadata().clone();
    metadata.additional_metadata_mut().authorization_response_iss_parameter_supported = false;
    let provider = Provider::from_metadata(metadata, env.http.clone());
    let (url, pending) =
        login::begin(&provider, &client_id(), redirect_uri(), &scopes(), &AuthOptions::default()).unwrap();
    let redirect =
        within("dev-idp's sign-in pages", Driver::new().sign_in(url.as_str(), ALICE.0, ALICE.1)).await.unwrap();
    let callback = Callback::from_url(&with_param(&redirect, "iss", None)).unwrap();
    let signed_in = within("the code exchange", login::complete(&provider, pending, &callback)).await.unwrap();
    assert_eq!(signed_in.key.subject, ALICE_SUB);
}

#[tokio::test]
async fn cancel_on_the_sign_in_form_is_access_denied_with_a_clear_message() {
    let env = start().await;
    let browser = HttpBrowser::new(ALICE.0, ALICE.1).cancelling();
    let error = loopback_sign_in(&env, LOCALHOST_V4, None, &browser, &AuthOptions::default()).await.unwrap_err();
    assert!(matches!(&error, SigninError::Provider { error, .. } if error == "access_denied"), "{error:?}");
    assert!(error.to_string().contains("cancelled"), "{error}");
    let delivered = within("the test browser's page", browser.delivered()).await.unwrap();
    assert_eq!(query(&delivered.redirect, "error").as_deref(), Some("access_denied"));
    assert_eq!(delivered.status, 400);
    assert!(delivered.body.contains("could not sign you in"), "{}", delivered.body);
}

#[tokio::test]
async fn a_replayed_code_is_refused_by_the_provider() {
    let env = start().await;
    let (url, pending) =
        login::begin(&env.provider, &client_id(), redirect_uri(), &scopes(), &AuthOptions::default()).unwrap();
    let redirect =
        within("dev-idp's sign-in pages", Driver::new().sign_in(url.as_str(), ALICE.0, ALICE.1)).await.unwrap();
    within("the code exchange", login::complete(&env.provider, pending, &Callback::from_url(&redirect).unwrap()))
        .await
        .unwrap();
    // Another pending sign-in (its own verifier) handed the used code.
    let (other_url, other) =
        login::begin(&env.provider, &client_id(), redirect_uri(), &scopes(), &AuthOptions::default()).unwrap();
    let replay = with_param(&redirect, "state", Some(&query(&other_url, "state").unwrap()));
    let error =
        within("the code exchange", login::complete(&env.provider, other, &Callback::from_url(&replay).unwrap()))
            .await
            .unwrap_err();
    assert!(matches!(&error, SigninError::TokenEndpoint { error, .. } if error == "invalid_grant"), "{error:?}");
    assert!(error.to_string().contains("sign in again"), "{error}");
}

fn authorize_url(env: &crate::support::Env, options: &AuthOptions) -> Url {
    login::begin(&env.provider, &client_id(), redirect_uri(), &scopes(), options).unwrap().0
}

#[tokio::test]
async fn prompt_variants_produce_the_right_authorization_parameters() {
    let env = start().await;
    let url = authorize_url(&env, &AuthOptions::default());
    assert_eq!(query(&url, "prompt"), None);
    assert_eq!(query(&url, "response_type").as_deref(), Some("code"));
    let scope = query(&url, "scope").unwrap();
    for wanted in ["openid", "profile", "email", "offline_access", "items:read"] {
        assert!(scope.split(' ').any(|s| s == wanted), "{scope}");
    }
    assert_eq!(scope.split(' ').filter(|s| *s == "openid").count(), 1);

    let url = authorize_url(
        &env,
        &AuthOptions {
            prompt: Some("login consent".to_owned()),
            login_hint: Some("bob".to_owned()),
            ..AuthOptions::default()
        },
    );
    assert_eq!(query(&url, "prompt").as_deref(), Some("login consent"));
    assert_eq!(query(&url, "login_hint").as_deref(), Some("bob"));

    let url = authorize_url(&env, &AuthOptions { prompt: Some("consent".to_owned()), ..AuthOptions::default() });
    assert_eq!(query(&url, "prompt").as_deref(), Some("consent"));
    assert_eq!(query(&url, "login_hint"), None);

    let url = authorize_url(&env, &AuthOptions { max_age: Some(Duration::ZERO), ..AuthOptions::default() });
    assert_eq!(query(&url, "max_age").as_deref(), Some("0"));
}

#[tokio::test]
async fn switching_users_with_login_consent_asks_for_credentials_and_gets_the_other_person() {
    let env = start().await;
    let browser = HttpBrowser::new(ALICE.0, ALICE.1);
    loopback_sign_in(&env, LOCALHOST_V4, None, &browser, &AuthOptions::default()).await.unwrap();
    let driver = browser.driver();

    // `consent` alone: the live session answers for alice, no form.
    let url = authorize_url(&env, &AuthOptions { prompt: Some("consent".to_owned()), ..AuthOptions::default() });
    let page = within("a dev-idp page", driver.open(url.as_str())).await.unwrap();
    assert!(matches!(page, Page::Consent(_)), "{page:?}");

    // `login consent` with a hint: the sign-in form, prefilled.
    let options = AuthOptions {
        prompt: Some("login consent".to_owned()),
        login_hint: Some(BOB.0.to_owned()),
        ..AuthOptions::default()
    };
    let url = authorize_url(&env, &options);
    let Page::SignIn(form) = within("a dev-idp page", driver.open(url.as_str())).await.unwrap() else {
        panic!("expected the sign-in form")
    };
    assert_eq!(form.field("username"), Some(BOB.0));

    // The same browser (alice's session) signs bob in through Tessera.
    let bob = browser.signing_in_as(BOB.0, BOB.1);
    let signed_in = loopback_sign_in(&env, LOCALHOST_V4, None, &bob, &options).await.unwrap();
    assert_ne!(signed_in.key.subject, ALICE_SUB);
    assert!(signed_in.identity.email.as_deref().is_some_and(|e| e.starts_with("bob")), "{:?}", signed_in.identity);
}

#[tokio::test]
async fn a_pending_login_does_not_print_its_secrets() {
    let env = start().await;
    let (url, pending) =
        login::begin(&env.provider, &client_id(), redirect_uri(), &scopes(), &AuthOptions::default()).unwrap();
    let printed = format!("{pending:?}");
    for name in ["state", "nonce"] {
        let secret = query(&url, name).unwrap();
        assert!(!printed.contains(&secret), "{name} printed: {printed}");
    }
    assert_eq!(pending.issuer().as_str(), env.idp.issuer());
    assert_eq!(pending.redirect_uri(), &redirect_uri());
}

#[tokio::test]
async fn discovery_is_cached_per_issuer() {
    let env = start().await;
    let issuer = crate::support::issuer(&env.idp);
    let first = within("discovery", Provider::discover(&issuer, &env.http)).await.unwrap();
    let second = within("discovery", Provider::discover(&issuer, &env.http)).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &second));
    assert!(first.metadata().additional_metadata().device_authorization_endpoint.is_some());
    let unreachable = openidconnect::IssuerUrl::new("http://127.0.0.1:9/oauth2/default".to_owned()).unwrap();
    let error = within("discovery", Provider::discover(&unreachable, &env.http)).await.unwrap_err();
    assert!(matches!(error, SigninError::Discovery { .. }), "{error:?}");
    assert!(error.to_string().contains("127.0.0.1:9"), "{error}");
}

#[tokio::test]
async fn switching_account_options_carry_prompt_and_hint() {
    let env = start().await;
    let url = authorize_url(&env, &AuthOptions::switching_account(Some("login consent"), Some("alice")));
    assert_eq!(query(&url, "prompt").as_deref(), Some("login consent"));
    assert_eq!(query(&url, "login_hint").as_deref(), Some("alice"));
}

/// The ID token's `exp` is read on the provider's clock (`clock::Clock`),
/// not the system's: on a clock two hours ahead, dev-idp's one-hour ID token
/// has expired, and the sign-in is refused.
#[tokio::test]
async fn an_id_token_expired_on_the_providers_clock_is_refused() {
    let env = start().await;
    let later = std::sync::Arc::new(dev_idp::ManualClock::starting_now());
    later.advance(Duration::from_secs(2 * 3600));
    let provider = Provider::from_metadata(env.provider.metadata().clone(), env.http.clone()).with_clock(later);
    let (url, pending) =
        login::begin(&provider, &client_id(), redirect_uri(), &scopes(), &AuthOptions::default()).unwrap();
    let redirect =
        within("dev-idp's sign-in pages", Driver::new().sign_in(url.as_str(), ALICE.0, ALICE.1)).await.unwrap();
    let callback = Callback::from_url(&redirect).unwrap();
    let error = within("the code exchange", login::complete(&provider, pending, &callback)).await.unwrap_err();
    assert!(
        matches!(error, SigninError::InvalidIdToken(openidconnect::ClaimsVerificationError::Expired(_))),
        "{error:?}"
    );
}
