//! Services with their own identity (client credentials, RFC 6749 §4.4)
//! against dev-idp on port 0: the flow with a client secret and with
//! `private_key_jwt` (a key made here, its public JWK registered at
//! dev-idp), refused credentials, and the session's service accounts: the
//! secret kept in the store only when the provider took it, the token
//! fetched again at expiry (no refresh token), shared across sessions over
//! one store, and a sign-out that revokes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use dev_idp::config::{ClientConfig, ITEMS_API_CLIENT_ID, ITEMS_API_DEMO_SECRET, grant};
use dev_idp::{Config, DevIdp, ManualClock};
use jsonwebtoken::jwk::JwkSet;
use oauth2::{ClientId, ClientSecret};
use openidconnect::IssuerUrl;
use signin::accounts::AccountBook;
use signin::flow::SigninError;
use signin::flow::client_credentials::{self, ClientAuth, ClientKey};
use signin::flow::config::SigninConfig;
use signin::flow::provider::{self, Provider};
use signin::session::{MachineCredential, MachineSignIn};
use signin::store::{MemoryStore, TokenStore};
use signin::{AccountKey, ErrorKind, Session, SessionError};
use testkit::within;

const KEYED: &str = "svc-keyed";
const ACCESS_TOKEN_SECS: u64 = 120;

struct Env {
    idp: DevIdp,
    clock: Arc<ManualClock>,
    provider: Arc<Provider>,
    /// The PEM of the key registered for [`KEYED`].
    pem: String,
    dir: tempfile::TempDir,
}

