//! Where tokens and accounts live: the token stores against a real Secret
//! Service (GNOME Keyring), the kernel keyring, memory, and the account book
//! on disk. No mocks.
//!
//! The keyring tests need the private session `scripts/keyring-session.sh`
//! sets up (its own D-Bus session bus, an unlocked gnome-keyring, a fresh
//! kernel session keyring; it exports `TESSERA_KEYRING_SESSION=1`):
//!
//! ```sh
//! scripts/keyring-session.sh cargo test -p tessera-signin --test store
//! ```
//!
//! Outside it they print "skipped: …" and pass, unless
//! `TESSERA_REQUIRE_KEYRING=1`, which makes them fail. The failure-mode tests
//! (no bus, no Secret Service, locked keyring, no session keyring) run this
//! test binary again as a child process in the broken environment
//! ([`child_mode`]), because the D-Bus address is read from the environment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout, clippy::print_stderr)]

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use oauth2::RefreshToken;
use signin::accounts::{Account, AccountBook, AccountsError};
use signin::store::{KeyringBackend, KeyringStore, MemoryStore, StoreError, StoredGrant, TokenStore};
use signin::{AccountKey, Identity, SignedIn, TokenSet};
use wait::within;

use testkit as wait;

// ---------------------------------------------------------------------------
// Helpers

fn key(issuer: &str, subject: &str) -> AccountKey {
    AccountKey { issuer: issuer.into(), client_id: "tessera-desktop".into(), subject: subject.into() }
}

const ISSUER: &str = "http://127.0.0.1:18080/oauth2/default";
const OTHER_ISSUER: &str = "https://dev-123456.okta.com/oauth2/default";

fn rt(value: &str) -> StoredGrant {
    StoredGrant::bearer(RefreshToken::new(value.into()))
}

/// The text of the keyring entry saved for a bearer refresh token `value`.
fn entry(value: &str) -> String {
    rt(value).encode()
}

fn secret(grant: Option<StoredGrant>) -> Option<String> {
    grant.map(|g| g.refresh_token.secret().clone())
}

/// The error's kind, as the child scenarios report it to the parent: the
/// variant's name.
fn variant(error: &StoreError) -> String {
    format!("{error:?}").split([' ', '{', '(']).next().unwrap_or_default().to_owned()
}

/// Whether the private keyring session is there; fails the test when it is
/// required and missing, otherwise says it is skipped.
fn keyring_session(test: &str) -> bool {
    if std::env::var("TESSERA_KEYRING_SESSION").as_deref() == Ok("1") {
        return true;
    }
    assert!(
        std::env::var("TESSERA_REQUIRE_KEYRING").as_deref() != Ok("1"),
        "{test}: TESSERA_REQUIRE_KEYRING=1 but not inside scripts/keyring-session.sh"
    );
    eprintln!("skipped: {test} needs a real keyring; run under scripts/keyring-session.sh");
    false
}

/// A service name no other test (and no person's real entries) uses.
fn service(test: &str) -> String {
    format!("com.example.tessera.test.{test}.{}", std::process::id())
}

fn open(backend: KeyringBackend, test: &str) -> KeyringStore {
    match KeyringStore::open_with_service(backend, &service(test)) {
        Ok(store) => store,
        Err(e) => panic!("{test}: opening the {backend} keyring failed: {e} ({e:?})"),
    }
}

fn run(program: &str, args: &[&str]) -> Output {
    let mut command = Command::new(program);
    command.args(args).stdin(Stdio::null());
    wait::output_within(&mut command, &format!("{program} {}", args.join(" ")), Duration::from_secs(60))
}

/// `secret-tool lookup service <service> username <user>`: the secret, or
/// `None` when there is no such item.
fn secret_tool_lookup(attributes: &[(&str, &str)]) -> Option<String> {
    let mut args = vec!["lookup"];
    for (name, value) in attributes {
        args.push(name);
        args.push(value);
    }
    let out = run("secret-tool", &args);
    out.status.success().then(|| String::from_utf8(out.stdout).unwrap())
}

/// `secret-tool search --all`: one map of fields per matching item.
fn secret_tool_items(attributes: &[(&str, &str)]) -> Vec<std::collections::HashMap<String, String>> {
    let mut args = vec!["search", "--all", "--unlock"];
    for (name, value) in attributes {
        args.push(name);
        args.push(value);
    }
    let out = run("secret-tool", &args);
    let mut items = Vec::new();
    // Items start with a `[/path]` line on stdout; fields follow as `name = value`
    // (secret-tool prints the secret on stdout and the rest on stderr).
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let mut current: Option<std::collections::HashMap<String, String>> = None;
    for line in text.lines() {
        if line.starts_with("[/") {
            items.extend(current.take());
            current = Some(std::collections::HashMap::new());
        } else if let (Some(item), Some((name, value))) = (current.as_mut(), line.split_once(" = ")) {
            item.insert(name.to_owned(), value.to_owned());
        }
    }
    items.extend(current);
    items
}

// ---------------------------------------------------------------------------
// Child processes for the failure modes

