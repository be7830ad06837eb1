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
    store.save(&alice, &bearer("rt-1")).unwrap();
    store.save(&alice, &bearer("rt-1")).unwrap();
    assert_eq!(store.writes(), 1);
    store.save(&alice, &bearer("rt-2")).unwrap();
    assert_eq!(store.writes(), 2);
    assert_eq!(store.load(&alice).unwrap().unwrap().refresh_token.secret(), "rt-2");
    store.delete(&alice).unwrap();
    store.delete(&alice).unwrap();
    assert!(store.is_empty());
}

#[test]
fn error_kinds_are_sorted_and_never_show_bytes() {
    let unreadable = StoreError::from_keyring(
        KeyringBackend::SecretService,
        keyring_core::Error::BadEncoding(b"secret-token-bytes\xff".to_vec()),
    );
    assert!(matches!(unreadable, StoreError::Unreadable), "{unreadable:?}");
    assert!(!format!("{unreadable:?} {unreadable}").contains("secret"));

    let locked =
        StoreError::from_keyring(KeyringBackend::SecretService, keyring_core::Error::NoStorageAccess("locked".into()));
    assert!(matches!(locked, StoreError::Locked { .. }), "{locked:?}");
    assert!(locked.keyring_unavailable());

    let denied = StoreError::from_keyring(
        KeyringBackend::KernelKeyring,
        keyring_core::Error::NoStorageAccess("Access denied".into()),
    );
    assert!(matches!(denied, StoreError::NoSessionKeyring { .. }), "{denied:?}");

    let other = StoreError::from_keyring(
        KeyringBackend::KernelKeyring,
        keyring_core::Error::Invalid("description".into(), "too long".into()),
    );
    assert!(matches!(other, StoreError::Platform { backend: KeyringBackend::KernelKeyring, .. }), "{other:?}");
    assert!(!other.keyring_unavailable());
    assert!(std::error::Error::source(&other).is_some());
}

#[test]
fn backend_names_round_trip() {
    for backend in [
        KeyringBackend::SecretService,
        KeyringBackend::KernelKeyring,
        KeyringBackend::CredentialManager,
        KeyringBackend::Keychain,
    ] {
        assert_eq!(KeyringBackend::from_name(backend.name()), Some(backend));
    }
    assert_eq!(KeyringBackend::from_name("file"), None);
}

#[test]
fn the_default_keyring_is_the_platforms_and_others_are_refused() {
    assert_eq!(KeyringBackend::default(), crate::platform::NATIVE_KEYRING);
    for backend in [
        KeyringBackend::SecretService,
        KeyringBackend::KernelKeyring,
        KeyringBackend::CredentialManager,
        KeyringBackend::Keychain,
    ] {
        if crate::platform::has_keyring(backend) {
            continue;
        }
        let Err(error) = KeyringStore::open_with_service(backend, "tessera-test-elsewhere") else {
            panic!("{backend} opened on {}", crate::platform::NAME)
        };
        assert!(matches!(error, StoreError::NotOnThisPlatform { backend: b, .. } if b == backend), "{error:?}");
        assert!(error.keyring_unavailable(), "the app offers memory instead");
        assert!(error.to_string().contains(crate::platform::NAME), "{error}");
    }
}

#[test]
fn windows_and_macos_failures_are_sorted_into_the_same_kinds() {
    let no_logon = StoreError::from_keyring(
        KeyringBackend::CredentialManager,
        keyring_core::Error::NoStorageAccess("ERROR_NO_SUCH_LOGON_SESSION".into()),
    );
    assert!(matches!(no_logon, StoreError::NoLogonSession { .. }), "{no_logon:?}");
    assert!(no_logon.keyring_unavailable());
    let locked = StoreError::from_keyring(
        KeyringBackend::Keychain,
        keyring_core::Error::NoStorageAccess("errSecInteractionNotAllowed".into()),
    );
    assert!(matches!(locked, StoreError::Locked { .. }), "{locked:?}");
    let too_long = StoreError::from_keyring(
        KeyringBackend::CredentialManager,
        keyring_core::Error::TooLong("password encoded as UTF-16".into(), 2560),
    );
    assert!(matches!(too_long, StoreError::TooLarge { limit: 2560, .. }), "{too_long:?}");
    assert!(!too_long.keyring_unavailable());
    assert_eq!(too_long.to_string(), "the sign-in is too large for the Windows Credential Manager (its limit is 2560)");
}

