use super::*;

fn key(subject: &str) -> AccountKey {
    AccountKey {
        issuer: "https://idp.example/oauth2/default".into(),
        client_id: "tessera-desktop".into(),
        subject: subject.into(),
    }
}

#[test]
fn memory_store_round_trip_and_write_only_on_change() {
    let store = MemoryStore::new();
    let alice = key("alice");
    assert!(store.load(&alice).unwrap().is_none());
    store.save(&alice, &RefreshToken::new("rt-1".into())).unwrap();
    store.save(&alice, &RefreshToken::new("rt-1".into())).unwrap();
    assert_eq!(store.writes(), 1);
    store.save(&alice, &RefreshToken::new("rt-2".into())).unwrap();
    assert_eq!(store.writes(), 2);
    assert_eq!(store.load(&alice).unwrap().unwrap().secret(), "rt-2");
    store.delete(&alice).unwrap();
    store.delete(&alice).unwrap();
    assert!(store.is_empty());
}

#[test]
fn error_codes_are_stable_and_never_show_bytes() {
    let unreadable = StoreError::from_keyring(
        KeyringBackend::SecretService,
        keyring_core::Error::BadEncoding(b"secret-token-bytes\xff".to_vec()),
    );
    assert_eq!(unreadable.code(), "unreadable-entry");
    assert!(!format!("{unreadable:?} {unreadable}").contains("secret"));

    let locked =
        StoreError::from_keyring(KeyringBackend::SecretService, keyring_core::Error::NoStorageAccess("locked".into()));
    assert_eq!(locked.code(), "keyring-locked");
    assert!(locked.keyring_unavailable());

    let denied = StoreError::from_keyring(
        KeyringBackend::KernelKeyring,
        keyring_core::Error::NoStorageAccess("Access denied".into()),
    );
    assert_eq!(denied.code(), "no-session-keyring");

    let other = StoreError::from_keyring(
        KeyringBackend::KernelKeyring,
        keyring_core::Error::Invalid("description".into(), "too long".into()),
    );
    assert_eq!(other.code(), "keyring-failure");
    assert!(!other.keyring_unavailable());
    assert!(std::error::Error::source(&other).is_some());
}

#[test]
fn backend_names_round_trip() {
    for backend in [KeyringBackend::SecretService, KeyringBackend::KernelKeyring] {
        assert_eq!(KeyringBackend::from_name(backend.name()), Some(backend));
    }
    assert_eq!(KeyringBackend::from_name("file"), None);
}