/// Runs one failure-mode scenario when this binary is started as a child
/// with `TESSERA_STORE_CHILD=<scenario>`; does nothing otherwise. Prints
/// `RESULT <step> <ok|error kind>` lines for the parent to check.
#[test]
fn child_mode() {
    let Ok(scenario) = std::env::var("TESSERA_STORE_CHILD") else {
        return;
    };
    let report = |step: &str, result: Result<(), StoreError>| match result {
        Ok(()) => println!("RESULT {step} ok"),
        Err(e) => {
            // Neither the message nor the cause chain may show a token.
            let text = format!("{e} {e:?}");
            assert!(!text.contains("SECRET"), "{step}: a token leaked into the error: {text}");
            let mut causes = String::new();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                causes.push_str(&format!(" <- {c}"));
                cause = c.source();
            }
            println!(
                "RESULT {step} {} keyring_unavailable={} message={e} cause={causes}",
                variant(&e),
                e.keyring_unavailable()
            );
        }
    };
    let account = key(ISSUER, "child");
    match scenario.as_str() {
        "secret-service-open" => {
            report("open", KeyringStore::open(KeyringBackend::SecretService).map(drop));
        }
        "secret-service-probe" => match KeyringStore::open(KeyringBackend::SecretService) {
            Ok(store) => {
                report("open", Ok(()));
                report("probe", store.probe());
            }
            Err(e) => report("open", Err(e)),
        },
        "writes" => {
            let store = KeyringStore::open_with_service(KeyringBackend::SecretService, &service("writes")).unwrap();
            let first = secret_service_writes(|| store.save(&account, &rt("rt-1")).unwrap());
            println!("RESULT first {first}");
            let same = secret_service_writes(|| {
                store.save(&account, &rt("rt-1")).unwrap();
                store.save(&account, &rt("rt-1")).unwrap();
            });
            println!("RESULT same {same}");
            let rotated = secret_service_writes(|| store.save(&account, &rt("rt-2")).unwrap());
            println!("RESULT rotated {rotated}");
            assert_eq!(secret(store.load(&account).unwrap()).as_deref(), Some("rt-2"));
        }
        "locked" => {
            let store = KeyringStore::open_with_service(KeyringBackend::SecretService, &service("locked")).unwrap();
            store.save(&account, &rt("rt-before-lock-SECRET")).unwrap();
            let lock = run(
                "dbus-send",
                &[
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.secrets",
                    "/org/freedesktop/secrets",
                    "org.freedesktop.Secret.Service.Lock",
                    "array:objpath:/org/freedesktop/secrets/aliases/default",
                ],
            );
            assert!(lock.status.success(), "locking the keyring failed: {lock:?}");
            report("probe", store.probe());
            report("load", store.load(&account).map(drop));
            report("save", store.save(&account, &rt("rt-after-lock-SECRET")));
            report("save-new", store.save(&key(ISSUER, "child-2"), &rt("rt-new-SECRET")));
            report("delete", store.delete(&account));
        }
        "kernel-denied" => match KeyringStore::open_with_service(KeyringBackend::KernelKeyring, &service("denied")) {
            Ok(store) => {
                report("open", Ok(()));
                report("probe", store.probe());
                report("save", store.save(&account, &rt("rt-denied-SECRET")));
            }
            Err(e) => report("open", Err(e)),
        },
        other => panic!("unknown child scenario {other}"),
    }
}

/// Starts this test binary's [`child_mode`] with `scenario`, through
/// `wrapper` (a command line to put in front, may be empty) and `env`.
fn child(scenario: &str, wrapper: &[&str], env: &[(&str, &str)], remove_env: &[&str]) -> String {
    let exe = std::env::current_exe().unwrap();
    let exe = exe.to_str().unwrap();
    let mut argv: Vec<&str> = wrapper.to_vec();
    argv.extend([exe, "--exact", "child_mode", "--nocapture", "--test-threads=1"]);
    let mut command = Command::new(argv[0]);
    command.args(&argv[1..]).env("TESSERA_STORE_CHILD", scenario).stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    for name in remove_env {
        command.env_remove(name);
    }
    // A child that hangs (a keyring prompt waiting forever) fails the test.
    let out = wait::output_within(&mut command, &format!("child scenario {scenario}"), Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("child scenario {scenario}:\n{stdout}");
    assert!(out.status.success(), "child scenario {scenario} failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("RESULT "), "child scenario {scenario} reported nothing:\n{stdout}\n{stderr}");
    stdout
}

fn result_line<'a>(output: &'a str, step: &str) -> &'a str {
    let prefix = format!("RESULT {step} ");
    // The harness prints `test child_mode ... ` before the child's output.
    output
        .lines()
        .find_map(|l| l.find(prefix.as_str()).map(|at| &l[at + prefix.len()..]))
        .unwrap_or_else(|| panic!("no result for {step} in:\n{output}"))
}

/// A D-Bus session bus with no services at all (no activation either, so
/// gnome-keyring cannot be started on demand), stopped on drop.
struct BareBus {
    daemon: std::process::Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl BareBus {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dir.path().display()
            ),
        )
        .unwrap();
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon (package dbus-daemon / dbus-x11) is needed");
        let line = wait::first_line_within(daemon.stdout.take().unwrap(), "dbus-daemon printing its address");
        let address = line.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon gave no address: {line:?}");
        Self { daemon, address, _dir: dir }
    }
}

