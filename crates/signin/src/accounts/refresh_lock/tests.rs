use super::*;
use std::fs;

fn key(subject: &str) -> AccountKey {
    AccountKey { issuer: "https://idp.example/oauth2/default".into(), client_id: "c".into(), subject: subject.into() }
}

#[test]
fn one_safe_file_per_account_beside_the_book() {
    let book = Path::new("/home/a/.config/tessera/accounts.json");
    let alice = RefreshLock::path(book, &key("alice"));
    assert_eq!(alice.parent(), Some(Path::new("/home/a/.config/tessera/refresh-locks")));
    let name = alice.file_name().unwrap().to_str().unwrap();
    assert_eq!(name.len(), 32 + ".lock".len());
    assert!(name.trim_end_matches(".lock").bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
    assert_ne!(alice, RefreshLock::path(book, &key("bob")));
    assert_eq!(alice, RefreshLock::path(book, &key("alice")));
    // A subject with path characters stays one file name.
    let odd = RefreshLock::path(book, &key("../../etc/passwd"));
    assert_eq!(odd.parent(), alice.parent());
    assert_eq!(RefreshLock::path(Path::new("accounts.json"), &key("a")).parent(), Some(Path::new("./refresh-locks")));
}

#[test]
fn a_second_holder_waits_a_bounded_time_then_gets_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = RefreshLock::path(&dir.path().join("accounts.json"), &key("alice"));
    let held = RefreshLock::acquire(&path, Duration::ZERO).unwrap();
    // Another open file of the same lock (as another process has).
    let started = Instant::now();
    let busy = RefreshLock::acquire(&path, Duration::from_millis(200)).unwrap_err();
    assert!(matches!(busy, RefreshLockError::Busy { .. }), "{busy:?}");
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(busy.to_string().contains("another Tessera program"), "{busy}");
    // Released when dropped: the waiter gets it.
    let waiter = std::thread::spawn(move || RefreshLock::acquire(&path, Duration::from_secs(10)).map(|_| ()));
    std::thread::sleep(Duration::from_millis(100));
    drop(held);
    waiter.join().unwrap().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let folder = dir.path().join(FOLDER);
        assert_eq!(fs::metadata(&folder).unwrap().permissions().mode() & 0o777, 0o700);
        let file = fs::read_dir(&folder).unwrap().next().unwrap().unwrap().path();
        assert_eq!(fs::metadata(file).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn a_folder_that_cannot_be_made_is_an_io_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-folder");
    fs::write(&blocker, b"").unwrap();
    let path = RefreshLock::path(&blocker.join("accounts.json"), &key("alice"));
    let error = RefreshLock::acquire(&path, Duration::ZERO).unwrap_err();
    assert!(matches!(error, RefreshLockError::Io { .. }), "{error:?}");
    assert!(error.to_string().contains("refresh-locks"), "{error}");
}