/// A P-256 key: its PKCS#8 PEM and its public JWK.
fn ec_key() -> (String, jsonwebtoken::jwk::Jwk) {
    let key = dpop::DpopKey::generate().unwrap();
    let body = base64::engine::general_purpose::STANDARD.encode(key.pkcs8());
    (format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"), key.public_jwk())
}

async fn start() -> Env {
    let (pem, jwk) = ec_key();
    let mut config = Config { port: 0, ..Config::default() };
    config.lifetimes.access_token_secs = ACCESS_TOKEN_SECS;
    let template = config.client(ITEMS_API_CLIENT_ID).unwrap().clone();
    config.clients.push(ClientConfig {
        client_id: KEYED.into(),
        name: "Keyed service".into(),
        client_secret: None,
        jwks: Some(JwkSet { keys: vec![jwk] }),
        grant_types: vec![grant::CLIENT_CREDENTIALS.into()],
        allowed_scopes: Some(vec!["items:read".into()]),
        ..template
    });
    let clock = Arc::new(ManualClock::starting_now());
    let idp = within("dev-idp starting", dev_idp::spawn_with_clock(config, clock.clone())).await.unwrap();
    let issuer = IssuerUrl::new(idp.issuer().to_owned()).unwrap();
    let http = provider::http_client().unwrap();
    let discovered = within("discovery", Provider::discover_uncached(&issuer, &http)).await.unwrap();
    let provider = Arc::new(discovered.with_clock(clock.clone()));
    Env { idp, clock, provider, pem, dir: tempfile::tempdir().unwrap() }
}

impl Env {
    fn session(&self, store: Arc<dyn TokenStore>) -> Session {
        let config = SigninConfig::new(
            IssuerUrl::new(self.idp.issuer().to_owned()).unwrap(),
            ClientId::new("tessera-desktop".into()),
        );
        let book = AccountBook::load(self.dir.path().join("accounts.json")).unwrap();
        Session::new(config, store, book).with_clock(self.clock.clone()).with_provider(self.provider.clone())
    }

    fn key_file(&self) -> std::path::PathBuf {
        let path = self.dir.path().join("svc-key.pem");
        std::fs::write(&path, &self.pem).unwrap();
        path
    }

    fn service_key(&self, client_id: &str) -> AccountKey {
        AccountKey { issuer: self.idp.issuer().to_owned(), client_id: client_id.into(), subject: client_id.into() }
    }
}

fn claims(jwt: &str) -> serde_json::Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn secret(value: &str) -> ClientSecret {
    ClientSecret::new(value.to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_flow_gets_a_token_with_a_secret_or_a_key_and_names_a_refused_credential() {
    let env = start().await;
    let items_api = ClientId::new(ITEMS_API_CLIENT_ID.into());
    let scopes = vec!["items:read".to_owned()];
    let tokens = client_credentials::request(
        &env.provider,
        &items_api,
        &ClientAuth::Secret(secret(ITEMS_API_DEMO_SECRET)),
        &scopes,
    )
    .await
    .unwrap();
    let at = claims(tokens.access_token.secret());
    assert_eq!((at["sub"].as_str(), at["cid"].as_str()), (Some(ITEMS_API_CLIENT_ID), Some(ITEMS_API_CLIENT_ID)));
    assert_eq!(tokens.scopes, scopes);
    assert_eq!(tokens.expires_in, Duration::from_secs(ACCESS_TOKEN_SECS));
    assert!(tokens.id_token.is_none() && tokens.dpop.is_none());

    let key = Arc::new(ClientKey::from_pem(env.pem.as_bytes(), "svc-key.pem").unwrap());
    let keyed = ClientId::new(KEYED.into());
    let tokens = client_credentials::request(&env.provider, &keyed, &ClientAuth::PrivateKey(key.clone()), &scopes)
        .await
        .unwrap();
    assert_eq!(claims(tokens.access_token.secret())["cid"], KEYED);
    // A fresh assertion each time: the second request is no replay.
    client_credentials::request(&env.provider, &keyed, &ClientAuth::PrivateKey(key), &scopes).await.unwrap();

    let wrong_secret =
        client_credentials::request(&env.provider, &items_api, &ClientAuth::Secret(secret("guess-3f9a")), &scopes)
            .await;
    let Err(error @ SigninError::ClientRefused { .. }) = wrong_secret else { panic!("{wrong_secret:?}") };
    let message = error.to_string();
    assert!(message.contains("refused the credentials of the service items-api"), "{message}");
    assert!(!message.contains("guess-3f9a"), "the secret is never said: {message}");
    let (other_pem, _) = ec_key();
    let other = Arc::new(ClientKey::from_pem(other_pem.as_bytes(), "other.pem").unwrap());
    let wrong_key = client_credentials::request(&env.provider, &keyed, &ClientAuth::PrivateKey(other), &scopes).await;
    assert!(matches!(wrong_key, Err(SigninError::ClientRefused { .. })), "{wrong_key:?}");
    let too_much = vec!["items:admin".to_owned()];
    let key = Arc::new(ClientKey::from_pem(env.pem.as_bytes(), "svc-key.pem").unwrap());
    let refused = client_credentials::request(&env.provider, &keyed, &ClientAuth::PrivateKey(key), &too_much).await;
    assert!(
        matches!(&refused, Err(SigninError::TokenEndpoint { error, .. }) if error == "invalid_scope"),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_account_keeps_its_secret_in_the_store_and_asks_again_at_expiry() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let session = env.session(store.clone());
    let signed_in = session
        .sign_in_machine(MachineSignIn {
            client_id: ClientId::new(ITEMS_API_CLIENT_ID.into()),
            credential: MachineCredential::Secret(secret(ITEMS_API_DEMO_SECRET)),
            scopes: vec!["items:read".into()],
        })
        .await
        .unwrap();
    let account = &signed_in.account;
    assert_eq!(account.key, env.service_key(ITEMS_API_CLIENT_ID));
    let service = account.service.as_ref().expect("a service account");
    assert_eq!((service.private_key.as_ref(), service.scopes.as_slice()), (None, &["items:read".to_owned()][..]));
    assert_eq!(session.active().unwrap().key, account.key);
    let saved = store.load_machine(&account.key).unwrap().expect("kept in the store");
    assert_eq!(saved.client_secret.as_ref().map(|s| s.secret().as_str()), Some(ITEMS_API_DEMO_SECRET));
    // The secret is in the store's entry only, never in the account book.
    let book = std::fs::read(env.dir.path().join("accounts.json")).unwrap();
    assert!(!String::from_utf8_lossy(&book).contains(ITEMS_API_DEMO_SECRET));
    // A person's reading of the entry never takes it for a refresh token.
    assert!(store.load(&account.key).is_err());

    let first = session.access_token().await.unwrap();
    assert_eq!(claims(first.secret())["sub"], ITEMS_API_CLIENT_ID);
    assert_eq!(session.access_token().await.unwrap().secret(), first.secret(), "fresh: the same token");
    // Another process over the same store uses the token the first fetched.
    let other = env.session(store.clone());
    assert_eq!(other.access_token().await.unwrap().secret(), first.secret());
    // At expiry, a new one is asked for with the stored secret.
    env.clock.advance(Duration::from_secs(ACCESS_TOKEN_SECS));
    let second = session.access_token().await.unwrap();
    assert_ne!(second.secret(), first.secret());
    let who = session.whoami().await.unwrap();
    assert_eq!(who.scopes, ["items:read"]);
    assert!(who.refreshed_at.is_some());
    // ...and shared: the other session adopts it without asking again.
    assert_eq!(other.access_token().await.unwrap().secret(), second.secret());

    // Sign-out: nothing to revoke, no browser logout; the entry is gone.
    let signed_out = session.sign_out_account(None).await.unwrap();
    assert!(signed_out.revocation_error.is_none() && signed_out.logout_url.is_none(), "{signed_out:?}");
    assert!(store.is_empty());
    assert!(session.accounts().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_secret_stores_nothing() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let session = env.session(store.clone());
    let refused = session
        .sign_in_machine(MachineSignIn {
            client_id: ClientId::new(ITEMS_API_CLIENT_ID.into()),
            credential: MachineCredential::Secret(secret("not-the-secret")),
            scopes: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::AccessDenied, "{refused:?}");
    assert!(matches!(refused, SessionError::Signin(SigninError::ClientRefused { .. })), "{refused:?}");
    assert!(store.is_empty());
    assert_eq!(store.writes(), 0);
    assert!(session.accounts().is_empty() && session.active().is_none());
    // Neither in the book's file.
    assert!(!env.dir.path().join("accounts.json").exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_keyed_service_remembers_only_its_key_files_path() {
    let env = start().await;
    let store = Arc::new(MemoryStore::new());
    let session = env.session(store.clone());
    let path = env.key_file();
    let signed_in = session
        .sign_in_machine(MachineSignIn {
            client_id: ClientId::new(KEYED.into()),
            credential: MachineCredential::PrivateKey(path.clone()),
            scopes: vec!["items:read".into()],
        })
        .await
        .unwrap();
    assert_eq!(signed_in.account.service.as_ref().unwrap().private_key.as_deref(), Some(path.as_path()));
    let saved = store.load_machine(&signed_in.account.key).unwrap().unwrap();
    assert!(saved.client_secret.is_none() && saved.access.is_some());
    let book = std::fs::read_to_string(env.dir.path().join("accounts.json")).unwrap();
    assert!(!book.contains("PRIVATE KEY") && !book.contains(env.pem.lines().nth(1).unwrap()));
    let first = session.access_token().await.unwrap();
    env.clock.advance(Duration::from_secs(ACCESS_TOKEN_SECS));
    let second = session.access_token().await.unwrap();
    assert_ne!(first.secret(), second.secret());
    assert_eq!(claims(second.secret())["cid"], KEYED);

    // The key registered at the provider changed: the next fetch is
    // refused, and the account needs a new sign-in (its entry forgotten).
    let (other_pem, _) = ec_key();
    std::fs::write(&path, other_pem).unwrap();
    env.clock.advance(Duration::from_secs(ACCESS_TOKEN_SECS));
    let refused = session.access_token().await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::SignInRequired, "{refused:?}");
    assert!(store.is_empty());
    assert!(session.active().unwrap().needs_sign_in);
    // A key file that is gone says so.
    std::fs::remove_file(&path).unwrap();
    let missing = session
        .sign_in_machine(MachineSignIn {
            client_id: ClientId::new(KEYED.into()),
            credential: MachineCredential::PrivateKey(path.clone()),
            scopes: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::Config);
    assert!(missing.to_string().contains(&path.display().to_string()), "{missing}");
}