impl Drop for BareBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

// ---------------------------------------------------------------------------
// Secret Service (GNOME Keyring)

#[test]
fn secret_service_save_load_rotate_delete() {
    if !keyring_session("secret_service_save_load_rotate_delete") {
        return;
    }
    let test = "rotate";
    let store = open(KeyringBackend::SecretService, test);
    let alice = key(ISSUER, "alice");
    let id = alice.id();
    let svc = service(test);
    let lookup = [("service", svc.as_str()), ("username", id.as_str())];

    assert_eq!(secret(store.load(&alice).unwrap()), None, "missing entry is None");
    store.save(&alice, &rt("rt-alice-1")).unwrap();
    assert_eq!(secret(store.load(&alice).unwrap()).as_deref(), Some("rt-alice-1"));
    assert_eq!(secret_tool_lookup(&lookup).as_deref(), Some(entry("rt-alice-1").as_str()));

    // Rotation: the new token replaces the old one in the same item.
    store.save(&alice, &rt("rt-alice-2")).unwrap();
    assert_eq!(secret(store.load(&alice).unwrap()).as_deref(), Some("rt-alice-2"));
    assert_eq!(secret_tool_lookup(&lookup).as_deref(), Some(entry("rt-alice-2").as_str()));
    assert_eq!(secret_tool_items(&lookup).len(), 1, "rotation must not add a second item");

    store.delete(&alice).unwrap();
    assert_eq!(secret(store.load(&alice).unwrap()), None);
    assert_eq!(secret_tool_lookup(&lookup), None, "the item is gone from the keyring");
    store.delete(&alice).unwrap(); // idempotent
}

#[test]
fn secret_service_items_carry_searchable_attributes_and_a_label() {
    if !keyring_session("secret_service_items_carry_searchable_attributes_and_a_label") {
        return;
    }
    let test = "attributes";
    let store = open(KeyringBackend::SecretService, test);
    let alice = key(ISSUER, "alice");
    store.save(&alice, &rt("rt-attr")).unwrap();
    let svc = service(test);
    let items = secret_tool_items(&[("service", svc.as_str())]);
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!(item.get("attribute.username"), Some(&alice.id()));
    assert_eq!(item.get("attribute.issuer").map(String::as_str), Some(ISSUER));
    assert_eq!(item.get("attribute.client_id").map(String::as_str), Some("tessera-desktop"));
    assert_eq!(item.get("label").map(String::as_str), Some(format!("Tessera: alice at {ISSUER}").as_str()));
    // Found by issuer too, as a person browsing their keyring would.
    assert_eq!(
        secret_tool_lookup(&[("service", svc.as_str()), ("issuer", ISSUER)]).as_deref(),
        Some(entry("rt-attr").as_str())
    );
    store.delete(&alice).unwrap();
}

#[test]
fn secret_service_accounts_coexist() {
    if !keyring_session("secret_service_accounts_coexist") {
        return;
    }
    let store = open(KeyringBackend::SecretService, "coexist");
    let alice = key(ISSUER, "alice");
    let bob = key(ISSUER, "bob");
    let alice_elsewhere = key(OTHER_ISSUER, "alice"); // same sub, other issuer: someone else
    store.save(&alice, &rt("rt-alice")).unwrap();
    store.save(&bob, &rt("rt-bob")).unwrap();
    store.save(&alice_elsewhere, &rt("rt-alice-okta")).unwrap();
    assert_eq!(secret(store.load(&alice).unwrap()).as_deref(), Some("rt-alice"));
    assert_eq!(secret(store.load(&bob).unwrap()).as_deref(), Some("rt-bob"));
    assert_eq!(secret(store.load(&alice_elsewhere).unwrap()).as_deref(), Some("rt-alice-okta"));

    store.delete(&alice).unwrap();
    assert_eq!(secret(store.load(&alice).unwrap()), None);
    assert_eq!(secret(store.load(&bob).unwrap()).as_deref(), Some("rt-bob"));
    assert_eq!(secret(store.load(&alice_elsewhere).unwrap()).as_deref(), Some("rt-alice-okta"));
    store.delete(&bob).unwrap();
    store.delete(&alice_elsewhere).unwrap();
}

#[test]
fn secret_service_writes_only_on_change() {
    if !keyring_session("secret_service_writes_only_on_change") {
        return;
    }
    // The keyring does not show redundant writes (its modification time stays
    // put), so the child counts the Secret Service write calls on a bus of
    // its own, where no other test writes.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/keyring-session.sh");
    let out = child("writes", &[script.to_str().unwrap()], &[], &[]);
    assert_eq!(result_line(&out, "first"), "1", "a new token is written once");
    assert_eq!(result_line(&out, "same"), "0", "an unchanged token was written again");
    assert_eq!(result_line(&out, "rotated"), "1", "a rotated token is one write");
}