#[test]
fn a_grant_too_large_for_the_keyring_drops_the_access_token_then_the_id_token() {
    let key = std::sync::Arc::new(dpop::DpopKey::generate().unwrap());
    let received_at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    let grant = StoredGrant {
        refresh_token: oauth2::RefreshToken::new("rt".into()),
        id_token: Some(crate::account::IdTokenText::new("header.claims.signature".into())),
        dpop: Some(key.clone()),
        access: Some(StoredAccess {
            access_token: oauth2::AccessToken::new("at".into()),
            received_at,
            expires_at: received_at + std::time::Duration::from_secs(3600),
            scopes: vec!["openid".into()],
        }),
    };
    let first = grant.without_extras().unwrap();
    assert!(first.access.is_none() && first.id_token.is_some() && first.dpop.is_some());
    let second = first.without_extras().unwrap();
    assert!(second.access.is_none() && second.id_token.is_none());
    assert_eq!(second.refresh_token.secret(), "rt");
    assert!(
        second.dpop.as_ref().is_some_and(|kept| std::sync::Arc::ptr_eq(kept, &key)),
        "the bound token's key is kept"
    );
    assert!(second.without_extras().is_none(), "the refresh token and its key are never dropped");
}

fn bearer(token: &str) -> StoredGrant {
    StoredGrant::bearer(oauth2::RefreshToken::new(token.into()))
}

#[test]
fn a_grant_round_trips_with_its_id_token_and_key() {
    let key = std::sync::Arc::new(dpop::DpopKey::generate().unwrap());
    let grant = StoredGrant {
        refresh_token: oauth2::RefreshToken::new("rt-1".into()),
        id_token: Some(crate::account::IdTokenText::new("a.b.c".into())),
        dpop: Some(key.clone()),
        access: None,
    };
    let text = grant.encode();
    assert!(text.starts_with("tessera-grant/2 "), "without an access token, as earlier versions read it");
    assert_eq!(text, grant.encode(), "the same grant, the same text: no needless writes");
    let read = StoredGrant::decode(&text).unwrap();
    assert_eq!(read.refresh_token.secret(), "rt-1");
    assert_eq!(read.id_token.as_ref().map(crate::account::IdTokenText::secret), Some("a.b.c"));
    assert_eq!(read.dpop.as_ref().map(|k| k.thumbprint().to_owned()), Some(key.thumbprint().to_owned()));
    let debug = format!("{read:?}");
    assert!(!debug.contains("rt-1") && !debug.contains("a.b.c"), "{debug}");
}

#[test]
fn entries_written_by_earlier_versions_are_read() {
    let plain = StoredGrant::decode("rt-plain").unwrap();
    assert_eq!(plain.refresh_token.secret(), "rt-plain");
    assert!(plain.id_token.is_none() && plain.dpop.is_none());

    use base64::Engine as _;
    let key = dpop::DpopKey::generate().unwrap();
    let pkcs8 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.pkcs8());
    let sealed = StoredGrant::decode(&format!("tessera-dpop/1 {pkcs8} rt-bound")).unwrap();
    assert_eq!(sealed.refresh_token.secret(), "rt-bound");
    assert_eq!(sealed.dpop.map(|k| k.thumbprint().to_owned()), Some(key.thumbprint().to_owned()));
}

#[test]
fn a_damaged_entry_is_unreadable_and_not_repeated() {
    for damaged in [
        "",
        "tessera-grant/2 {not json",
        "tessera-grant/2 {\"refresh_token\":\"rt-secret\",\"dpop_key\":\"!!\"}",
        "tessera-grant/2 {\"refresh_token\":\"rt-secret\",\"extra\":1}",
        "tessera-grant/3 {not json",
        "tessera-grant/3 {\"refresh_token\":\"rt-secret\",\"access_token\":{\"token\":\"at\"}}",
        "tessera-grant/3 {\"refresh_token\":\"rt-secret\",\"access_token\":\"at-secret\"}",
        "tessera-dpop/1 rt-secret-without-key",
        "tessera-dpop/1 AAAA rt-secret",
    ] {
        let error = StoredGrant::decode(damaged).unwrap_err();
        assert!(matches!(error, StoreError::Unreadable), "{damaged}: {error:?}");
        assert!(!format!("{error} {error:?}").contains("secret"));
    }
}

