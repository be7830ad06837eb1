//! The `tessera` binary as a real process, against dev-idp and the items API
//! started here on 127.0.0.1 port 0. The browser is `tessera-test-browser`
//! (through `$BROWSER`): it signs the person in on dev-idp's pages and
//! follows the redirect into tessera's loopback listener. It is a package of
//! its own (crates/test-browser, never shipped), so cargo does not build it
//! for these tests: `cargo test --workspace` does, or `cargo build -p
//! tessera-test-browser` first (see [`test_browser`]).
//!
//! Sign-ins survive between processes only in the OS keyring: the
//! multi-command tour with the keyring runs inside `scripts/keyring-session.sh`
//! (`./x test`; `TESSERA_KEYRING_SESSION=1`), and is skipped elsewhere unless
//! `TESSERA_REQUIRE_KEYRING=1` makes it required. Everything else runs with
//! memory-only sessions, or in one process through `tessera demo`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

mod support;
use support::{Run, TESSERA, keyring_session};

const SCOPES: &str = "openid profile email offline_access items:read items:write";

/// The test browser, built into the same target folder as `tessera` (cargo
/// gives tests the paths of their own package's binaries only).
fn test_browser() -> PathBuf {
    let path = PathBuf::from(TESSERA).with_file_name("tessera-test-browser");
    assert!(
        path.is_file(),
        "{} is not built: run `cargo build -p tessera-test-browser` (or `cargo test --workspace`) first",
        path.display()
    );
    path
}

/// dev-idp and the items API (temporary SQLite, demo items) on port 0.
struct Stack {
    idp: dev_idp::DevIdp,
    api: String,
    _dir: tempfile::TempDir,
}

async fn stack() -> Stack {
    stack_with(|_| {}).await
}

async fn stack_with(change: impl FnOnce(&mut dev_idp::Config)) -> Stack {
    let mut idp_config = dev_idp::Config { port: 0, ..Default::default() };
    change(&mut idp_config);
    let idp = dev_idp::spawn(idp_config).await.unwrap();
    // Demo mode: the demo items for alice and bob.
    let (api, dir) = support::items_api(idp.issuer(), true).await;
    Stack { idp, api, _dir: dir }
}

/// One person's machine: a private HOME (config, account book) and working
/// directory, the settings in the environment, and nothing else of ours.
#[derive(Clone)]
struct Machine {
    home: std::sync::Arc<tempfile::TempDir>,
    env: Vec<(String, String)>,
}

impl Machine {
    /// Pointed at `stack`, memory-only, the test browser signing alice in.
    fn new(stack: Option<&Stack>) -> Self {
        let home = std::sync::Arc::new(tempfile::tempdir().unwrap());
        let mut machine = Self { home, env: Vec::new() };
        machine = machine
            .with("CLIENT_ID", "tessera-desktop")
            .with("OKTA_SCOPES", SCOPES)
            .with("BROWSER", test_browser().to_str().unwrap())
            .with("TEST_BROWSER_USER", "alice")
            .with("TEST_BROWSER_PASSWORD", "alice-demo-pw")
            .with("SIGNIN_TIMEOUT_SECS", "30")
            .with("TESSERA_MEMORY_ONLY", "1")
            .with("RUST_LOG", "warn");
        if let Some(stack) = stack {
            machine = machine.with("OKTA_ISSUER", stack.idp.issuer()).with("ITEMS_API_URL", &stack.api);
        }
        machine
    }

    /// Uses the OS keyring of the surrounding session instead of memory.
    fn with_keyring(mut self) -> Self {
        self.env.retain(|(name, _)| name != "TESSERA_MEMORY_ONLY");
        for name in ["DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"] {
            if let Ok(value) = std::env::var(name) {
                self = self.with(name, &value);
            }
        }
        self
    }

    fn with(mut self, name: &str, value: &str) -> Self {
        self.env.retain(|(n, _)| n != name);
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The same machine (the same HOME) with `name` set to `value`.
    fn clone_with(&self, name: &str, value: &str) -> Self {
        self.clone().with(name, value)
    }

    fn without(mut self, name: &str) -> Self {
        self.env.retain(|(n, _)| n != name);
        self
    }

    /// Runs `tessera args`; fails the test (killing it) if it takes longer
    /// than [`RUN_LIMIT`]: a broken check must fail, not hang.
    async fn run(&self, args: &[&str]) -> Run {
        let command = self.command(args);
        let output = tokio::task::spawn_blocking(move || output_within(command, RUN_LIMIT))
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("`tessera {}` did not end within {RUN_LIMIT:?}", args.join(" ")));
        Run::of(output)
    }

    fn command(&self, args: &[&str]) -> Command {
        support::tessera(self.home.path(), self.env.iter().map(|(n, v)| (n.as_str(), v.as_str())), args)
    }
}

/// The longest one run of `tessera` may take (a sign-in times out after
/// `SIGNIN_TIMEOUT_SECS`, 30 s here).
const RUN_LIMIT: std::time::Duration = std::time::Duration::from_secs(90);

/// `command.output()`, but the process is killed and `None` answered when it
/// has not ended within `limit`.
fn output_within(mut command: Command, limit: std::time::Duration) -> Option<std::process::Output> {
    use std::io::Read as _;
    use std::process::Stdio;
    let mut child =
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("tessera starts");
    let read = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    Some(std::process::Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() })
}

/// A compact JWS: three base64url parts, the header naming RS256.
fn assert_jwt(text: &str) {
    let parts: Vec<&str> = text.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWT: {text:?}");
    assert!(
        parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')),
        "not base64url: {text:?}"
    );
    assert!(parts[0].starts_with("eyJ"), "not a JSON header: {text:?}");
}

#[tokio::test]
async fn help_documents_the_exit_codes() {
    let run = Machine::new(None).run(&["--help"]).await;
    run.expect(0);
    for line in ["3  sign-in required", "5  not found", "7  keyring unavailable", "--memory-only"] {
        assert!(run.stdout.contains(line), "help lacks {line:?}: {}", run.stdout);
    }
}