/// Counts the Secret Service write calls (`CreateItem`, `SetSecret`) made on
/// the session bus while `f` runs, with `dbus-monitor`.
fn secret_service_writes(f: impl FnOnce()) -> usize {
    let mut monitor = Command::new("dbus-monitor")
        .args([
            "--session",
            "type='method_call',interface='org.freedesktop.Secret.Item',member='SetSecret'",
            "type='method_call',interface='org.freedesktop.Secret.Collection',member='CreateItem'",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-monitor is needed");
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = monitor.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    // The monitor is in place once it has lost its own name (it became a monitor).
    loop {
        let line = rx.recv_timeout(Duration::from_secs(10)).expect("dbus-monitor did not start");
        if line.contains("member=NameLost") {
            break;
        }
    }
    f();
    std::thread::sleep(Duration::from_millis(300));
    monitor.kill().unwrap();
    monitor.wait().unwrap();
    reader.join().unwrap();
    rx.try_iter()
        .filter(|line| {
            line.starts_with("method call") && (line.contains("member=SetSecret") || line.contains("member=CreateItem"))
        })
        .count()
}

#[test]
fn secret_service_rotation_is_atomic_for_readers() {
    if !keyring_session("secret_service_rotation_is_atomic_for_readers") {
        return;
    }
    let test = "atomic";
    let store = Arc::new(open(KeyringBackend::SecretService, test));
    let alice = key(ISSUER, "alice");
    store.save(&alice, &rt("rt-0")).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (store, alice, done) = (store.clone(), alice.clone(), done.clone());
        std::thread::spawn(move || {
            let mut seen = HashSet::new();
            while !done.load(Ordering::SeqCst) {
                let token = secret(store.load(&alice).expect("a reader never sees an error"));
                let token = token.expect("a reader never sees the token missing during rotation");
                assert!(token.starts_with("rt-"), "a torn token: {token:?}");
                seen.insert(token);
            }
            seen
        })
    };
    for n in 1..=20 {
        store.save(&alice, &rt(&format!("rt-{n}"))).unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let seen = reader.join().unwrap();
    assert!(!seen.is_empty());
    assert_eq!(secret(store.load(&alice).unwrap()).as_deref(), Some("rt-20"));
    let svc = service(test);
    assert_eq!(secret_tool_items(&[("service", svc.as_str())]).len(), 1);
    store.delete(&alice).unwrap();
}

#[test]
fn secret_service_concurrent_first_saves_leave_one_entry() {
    if !keyring_session("secret_service_concurrent_first_saves_leave_one_entry") {
        return;
    }
    let test = "concurrent";
    let store = Arc::new(open(KeyringBackend::SecretService, test));
    let alice = key(ISSUER, "alice");
    let writers: Vec<_> = (0..6)
        .map(|n| {
            let (store, alice) = (store.clone(), alice.clone());
            std::thread::spawn(move || store.save(&alice, &rt(&format!("rt-w{n}"))).unwrap())
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    let svc = service(test);
    assert_eq!(secret_tool_items(&[("service", svc.as_str())]).len(), 1, "duplicate keyring items");
    let token = secret(store.load(&alice).unwrap()).unwrap();
    assert!(token.starts_with("rt-w"));
    store.delete(&alice).unwrap();
}

#[test]
fn secret_service_probe_succeeds_and_leaves_nothing() {
    if !keyring_session("secret_service_probe_succeeds_and_leaves_nothing") {
        return;
    }
    let test = "probe";
    let store = open(KeyringBackend::SecretService, test);
    store.probe().unwrap();
    let svc = service(test);
    assert!(secret_tool_items(&[("service", svc.as_str())]).is_empty());
    assert_eq!(store.backend(), KeyringBackend::SecretService);
    assert_eq!(store.service(), svc);
}

#[test]
fn secret_service_locked_keyring_is_a_clear_error() {
    if !keyring_session("secret_service_locked_keyring_is_a_clear_error") {
        return;
    }
    // Locking the shared keyring would break the other tests: run in a
    // keyring session of its own.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/keyring-session.sh");
    let out = child("locked", &[script.to_str().unwrap()], &[], &[]);
    for step in ["probe", "save", "save-new"] {
        let line = result_line(&out, step);
        assert!(line.starts_with("Locked keyring_unavailable=true"), "{step}: {line}");
        assert!(line.contains("the keyring is locked"), "{step}: {line}");
    }
    // Reading or deleting an existing item in a locked keyring needs it
    // unlocked too: the same clear error, never a silent "no token".
    for step in ["load", "delete"] {
        let line = result_line(&out, step);
        assert!(line.starts_with("Locked "), "{step}: {line}");
    }
}

#[test]
fn secret_service_without_a_keyring_is_a_clear_error() {
    if !keyring_session("secret_service_without_a_keyring_is_a_clear_error") {
        return;
    }
    // A plain `dbus-run-session` on a machine with gnome-keyring installed:
    // the bus starts the Secret Service on demand, but there is no unlocked
    // (or any) login keyring, and no prompt can be shown.
    let home = tempfile::tempdir().unwrap();
    let home_dir = home.path().to_str().unwrap();
    let out = child(
        "secret-service-probe",
        &["dbus-run-session", "--"],
        &[("HOME", home_dir), ("XDG_RUNTIME_DIR", home_dir)],
        &["XDG_DATA_HOME", "XDG_CONFIG_HOME"],
    );
    assert_eq!(result_line(&out, "open"), "ok");
    let line = result_line(&out, "probe");
    assert!(line.starts_with("Locked keyring_unavailable=true"), "{line}");
}

#[test]
fn no_secret_service_on_the_bus_is_a_clear_error() {
    if !keyring_session("no_secret_service_on_the_bus_is_a_clear_error") {
        return;
    }
    let bus = BareBus::start();
    let out = child("secret-service-open", &[], &[("DBUS_SESSION_BUS_ADDRESS", bus.address.as_str())], &[]);
    let line = result_line(&out, "open");
    assert!(line.starts_with("NoSecretService keyring_unavailable=true"), "{line}");
    assert!(line.contains("org.freedesktop.secrets"), "{line}");
}

#[test]
fn no_session_bus_is_a_clear_error() {
    let runtime = tempfile::tempdir().unwrap();
    let out = child(
        "secret-service-open",
        &[],
        &[("XDG_RUNTIME_DIR", runtime.path().to_str().unwrap())],
        &["DBUS_SESSION_BUS_ADDRESS"],
    );
    let line = result_line(&out, "open");
    assert!(line.starts_with("NoSessionBus keyring_unavailable=true"), "{line}");
}

// ---------------------------------------------------------------------------
// Kernel keyring (keyutils)

fn keyctl_search(description: &str) -> Option<String> {
    let out = run("keyctl", &["search", "@s", "user", description]);
    if !out.status.success() {
        return None;
    }
    let id = String::from_utf8(out.stdout).unwrap();
    let out = run("keyctl", &["pipe", id.trim()]);
    out.status.success().then(|| String::from_utf8(out.stdout).unwrap())
}

#[test]
fn kernel_keyring_save_load_rotate_delete() {
    if !keyring_session("kernel_keyring_save_load_rotate_delete") {
        return;
    }
    let test = "kernel";
    let store = open(KeyringBackend::KernelKeyring, test);
    store.probe().unwrap();
    let alice = key(ISSUER, "alice");
    let bob = key(ISSUER, "bob");
    let description = format!("keyring:{}@{}", alice.id(), service(test));

    assert_eq!(secret(store.load(&alice).unwrap()), None);
    store.save(&alice, &rt("rt-k1")).unwrap();
    store.save(&bob, &rt("rt-bob")).unwrap();
    assert_eq!(keyctl_search(&description).as_deref(), Some(entry("rt-k1").as_str()));
    store.save(&alice, &rt("rt-k2")).unwrap();
    assert_eq!(secret(store.load(&alice).unwrap()).as_deref(), Some("rt-k2"));
    assert_eq!(keyctl_search(&description).as_deref(), Some(entry("rt-k2").as_str()));
    assert_eq!(secret(store.load(&bob).unwrap()).as_deref(), Some("rt-bob"));

    store.delete(&alice).unwrap();
    store.delete(&alice).unwrap();
    assert_eq!(secret(store.load(&alice).unwrap()), None);
    assert_eq!(keyctl_search(&description), None);
    assert_eq!(secret(store.load(&bob).unwrap()).as_deref(), Some("rt-bob"));
    store.delete(&bob).unwrap();
}

#[test]
fn kernel_keyring_without_access_is_a_clear_error() {
    if !keyring_session("kernel_keyring_without_access_is_a_clear_error") {
        return;
    }
    // A fresh session keyring this process may not use (permissions 0):
    // what a process without a usable session keyring sees.
    let out = child(
        "kernel-denied",
        &["keyctl", "session", "-", "sh", "-c", "keyctl setperm @s 0 && exec \"$@\"", "sh"],
        &[],
        &[],
    );
    let failed = ["open", "probe", "save"]
        .into_iter()
        .filter(|step| out.contains(&format!("RESULT {step} ")))
        .map(|step| result_line(&out, step))
        .find(|line| !line.starts_with("ok"))
        .unwrap_or_else(|| panic!("nothing failed without a session keyring:\n{out}"));
    assert!(failed.starts_with("NoSessionKeyring keyring_unavailable=true"), "{failed}");
    assert!(failed.contains("keyctl session"), "{failed}");
}

// ---------------------------------------------------------------------------
// Memory

#[test]
fn memory_store_behaves_like_a_keyring() {
    let store: Arc<dyn TokenStore> = Arc::new(MemoryStore::new());
    let alice = key(ISSUER, "alice");
    let bob = key(ISSUER, "bob");
    assert_eq!(secret(store.load(&alice).unwrap()), None);
    store.save(&alice, &rt("rt-a1")).unwrap();
    store.save(&bob, &rt("rt-b1")).unwrap();
    store.save(&alice, &rt("rt-a2")).unwrap();
    assert_eq!(secret(store.load(&alice).unwrap()).as_deref(), Some("rt-a2"));
    assert_eq!(secret(store.load(&bob).unwrap()).as_deref(), Some("rt-b1"));
    store.delete(&alice).unwrap();
    store.delete(&alice).unwrap();
    assert_eq!(secret(store.load(&alice).unwrap()), None);
    assert_eq!(secret(store.load(&bob).unwrap()).as_deref(), Some("rt-b1"));
}

#[test]
fn memory_store_writes_only_on_change_and_never_prints_tokens() {
    let store = MemoryStore::new();
    let alice = key(ISSUER, "alice");
    store.save(&alice, &rt("rt-SECRET-1")).unwrap();
    store.save(&alice, &rt("rt-SECRET-1")).unwrap();
    assert_eq!(store.writes(), 1);
    store.save(&alice, &rt("rt-SECRET-2")).unwrap();
    assert_eq!(store.writes(), 2);
    assert_eq!(store.len(), 1);
    assert!(!format!("{store:?}").contains("SECRET"));
}

// ---------------------------------------------------------------------------
// The account book

fn signed_in(issuer: &str, subject: &str, email: &str, name: &str) -> SignedIn {
    SignedIn {
        key: key(issuer, subject),
        identity: Identity {
            name: Some(name.into()),
            email: Some(email.into()),
            preferred_username: Some(email.into()),
        },
        tokens: TokenSet {
            access_token: oauth2::AccessToken::new(format!("at-SECRET-{subject}")),
            expires_in: Duration::from_secs(3600),
            id_token: Some(signin::account::IdTokenText::new(format!(
                "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ{subject}SECRET.c2ln"
            ))),
            scopes: vec!["openid".into(), "offline_access".into()],
            dpop: None,
        },
        refresh_token: Some(RefreshToken::new(format!("rt-SECRET-{subject}"))),
    }
}

fn book_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("data").join("tessera").join("accounts.json")
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn account_book_missing_file_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    let book = AccountBook::load(book_path(&dir)).unwrap();
    assert!(book.list().is_empty());
    assert!(book.active().is_none());
    assert!(!book_path(&dir).exists(), "loading must not create the file");
}

#[test]
fn account_book_upsert_adds_updates_and_never_overwrites_someone_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = book_path(&dir);
    let mut book = AccountBook::load(&path).unwrap();

    let alice = signed_in(ISSUER, "sub-alice", "alice@example.com", "Alice");
    book.upsert(&alice).unwrap();
    assert_eq!(book.active().unwrap().key, alice.key);

    // Someone else with the same email and name (a reused address): a new account.
    let impostor = signed_in(ISSUER, "sub-other", "alice@example.com", "Alice");
    book.upsert(&impostor).unwrap();
    assert_eq!(book.list().len(), 2);
    assert_eq!(book.active().unwrap().key, impostor.key);
    assert_eq!(book.get(&alice.key).unwrap().identity.name.as_deref(), Some("Alice"));

    // The same subject at another issuer: a different person too.
    let elsewhere = signed_in(OTHER_ISSUER, "sub-alice", "alice@corp.example", "Alice Corp");
    book.upsert(&elsewhere).unwrap();
    assert_eq!(book.list().len(), 3);
    assert_eq!(
        book.get(&alice.key).unwrap().identity.email.as_deref(),
        Some("alice@example.com"),
        "another issuer's account overwrote alice"
    );

    // Alice again, renamed and marked as needing sign-in before: updated in place.
    book.mark_needs_sign_in(&alice.key).unwrap();
    assert!(book.get(&alice.key).unwrap().needs_sign_in);
    let mut again = signed_in(ISSUER, "sub-alice", "alice@example.com", "Alice Liddell");
    again.identity.preferred_username = None; // missing now: the old value stays
    let updated = book.upsert_identity(&again.key, &again.identity, 4_000_000_000).unwrap();
    assert_eq!(updated.identity.name.as_deref(), Some("Alice Liddell"));
    assert_eq!(updated.identity.preferred_username.as_deref(), Some("alice@example.com"));
    assert_eq!(updated.last_used, 4_000_000_000);
    assert!(!updated.needs_sign_in, "a new sign-in clears needs_sign_in");
    assert_eq!(book.list().len(), 3);
    assert_eq!(book.active().unwrap().key, alice.key);
    assert_eq!(book.list()[0].key, alice.key, "most recently used first");

    // All of it on disk.
    let reloaded = AccountBook::load(&path).unwrap();
    assert_eq!(reloaded.list(), book.list());
    assert_eq!(reloaded.active().unwrap().key, alice.key);
    assert_eq!(reloaded.get(&alice.key).unwrap().identity.name.as_deref(), Some("Alice Liddell"));
}

#[test]
fn account_book_switch_remove_and_mark() {
    let dir = tempfile::tempdir().unwrap();
    let path = book_path(&dir);
    let mut book = AccountBook::load(&path).unwrap();
    let alice = signed_in(ISSUER, "sub-alice", "alice@example.com", "Alice");
    let bob = signed_in(ISSUER, "sub-bob", "bob@example.com", "Bob");
    book.upsert(&alice).unwrap();
    book.upsert(&bob).unwrap();
    assert_eq!(book.active().unwrap().key, bob.key);

    book.set_active(&alice.key).unwrap();
    assert_eq!(AccountBook::load(&path).unwrap().active().unwrap().key, alice.key);

    book.mark_needs_sign_in(&bob.key).unwrap();
    assert!(AccountBook::load(&path).unwrap().get(&bob.key).unwrap().needs_sign_in);

    let removed: Account = book.remove(&alice.key).unwrap();
    assert_eq!(removed.key, alice.key, "remove returns the key of the keyring entry to delete");
    assert!(book.active().is_none(), "removing the active account leaves none active");
    let reloaded = AccountBook::load(&path).unwrap();
    assert_eq!(reloaded.list().len(), 1);
    assert!(reloaded.get(&alice.key).is_none());
    assert!(reloaded.active().is_none());

    assert!(matches!(book.remove(&alice.key), Err(AccountsError::NoSuchAccount { .. })));
    assert!(matches!(book.set_active(&alice.key), Err(AccountsError::NoSuchAccount { .. })));
    assert!(matches!(book.mark_needs_sign_in(&alice.key), Err(AccountsError::NoSuchAccount { .. })));
}

#[test]
fn account_book_find_by_id_email_or_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let mut book = AccountBook::load(book_path(&dir)).unwrap();
    let alice = signed_in(ISSUER, "sub-alice", "alice@example.com", "Alice Liddell");
    let alan = signed_in(ISSUER, "sub-alan", "alan@example.com", "Alan Turing");
    let bob = signed_in(OTHER_ISSUER, "sub-bob", "bob@corp.example", "Bob");
    for s in [&alice, &alan, &bob] {
        book.upsert(s).unwrap();
    }
    assert_eq!(book.find(&alice.key.id()).unwrap().key, alice.key);
    assert_eq!(book.find("ALICE@example.com").unwrap().key, alice.key);
    assert_eq!(book.find("bob").unwrap().key, bob.key);
    assert_eq!(book.find("Alan T").unwrap().key, alan.key);
    assert_eq!(book.find("sub-alan").unwrap().key, alan.key);
    match book.find("al") {
        Err(AccountsError::AmbiguousAccount { candidates, .. }) => assert_eq!(candidates.len(), 2),
        other => panic!("expected ambiguous, got {other:?}"),
    }
    assert!(matches!(book.find("carol"), Err(AccountsError::NoSuchAccount { .. })));
    assert!(matches!(book.find(""), Err(AccountsError::NoSuchAccount { .. })));
}

#[test]
fn account_book_file_holds_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let path = book_path(&dir);
    let mut book = AccountBook::load(&path).unwrap();
    let alice = signed_in(ISSUER, "sub-alice", "alice@example.com", "Alice");
    book.upsert(&alice).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("alice@example.com"), "the file is the account book: {text}");
    for forbidden in ["SECRET", "at-", "rt-", "eyJ", "refresh", "access_token", "id_token"] {
        assert!(!text.contains(forbidden), "the account book contains {forbidden:?}:\n{text}");
    }
}

