use std::time::Duration;

use super::*;
use crate::Identity;
use crate::flow::SigninError;

fn key(subject: &str) -> AccountKey {
    AccountKey {
        issuer: "https://idp.example/oauth2/default".into(),
        client_id: "tessera-desktop".into(),
        subject: subject.into(),
    }
}

/// A store whose keyring is missing (no D-Bus session bus).
struct NoKeyring;

impl TokenStore for NoKeyring {
    fn load(&self, _: &AccountKey) -> Result<Option<StoredGrant>, StoreError> {
        Err(no_bus())
    }

    fn save(&self, _: &AccountKey, _: &StoredGrant) -> Result<(), StoreError> {
        Err(no_bus())
    }

    fn load_machine(&self, _: &AccountKey) -> Result<Option<crate::store::StoredMachine>, StoreError> {
        Err(no_bus())
    }

    fn save_machine(&self, _: &AccountKey, _: &crate::store::StoredMachine) -> Result<(), StoreError> {
        Err(no_bus())
    }

    fn delete(&self, _: &AccountKey) -> Result<(), StoreError> {
        Err(no_bus())
    }
}

fn no_bus() -> StoreError {
    StoreError::NoSessionBus { source: keyring_core::Error::NoStorageAccess(Box::new(std::io::Error::other("no bus"))) }
}

fn session_with(store: Arc<dyn TokenStore>, dir: &std::path::Path) -> Session {
    let mut book = AccountBook::empty(dir.join("accounts.json"));
    book.upsert_identity(
        &key("alice"),
        &Identity { email: Some("alice@example.com".into()), ..Identity::default() },
        1,
    )
    .unwrap();
    let mut config = SigninConfig::demo();
    // The account's own issuer (never reached: the store fails first).
    config.issuer = openidconnect::IssuerUrl::new(key("alice").issuer).unwrap();
    Session::new(config, store, book)
}

#[tokio::test]
async fn a_missing_keyring_is_reported_with_its_code() {
    let dir = tempfile::tempdir().unwrap();
    let session = session_with(Arc::new(NoKeyring), dir.path());
    let error = session.access_token().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::KeyringUnavailable, "{error:?}");
    assert!(error.to_string().contains("D-Bus"), "{error}");
    // Sign-out cannot forget the token, so the account is kept.
    let error = session.sign_out(None).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::KeyringUnavailable);
    assert_eq!(session.accounts().len(), 1);
}

#[tokio::test]
async fn a_missing_refresh_token_asks_for_a_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let session = session_with(Arc::new(crate::store::MemoryStore::new()), dir.path());
    let error = session.access_token().await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::SignInRequired, "{error:?}");
    assert!(error.to_string().contains("alice@example.com"), "{error}");
    assert!(session.active().unwrap().needs_sign_in);
}

#[test]
fn errors_have_their_kinds() {
    use crate::accounts::AccountsError;
    let cases: Vec<(SessionError, ErrorKind)> = vec![
        (SessionError::NoAccount, ErrorKind::NoAccount),
        (SessionError::Accounts(AccountsError::NoSuchAccount { query: "x".into() }), ErrorKind::NoSuchAccount),
        (
            SessionError::Accounts(AccountsError::AmbiguousAccount { query: "a".into(), candidates: vec![] }),
            ErrorKind::AmbiguousAccount,
        ),
        (SessionError::Store(no_bus()), ErrorKind::KeyringUnavailable),
        (SessionError::Store(StoreError::Unreadable), ErrorKind::Keyring),
        (SessionError::Signin(SigninError::Cancelled), ErrorKind::Cancelled),
        (SessionError::Signin(SigninError::TimedOut { after: Duration::from_secs(1) }), ErrorKind::TimedOut),
        (SessionError::Signin(SigninError::DeviceDenied), ErrorKind::AccessDenied),
        (
            SessionError::Signin(SigninError::Provider { error: "access_denied".into(), description: None }),
            ErrorKind::AccessDenied,
        ),
        (
            SessionError::Signin(SigninError::Provider { error: "server_error".into(), description: None }),
            ErrorKind::ProviderError,
        ),
        (SessionError::Signin(SigninError::TokenRequest(Box::new(std::io::Error::other("down")))), ErrorKind::Network),
        (SessionError::Signin(SigninError::StateMismatch), ErrorKind::SignInFailed),
        (SessionError::RevocationRefused { status: 400 }, ErrorKind::ProviderError),
        (SessionError::SignInInProgress, ErrorKind::Busy),
        (SessionError::SignInRequired { account: "a".into(), source: None }, ErrorKind::SignInRequired),
        (
            SessionError::NotRevoked {
                issuer: "https://example.com".into(),
                source: Box::new(SessionError::RevocationRefused { status: 503 }),
            },
            ErrorKind::ProviderError,
        ),
    ];
    for (error, kind) in cases {
        assert_eq!(error.kind(), kind, "{error:?}");
    }
}