/// Issue 17: `--help` explains the choices: where sign-ins are kept,
/// profiles, proxies and a CA file.
#[tokio::test]
async fn help_explains_the_token_stores_profiles_and_company_networks() {
    let run = Machine::new(None).run(&["--help"]).await;
    run.expect(0);
    for words in [
        "--token-store",
        "secret-service",
        "kernel ",
        "[profiles.NAME]",
        "--profile",
        "TESSERA_PROFILE",
        "HTTPS_PROXY",
        "NO_PROXY",
        "TESSERA_CA_FILE",
        "tessera login --device",
    ] {
        assert!(run.stdout.contains(words), "help lacks {words:?}: {}", run.stdout);
    }
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let machine = Machine::new(None);
    let run = machine.run(&["frobnicate"]).await;
    run.expect(2);
    assert!(run.stderr.contains("unrecognized subcommand"), "{run:?}");
    assert!(run.stdout.is_empty());
    // An edit that changes nothing, a price that is not a number.
    machine.run(&["items", "edit", "some-id"]).await.expect(2);
    machine.run(&["items", "add", "--name", "x", "--price", "cheap"]).await.expect(2);
    // A setting that cannot be used is a usage error too, naming the setting.
    let run = machine.with("OKTA_ISSUER", "ftp://example.com").run(&["login"]).await;
    run.expect(2);
    assert!(run.stderr.contains("OKTA_ISSUER"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn nobody_signed_in_exits_3_with_the_cause_chain_on_stderr() {
    let stack = stack().await;
    let machine = Machine::new(Some(&stack));
    for args in [&["items", "list"][..], &["token"], &["whoami"]] {
        let run = machine.run(args).await;
        run.expect(3);
        assert!(run.stdout.is_empty(), "{run:?}");
        assert!(run.stderr.contains("tessera: "), "{run:?}");
        assert!(run.stderr.contains("nobody is signed in"), "{run:?}");
        assert!(run.stderr.contains("tessera login"), "no hint: {run:?}");
    }
    // `items list` puts the session's error under the client's one.
    let run = machine.run(&["items", "list"]).await;
    assert!(run.stderr.contains("  caused by: nobody is signed in"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_memory_only_sign_in_is_forgotten_when_the_command_ends() {
    let stack = stack().await;
    let machine = Machine::new(Some(&stack));
    let run = machine.run(&["login", "--json"]).await;
    run.expect(0);
    assert!(run.stderr.contains("Memory-only session"), "{run:?}");
    assert!(run.stderr.contains("Signed in as alice@example.com"), "{run:?}");
    let account = run.json();
    assert_eq!(account["email"], "alice@example.com");
    assert_eq!(account["issuer"], stack.idp.issuer());
    // The account is remembered (non-secret book), its tokens are not.
    let accounts = machine.run(&["accounts", "--json"]).await;
    accounts.expect(0);
    assert_eq!(accounts.json()[0]["id"], account["id"]);
    let run = machine.run(&["whoami"]).await;
    run.expect(3);
    assert!(run.stderr.contains("sign in again"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_keyring_exits_7_and_never_falls_back_silently() {
    let stack = stack().await;
    let machine = Machine::new(Some(&stack))
        .without("TESSERA_MEMORY_ONLY")
        .with("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/tessera-test-bus");
    let run = machine.run(&["login"]).await;
    run.expect(7);
    assert!(run.stderr.contains("no D-Bus session bus"), "{run:?}");
    // The hint names the other stores, and how to keep the choice.
    for choice in ["--token-store kernel", "--token-store memory", "TESSERA_TOKEN_STORE"] {
        assert!(run.stderr.contains(choice), "the hint lacks {choice:?}: {run:?}");
    }
    assert!(!run.stderr.contains("Signed in"), "{run:?}");
    // Asked for the Secret Service by name, the same.
    let run = machine.run(&["login", "--token-store", "secret-service"]).await;
    run.expect(7);
    assert!(run.stderr.contains("--token-store kernel"), "{run:?}");
    // Listing accounts needs no tokens, so no keyring.
    machine.run(&["accounts"]).await.expect(0);
    // Asked for, memory works, by either name.
    machine.clone_with("TESSERA_MEMORY_ONLY", "1").run(&["login"]).await.expect(0);
    let run = machine.run(&["login", "--token-store", "memory"]).await;
    run.expect(0);
    assert!(run.stderr.contains("Memory-only session"), "{run:?}");
    machine.with("TESSERA_TOKEN_STORE", "memory").run(&["login"]).await.expect(0);
}

/// Issue 17, item 3: before anyone signed in, `whoami`, `token` and `items`
/// say "nobody is signed in" (exit 3, with how to sign in, `--device`
/// included) whatever the state of the token store: no session bus (an SSH
/// session), a bus without a Secret Service, or a kernel keyring that
/// cannot be reached. Nothing is asked of the store then.
#[tokio::test(flavor = "multi_thread")]
async fn before_any_sign_in_commands_say_not_signed_in_whatever_the_store() {
    let stack = stack().await;
    let no_bus = Machine::new(Some(&stack))
        .without("TESSERA_MEMORY_ONLY")
        .with("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/tessera-test-bus");
    let machines = [
        no_bus.clone_with("TESSERA_TOKEN_STORE", "auto"),
        no_bus.clone_with("TESSERA_TOKEN_STORE", "secret-service"),
        no_bus.clone_with("TESSERA_TOKEN_STORE", "kernel"),
    ];
    for machine in &machines {
        for args in [&["whoami"][..], &["token"], &["items", "list"], &["logout"]] {
            let run = machine.run(args).await;
            run.expect(3);
            assert!(run.stderr.contains("nobody is signed in"), "{args:?}: {run:?}");
            assert!(run.stderr.contains("tessera login --device"), "{args:?}: {run:?}");
            assert!(!run.stderr.contains("D-Bus"), "{args:?}: {run:?}");
        }
    }
    // A store name that is not one is a usage error naming the setting.
    let run = no_bus.clone_with("TESSERA_TOKEN_STORE", "file").run(&["whoami"]).await;
    run.expect(2);
    assert!(run.stderr.contains("TESSERA_TOKEN_STORE") && run.stderr.contains("secret-service"), "{run:?}");
    let run = no_bus.run(&["whoami", "--token-store", "file"]).await;
    run.expect(2);
}

/// Issue 17, item 3: the kernel keyring keeps a sign-in for the login
/// session without any D-Bus (as over SSH): a sign-in made by one process is
/// used by the next, through `--token-store kernel`, `TESSERA_TOKEN_STORE`
/// or the file's `token_store`; the Secret Service holds nothing of it.
#[tokio::test(flavor = "multi_thread")]
async fn the_kernel_keyring_keeps_a_sign_in_across_processes_without_d_bus() {
    if !keyring_session() {
        return;
    }
    let stack = stack().await;
    let ssh = Machine::new(Some(&stack))
        .without("TESSERA_MEMORY_ONLY")
        .with("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/tessera-test-bus");
    let run = ssh.run(&["login", "--token-store", "kernel", "--json"]).await;
    run.expect(0);
    assert!(!run.stderr.contains("Memory-only"), "{run:?}");
    let account = run.json();
    let run = ssh.run(&["whoami", "--token-store", "kernel", "--json"]).await;
    run.expect(0);
    assert_eq!(run.json()["id"], account["id"], "{run:?}");
    let kernel = ssh.clone_with("TESSERA_TOKEN_STORE", "kernel");
    let run = kernel.run(&["token"]).await;
    run.expect(0);
    assert_jwt(run.stdout.trim());
    // The file's choice, below the environment's.
    write_config(&ssh, "token_store = \"kernel\"\n");
    ssh.run(&["token"]).await.expect(0);
    let run = kernel.with("TESSERA_TOKEN_STORE", "secret-service").run(&["token"]).await;
    run.expect(7);
    // Nothing went to the Secret Service of the surrounding session.
    assert_eq!(keyring_token(&account).await, None);
}

/// Issue 23: with no provider configured, a command that needs one says so,
/// offers the two ways forward, exits 2, and contacts no default address:
/// listeners on the demo provider's and demo API's fixed ports (when free
/// here) receive nothing. Listing accounts needs no provider.
#[tokio::test(flavor = "multi_thread")]
async fn no_provider_configured_exits_2_and_contacts_nothing() {
    let listen = |port: u16| {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).ok()?;
        listener.set_nonblocking(true).unwrap();
        Some(listener)
    };
    let listeners: Vec<(u16, Option<std::net::TcpListener>)> =
        [18080, 8081].into_iter().map(|port| (port, listen(port))).collect();
    let machine = Machine::new(None);
    for args in [&["login"][..], &["login", "--device"], &["whoami"], &["token"], &["items", "list"], &["logout"]] {
        let run = machine.run(args).await;
        run.expect(2);
        assert!(run.stdout.is_empty(), "{run:?}");
        assert!(run.stderr.contains("tessera: no sign-in provider is configured"), "{args:?}: {run:?}");
        for way in ["OKTA_DOMAIN", "CLIENT_ID", "tessera demo"] {
            assert!(run.stderr.contains(way), "{args:?}: the hint lacks {way}: {run:?}");
        }
        assert!(!run.stderr.contains("127.0.0.1:18080"), "{args:?}: {run:?}");
    }
    machine.run(&["accounts"]).await.expect(0);
    machine.run(&["accounts", "--json"]).await.expect(0);
    // With the keyring out of reach too (no session bus: an SSH session),
    // the missing provider is what is said, not the keyring.
    let no_keyring = Machine::new(None).without("TESSERA_MEMORY_ONLY");
    for args in [&["login"][..], &["whoami"]] {
        let run = no_keyring.run(args).await;
        run.expect(2);
        assert!(run.stderr.contains("tessera: no sign-in provider is configured"), "{args:?}: {run:?}");
        assert!(!run.stderr.contains("D-Bus"), "{args:?}: {run:?}");
    }
    for (port, listener) in listeners {
        match listener {
            Some(listener) => match listener.accept() {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                other => panic!("127.0.0.1:{port} was contacted: {other:?}"),
            },
            None => eprintln!("127.0.0.1:{port} is in use here: not watched"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_provider_exits_6() {
    let machine = Machine::new(None).with("OKTA_ISSUER", "http://127.0.0.1:9/oauth2/default");
    let run = machine.run(&["login"]).await;
    run.expect(6);
    assert!(run.stderr.contains("tessera: cannot reach the provider at http://127.0.0.1:9"), "{run:?}");
    assert!(run.stderr.contains("caused by:"), "no cause chain: {run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn login_sends_the_prompt_asked_for() {
    let stack = stack().await;
    let log = tempfile::NamedTempFile::new().unwrap();
    let machine = Machine::new(Some(&stack)).with("TEST_BROWSER_LOG", log.path().to_str().unwrap());
    machine.run(&["login"]).await.expect(0);
    let again = machine.run(&["login", "--add"]).await;
    again.expect(0);
    // Asked to add someone, alice came back: said, with the way to really switch.
    assert!(
        again.stderr.contains("was already signed in here") && again.stderr.contains("--prompt login"),
        "{again:?}"
    );
    machine.run(&["login", "--prompt", "consent"]).await.expect(0);
    machine.with("OKTA_PROMPT", "consent").run(&["login", "--add"]).await.expect(0);
    // The browser saw only pushed requests (RFC 9126) ...
    let opened = std::fs::read_to_string(log.path()).unwrap();
    for line in opened.lines() {
        let names: Vec<String> = url::Url::parse(line).unwrap().query_pairs().map(|(n, _)| n.into_owned()).collect();
        assert_eq!(names, ["client_id", "request_uri"], "{line}");
    }
    // ... and the provider got each with PKCE, the loopback redirect and the prompt.
    let sent = stack.idp.provider().authorization_requests();
    assert_eq!(sent.len(), 4, "{sent:?}");
    for request in &sent {
        assert!(request.pushed);
        assert_eq!(request.get("code_challenge_method"), Some("S256"), "{request:?}");
        let redirect = request.get("redirect_uri").unwrap();
        assert!(redirect.starts_with("http://127.0.0.1:") && redirect.ends_with("/callback"), "{request:?}");
    }
    let prompts: Vec<Option<&str>> = sent.iter().map(|r| r.get("prompt")).collect();
    assert_eq!(prompts, [None, Some("login consent"), Some("consent"), Some("consent")]);
}

/// A loopback port free now (taken and let go).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Issue 16, item 2: `login --port` listens on the ports given, for that
/// command only (over LOOPBACK_PORTS); a custom-scheme redirect has no port
/// (exit 2, naming --port); all given ports taken names them and the setting.
#[tokio::test(flavor = "multi_thread")]
async fn login_listens_on_the_ports_asked_for() {
    // This provider takes any loopback port: the test picks free ones.
    let stack = stack_with(|c| c.loopback_any_port = true).await;
    let machine = Machine::new(Some(&stack)).with("LOOPBACK_PORTS", "1");
    let (first, second) = (free_port(), free_port());
    machine.run(&["login", "--port", &first.to_string()]).await.expect(0);
    machine.run(&["login", "--add", "--port", &format!("{second},{first}")]).await.expect(0);
    // Taken: the next one listed.
    let taken = std::net::TcpListener::bind(("127.0.0.1", second)).unwrap();
    machine.run(&["login", "--add", "--port", &second.to_string(), "--port", &first.to_string()]).await.expect(0);
    let redirects: Vec<String> = stack
        .idp
        .provider()
        .authorization_requests()
        .iter()
        .map(|r| r.get("redirect_uri").unwrap().to_owned())
        .collect();
    let uri = |port: u16| format!("http://127.0.0.1:{port}/callback");
    assert_eq!(redirects, [uri(first), uri(second), uri(first)]);

    // Every port given taken: said, with the setting to change.
    let run = machine.run(&["login", "--port", &second.to_string()]).await;
    run.expect(2);
    assert!(run.stderr.contains(&second.to_string()) && run.stderr.contains("LOOPBACK_PORTS"), "{run:?}");
    drop(taken);

    let custom = machine.without("LOOPBACK_PORTS").with("REDIRECT_URL", "com.example.tessera:/callback");
    let run = custom.run(&["login", "--port", "8765"]).await;
    run.expect(2);
    assert!(run.stderr.contains("--port") && run.stderr.contains("custom scheme"), "{run:?}");
    for bad in [&["login", "--port", "0"][..], &["login", "--port", "http"], &["login", "--device", "--port", "8765"]] {
        Machine::new(Some(&stack)).run(bad).await.expect(2);
    }
    assert_eq!(stack.idp.provider().authorization_requests().len(), 3, "nothing more was asked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_sign_in_exits_4() {
    let stack = stack().await;
    let run = Machine::new(Some(&stack)).with("TEST_BROWSER_CANCEL", "1").run(&["login"]).await;
    run.expect(4);
    assert!(run.stderr.contains("access_denied"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn device_login_shows_the_code_on_stderr_and_waits_for_approval() {
    use std::io::{BufRead as _, BufReader, Read as _};
    use std::process::Stdio;

    let stack = stack_with(|c| c.device.poll_interval_secs = 1).await;
    let mut child = Machine::new(Some(&stack))
        .command(&["login", "--device", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // "To sign in, open <url> on any device and check that it shows the code <code>"
    let reading = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        while stderr.read_line(&mut line).unwrap() > 0 {
            if let Some(rest) = line.split("open ").nth(1) {
                let url = rest.split_whitespace().next().unwrap().to_owned();
                return (line, url);
            }
            line.clear();
        }
        panic!("no code was shown: {line}");
    });
    // A CLI that never shows the code fails the test (killed), not hangs it.
    let Ok(reading) = tokio::time::timeout(RUN_LIMIT, reading).await else {
        let _ = child.kill();
        panic!("`tessera login --device` showed no code within {RUN_LIMIT:?}");
    };
    let (shown, url) = reading.unwrap();
    assert!(shown.contains("shows the code"), "{shown}");
    assert!(url.contains("/activate"), "{shown}");
    // The person approves on another device.
    let driver = dev_idp::testing::Browser::new();
    let dev_idp::testing::Page::Device(form) = driver.open(&url).await.unwrap() else { panic!("no device page") };
    driver.submit(&form, &[("username", "alice"), ("password", "alice-demo-pw")], "approve").await.unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reading = tokio::task::spawn_blocking(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).unwrap();
        out
    });
    let Ok(out) = tokio::time::timeout(RUN_LIMIT, reading).await else {
        let _ = child.kill();
        panic!("`tessera login --device` did not end within {RUN_LIMIT:?} of the approval");
    };
    let (out, status) = (out.unwrap(), child.wait().unwrap());
    assert!(status.success(), "{status:?}: {out}");
    let account: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(account["email"], "alice@example.com");
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_signs_in_through_the_browser_and_adds_and_lists() {
    let machine = Machine::new(None);
    let run = machine
        .run(&[
            "demo",
            "--json",
            "--",
            "items",
            "add",
            "--name",
            "Desk lamp",
            "--price",
            "12.5",
            "--tag",
            "home",
            "--tag",
            "light",
            "--description",
            "warm",
            "--then",
            "items",
            "list",
            "--tag",
            "home",
            "--then",
            "whoami",
        ])
        .await;
    run.expect(0);
    assert!(run.stderr.contains("Signed in as alice@example.com"), "{run:?}");
    // login (the automatic first step), add, list, whoami.
    let docs = run.json_stream();
    assert_eq!(docs.len(), 4, "{run:?}");
    assert_eq!(docs[0]["email"], "alice@example.com");
    let docs = &docs[1..];
    let item = &docs[0];
    assert_eq!(item["name"], "Desk lamp");
    assert_eq!(item["price"], 12.5);
    assert_eq!(item["description"], "warm");
    assert_eq!(item["tags"], serde_json::json!(["home", "light"]));
    let listed = docs[1].as_array().unwrap();
    assert!(listed.iter().any(|i| i["id"] == item["id"]), "{run:?}");
    assert!(listed.iter().all(|i| i["tags"].as_array().unwrap().contains(&"home".into())));
    assert_eq!(docs[2]["email"], "alice@example.com");
    assert!(docs[2]["scopes"].as_array().unwrap().contains(&"items:write".into()));
    // Okta's access tokens name the login in `sub` and the user id in `uid`:
    // the API's owner is the user id (issue 14, item 8).
    assert_eq!(item["owner"], "00u1alice0000000001");
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_lists_the_seeded_items_as_a_table() {
    let run = Machine::new(None).with("TEST_BROWSER_USER", "bob").with("TEST_BROWSER_PASSWORD", "bob-demo-pw");
    let run = run.run(&["demo", "--", "items", "list"]).await;
    run.expect(0);
    let mut lines = run.stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["ID", "NAME", "PRICE", "TAGS"]);
    assert!(lines.count() >= 1, "bob has demo items: {run:?}");
    assert!(run.stderr.contains("Signed in as bob@example.com"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn token_prints_a_jwt_on_stdout_only() {
    let run = Machine::new(None).run(&["demo", "--", "token"]).await;
    run.expect(0);
    let token = run.stdout.trim_end_matches('\n');
    assert_eq!(run.stdout.lines().count(), 1, "{run:?}");
    assert_jwt(token);
    assert!(!run.stderr.contains(token), "the token leaked to stderr");
    assert!(!run.stderr.contains("eyJ"), "something token-like on stderr: {}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_stops_at_a_missing_item_with_exit_5() {
    let run = Machine::new(None)
        .run(&["demo", "--", "items", "show", "01a20cf9-0000-7000-8000-000000000000", "--then", "items", "list"])
        .await;
    run.expect(5);
    assert!(run.stderr.contains("tessera: no such item"), "{run:?}");
    assert!(run.stdout.is_empty(), "later commands ran: {run:?}");
    // A typo in a later command costs no sign-in: it is refused first.
    let run = Machine::new(None).run(&["demo", "--", "items", "list", "--then", "itemz"]).await;
    run.expect(2);
    assert!(!run.stderr.contains("Signed in"), "{run:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn keyring_tour_across_processes() {
    if !keyring_session() {
        return;
    }
    let stack = stack().await;
    let alice = Machine::new(Some(&stack)).with_keyring();
    alice.run(&["login"]).await.expect(0);

    let who = alice.run(&["whoami", "--json"]).await;
    who.expect(0);
    assert_eq!(who.json()["email"], "alice@example.com");
    assert_eq!(who.json()["dpop_jkt"], Value::Null, "bearer tokens without DPoP");

    let added = alice.run(&["items", "add", "--name", "Kettle", "--price", "30", "--tag", "kitchen", "--json"]).await;
    added.expect(0);
    let id = added.json()["id"].as_str().unwrap().to_owned();
    let shown = alice.run(&["items", "show", &id, "--json"]).await;
    shown.expect(0);
    assert_eq!(shown.json()["name"], "Kettle");
    let edited =
        alice.run(&["items", "edit", &id, "--price", "27.5", "--tag", "tea", "--tag", "kitchen", "--json"]).await;
    edited.expect(0);
    assert_eq!(edited.json()["price"], 27.5);
    assert_eq!(edited.json()["tags"], serde_json::json!(["tea", "kitchen"]));
    let listed = alice.run(&["items", "list", "--all-pages", "--limit", "2", "--json"]).await;
    listed.expect(0);
    let listed = listed.json();
    let mine = listed.as_array().unwrap().iter().find(|i| i["id"] == id.as_str()).expect("the new item is listed");
    assert_eq!(mine["price"], 27.5);
    assert!(listed.as_array().unwrap().len() > 2, "--all-pages fetched one page only");
    let table = alice.run(&["items", "show", &id]).await;
    table.expect(0);
    assert!(table.stdout.contains("Kettle") && table.stdout.contains("27.50"), "{table:?}");

    let token = alice.run(&["token"]).await;
    token.expect(0);
    assert_jwt(token.stdout.trim_end());
    assert!(!token.stderr.contains("eyJ"));

    alice.run(&["items", "rm", &id]).await.expect(0);
    let gone = alice.run(&["items", "show", &id]).await;
    gone.expect(5);
    assert!(gone.stderr.contains("no such item"));

    // A second account, then switching back.
    let bob = Machine { home: alice.home, env: alice.env.clone() }
        .with("TEST_BROWSER_USER", "bob")
        .with("TEST_BROWSER_PASSWORD", "bob-demo-pw");
    bob.run(&["login", "--add"]).await.expect(0);
    let accounts = bob.run(&["accounts", "--json"]).await;
    accounts.expect(0);
    let accounts = accounts.json();
    assert_eq!(accounts.as_array().unwrap().len(), 2, "{accounts}");
    let active: Vec<&Value> = accounts.as_array().unwrap().iter().filter(|a| a["active"] == true).collect();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0]["email"], "bob@example.com");
    bob.run(&["accounts", "use", "alice@example.com"]).await.expect(0);
    let who = bob.run(&["whoami", "--json"]).await;
    assert_eq!(who.json()["email"], "alice@example.com");
    bob.run(&["accounts", "use", "nobody@example.com"]).await.expect(5);

    // Sign-out: the next call needs a new sign-in.
    bob.run(&["logout"]).await.expect(0);
    let after = bob.run(&["whoami", "--json"]).await;
    after.expect(3);
    bob.run(&["accounts", "remove", "bob@example.com"]).await.expect(0);
    let accounts = bob.run(&["accounts", "--json"]).await;
    assert_eq!(accounts.json(), serde_json::json!([]));
    bob.run(&["items", "list"]).await.expect(3);

    // A sign-in without items:write may read but not write: 403, exit 4.
    let reader = Machine { home: bob.home, env: bob.env.clone() }
        .with("OKTA_SCOPES", "openid profile email offline_access items:read")
        .with("TEST_BROWSER_USER", "alice")
        .with("TEST_BROWSER_PASSWORD", "alice-demo-pw");
    reader.run(&["login"]).await.expect(0);
    reader.run(&["items", "list"]).await.expect(0);
    let refused = reader.run(&["items", "add", "--name", "x", "--price", "1"]).await;
    refused.expect(4);
    assert!(refused.stderr.contains("items:write"), "{refused:?}");
    reader.run(&["logout", "--all"]).await.expect(0);
    reader.run(&["token"]).await.expect(3);
}

/// The refresh token the OS keyring holds for the account `accounts --json`
/// listed as `account`.
async fn keyring_token(account: &Value) -> Option<String> {
    use signin::store::{KeyringBackend, KeyringStore, TokenStore as _};
    let key = signin::AccountKey {
        issuer: account["issuer"].as_str().unwrap().to_owned(),
        client_id: account["client_id"].as_str().unwrap().to_owned(),
        subject: account["subject"].as_str().unwrap().to_owned(),
    };
    tokio::task::spawn_blocking(move || {
        let store = KeyringStore::open(KeyringBackend::SecretService).unwrap();
        store.load(&key).unwrap().map(|grant| grant.refresh_token.secret().clone())
    })
    .await
    .unwrap()
}

/// Whether dev-idp still takes `token` (RFC 7662 introspection).
async fn active_at(idp: &dev_idp::DevIdp, token: &str) -> bool {
    let introspect = testkit::http().post(format!("{}/v1/introspect", idp.issuer()));
    testkit::json_of(introspect.form(&[("client_id", "tessera-desktop"), ("token", token)])).await["active"] == true
}

/// Issue 14, item 1: alice signs in at provider A; the settings then name
/// provider B. `logout --all` revokes alice's token at A and sends B
/// nothing; with A unreachable, alice is forgotten here, the message names
/// A, and the exit code is not 0.
#[tokio::test(flavor = "multi_thread")]
async fn logout_revokes_at_the_accounts_own_issuer_and_never_at_another() {
    if !keyring_session() {
        return;
    }
    // Provider A: dev-idp alone (the items API plays no part).
    let a = dev_idp::spawn(dev_idp::Config { port: 0, ..Default::default() }).await.unwrap();
    let at_a = Machine::new(None).with("OKTA_ISSUER", a.issuer()).with_keyring();
    at_a.run(&["login"]).await.expect(0);
    let account = at_a.run(&["accounts", "--json"]).await.json()[0].clone();
    let token = keyring_token(&account).await.expect("the refresh token is in the keyring");
    assert!(active_at(&a, &token).await);

    let (b, received) = testkit::spawn_recording_provider().await;
    let at_b = Machine { home: at_a.home, env: at_a.env.clone() }.with("OKTA_ISSUER", &b);
    // Alice's tokens are neither refreshed at B nor used with B's settings.
    for args in [&["whoami"][..], &["token"]] {
        let run = at_b.run(args).await;
        run.expect(2);
        assert!(run.stderr.contains(a.issuer()) && run.stderr.contains(&b), "{run:?}");
    }
    let run = at_b.run(&["logout", "--all"]).await;
    run.expect(0);
    assert!(run.stderr.contains("Signed out of every account"), "{run:?}");
    assert!(!active_at(&a, &token).await, "revoked at A");
    assert_eq!(keyring_token(&account).await, None);
    assert!(received.lock().unwrap().is_empty(), "B received {:?}", received.lock().unwrap());

    // Signed in at A again; A is then unreachable.
    let at_a = Machine { home: at_b.home, env: at_b.env.clone() }.with("OKTA_ISSUER", a.issuer());
    at_a.run(&["login"]).await.expect(0);
    let issuer_a = a.issuer().to_owned();
    a.shutdown().await;
    let at_b = Machine { home: at_a.home, env: at_a.env.clone() }.with("OKTA_ISSUER", &b);
    let run = at_b.run(&["logout", "--all"]).await;
    run.expect(6);
    assert!(run.stderr.contains(&format!("tessera: the sign-in could not be revoked at {issuer_a}")), "{run:?}");
    assert!(!run.stderr.contains("Signed out of every account"), "{run:?}");
    assert_eq!(at_b.run(&["accounts", "--json"]).await.json(), serde_json::json!([]), "forgotten here");
    assert_eq!(keyring_token(&account).await, None);
    assert!(received.lock().unwrap().is_empty(), "B received {:?}", received.lock().unwrap());
}

/// Kills `tessera token` on `machine` while its refresh answer is on its
/// way: the provider has redeemed the stored refresh token and issued a new
/// one (rotation), which never reaches the client (its answer stalls).
async fn kill_during_a_refresh_rotation(stack: &Stack, machine: &Machine) {
    let provider = stack.idp.provider();
    provider.misbehave(&[dev_idp::misbehave::Misbehavior::TokenResponseStalled]);
    let before = provider.refreshes();
    let mut child = machine
        .command(&["token"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while provider.refreshes() == before {
        assert!(std::time::Instant::now() < deadline, "tessera token never reached the token endpoint");
        assert!(child.try_wait().unwrap().is_none(), "tessera token ended before its refresh was answered");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9), "{status:?}");
    provider.misbehave(&[]);
}

/// Killed during a refresh-token rotation, started again within the
/// provider's grace period (Okta's default: 30 s): the keyring still holds
/// the token it had (a new one is written only once it has arrived whole,
/// and the write replaces the old in one step), the provider still takes it,
/// and the token that run stores works in turn.
#[tokio::test(flavor = "multi_thread")]
async fn killed_during_a_refresh_rotation_the_stored_token_still_works() {
    if !keyring_session() {
        return;
    }
    let stack = stack().await;
    let alice = Machine::new(Some(&stack)).with_keyring();
    alice.run(&["login"]).await.expect(0);
    kill_during_a_refresh_rotation(&stack, &alice).await;

    let token = alice.run(&["token"]).await;
    token.expect(0);
    assert_jwt(token.stdout.trim_end());
    let who = alice.run(&["whoami", "--json"]).await;
    who.expect(0);
    assert_eq!(who.json()["email"], "alice@example.com");
    assert_eq!(
        stack.idp.provider().refreshes(),
        2,
        "the kill's and the restart's refreshes; whoami uses the access token the restart saved"
    );
    alice.run(&["logout", "--all"]).await.expect(0);
}

/// Killed the same way but started again only after the grace period: the
/// provider refuses the old token as a reuse (and revokes its family, as
/// Okta does). The person is told to sign in again (exit 3), nothing stale
/// is kept, and a new sign-in works at once.
#[tokio::test(flavor = "multi_thread")]
async fn killed_during_a_refresh_rotation_and_back_after_the_grace_period_signs_in_again() {
    if !keyring_session() {
        return;
    }
    let stack = stack_with(|config| config.refresh_token_rotation.grace_period_secs = 1).await;
    let alice = Machine::new(Some(&stack)).with_keyring();
    alice.run(&["login"]).await.expect(0);
    kill_during_a_refresh_rotation(&stack, &alice).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;

    let refused = alice.run(&["whoami"]).await;
    refused.expect(3);
    assert!(refused.stderr.contains("please sign in again"), "{refused:?}");
    // The refused token is gone: the next call does not try it again.
    let refreshes = stack.idp.provider().refreshes();
    alice.run(&["token"]).await.expect(3);
    assert_eq!(stack.idp.provider().refreshes(), refreshes);

    alice.run(&["login"]).await.expect(0);
    alice.run(&["whoami"]).await.expect(0);
    alice.run(&["logout", "--all"]).await.expect(0);
}

/// DPoP and PAR through the CLI (issue 8), across processes with the
/// keyring: the provider requires DPoP of the app's client; `tessera` signs
/// in with `SIGNIN_DPOP=true`, each later process refreshes with the key
/// stored beside the refresh token, and its items calls carry proofs. The
/// access token `tessera token` prints is of no use as a bearer token.
#[tokio::test(flavor = "multi_thread")]
async fn dpop_sign_in_and_items_calls_across_processes() {
    if !keyring_session() {
        return;
    }
    let stack = stack_with(|config| {
        for client in &mut config.clients {
            client.dpop_bound_access_tokens = true;
        }
    })
    .await;
    let alice = Machine::new(Some(&stack)).with_keyring().with("SIGNIN_DPOP", "true");
    alice.run(&["login"]).await.expect(0);
    assert!(stack.idp.provider().authorization_requests().last().unwrap().pushed, "the request was pushed");

    // A new process: no token in memory; the refresh proves the stored key.
    // The next one uses the bound access token that refresh saved, with the
    // same stored key for its proofs.
    let added = alice.run(&["items", "add", "--name", "Kettle", "--price", "30", "--json"]).await;
    added.expect(0);
    let id = added.json()["id"].as_str().unwrap().to_owned();
    let shown = alice.run(&["items", "show", &id, "--json"]).await;
    shown.expect(0);
    assert_eq!(shown.json()["name"], "Kettle");
    assert_eq!(stack.idp.provider().refreshes(), 1, "one refresh, with a proof, for both processes");
    let who = alice.run(&["whoami"]).await;
    who.expect(0);
    assert!(who.stdout.contains("bound to this device (DPoP key "), "{who:?}");
    let jkt = alice.run(&["whoami", "--json"]).await.json()["dpop_jkt"].as_str().map(str::len);
    assert_eq!(jkt, Some(43), "the key's SHA-256 thumbprint");

    let token = alice.run(&["token"]).await;
    token.expect(0);
    let stolen = reqwest::Client::new()
        .get(format!("{}/v1/items", stack.api))
        .bearer_auth(token.stdout.trim_end())
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), 401);
    let challenge = stolen.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert!(challenge.starts_with("DPoP ") && challenge.contains("invalid_token"), "{challenge}");

    // Without DPoP the provider refuses this client's sign-in.
    let plain = Machine::new(Some(&stack)).with_keyring().with("SIGNIN_DPOP", "false");
    let refused = plain.run(&["login"]).await;
    assert_ne!(refused.code, 0, "{refused:?}");
    assert!(refused.stderr.contains("invalid_dpop_proof"), "{refused:?}");
    alice.run(&["logout", "--all"]).await.expect(0);
}

/// Writes `tessera.toml` where `machine`'s tessera reads it.
fn write_config(machine: &Machine, text: &str) {
    let folder = machine.home.path().join(".config").join("tessera");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("tessera.toml"), text).unwrap();
}

/// A `.env` in `machine`'s working folder, as a cloned repository might
/// hold, naming `issuer` and `items_api` (logging listeners), another
/// client and a redirect on the issuer's own port.
fn write_hostile_dotenv(machine: &Machine, issuer: &str, items_api: &str) -> PathBuf {
    let port = url::Url::parse(issuer).unwrap().port().unwrap();
    let path = machine.home.path().join(".env");
    std::fs::write(
        &path,
        format!(
            "OKTA_DOMAIN=evil.example\nOKTA_ISSUER={issuer}\nCLIENT_ID=evil-app\nOKTA_CLIENT_ID=evil-app\n\
             ITEMS_API_URL={items_api}\nREDIRECT_URL=http://127.0.0.1:{port}/callback\n"
        ),
    )
    .unwrap();
    path
}

/// Issue 14, item 2: the settings file names provider A; a `.env` in the
/// working folder names another issuer and items API (both logging
/// listeners). `tessera login` signs in at A and neither listener hears a
/// thing; only `--env-file` or `TESSERA_ENV_FILE` makes tessera read it.
#[tokio::test(flavor = "multi_thread")]
async fn a_dotenv_in_the_working_folder_does_not_choose_the_provider() {
    let stack = stack().await;
    let (evil_issuer, issuer_heard) = testkit::spawn_recording_provider().await;
    let (evil_api, api_heard) = testkit::spawn_recording_provider().await;
    let evil_api = evil_api.trim_end_matches("/oauth2/default").to_owned();
    let machine = Machine::new(None);
    write_config(&machine, &format!("issuer = \"{}\"\nitems_api_url = \"{}\"\n", stack.idp.issuer(), stack.api));
    write_hostile_dotenv(&machine, &evil_issuer, &evil_api);

    let run = machine.run(&["login", "--json"]).await;
    run.expect(0);
    assert_eq!(run.json()["issuer"], stack.idp.issuer(), "{run:?}");
    assert_eq!(run.json()["client_id"], "tessera-desktop", "{run:?}");
    let sent = stack.idp.provider().authorization_requests();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].get("client_id"), Some("tessera-desktop"));
    assert!(!sent[0].get("redirect_uri").unwrap().contains(&evil_issuer[7..]), "{sent:?}");
    assert!(issuer_heard.lock().unwrap().is_empty(), "the .env's issuer heard {:?}", issuer_heard.lock().unwrap());
    assert!(api_heard.lock().unwrap().is_empty(), "the .env's items API heard {:?}", api_heard.lock().unwrap());

    // Named on purpose, it is read (and it names a provider that is no
    // real one: the sign-in fails there).
    for machine in [
        Machine { home: std::sync::Arc::new(tempfile::tempdir().unwrap()), env: machine.env.clone() },
        Machine { home: std::sync::Arc::new(tempfile::tempdir().unwrap()), env: machine.env.clone() },
    ]
    .into_iter()
    .enumerate()
    {
        let (index, machine) = machine;
        write_config(&machine, &format!("issuer = \"{}\"\n", stack.idp.issuer()));
        let path = write_hostile_dotenv(&machine, &evil_issuer, &evil_api);
        let heard = issuer_heard.lock().unwrap().len();
        let run = if index == 0 {
            machine.run(&["--env-file", path.to_str().unwrap(), "login"]).await
        } else {
            machine.with("TESSERA_ENV_FILE", path.to_str().unwrap()).run(&["login"]).await
        };
        assert_ne!(run.code, 0, "{run:?}");
        assert!(issuer_heard.lock().unwrap().len() > heard, "the named file was not read: {run:?}");
    }
    // A file named but missing is an error, never skipped.
    let run = machine.run(&["--env-file", "no-such.env", "login"]).await;
    run.expect(2);
    assert!(run.stderr.contains("no-such.env"), "{run:?}");
    assert_eq!(stack.idp.provider().authorization_requests().len(), 1, "no sign-in was started");
}

#[tokio::test]
async fn help_documents_the_env_file() {
    let run = Machine::new(None).run(&["--help"]).await;
    run.expect(0);
    for text in ["--env-file <PATH>", "TESSERA_ENV_FILE", "never from the working", "ITEMS_API_URL must be"] {
        assert!(run.stdout.contains(text), "help lacks {text:?}: {}", run.stdout);
    }
}

/// Issue 14, item 2, with the keyring (a sign-in that outlives the
/// process): alice is signed in at A with the items API from the settings
/// file; a `.env` in the working folder naming another items API (a
/// logging listener) gets no request and no token; `--env-file` naming it
/// on purpose sends the calls there.
#[tokio::test(flavor = "multi_thread")]
async fn a_dotenv_in_the_working_folder_does_not_get_the_access_token() {
    if !keyring_session() {
        return;
    }
    let stack = stack().await;
    let (evil_issuer, issuer_heard) = testkit::spawn_recording_provider().await;
    let (evil_api, api_heard) = testkit::spawn_recording_provider().await;
    let evil_api = evil_api.trim_end_matches("/oauth2/default").to_owned();
    let alice = Machine::new(None).with_keyring();
    write_config(&alice, &format!("issuer = \"{}\"\nitems_api_url = \"{}\"\n", stack.idp.issuer(), stack.api));
    alice.run(&["login"]).await.expect(0);
    write_hostile_dotenv(&alice, &evil_issuer, &evil_api);
    let listed = alice.run(&["items", "list", "--json"]).await;
    listed.expect(0);
    assert!(listed.json().is_array(), "{listed:?}");
    alice.run(&["whoami"]).await.expect(0);
    assert!(api_heard.lock().unwrap().is_empty(), "the .env's items API heard {:?}", api_heard.lock().unwrap());
    assert!(issuer_heard.lock().unwrap().is_empty(), "the .env's issuer heard {:?}", issuer_heard.lock().unwrap());

    // Named on purpose (only the items API in it), it is used.
    let named = alice.home.path().join("items.env");
    std::fs::write(&named, format!("ITEMS_API_URL={evil_api}\n")).unwrap();
    let run = alice.run(&["--env-file", named.to_str().unwrap(), "items", "list"]).await;
    assert_ne!(run.code, 0, "{run:?}");
    assert!(!api_heard.lock().unwrap().is_empty(), "--env-file was not read: {run:?}");
    alice.run(&["logout", "--all"]).await.expect(0);
}

/// The checks of a `tessera doctor --json` run, by name: (ok, detail).
fn doctor_checks(run: &Run) -> std::collections::BTreeMap<String, (bool, String)> {
    let report = run.json();
    report["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks: {run:?}"))
        .iter()
        .map(|c| {
            let name = c["name"].as_str().unwrap().to_owned();
            (name, (c["ok"].as_bool().unwrap(), c["detail"].as_str().unwrap().to_owned()))
        })
        .collect()
}

/// Issue 16, item 3: against dev-idp and the items API as configured, every
/// check passes (exit 0); the JSON has the documented shape, and the human
/// report one line per check and what to register.
#[tokio::test(flavor = "multi_thread")]
async fn doctor_passes_a_good_configuration() {
    let stack = stack().await;
    let machine = Machine::new(Some(&stack));
    let run = machine.run(&["doctor", "--json"]).await;
    run.expect(0);
    let report = run.json();
    let keys = |value: &Value| value.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&report), ["checks", "register"], "{report:#}");
    for check in report["checks"].as_array().unwrap() {
        assert_eq!(keys(check), ["detail", "name", "ok"], "{check}");
        assert_eq!(check["ok"], true, "{check}");
    }
    let names: Vec<&str> = report["checks"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, app::doctor::CheckName::ALL.map(app::doctor::CheckName::as_str), "every check, in order");
    let register = &report["register"];
    for key in ["redirect_uris", "post_logout_redirect_uris", "grant_types"] {
        assert!(register[key].is_array(), "{key}: {register}");
    }
    let uris: Vec<&str> = register["redirect_uris"].as_array().unwrap().iter().map(|u| u.as_str().unwrap()).collect();
    assert!(
        uris.contains(&"http://127.0.0.1:8765/callback") && uris.contains(&"http://[::1]:8767/callback"),
        "{uris:?}"
    );
    let grants: Vec<&str> = register["grant_types"].as_array().unwrap().iter().map(|g| g.as_str().unwrap()).collect();
    assert_eq!(grants, ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]);

    // The ports configured are the ones to register.
    let run = machine.with("LOOPBACK_PORTS", "9001").run(&["doctor", "--json"]).await;
    run.expect(0);
    assert_eq!(
        run.json()["register"]["redirect_uris"],
        serde_json::json!(["http://127.0.0.1:9001/callback", "http://[::1]:9001/callback"])
    );

    let run = Machine::new(Some(&stack)).run(&["doctor"]).await;
    run.expect(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("ok") && lines[0].contains("discovery"), "{run:?}");
    assert_eq!(lines.iter().filter(|l| l.starts_with("ok ")).count(), app::doctor::CheckName::ALL.len(), "{run:?}");
    assert!(run.stdout.contains("Register in your Okta app") && run.stdout.contains("Native"), "{run:?}");
    assert!(run.stdout.contains("    http://127.0.0.1:8766/callback"), "{run:?}");
}

/// Each wrong setting fails its own line (exit 1), the others still pass.
#[tokio::test(flavor = "multi_thread")]
async fn doctor_fails_the_line_of_each_wrong_setting() {
    let stack = stack().await;
    let failed = |run: &Run| -> Vec<String> {
        doctor_checks(run).into_iter().filter(|(_, (ok, _))| !ok).map(|(name, _)| name).collect()
    };

    let run = Machine::new(Some(&stack))
        .with("OKTA_SCOPES", "openid offline_access items:delete")
        .run(&["doctor", "--json"])
        .await;
    run.expect(1);
    // Not offered by the provider, and without the items API's read scope.
    assert_eq!(failed(&run), ["items_api_scopes", "scopes"], "{run:?}");
    assert!(doctor_checks(&run)["scopes"].1.contains("items:delete"), "{run:?}");
    assert!(doctor_checks(&run)["items_api_scopes"].1.contains("items:read"), "{run:?}");
    assert!(run.stderr.contains("2 of 10 checks failed"), "{run:?}");

    let run = Machine::new(Some(&stack)).with("ITEMS_API_URL", "http://127.0.0.1:9").run(&["doctor", "--json"]).await;
    run.expect(1);
    assert_eq!(failed(&run), ["items_api"], "{run:?}");
    assert!(doctor_checks(&run)["items_api"].1.contains("ITEMS_API_URL"), "{run:?}");

    let run = Machine::new(Some(&stack))
        .with("OKTA_ISSUER", "http://127.0.0.1:9/oauth2/default")
        .run(&["doctor", "--json"])
        .await;
    run.expect(1);
    assert_eq!(failed(&run), ["discovery"], "{run:?}");
    assert!(doctor_checks(&run)["discovery"].1.contains("http://127.0.0.1:9/oauth2/default"), "{run:?}");
    assert!(doctor_checks(&run).contains_key("items_api"), "the items API is checked anyway");

    // The human report says FAIL on that line.
    let run = Machine::new(Some(&stack)).with("ITEMS_API_URL", "http://127.0.0.1:9").run(&["doctor"]).await;
    run.expect(1);
    assert!(run.stdout.lines().any(|l| l.starts_with("FAIL") && l.contains("items_api")), "{run:?}");

    // No provider configured: a settings error as for every command (exit 2).
    Machine::new(None).run(&["doctor"]).await.expect(2);
}

/// The org authorization server (issuer at the origin): its access tokens
/// are Okta's own, which the items API cannot accept; and it has no custom
/// scopes.
#[tokio::test(flavor = "multi_thread")]
async fn doctor_says_what_the_org_authorization_server_means() {
    let stack = stack_with(|c| c.org_authorization_server = true).await;
    let run = Machine::new(Some(&stack)).run(&["doctor", "--json"]).await;
    run.expect(1);
    let checks = doctor_checks(&run);
    let (ok, detail) = &checks["authorization_server"];
    assert!(!ok && detail.contains("org authorization server") && detail.contains("/oauth2/default"), "{run:?}");
    assert!(!checks["scopes"].0, "items:read is no scope of the org server: {run:?}");
    assert!(checks["discovery"].0, "{run:?}");
}

/// Issue 16, item 5: `tessera logout --browser` opens the provider's
/// sign-out page with `id_token_hint` (Okta's /v1/logout needs it), from the
/// ID token saved with the refresh token, though each command is a new
/// process; the URL is not printed (it carries the ID token).
#[tokio::test(flavor = "multi_thread")]
async fn logout_browser_opens_the_providers_sign_out_page_with_the_id_token() {
    if !keyring_session() {
        return;
    }
    let stack = stack().await;
    let log = tempfile::NamedTempFile::new().unwrap();
    let machine = Machine::new(Some(&stack)).with_keyring().with("TEST_BROWSER_LOG", log.path().to_str().unwrap());
    machine.run(&["login"]).await.expect(0);
    let run = machine.run(&["logout", "--browser"]).await;
    run.expect(0);
    assert!(run.stderr.contains("sign-out page in your browser"), "{run:?}");
    assert!(!run.stderr.contains("id_token_hint") && !run.stderr.contains("eyJ"), "{run:?}");
    let logout = format!("{}/v1/logout?", stack.idp.issuer());
    let opened = testkit::within("the browser opening the sign-out page", async {
        loop {
            let lines = std::fs::read_to_string(log.path()).unwrap_or_default();
            if let Some(line) = lines.lines().find(|l| l.starts_with(&logout)) {
                break url::Url::parse(line).unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await;
    let names: Vec<String> = opened.query_pairs().map(|(name, _)| name.into_owned()).collect();
    assert!(names.contains(&"id_token_hint".to_owned()) && names.contains(&"client_id".to_owned()), "{opened}");
    machine.run(&["whoami"]).await.expect(3);
}

/// Issue 16, item 5: with a loopback POST_LOGOUT_REDIRECT_URL (registered at
/// the provider), `tessera logout --browser` sends it, serves the signed-out
/// page there, and says the browser came back.
#[tokio::test(flavor = "multi_thread")]
async fn logout_browser_serves_the_signed_out_page_it_asked_the_provider_to_return_to() {
    if !keyring_session() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let signed_out = format!("http://127.0.0.1:{port}/signed-out");
    let stack = stack_with(|config| {
        let desktop = config.clients.iter_mut().find(|c| c.client_id == "tessera-desktop").unwrap();
        desktop.post_logout_redirect_uris.push(signed_out.clone());
    })
    .await;
    let log = tempfile::NamedTempFile::new().unwrap();
    let machine = Machine::new(Some(&stack))
        .with_keyring()
        .with("POST_LOGOUT_REDIRECT_URL", &signed_out)
        .with("TEST_BROWSER_LOG", log.path().to_str().unwrap());
    machine.run(&["login"]).await.expect(0);
    let run = machine.run(&["logout", "--browser"]).await;
    run.expect(0);
    let opened = std::fs::read_to_string(log.path()).unwrap();
    assert!(run.stderr.contains("in the browser too"), "the browser came back to the page: {run:?} {opened}");
    let logout = opened.lines().find(|l| l.contains("/v1/logout?")).expect("the sign-out page was opened");
    let logout = url::Url::parse(logout).unwrap();
    let back = logout.query_pairs().find(|(name, _)| name == "post_logout_redirect_uri").map(|(_, v)| v.into_owned());
    assert_eq!(back.as_deref(), Some(signed_out.as_str()));
    let doctor = machine.with("POST_LOGOUT_REDIRECT_URL", &signed_out).run(&["doctor", "--json"]).await;
    let register = &doctor.json()["register"]["post_logout_redirect_uris"];
    assert_eq!(register, &serde_json::json!([signed_out]), "doctor says to register it");
}

/// Issue 17, item 6: two providers side by side as profiles of one
/// tessera.toml (the top level at A, `[profiles.b]` at B, each with its own
/// items API). Each account is listed with its profile; using an account
/// uses its profile (its issuer and its items API); `--profile` and
/// `TESSERA_PROFILE` choose a profile and its account.
#[tokio::test(flavor = "multi_thread")]
async fn profiles_keep_two_providers_side_by_side() {
    if !keyring_session() {
        return;
    }
    let (a, b) = (stack().await, stack().await);
    let machine = Machine::new(None).with_keyring();
    write_config(
        &machine,
        &format!(
            "issuer = \"{}\"\nitems_api_url = \"{}\"\n\n[profiles.b]\nissuer = \"{}\"\nitems_api_url = \"{}\"\n",
            a.idp.issuer(),
            a.api,
            b.idp.issuer(),
            b.api
        ),
    );
    let at_a = machine.run(&["login", "--json"]).await;
    at_a.expect(0);
    assert_eq!(at_a.json()["issuer"], a.idp.issuer());
    assert_eq!(at_a.json()["profile"], "default");
    let at_b = machine.run(&["--profile", "b", "login", "--json"]).await;
    at_b.expect(0);
    assert_eq!(at_b.json()["issuer"], b.idp.issuer());
    assert_eq!(at_b.json()["profile"], "b");

    let accounts = machine.run(&["accounts", "--json"]).await;
    accounts.expect(0);
    let listed: Vec<(String, bool)> = accounts
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["profile"].as_str().unwrap().to_owned(), a["active"].as_bool().unwrap()))
        .collect();
    assert_eq!(listed.len(), 2, "{accounts:?}");
    assert!(listed.contains(&("default".to_owned(), false)) && listed.contains(&("b".to_owned(), true)), "{listed:?}");
    let table = machine.run(&["accounts"]).await;
    assert!(table.stdout.contains("PROFILE"), "{table:?}");

    // The account in use is B's: whoami and the items API are B's.
    let who = machine.run(&["whoami", "--json"]).await;
    who.expect(0);
    assert_eq!(who.json()["issuer"], b.idp.issuer());
    assert_eq!(who.json()["profile"], "b");
    let added = machine.run(&["items", "add", "--name", "Only at B", "--price", "3", "--json"]).await;
    added.expect(0);
    let names = |run: &Run| -> Vec<String> {
        run.json().as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap().to_owned()).collect()
    };
    let listed_b = machine.run(&["items", "list", "--json"]).await;
    listed_b.expect(0);
    assert!(names(&listed_b).contains(&"Only at B".to_owned()), "{listed_b:?}");

    // `--profile default` uses A's account (and makes it the one in use).
    let listed_a = machine.run(&["--profile", "default", "items", "list", "--json"]).await;
    listed_a.expect(0);
    assert!(!names(&listed_a).contains(&"Only at B".to_owned()), "{listed_a:?}");
    let who = machine.run(&["whoami", "--json"]).await;
    assert_eq!(who.json()["issuer"], a.idp.issuer(), "{who:?}");
    // TESSERA_PROFILE chooses too; an unknown profile is a usage error
    // naming the ones there are.
    let who = machine.clone_with("TESSERA_PROFILE", "b").run(&["whoami", "--json"]).await;
    assert_eq!(who.json()["issuer"], b.idp.issuer(), "{who:?}");
    // A third profile nobody signed in with: not signed in, whoever is
    // in use elsewhere.
    let mut text = std::fs::read_to_string(machine.home.path().join(".config/tessera/tessera.toml")).unwrap();
    text.push_str(&format!("\n[profiles.c]\nissuer = \"{}\"\nclient_id = \"tessera-cli\"\n", b.idp.issuer()));
    write_config(&machine, &text);
    let nobody = machine.run(&["--profile", "c", "token"]).await;
    nobody.expect(3);
    assert!(nobody.stderr.contains("nobody is signed in with the profile c"), "{nobody:?}");
    assert!(nobody.stdout.is_empty(), "{nobody:?}");
    let unknown = machine.run(&["--profile", "staging", "whoami"]).await;
    unknown.expect(2);
    assert!(unknown.stderr.contains("\"staging\"") && unknown.stderr.contains("its profiles: b, c"), "{unknown:?}");
    // `accounts use` crosses profiles.
    let id_b = at_b.json()["id"].as_str().unwrap().to_owned();
    machine.run(&["accounts", "use", &id_b]).await.expect(0);
    let who = machine.run(&["whoami", "--json"]).await;
    assert_eq!(who.json()["issuer"], b.idp.issuer(), "{who:?}");
}

// ---------------------------------------------------------------------------
// Issue 17, items 4 and 7: no browser here, and a provider limiting requests.

/// `tessera` started with its stderr read line by line on a thread.
struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    /// Every stderr line read so far.
    seen: Vec<String>,
}

impl Running {
    fn start(machine: &Machine, args: &[&str]) -> Self {
        use std::io::BufRead as _;
        use std::process::Stdio;
        let mut child = machine.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines, seen: Vec::new() }
    }

    /// The next stderr line that `wanted` accepts; fails the test (killing
    /// tessera) when none comes within [`RUN_LIMIT`].
    fn line(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = std::time::Instant::now() + RUN_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if wanted(&line) {
                        return line;
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("tessera did not say {what} within {RUN_LIMIT:?}; it said: {:#?}", self.seen);
                }
            }
        }
    }

    /// Waits for the end: the status, stdout and the rest of stderr.
    fn finish(mut self) -> (std::process::ExitStatus, String, Vec<String>) {
        use std::io::Read as _;
        let mut stdout = self.child.stdout.take().unwrap();
        let reading = std::thread::spawn(move || {
            let mut out = String::new();
            let _ = stdout.read_to_string(&mut out);
            out
        });
        let deadline = std::time::Instant::now() + RUN_LIMIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if std::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("tessera did not end within {RUN_LIMIT:?}; it said: {:#?}", self.seen);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        self.seen.extend(self.lines.try_iter());
        (status, reading.join().unwrap(), self.seen)
    }
}

/// Signs alice in on dev-idp's device page at `url` (the complete
/// verification URL, the code in it).
async fn approve_device(url: &str) {
    let driver = dev_idp::testing::Browser::new();
    let dev_idp::testing::Page::Device(form) = driver.open(url).await.unwrap() else { panic!("no device page") };
    driver.submit(&form, &[("username", "alice"), ("password", "alice-demo-pw")], "approve").await.unwrap();
}

/// No display and no `BROWSER` (the tests' environment has neither
/// `DISPLAY` nor `WAYLAND_DISPLAY`): `login` signs in with a code by itself,
/// saying why, and keeps polling across the provider's rate limit, saying
/// how long it waits. stdout is no terminal: no QR code.
#[tokio::test(flavor = "multi_thread")]
async fn headless_login_signs_in_with_a_code_even_while_the_provider_limits_the_polls() {
    let stack = stack_with(|c| {
        c.device.poll_interval_secs = 1;
        c.rate_limits.enabled = true;
        c.rate_limits.window_secs = 3;
        c.rate_limits.endpoints.insert("token".to_owned(), 1);
    })
    .await;
    let machine = Machine::new(Some(&stack)).without("BROWSER");
    let mut login = Running::start(&machine, &["login"]);
    let why = login.line("why no browser", |l| l.contains("No browser here"));
    assert_eq!(why, "No browser here (no display): signing in with a code instead.");
    let shown = login.line("the code", |l| l.contains("To sign in, open "));
    let url = shown.split("open ").nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
    assert!(url.contains("/activate?user_code="), "{shown}");
    // Polling every second, one poll a 3 s window: a 429 comes before the approval.
    let waiting = login.line("the rate limit's wait", |l| l.contains("limiting requests"));
    assert!(waiting.starts_with("The provider is limiting requests: waiting "), "{waiting}");
    let seconds: u64 =
        waiting.trim_end_matches(" s…").rsplit(' ').next().unwrap().parse().expect("a number of seconds");
    assert!((1..=3).contains(&seconds), "{waiting}");
    approve_device(&url).await;
    let (status, stdout, stderr) = login.finish();
    assert!(status.success(), "{status:?}: {stderr:#?}");
    assert!(stderr.iter().any(|l| l.starts_with("Signed in as alice")), "{stderr:#?}");
    assert!(stdout.is_empty(), "no QR code when stdout is no terminal: {stdout}");
    assert!(!stderr.iter().any(|l| l.contains('█') || l.contains("scan")), "{stderr:#?}");
}

/// No display, no `BROWSER`, and a provider without the device grant: the
/// message says how (the URL to open where this machine's loopback can be
/// reached, `--device` named as not offered), and following it completes
/// the sign-in.
#[tokio::test(flavor = "multi_thread")]
async fn headless_login_without_the_device_grant_says_how_and_the_url_works() {
    let stack = stack_with(|c| c.device.advertised = false).await;
    let machine = Machine::new(Some(&stack)).without("BROWSER");
    let mut login = Running::start(&machine, &["login", "--json"]);
    let how = login.line("how to sign in", |l| l.contains("No browser here"));
    assert!(how.contains("(no display)"), "{how}");
    assert!(how.contains("does not offer signing in with a code") && how.contains("tessera login --device"), "{how}");
    assert!(how.contains("ssh -L "), "{how}");
    let url = login.line("the URL", |l| l.trim_start().starts_with("http")).trim().to_owned();
    assert!(url.contains("/authorize?"), "{url}");
    // A browser that reaches this machine's loopback (the test browser, as a person would).
    open_as_alice(&url);
    let (status, stdout, stderr) = login.finish();
    assert!(status.success(), "{status:?}: {stderr:#?}");
    let account: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(account["email"], "alice@example.com");
    assert!(!stderr.iter().any(|l| l.contains("Opening your browser")), "no browser was tried: {stderr:#?}");
}

/// Opens `url` in the test browser, which signs alice in as a person would
/// (from a browser that reaches this machine's loopback).
fn open_as_alice(url: &str) {
    let browser = std::process::Command::new(test_browser())
        .arg(url)
        .env("TEST_BROWSER_USER", "alice")
        .env("TEST_BROWSER_PASSWORD", "alice-demo-pw")
        .output()
        .unwrap();
    assert!(browser.status.success(), "{browser:?}");
}

/// The printed link's pushed request dies (a minute at Okta, four seconds
/// here: the renewal is due at three, a second of slack for a busy machine):
/// before it does, a new link is printed, and the one printed after the
/// first expired completes the sign-in.
#[tokio::test(flavor = "multi_thread")]
async fn headless_login_prints_a_new_link_before_the_pushed_request_expires() {
    let stack = stack_with(|c| {
        c.device.advertised = false;
        c.lifetimes.pushed_request_secs = 4;
    })
    .await;
    let machine = Machine::new(Some(&stack)).without("BROWSER");
    let mut login = Running::start(&machine, &["login", "--json"]);
    login.line("how to sign in", |l| l.contains("No browser here"));
    let first = login.line("the URL", |l| l.trim_start().starts_with("http")).trim().to_owned();
    let printed = std::time::Instant::now();
    let renewal = login.line("a new link", |l| l.contains("expires soon"));
    assert_eq!(renewal, "The last link expires soon. To sign in, open this one instead:");
    let second = login.line("the new URL", |l| l.trim_start().starts_with("http")).trim().to_owned();
    assert!(printed.elapsed() < std::time::Duration::from_secs(4), "before the first expired");
    assert_ne!(first, second, "a new request_uri");
    assert!(second.contains("/authorize?") && second.contains("request_uri="), "{second}");
    // The first link's request expires; the link printed after still works.
    tokio::time::sleep(std::time::Duration::from_secs(4).saturating_sub(printed.elapsed())).await;
    login.line("another new link", |l| l.contains("expires soon"));
    let latest = login.line("the newest URL", |l| l.trim_start().starts_with("http")).trim().to_owned();
    open_as_alice(&latest);
    let (status, stdout, stderr) = login.finish();
    assert!(status.success(), "{status:?}: {stderr:#?}");
    let account: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(account["email"], "alice@example.com");
}

/// `tessera --help` names exit 8; `login --help` says what happens with no display.
#[tokio::test(flavor = "multi_thread")]
async fn help_documents_the_rate_limit_exit_code_and_headless_sign_in() {
    let help = Machine::new(None).run(&["--help"]).await;
    help.expect(0);
    assert!(help.stdout.contains("8  rate limited"), "{help:?}");
    let login = Machine::new(None).run(&["login", "--help"]).await;
    login.expect(0);
    assert!(login.stdout.contains("no display"), "{login:?}");
    assert!(login.stdout.contains("QR code"), "{login:?}");
}

/// With a loopback port chosen (to forward it over SSH), no display does
/// not switch to a code: the URL is printed for a browser elsewhere.
#[tokio::test(flavor = "multi_thread")]
async fn headless_login_with_a_chosen_port_prints_the_url_instead_of_a_code() {
    // This provider takes any loopback port: the test picks a free one.
    let stack = stack_with(|c| c.loopback_any_port = true).await;
    let port = free_port().to_string();
    let machine = Machine::new(Some(&stack)).without("BROWSER").with("SIGNIN_TIMEOUT_SECS", "2");
    let run = machine.run(&["login", "--port", &port]).await;
    run.expect(1);
    assert!(run.stderr.contains("No browser here (no display)") && run.stderr.contains("ssh -L"), "{run:?}");
    assert!(!run.stderr.contains("with a code instead"), "{run:?}");
    assert!(run.stderr.contains("timed out"), "{run:?}");
}

/// Issue 19, item 8: shell completions and the manual page come from the
/// command line itself, need no provider and no keyring, and know every
/// command and option.
#[tokio::test]
async fn completions_and_the_manual_page_are_generated_from_the_command_line() {
    let nothing = Machine::new(None).without("TESSERA_MEMORY_ONLY");
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef tessera"), ("fish", "complete -c tessera")] {
        let run = nothing.run(&["completions", shell]).await;
        run.expect(0);
        assert!(run.stdout.contains(marker), "{shell}: {}", &run.stdout[..run.stdout.len().min(300)]);
        for word in ["login", "accounts", "items", "token-store", "profile"] {
            assert!(run.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    nothing.run(&["completions", "tcsh"]).await.expect(2);
    let run = nothing.run(&["manpage"]).await;
    run.expect(0);
    assert!(run.stdout.starts_with(".ie") || run.stdout.contains(".TH tessera 1"), "{}", &run.stdout[..200]);
    for word in ["login", "\\-\\-token\\-store", "completions"] {
        assert!(run.stdout.contains(word), "the manual page lacks {word}");
    }
}

// ---------------------------------------------------------------------------
// Issue 19, item 8: the CLI's polish.

/// The claims of a JWT (its payload, not checked).
fn jwt_claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap_or_else(|| panic!("not a JWT: {token:?}"));
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Unix seconds now.
fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// `token --json` gives the token with its type, expiry and scopes; the
/// plain `token` stays the token alone. `whoami` says the lifetime in
/// words ("in 59 min"), not in seconds.
#[tokio::test(flavor = "multi_thread")]
async fn token_json_has_the_expiry_type_and_scope_and_whoami_says_the_lifetime_in_words() {
    let before = unix_now();
    let run = Machine::new(None).run(&["demo", "--", "token", "--json", "--then", "whoami"]).await;
    run.expect(0);
    let mut docs = serde_json::Deserializer::from_str(&run.stdout).into_iter::<Value>();
    let token = docs.next().unwrap().unwrap_or_else(|e| panic!("token --json is not JSON ({e}): {run:?}"));
    let keys: Vec<&str> = token.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["access_token", "expires_at", "expires_in", "scope", "token_type"], "{token:#}");
    let access_token = token["access_token"].as_str().unwrap();
    assert_jwt(access_token);
    // The demo binds its tokens to this device's key (DPoP, RFC 9449).
    assert_eq!(token["token_type"], "DPoP");
    let scope: Vec<&str> = token["scope"].as_str().unwrap().split(' ').collect();
    assert!(scope.contains(&"items:read") && scope.contains(&"openid"), "{token:#}");
    // The demo provider's access tokens live an hour: expires_at is the
    // token's own exp (to the second), expires_in what is left of it.
    let expires_at = token["expires_at"].as_u64().unwrap();
    let exp = jwt_claims(access_token)["exp"].as_u64().unwrap();
    assert!(expires_at.abs_diff(exp) <= 1, "expires_at {expires_at}, the token's exp {exp}");
    assert!((before + 3590..=unix_now() + 3600).contains(&expires_at), "{token:#}");
    assert!((3500..=3600).contains(&token["expires_in"].as_u64().unwrap()), "{token:#}");
    assert!(!run.stderr.contains(access_token), "the token leaked to stderr");
    // whoami (after the token's JSON, its table): the lifetime in words.
    let table = &run.stdout[run.stdout.rfind("}\n").unwrap() + 2..];
    let line = table.lines().find(|l| l.starts_with("token expires")).unwrap_or_else(|| panic!("{table}"));
    assert!(line.ends_with("in 59 min") || line.ends_with("in 58 min"), "{line}");
    assert!(!table.contains(" s\n") && !table.contains("3599"), "{table}");
}

/// `--account` that matches no account, or several, fails before anything
/// is asked of the provider or the store (exit 5, exit 2); an account
/// whose sign-in is not kept (memory-only) is not swapped for the one in
/// use.
#[tokio::test(flavor = "multi_thread")]
async fn account_option_refuses_an_unknown_or_ambiguous_account() {
    let stack = stack().await;
    let machine = Machine::new(Some(&stack));
    for args in [
        &["whoami", "--account", "nobody@example.com"][..],
        &["token", "--account", "nobody"],
        &["items", "--account", "nobody", "list"],
    ] {
        let run = machine.run(args).await;
        run.expect(5);
        assert!(run.stderr.contains("no account matches"), "{args:?}: {run:?}");
        assert!(run.stdout.is_empty(), "{run:?}");
    }
    machine.run(&["login"]).await.expect(0);
    machine
        .clone_with("TEST_BROWSER_USER", "bob")
        .with("TEST_BROWSER_PASSWORD", "bob-demo-pw")
        .run(&["login", "--add"])
        .await
        .expect(0);
    let requests = stack.idp.provider().authorization_requests().len();
    // alice's and bob's ids both start with 00u (their subjects, Okta's user ids).
    let run = machine.run(&["token", "--account", "00u"]).await;
    run.expect(2);
    assert!(run.stderr.contains("matches several accounts"), "{run:?}");
    // Known, but its sign-in was kept in memory only: sign in again (not bob's token).
    for args in [&["token", "--account", "alice"][..], &["items", "list", "--account", "alice@example.com"]] {
        let run = machine.run(args).await;
        run.expect(3);
        assert!(run.stderr.contains("alice@example.com"), "{args:?}: {run:?}");
        assert!(run.stdout.is_empty(), "{run:?}");
    }
    // With another profile chosen, its settings would not sign alice's account in.
    write_config(&machine, "[profiles.other]\nissuer = \"http://127.0.0.1:9/oauth2/default\"\n");
    let run = machine.run(&["--profile", "other", "whoami", "--account", "alice"]).await;
    run.expect(2);
    assert!(run.stderr.contains("alice@example.com is not an account of the profile other"), "{run:?}");
    assert_eq!(stack.idp.provider().authorization_requests().len(), requests, "nothing was asked of the provider");
    // bob is still the account in use.
    let accounts = machine.run(&["accounts", "--json"]).await;
    let accounts = accounts.json();
    let active: Vec<&Value> = accounts.as_array().unwrap().iter().filter(|a| a["active"] == true).collect();
    assert_eq!(active.len(), 1, "{accounts:#}");
    assert_eq!(active[0]["email"], "bob@example.com", "{accounts:#}");
}

/// `--account` on `token`, `whoami` and `items` uses that account for the
/// command only: bob stays the account in use, before and after.
#[tokio::test(flavor = "multi_thread")]
async fn account_option_acts_for_another_account_without_switching() {
    if !keyring_session() {
        return;
    }
    let stack = stack().await;
    let alice = Machine::new(Some(&stack)).with_keyring();
    let bob = alice.clone_with("TEST_BROWSER_USER", "bob").with("TEST_BROWSER_PASSWORD", "bob-demo-pw");
    alice.run(&["login"]).await.expect(0);
    bob.run(&["login", "--add"]).await.expect(0);
    let active_email = |run: Run| -> String {
        let accounts = run.json();
        let active: Vec<&Value> = accounts.as_array().unwrap().iter().filter(|a| a["active"] == true).collect();
        assert_eq!(active.len(), 1, "{accounts:#}");
        active[0]["email"].as_str().unwrap().to_owned()
    };
    assert_eq!(active_email(alice.run(&["accounts", "--json"]).await), "bob@example.com");

    let who = alice.run(&["whoami", "--account", "alice", "--json"]).await;
    who.expect(0);
    assert_eq!(who.json()["email"], "alice@example.com", "{who:?}");
    let who = alice.run(&["whoami", "--account", "alice@example.com"]).await;
    who.expect(0);
    assert!(who.stdout.lines().next().unwrap().ends_with("alice@example.com"), "{who:?}");
    assert_eq!(alice.run(&["whoami", "--json"]).await.json()["email"], "bob@example.com");

    let token = alice.run(&["token", "--account", "alice@example.com", "--json"]).await;
    token.expect(0);
    assert_eq!(jwt_claims(token.json()["access_token"].as_str().unwrap())["uid"], "00u1alice0000000001");
    assert_eq!(token.json()["token_type"], "Bearer", "no DPoP here");
    let token = alice.run(&["token"]).await;
    token.expect(0);
    assert_eq!(jwt_claims(token.stdout.trim_end())["uid"], "00u2bob00000000002");

    // items: the option before or after the action.
    let owners = |run: &Run| -> Vec<String> {
        run.json().as_array().unwrap().iter().map(|i| i["owner"].as_str().unwrap().to_owned()).collect()
    };
    for args in
        [&["items", "--account", "alice", "list", "--json"][..], &["items", "list", "--account", "alice", "--json"]]
    {
        let run = alice.run(args).await;
        run.expect(0);
        let owners = owners(&run);
        assert!(!owners.is_empty() && owners.iter().all(|o| o == "00u1alice0000000001"), "{args:?}: {owners:?}");
    }
    let added = alice.run(&["items", "add", "--account", "alice", "--name", "Alice's", "--price", "1", "--json"]).await;
    added.expect(0);
    assert_eq!(added.json()["owner"], "00u1alice0000000001");
    let run = alice.run(&["items", "list", "--json"]).await;
    run.expect(0);
    assert!(owners(&run).iter().all(|o| o != "00u1alice0000000001"), "bob's items: {run:?}");

    assert_eq!(active_email(alice.run(&["accounts", "--json"]).await), "bob@example.com", "bob is still in use");
    alice.run(&["logout", "--all"]).await.expect(0);
}

/// Accounts are shown by email: the id only where two accounts go by the
/// same one (here alice at two issuers), in `login`, `accounts` and
/// `accounts use`; `--json` keeps the ids.
#[tokio::test(flavor = "multi_thread")]
async fn accounts_are_shown_by_email_and_by_id_only_to_tell_two_apart() {
    let (a, b) = (stack().await, stack().await);
    let at_a = Machine::new(Some(&a));
    let run = at_a.run(&["login", "--json"]).await;
    run.expect(0);
    let id_a = run.json()["id"].as_str().unwrap().to_owned();
    assert!(run.stderr.lines().any(|l| l == "Signed in as alice@example.com"), "{run:?}");
    let table = at_a.run(&["accounts"]).await;
    table.expect(0);
    let header: Vec<&str> = table.stdout.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["ACCOUNT", "PROFILE", "ISSUER", "STATUS"], "{table:?}");
    assert!(table.stdout.contains("alice@example.com") && !table.stdout.contains(&id_a), "{table:?}");
    let run = at_a.run(&["accounts", "use", "alice"]).await;
    run.expect(0);
    assert!(run.stderr.contains("Now using alice@example.com with the profile default"), "{run:?}");

    // alice again, at another issuer: now the ids tell them apart.
    let at_b = at_a.clone_with("OKTA_ISSUER", b.idp.issuer()).with("ITEMS_API_URL", &b.api);
    let run = at_b.run(&["login", "--add", "--json"]).await;
    run.expect(0);
    let id_b = run.json()["id"].as_str().unwrap().to_owned();
    assert_ne!(id_a, id_b);
    assert!(run.stderr.contains(&format!("Signed in as alice@example.com ({id_b})")), "{run:?}");
    let table = at_b.run(&["accounts"]).await;
    for (id, issuer) in [(&id_a, a.idp.issuer()), (&id_b, b.idp.issuer())] {
        let row = table.stdout.lines().find(|l| l.contains(issuer)).unwrap_or_else(|| panic!("{table:?}"));
        assert!(row.contains(&format!("alice@example.com ({id})")), "{row}");
    }
    let listed = at_b.run(&["accounts", "--json"]).await.json();
    let ids: Vec<&str> = listed.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&id_a.as_str()) && ids.contains(&id_b.as_str()), "{listed:#}");
    // The email alone is ambiguous now: said with the ids to choose from.
    let run = at_b.run(&["accounts", "use", "alice@example.com"]).await;
    run.expect(2);
    assert!(run.stderr.contains(&id_a) && run.stderr.contains(&id_b), "{run:?}");
    let run = at_b.run(&["accounts", "use", &id_a]).await;
    run.expect(0);
    assert!(run.stderr.contains(&format!("Now using alice@example.com ({id_a}) with the profile ")), "{run:?}");
}

/// `-v` logs tessera's steps on stderr, `-vv` its details, neither a
/// token: without it, no log line below a warning.
#[tokio::test(flavor = "multi_thread")]
async fn verbose_logs_the_steps_on_stderr_and_never_the_token() {
    let machine = Machine::new(None);
    let quiet = machine.run(&["demo", "--", "token"]).await;
    quiet.expect(0);
    assert!(!quiet.stderr.contains(" INFO ") && !quiet.stderr.contains(" DEBUG "), "{quiet:?}");

    let info = machine.run(&["-v", "demo", "--", "token"]).await;
    info.expect(0);
    assert!(info.stderr.lines().any(|l| l.contains(" INFO ") && l.contains("signed in")), "{info:?}");
    assert!(!info.stderr.contains(" DEBUG "), "{info:?}");

    for args in [&["-vv", "demo", "--", "token"][..], &["demo", "--verbose", "--verbose", "--", "token", "--json"]] {
        let debug = machine.run(args).await;
        debug.expect(0);
        assert!(debug.stderr.lines().any(|l| l.contains(" DEBUG ") && l.contains("loopback redirect")), "{debug:?}");
        let token = match debug.stdout.trim_start().starts_with('{') {
            true => debug.json()["access_token"].as_str().unwrap().to_owned(),
            false => debug.stdout.trim_end().to_owned(),
        };
        assert_jwt(&token);
        assert!(!debug.stderr.contains(&token), "the token is in the log: {debug:?}");
        assert!(!debug.stderr.contains("eyJ"), "something token-like in the log: {}", debug.stderr);
        assert!(!debug.stderr.contains("code="), "an authorization code in the log: {}", debug.stderr);
    }
    // Outside a demo too, before anything is asked (the settings line).
    let stack = stack().await;
    let run = Machine::new(Some(&stack)).run(&["whoami", "-v"]).await;
    run.expect(3);
    assert!(run.stderr.lines().any(|l| l.contains(" INFO ") && l.contains(stack.idp.issuer())), "{run:?}");
}

/// A sign-in and then `token`, `whoami` and `items list`, each with `-vv`:
/// the log (every stderr line) holds no authorization code, access token,
/// refresh token or ID token. The sign-in is driven here, as a person's
/// browser would, so the test knows the code that came back.
#[tokio::test(flavor = "multi_thread")]
async fn debug_logs_never_show_a_token_or_the_authorization_code() {
    if !keyring_session() {
        return;
    }
    let stack = stack_with(|c| c.device.advertised = false).await;
    let machine = Machine::new(Some(&stack)).with_keyring().without("BROWSER");
    let mut login = Running::start(&machine, &["-vv", "login"]);
    let url = login.line("the URL", |l| l.trim_start().starts_with("http")).trim().to_owned();
    let browser = dev_idp::testing::Browser::new();
    let redirect = browser.sign_in(&url, "alice", "alice-demo-pw").await.unwrap();
    let code = redirect.query_pairs().find(|(n, _)| n == "code").map(|(_, v)| v.into_owned()).expect("a code");
    assert!(code.len() >= 16, "{redirect}");
    let (status, _) = browser.get(redirect.as_str()).await.unwrap();
    assert!(status.is_success(), "{status}");
    let (status, _, lines) = login.finish();
    assert!(status.success(), "{status:?}: {lines:#?}");
    let mut log = lines.join("\n");
    assert!(log.contains(" DEBUG "), "{log}");

    let token = machine.run(&["-vv", "token", "--json"]).await;
    token.expect(0);
    let access_token = token.json()["access_token"].as_str().unwrap().to_owned();
    log.push_str(&token.stderr);
    for args in [&["-vv", "whoami"][..], &["-vv", "items", "list"], &["-vv", "token"]] {
        let run = machine.run(args).await;
        run.expect(0);
        log.push_str(&run.stderr);
    }
    let account = machine.run(&["accounts", "--json"]).await.json()[0].clone();
    let refresh_token = keyring_token(&account).await.expect("the refresh token is in the keyring");
    for (what, secret) in
        [("authorization code", &code), ("access token", &access_token), ("refresh token", &refresh_token)]
    {
        assert!(!log.contains(secret.as_str()), "the {what} is in the log:\n{log}");
    }
    assert!(!log.contains("eyJ"), "a JWT (the ID token?) is in the log:\n{log}");
    assert!(log.contains("refresh") || log.contains("access token"), "the token steps are logged:\n{log}");
    machine.run(&["logout", "--all"]).await.expect(0);
}

/// `-h` is short: one line about tessera, Usage, the commands and options,
/// and the exit codes in brief after them. `--help` starts the same way
/// (a short paragraph, then Usage) and keeps the long text (settings, token
/// stores, exit codes one per line) after the options.
#[tokio::test]
async fn help_is_short_with_the_exit_codes_after_usage() {
    let machine = Machine::new(None);
    let short = machine.run(&["-h"]).await;
    short.expect(0);
    let long = machine.run(&["--help"]).await;
    long.expect(0);
    for (name, run, most_before_usage) in [("-h", &short, 2), ("--help", &long, 5)] {
        let usage = run.stdout.find("Usage: tessera").unwrap_or_else(|| panic!("{name}: {}", run.stdout));
        let before = run.stdout[..usage].lines().count();
        assert!(before <= most_before_usage, "{name}: {before} lines before Usage:\n{}", run.stdout);
        let exit_codes = run.stdout.find("Exit codes:").unwrap_or_else(|| panic!("{name}: {}", run.stdout));
        let options = run.stdout.find("Options:").unwrap();
        assert!(usage < options && options < exit_codes, "{name}: the exit codes come after the options");
        for command in ["login", "token", "whoami", "items", "accounts", "completions"] {
            assert!(run.stdout.contains(&format!("\n  {command} ")), "{name} lacks {command}");
        }
        assert!(run.stdout.contains("-v, --verbose"), "{name}");
    }
    assert!(short.stdout.contains("3 sign-in required") && short.stdout.contains("8 rate limited"), "{short:?}");
    assert!(!short.stdout.contains("secret-service  the desktop keyring"), "-h is the short one: {short:?}");
    assert!(short.stdout.lines().count() < 40, "{} lines:\n{}", short.stdout.lines().count(), short.stdout);
    assert!(short.stdout.lines().all(|l| l.chars().count() <= 160), "{}", short.stdout);
    assert!(long.stdout.contains("3  sign-in required") && long.stdout.contains("secret-service"), "{long:?}");
    // `token --help` says what --json gives, and --account is on the three commands.
    let token = machine.run(&["token", "--help"]).await;
    token.expect(0);
    for key in ["access_token", "token_type", "expires_at", "scope", "--account"] {
        assert!(token.stdout.contains(key), "token --help lacks {key}: {token:?}");
    }
    for args in [&["whoami", "-h"][..], &["items", "-h"], &["items", "list", "-h"]] {
        let run = machine.run(args).await;
        run.expect(0);
        assert!(run.stdout.contains("--account <ACCOUNT>"), "{args:?}: {run:?}");
    }
}