fn shared_access(token: &str, received_at: u64, lifetime: u64) -> StoredAccess {
    let at = |secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    StoredAccess {
        access_token: oauth2::AccessToken::new(token.into()),
        received_at: at(received_at),
        expires_at: at(received_at + lifetime),
        scopes: vec!["openid".into(), "items:read".into()],
    }
}

#[test]
fn a_grant_with_the_latest_access_token_round_trips_as_format_3() {
    let at = |secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    for key in [None, Some(std::sync::Arc::new(dpop::DpopKey::generate().unwrap()))] {
        let grant = StoredGrant {
            refresh_token: oauth2::RefreshToken::new("rt-SECRET".into()),
            id_token: Some(crate::account::IdTokenText::new("a.b.c".into())),
            dpop: key.clone(),
            access: Some(shared_access("at-SECRET", 1_800_000_000, 3600)),
        };
        let text = grant.encode();
        assert!(text.starts_with("tessera-grant/3 {"), "{text}");
        let json: serde_json::Value = serde_json::from_str(text.strip_prefix("tessera-grant/3 ").unwrap()).unwrap();
        let expected_type = if key.is_some() { "DPoP" } else { "Bearer" };
        assert_eq!(
            json["access_token"],
            serde_json::json!({
                "token": "at-SECRET",
                "token_type": expected_type,
                "received_at": 1_800_000_000_u64,
                "expires_at": 1_800_003_600_u64,
                "scopes": ["openid", "items:read"],
            })
        );
        assert_eq!(text, grant.encode(), "the same grant, the same text");
        let read = StoredGrant::decode(&text).unwrap();
        let access = read.access.as_ref().expect("the access token is read back");
        assert_eq!(access.access_token.secret(), "at-SECRET");
        assert_eq!(access.received_at, at(1_800_000_000));
        assert_eq!(access.expires_at, at(1_800_003_600));
        assert_eq!(access.scopes, ["openid", "items:read"]);
        assert_eq!(read.refresh_token.secret(), "rt-SECRET");
        assert_eq!(read.dpop.map(|k| k.thumbprint().to_owned()), key.map(|k| k.thumbprint().to_owned()));
        let debug = format!("{grant:?}");
        assert!(!debug.contains("SECRET"), "{debug}");
    }
}

#[test]
fn a_shared_token_of_the_wrong_type_is_left_out() {
    // A bearer token in an entry with a key (and the reverse): the grant is
    // read, its access token is not used.
    use base64::Engine as _;
    let key = dpop::DpopKey::generate().unwrap();
    let pkcs8 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.pkcs8());
    let access = r#"{"token":"at","token_type":"Bearer","received_at":1,"expires_at":2,"scopes":[]}"#;
    let bound = StoredGrant::decode(&format!(
        r#"tessera-grant/3 {{"refresh_token":"rt","dpop_key":"{pkcs8}","access_token":{access}}}"#
    ))
    .unwrap();
    assert!(bound.dpop.is_some() && bound.access.is_none(), "{bound:?}");
    let access = access.replace("Bearer", "DPoP");
    let bearer =
        StoredGrant::decode(&format!(r#"tessera-grant/3 {{"refresh_token":"rt","access_token":{access}}}"#)).unwrap();
    assert!(bearer.access.is_none(), "{bearer:?}");
    assert_eq!(bearer.refresh_token.secret(), "rt");
}

#[test]
fn entries_written_before_format_3_are_read_without_an_access_token() {
    let two = StoredGrant::decode(r#"tessera-grant/2 {"refresh_token":"rt-2","id_token":"a.b.c"}"#).unwrap();
    assert_eq!(two.refresh_token.secret(), "rt-2");
    assert_eq!(two.id_token.as_ref().map(crate::account::IdTokenText::secret), Some("a.b.c"));
    assert!(two.access.is_none() && two.dpop.is_none());
    assert!(StoredGrant::decode("rt-plain").unwrap().access.is_none());
}
