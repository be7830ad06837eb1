use super::*;
use crate::Identity;

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
    fn load(&self, _: &AccountKey) -> Result<Option<RefreshToken>, StoreError> {
        Err(no_bus())
    }

    fn save(&self, _: &AccountKey, _: &RefreshToken) -> Result<(), StoreError> {
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
    assert_eq!(error.code(), "keyring-unavailable", "{error:?}");
    assert!(error.to_string().contains("D-Bus"), "{error}");
    // Sign-out cannot forget the token, so the account is kept.
    let error = session.sign_out(None).await.unwrap_err();
    assert_eq!(error.code(), "keyring-unavailable");
    assert_eq!(session.accounts().len(), 1);
}

#[tokio::test]
async fn a_missing_refresh_token_asks_for_a_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let session = session_with(Arc::new(crate::store::MemoryStore::new()), dir.path());
    let error = session.access_token().await.unwrap_err();
    assert_eq!(error.code(), "sign-in-required", "{error:?}");
    assert!(error.to_string().contains("alice@example.com"), "{error}");
    assert!(session.active().unwrap().needs_sign_in);
}

#[test]
fn error_codes_are_stable() {
    use crate::accounts::AccountsError;
    let cases: Vec<(SessionError, &str)> = vec![
        (SessionError::NoAccount, "no-account"),
        (SessionError::Accounts(AccountsError::NoSuchAccount { query: "x".into() }), "no-account"),
        (
            SessionError::Accounts(AccountsError::AmbiguousAccount { query: "a".into(), candidates: vec![] }),
            "ambiguous-account",
        ),
        (SessionError::Store(no_bus()), "keyring-unavailable"),
        (SessionError::Store(StoreError::Unreadable), "keyring"),
        (SessionError::Signin(SigninError::Cancelled), "cancelled"),
        (SessionError::Signin(SigninError::TimedOut { after: Duration::from_secs(1) }), "timeout"),
        (SessionError::Signin(SigninError::DeviceDenied), "access-denied"),
        (
            SessionError::Signin(SigninError::Provider { error: "access_denied".into(), description: None }),
            "access-denied",
        ),
        (SessionError::Signin(SigninError::TokenRequest(Box::new(std::io::Error::other("down")))), "network"),
        (SessionError::Signin(SigninError::StateMismatch), "provider"),
        (SessionError::RevocationRefused { status: 400 }, "provider"),
        (SessionError::SignInRequired { account: "a".into(), source: None }, "sign-in-required"),
    ];
    for (error, code) in cases {
        assert_eq!(error.code(), code, "{error:?}");
    }
}