#[cfg(unix)]
#[test]
fn account_book_is_private_and_written_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = book_path(&dir);
    let mut book = AccountBook::load(&path).unwrap();
    book.upsert(&signed_in(ISSUER, "sub-alice", "alice@example.com", "Alice")).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700, "a new data folder is private");

    // A file someone made world-readable becomes private on the next write.
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    book.upsert(&signed_in(ISSUER, "sub-bob", "bob@example.com", "Bob")).unwrap();
    assert_eq!(mode(&path), 0o600);

    // Readers never see a half-written file while it is being rewritten.
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (path, done) = (path.clone(), done.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !done.load(Ordering::SeqCst) {
                let text = std::fs::read(&path).unwrap();
                serde_json::from_slice::<serde_json::Value>(&text).unwrap_or_else(|e| {
                    panic!("a reader saw a torn account book ({e}): {}", String::from_utf8_lossy(&text))
                });
                reads += 1;
            }
            reads
        })
    };
    for n in 0..200 {
        let person = signed_in(ISSUER, &format!("sub-{n}"), &format!("p{n}@example.com"), &"x".repeat(n * 10));
        book.upsert(&person).unwrap();
    }
    done.store(true, Ordering::SeqCst);
    assert!(reader.join().unwrap() > 0);
    assert_eq!(AccountBook::load(&path).unwrap().list().len(), 202);

    // No temporary files are left behind (the lock file stays, on purpose).
    let mut names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["accounts.json", "accounts.json.lock"], "{names:?}");
}

