//! Every ID-token rule of OIDC Core §3.1.3.7 (and `at_hash`, §3.1.3.8; the
//! userinfo `sub`, §5.3.2): a small fake token endpoint forwards the code
//! exchange to dev-idp, then hands back the ID token changed and re-signed
//! with dev-idp's real key (`sign_raw`). It also forwards the JWKS and counts
//! the fetches.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::header;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dev_idp::testing::Browser as Driver;
use openidconnect::{ClaimsVerificationError, JsonWebKeySetUrl, RedirectUrl, SignatureVerificationError, TokenUrl};
use serde_json::{Value, json};
use signin::SignedIn;
use signin::flow::SigninError;
use signin::flow::login::{self, AuthOptions, Callback};
use signin::flow::provider::Provider;

use crate::support::{ALICE, ALICE_SUB, Env, client_id, scopes, start, within};

/// Changes the ID token: gets the dev-idp provider, the header, the claims
/// and the original compact JWT; answers the JWT to hand out.
type Tamper = Arc<dyn Fn(&dev_idp::Provider, Value, Value, &str) -> String + Send + Sync>;

fn part(jwt: &str, index: usize) -> Value {
    let text = jwt.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).unwrap()).unwrap()
}

fn encode(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// Re-signs the claims after `change` with dev-idp's key and the original header.
fn resign(change: impl Fn(&mut Value, &mut Value, u64) + Send + Sync + 'static) -> Tamper {
    Arc::new(move |idp, mut header, mut claims, _| {
        change(&mut header, &mut claims, idp.now_unix());
        idp.sign_raw(&header, &claims)
    })
}

struct Fake {
    provider: Provider,
    key_fetches: Arc<AtomicUsize>,
}

async fn fake_token_endpoint(env: &Env, tamper: Tamper) -> Fake {
    let upstream = format!("{}/v1", env.idp.issuer());
    let idp = env.idp.provider().clone();
    let http = reqwest::Client::new();
    let key_fetches = Arc::new(AtomicUsize::new(0));
    let token = {
        let (upstream, http) = (upstream.clone(), http.clone());
        move |body: String| {
            let (upstream, http, idp, tamper) = (upstream.clone(), http.clone(), idp.clone(), tamper.clone());
            async move {
                let response = http
                    .post(format!("{upstream}/token"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                let mut json: Value = response.json().await.unwrap();
                if let Some(jwt) = json["id_token"].as_str().map(str::to_owned) {
                    json["id_token"] = Value::String(tamper(&idp, part(&jwt, 0), part(&jwt, 1), &jwt));
                }
                ([(header::CONTENT_TYPE, "application/json")], json.to_string())
            }
        }
    };
    let keys = {
        let (key_fetches, upstream, http) = (key_fetches.clone(), upstream.clone(), http.clone());
        move || {
            let (key_fetches, upstream, http) = (key_fetches.clone(), upstream.clone(), http.clone());
            async move {
                key_fetches.fetch_add(1, Ordering::SeqCst);
                let text = http.get(format!("{upstream}/keys")).send().await.unwrap().text().await.unwrap();
                ([(header::CONTENT_TYPE, "application/json")], text)
            }
        }
    };
    let app = Router::new().route("/token", post(token)).route("/keys", get(keys));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let mut metadata = env.provider.metadata().clone();
    metadata = metadata
        .set_token_endpoint(Some(TokenUrl::new(format!("{base}/token")).unwrap()))
        .set_jwks_uri(JsonWebKeySetUrl::new(format!("{base}/keys")).unwrap());
    Fake { provider: Provider::from_metadata(metadata, env.http.clone()), key_fetches }
}

/// Signs alice in with the fake token endpoint changing the ID token.
async fn sign_in_with(env: &Env, tamper: Tamper) -> (Result<SignedIn, SigninError>, usize) {
    sign_in_with_options(env, tamper, &AuthOptions::default()).await
}

async fn sign_in_with_options(
    env: &Env,
    tamper: Tamper,
    options: &AuthOptions,
) -> (Result<SignedIn, SigninError>, usize) {
    let fake = fake_token_endpoint(env, tamper).await;
    let redirect = RedirectUrl::new(crate::support::REGISTERED_REDIRECT.to_owned()).unwrap();
    let (url, pending) = login::begin(&fake.provider, &client_id(), redirect, &scopes(), options).unwrap();
    let redirect =
        within("dev-idp's sign-in pages", Driver::new().sign_in(url.as_str(), ALICE.0, ALICE.1)).await.unwrap();
    let callback = Callback::from_url(&redirect).unwrap();
    let completing = login::complete(&fake.provider, pending, &callback);
    let result = within("the code exchange at the fake token endpoint", completing).await;
    (result, fake.key_fetches.load(Ordering::SeqCst))
}

fn claims_error(result: &Result<SignedIn, SigninError>) -> &ClaimsVerificationError {
    match result {
        Err(SigninError::InvalidIdToken(error)) => error,
        other => panic!("expected a rejected ID token, got {:?}", other.as_ref().map(|s| &s.key)),
    }
}

fn signature_error(result: &Result<SignedIn, SigninError>) -> &SignatureVerificationError {
    match claims_error(result) {
        ClaimsVerificationError::SignatureVerification(error) => error,
        other => panic!("expected a signature error, got {other:?}"),
    }
}

#[tokio::test]
async fn the_untouched_token_passes_through_the_fake_endpoint() {
    let env = start().await;
    let (result, fetches) = sign_in_with(&env, Arc::new(|_, _, _, jwt| jwt.to_owned())).await;
    assert_eq!(result.unwrap().key.subject, ALICE_SUB);
    assert_eq!(fetches, 0, "the discovered keys are used");
}

#[tokio::test]
async fn a_bad_signature_is_refused() {
    let env = start().await;
    let tamper: Tamper = Arc::new(|_, _, _, jwt| {
        let (signed, signature) = jwt.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[10] ^= 0x01;
        format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bytes))
    });
    let (result, _) = sign_in_with(&env, tamper).await;
    assert!(matches!(signature_error(&result), SignatureVerificationError::CryptoError(_)), "{result:?}");
}

#[tokio::test]
async fn changed_claims_under_the_old_signature_are_refused() {
    let env = start().await;
    let tamper: Tamper = Arc::new(|_, header, mut claims, jwt| {
        claims["sub"] = json!("00u1bob000000000001");
        format!("{}.{}.{}", encode(&header), encode(&claims), jwt.rsplit('.').next().unwrap())
    });
    let (result, _) = sign_in_with(&env, tamper).await;
    assert!(matches!(signature_error(&result), SignatureVerificationError::CryptoError(_)), "{result:?}");
}

#[tokio::test]
async fn alg_none_is_refused() {
    let env = start().await;
    for alg in ["none", "None", "NONE"] {
        let tamper: Tamper = Arc::new(move |_, _, claims, _| {
            format!("{}.{}.", encode(&json!({"alg": alg, "typ": "JWT"})), encode(&claims))
        });
        let (result, _) = sign_in_with(&env, tamper).await;
        match (alg, &result) {
            ("none", Err(SigninError::InvalidIdToken(ClaimsVerificationError::SignatureVerification(_)))) => {}
            // Not even a known algorithm: the response is refused as malformed.
            (_, Err(SigninError::MalformedTokenResponse { detail })) => {
                assert!(!detail.contains("access_token"), "no response body in the error: {detail}");
            }
            _ => panic!("alg {alg} must be refused: {:?}", result.as_ref().map(|s| &s.key)),
        }
        if let Err(error) = &result {
            let debug = format!("{error:?}");
            assert!(!debug.contains("refresh_token"), "the token response never appears in errors: {debug}");
        }
    }
}

#[tokio::test]
async fn hs256_signed_with_anything_is_refused() {
    let env = start().await;
    let tamper = resign(|header, _, _| header["alg"] = json!("HS256"));
    let (result, _) = sign_in_with(&env, tamper).await;
    let error = signature_error(&result);
    assert!(
        matches!(error, SignatureVerificationError::DisallowedAlg(_) | SignatureVerificationError::NoMatchingKey),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_wrong_issuer_is_refused() {
    let env = start().await;
    let (result, _) = sign_in_with(&env, resign(|_, claims, _| claims["iss"] = json!("https://evil.example"))).await;
    assert!(matches!(claims_error(&result), ClaimsVerificationError::InvalidIssuer(_)), "{result:?}");
}

#[tokio::test]
async fn a_wrong_audience_is_refused() {
    let env = start().await;
    let (result, _) = sign_in_with(&env, resign(|_, claims, _| claims["aud"] = json!("another-app"))).await;
    assert!(matches!(claims_error(&result), ClaimsVerificationError::InvalidAudience(_)), "{result:?}");
}

#[tokio::test]
async fn several_audiences_need_azp_and_no_untrusted_audience() {
    let env = start().await;
    let (result, _) =
        sign_in_with(&env, resign(|_, claims, _| claims["aud"] = json!(["tessera-desktop", "another-app"]))).await;
    assert!(matches!(claims_error(&result), ClaimsVerificationError::InvalidAudience(_)), "no azp: {result:?}");
    let (result, _) = sign_in_with(
        &env,
        resign(|_, claims, _| {
            claims["aud"] = json!(["tessera-desktop", "another-app"]);
            claims["azp"] = json!("another-app");
        }),
    )
    .await;
    assert!(matches!(claims_error(&result), ClaimsVerificationError::InvalidAudience(_)), "other azp: {result:?}");
    let (result, _) = sign_in_with(
        &env,
        resign(|_, claims, _| {
            claims["aud"] = json!(["tessera-desktop", "another-app"]);
            claims["azp"] = json!("tessera-desktop");
        }),
    )
    .await;
    // OIDC Core §3.1.3.7 step 3: an audience the client does not trust is
    // refused even with azp = us (we trust no other audience).
    assert!(matches!(claims_error(&result), ClaimsVerificationError::InvalidAudience(_)), "untrusted aud: {result:?}");
}

/// Issue 24, item 2: OIDC Core §3.1.3.7 step 5. An `azp` naming our client
/// signs in; one naming another app is refused with a clear error, even
/// with `aud` = our client alone (openidconnect 4.1 does not check `azp`).
#[tokio::test]
async fn azp_must_be_our_client_when_present() {
    let env = start().await;
    let (result, _) = sign_in_with(&env, resign(|_, claims, _| claims["azp"] = json!("tessera-desktop"))).await;
    assert_eq!(result.unwrap().key.subject, ALICE_SUB, "azp = our client signs in");
    for other in ["another-app", "TESSERA-DESKTOP", "tessera-desktop ", ""] {
        let (result, _) = sign_in_with(
            &env,
            resign(move |_, claims, _| {
                claims["aud"] = json!("tessera-desktop");
                claims["azp"] = json!(other);
            }),
        )
        .await;
        match &result {
            Err(error @ SigninError::AuthorizedPartyMismatch { expected, got }) => {
                assert_eq!((expected.as_str(), got.as_str()), ("tessera-desktop", other));
                let message = error.to_string();
                assert!(message.contains("issued to another app") && message.contains(other), "{message}");
            }
            other_result => panic!("azp {other:?} must be refused: {:?}", other_result.as_ref().map(|s| &s.key)),
        }
    }
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let env = start().await;
    let (result, _) = sign_in_with(
        &env,
        resign(|_, claims, now| {
            claims["iat"] = json!(now - 7200);
            claims["exp"] = json!(now - 3600);
        }),
    )
    .await;
    assert!(matches!(claims_error(&result), ClaimsVerificationError::Expired(_)), "{result:?}");
}

#[tokio::test]
async fn missing_iat_or_sub_is_refused() {
    let env = start().await;
    for claim in ["iat", "sub", "exp"] {
        let (result, _) = sign_in_with(
            &env,
            resign(move |_, claims, _| {
                claims.as_object_mut().unwrap().remove(claim);
            }),
        )
        .await;
        assert!(result.is_err(), "without {claim}: {:?}", result.map(|s| s.key));
    }
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    let env = start().await;
    let (result, _) = sign_in_with(&env, resign(|_, claims, _| claims["nonce"] = json!("someone-elses"))).await;
    assert!(matches!(claims_error(&result), ClaimsVerificationError::InvalidNonce(_)), "{result:?}");
    let (result, _) = sign_in_with(
        &env,
        resign(|_, claims, _| {
            claims.as_object_mut().unwrap().remove("nonce");
        }),
    )
    .await;
    assert!(matches!(claims_error(&result), ClaimsVerificationError::InvalidNonce(_)), "no nonce: {result:?}");
}

#[tokio::test]
async fn a_bad_at_hash_is_refused() {
    let env = start().await;
    let (result, _) =
        sign_in_with(&env, resign(|_, claims, _| claims["at_hash"] = json!("AAAAAAAAAAAAAAAAAAAAAA"))).await;
    assert!(matches!(result, Err(SigninError::AccessTokenHashMismatch)), "{:?}", result.map(|s| s.key));
}

#[tokio::test]
async fn an_unknown_kid_refetches_the_keys_once_then_fails() {
    let env = start().await;
    let (result, fetches) = sign_in_with(&env, resign(|header, _, _| header["kid"] = json!("no-such-key"))).await;
    assert!(matches!(signature_error(&result), SignatureVerificationError::NoMatchingKey), "{result:?}");
    assert_eq!(fetches, 1, "exactly one refetch");
}

#[tokio::test]
async fn after_key_rotation_the_new_kid_is_fetched_and_accepted() {
    let env = start().await;
    let fake_keys_before = env.provider.keys().keys().len();
    assert!(fake_keys_before >= 1);
    env.idp.provider().rotate_keys().unwrap();
    let (result, fetches) = sign_in_with(&env, Arc::new(|_, _, _, jwt| jwt.to_owned())).await;
    assert_eq!(result.unwrap().key.subject, ALICE_SUB);
    assert_eq!(fetches, 1, "one refetch for the new kid");
}

#[tokio::test]
async fn a_token_without_kid_is_refused_when_several_keys_could_match() {
    let env = start().await;
    env.idp.provider().rotate_keys().unwrap();
    let (result, _) = sign_in_with(
        &env,
        resign(|header, _, _| {
            header.as_object_mut().unwrap().remove("kid");
        }),
    )
    .await;
    // Rejected: the key is ambiguous or the one tried does not verify it.
    let _ = signature_error(&result);
}

#[tokio::test]
async fn a_userinfo_about_someone_else_is_refused() {
    let env = start().await;
    let (result, _) = sign_in_with(&env, resign(|_, claims, _| claims["sub"] = json!("00u1mallory00000001"))).await;
    assert!(matches!(result, Err(SigninError::UserInfoSubjectMismatch)), "{:?}", result.map(|s| s.key));
}

#[tokio::test]
async fn a_redirecting_token_endpoint_is_not_followed() {
    let env = start().await;
    let stolen = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route(
            "/token",
            post({
                let base = base.clone();
                move || {
                    let base = base.clone();
                    async move {
                        (axum::http::StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, format!("{base}/elsewhere"))])
                    }
                }
            }),
        )
        .route(
            "/elsewhere",
            post({
                let stolen = stolen.clone();
                move || {
                    stolen.fetch_add(1, Ordering::SeqCst);
                    async { "{}" }
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let metadata =
        env.provider.metadata().clone().set_token_endpoint(Some(TokenUrl::new(format!("{base}/token")).unwrap()));
    let provider = Provider::from_metadata(metadata, env.http.clone());
    let redirect = RedirectUrl::new(crate::support::REGISTERED_REDIRECT.to_owned()).unwrap();
    let (url, pending) = login::begin(&provider, &client_id(), redirect, &scopes(), &AuthOptions::default()).unwrap();
    let redirect =
        within("dev-idp's sign-in pages", Driver::new().sign_in(url.as_str(), ALICE.0, ALICE.1)).await.unwrap();
    let callback = Callback::from_url(&redirect).unwrap();
    let completing = login::complete(&provider, pending, &callback);
    let result = within("the code exchange at a redirecting endpoint", completing).await;
    assert!(result.is_err(), "a redirect is not a token response");
    assert_eq!(stolen.load(Ordering::SeqCst), 0, "the code and verifier went nowhere else");
}

#[tokio::test]
async fn a_refreshed_id_token_about_someone_else_is_refused() {
    let env = start().await;
    let (signed_in, _) = sign_in_with(&env, Arc::new(|_, _, _, jwt| jwt.to_owned())).await;
    let signed_in = signed_in.unwrap();
    let fake = fake_token_endpoint(&env, resign(|_, claims, _| claims["sub"] = json!("00u1mallory00000001"))).await;
    let refresh_token = signed_in.refresh_token.clone().unwrap();
    let refreshing = signin::flow::refresh::refresh(&fake.provider, &signed_in.key, &refresh_token, None, None);
    let error = within("a refresh", refreshing).await.unwrap_err();
    assert!(matches!(error, SigninError::IdentityChanged), "{error:?}");
    let fake = fake_token_endpoint(&env, resign(|_, claims, _| claims["aud"] = json!("another-app"))).await;
    let refreshing = signin::flow::refresh::refresh(&fake.provider, &signed_in.key, &refresh_token, None, None);
    let error = within("a refresh", refreshing).await.unwrap_err();
    assert!(matches!(error, SigninError::InvalidIdToken(_)), "{error:?}");
}

/// Issue 24, item 2: a refreshed ID token is held to `azp` too.
#[tokio::test]
async fn a_refreshed_id_token_for_another_app_is_refused() {
    let env = start().await;
    let (signed_in, _) = sign_in_with(&env, Arc::new(|_, _, _, jwt| jwt.to_owned())).await;
    let signed_in = signed_in.unwrap();
    let refresh_token = signed_in.refresh_token.clone().unwrap();
    let refresh = |provider| {
        let (key, token) = (signed_in.key.clone(), refresh_token.clone());
        async move {
            let refreshing = signin::flow::refresh::refresh(&provider, &key, &token, None, None);
            within("a refresh at the fake token endpoint", refreshing).await
        }
    };
    let fake = fake_token_endpoint(&env, resign(|_, claims, _| claims["azp"] = json!("another-app"))).await;
    let error = refresh(fake.provider).await.unwrap_err();
    assert!(matches!(&error, SigninError::AuthorizedPartyMismatch { got, .. } if got == "another-app"), "{error:?}");
    // With azp = our client, the refresh (of the rotated or the same token) works.
    let fake = fake_token_endpoint(&env, resign(|_, claims, _| claims["azp"] = json!("tessera-desktop"))).await;
    let tokens = refresh(fake.provider).await.unwrap();
    assert!(tokens.tokens.id_token.is_some(), "a new ID token was checked and kept");
}

#[tokio::test]
async fn with_max_age_auth_time_must_be_present_and_recent() {
    let env = start().await;
    let options = AuthOptions { max_age: Some(std::time::Duration::ZERO), ..AuthOptions::default() };
    let (result, _) = sign_in_with_options(&env, Arc::new(|_, _, _, jwt| jwt.to_owned()), &options).await;
    assert_eq!(result.unwrap().key.subject, ALICE_SUB, "max_age=0 forces a fresh sign-in");
    let options = AuthOptions { max_age: Some(std::time::Duration::from_secs(300)), ..AuthOptions::default() };
    let (result, _) =
        sign_in_with_options(&env, resign(|_, claims, now| claims["auth_time"] = json!(now - 3600)), &options).await;
    assert!(matches!(claims_error(&result), ClaimsVerificationError::InvalidAuthTime(_)), "old: {result:?}");
    let (result, _) = sign_in_with_options(
        &env,
        resign(|_, claims, _| {
            claims.as_object_mut().unwrap().remove("auth_time");
        }),
        &options,
    )
    .await;
    assert!(matches!(claims_error(&result), ClaimsVerificationError::InvalidAuthTime(_)), "missing: {result:?}");
    // Without max_age, an old sign-in is fine.
    let (result, _) = sign_in_with(&env, resign(|_, claims, now| claims["auth_time"] = json!(now - 3600))).await;
    assert!(result.is_ok());
}
