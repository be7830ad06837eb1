//! An independent client, the `openidconnect` crate, against dev-idp.

use dev_idp::testing::Browser;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    RedirectUrl, Scope, TokenResponse,
};

use crate::support::{ALICE, DESKTOP, REQUEST_TIMEOUT, query, start};

#[tokio::test]
async fn openidconnect_core_client_signs_in_refreshes_and_reads_userinfo() {
    let idp = start().await;
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap();
    let metadata = CoreProviderMetadata::discover_async(IssuerUrl::new(idp.issuer().to_owned()).unwrap(), &http)
        .await
        .expect("discovery");
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new(DESKTOP.to_owned()), None)
        .set_redirect_uri(RedirectUrl::new("http://127.0.0.1:8766/callback".to_owned()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
        .add_scope(Scope::new("profile".to_owned()))
        .add_scope(Scope::new("email".to_owned()))
        .add_scope(Scope::new("offline_access".to_owned()))
        .set_pkce_challenge(challenge)
        .url();

    let redirect = Browser::new().sign_in(url.as_str(), ALICE.0, ALICE.1).await.unwrap();
    assert_eq!(query(&redirect, "state").as_deref(), Some(csrf.secret().as_str()));
    assert_eq!(query(&redirect, "iss").as_deref(), Some(idp.issuer()));
    let code = AuthorizationCode::new(query(&redirect, "code").unwrap());

    let tokens = client
        .exchange_code(code)
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token.claims(&verifier, &nonce).expect("ID token verifies");
    assert_eq!(claims.subject().as_str(), "00u1alice0000000001");
    let expected_hash = claims.access_token_hash().expect("at_hash");
    let actual = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(&actual, expected_hash);

    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().expect("a refresh token"))
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    assert_ne!(refreshed.access_token().secret(), tokens.access_token().secret());
    let refreshed_id = refreshed.id_token().expect("an ID token on refresh");
    let refreshed_claims = refreshed_id
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .expect("refreshed ID token verifies");
    assert_eq!(refreshed_claims.subject(), claims.subject());

    let info: CoreUserInfoClaims = client
        .user_info(refreshed.access_token().clone(), Some(claims.subject().clone()))
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
}