#[test]
fn account_book_corrupt_file_is_kept_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = book_path(&dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let damaged = b"{\"version\":1,\"accounts\":[{\"key\":";
    std::fs::write(&path, damaged).unwrap();

    let backup = match AccountBook::load(&path) {
        Err(e @ AccountsError::Corrupt { .. }) => {
            let message = e.to_string();
            assert!(message.contains("damaged"), "{message}");
            assert!(message.contains(".corrupt"), "{message}");
            match e {
                AccountsError::Corrupt { backup, .. } => backup.unwrap(),
                _ => unreachable!(),
            }
        }
        other => panic!("expected a corrupt-file error, got {other:?}"),
    };
    assert_eq!(backup, path.with_file_name("accounts.json.corrupt"));
    assert_eq!(std::fs::read(&backup).unwrap(), damaged, "the copy holds the damaged bytes");
    assert_eq!(std::fs::read(&path).unwrap(), damaged, "the damaged file is left as it was");
    #[cfg(unix)]
    assert_eq!(mode(&backup), 0o600);

    // Loading again keeps the first copy and makes another.
    match AccountBook::load(&path) {
        Err(AccountsError::Corrupt { backup: Some(second), .. }) => {
            assert_eq!(second, path.with_file_name("accounts.json.corrupt.1"));
        }
        other => panic!("expected a corrupt-file error, got {other:?}"),
    }
    assert_eq!(std::fs::read(&backup).unwrap(), damaged);

    // Starting over: an empty book replaces the damaged file on its first write.
    let mut fresh = AccountBook::empty(&path);
    fresh.upsert(&signed_in(ISSUER, "sub-alice", "alice@example.com", "Alice")).unwrap();
    assert_eq!(AccountBook::load(&path).unwrap().list().len(), 1);
    assert_eq!(std::fs::read(&backup).unwrap(), damaged);
}

#[test]
fn account_book_failed_write_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // The folder the book should go in is a file: every write fails.
    let blocked = dir.path().join("not-a-folder");
    std::fs::write(&blocked, b"").unwrap();
    let mut book = AccountBook::empty(blocked.join("accounts.json"));
    let alice = signed_in(ISSUER, "sub-alice", "alice@example.com", "Alice");
    assert!(matches!(book.upsert(&alice), Err(AccountsError::Io { .. })));
    assert!(book.list().is_empty(), "a change that was not saved is not kept");
    assert!(book.active().is_none());

    // And with a good folder, a failed rename leaves the old file whole: a
    // folder where the file should be cannot be replaced.
    let path = book_path(&dir);
    std::fs::create_dir_all(&path).unwrap();
    let mut book = AccountBook::empty(&path);
    assert!(matches!(book.upsert(&alice), Err(AccountsError::Io { .. })));
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "accounts.json.lock")
        .collect();
    assert_eq!(leftovers, ["accounts.json"], "the temporary file is removed after a failed write");
}

#[test]
fn account_book_from_a_newer_tessera_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = book_path(&dir);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, br#"{"version": 99, "accounts": []}"#).unwrap();
    assert!(matches!(AccountBook::load(&path), Err(AccountsError::NewerFormat { version: 99, .. })));
}

#[test]
fn account_book_changes_by_another_holder_are_kept() {
    // The desktop app and the CLI each hold the book; neither may overwrite
    // the other's change with its older copy.
    let dir = tempfile::tempdir().unwrap();
    let path = book_path(&dir);
    let mut desktop = AccountBook::load(&path).unwrap();
    let mut cli = AccountBook::load(&path).unwrap();
    let alice = signed_in(ISSUER, "sub-alice", "alice@example.com", "Alice");
    let bob = signed_in(ISSUER, "sub-bob", "bob@example.com", "Bob");
    desktop.upsert(&alice).unwrap();
    cli.upsert(&bob).unwrap();
    assert_eq!(cli.list().len(), 2, "the CLI's change was made to the book on disk");
    desktop.set_active(&alice.key).unwrap();
    let on_disk = AccountBook::load(&path).unwrap();
    let keys: Vec<_> = on_disk.list().iter().map(|a| a.key.subject.clone()).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(on_disk.active().unwrap().key, alice.key);
    // Removing an account the other holder already removed: refused, the book unchanged.
    cli.remove(&bob.key).unwrap();
    assert!(matches!(desktop.remove(&bob.key), Err(AccountsError::NoSuchAccount { .. })));
    assert_eq!(AccountBook::load(&path).unwrap().list().len(), 1);
    #[cfg(unix)]
    assert_eq!(mode(&path.with_file_name("accounts.json.lock")), 0o600);
}

#[test]
fn account_book_concurrent_writers_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = book_path(&dir);
    let writers: Vec<_> = (0..8)
        .map(|n| {
            let path = path.clone();
            std::thread::spawn(move || {
                // Each writer read the book before any of the others wrote.
                let mut book = AccountBook::load(&path).unwrap();
                for round in 0..5 {
                    let someone = signed_in(ISSUER, &format!("sub-{n}-{round}"), "x@example.com", "X");
                    book.upsert(&someone).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    assert_eq!(AccountBook::load(&path).unwrap().list().len(), 40);
}

#[test]
fn account_book_default_path_is_beside_the_config() {
    let path = AccountBook::default_path().unwrap();
    let config = directories::ProjectDirs::from("com", "example", "tessera").unwrap();
    assert_eq!(path, config.config_dir().join("accounts.json"));
}

// ---------------------------------------------------------------------------
// From async code

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_service_from_async_code_through_spawn_blocking() {
    if !keyring_session("secret_service_from_async_code_through_spawn_blocking") {
        return;
    }
    let opening = tokio::task::spawn_blocking(|| open(KeyringBackend::SecretService, "async"));
    let store: Arc<dyn TokenStore> = Arc::new(within("opening the keyring", opening).await.unwrap());
    let alice = key(ISSUER, "alice");
    let (s, k) = (store.clone(), alice.clone());
    within("a keyring write", tokio::task::spawn_blocking(move || s.save(&k, &rt("rt-async")))).await.unwrap().unwrap();
    let (s, k) = (store.clone(), alice.clone());
    let loaded = within("a keyring read", tokio::task::spawn_blocking(move || s.load(&k))).await.unwrap().unwrap();
    assert_eq!(secret(loaded).as_deref(), Some("rt-async"));
    let (s, k) = (store.clone(), alice.clone());
    within("a keyring delete", tokio::task::spawn_blocking(move || s.delete(&k))).await.unwrap().unwrap();
    // The last handle dropped on a runtime thread must not panic (the
    // connection closes on a thread of its own).
    drop(store);
}
