//! The `tessera` binary as a real process, against dev-idp and the items API
//! started here on 127.0.0.1 port 0. The browser is `tessera-test-browser`
//! (through `$BROWSER`): it signs the person in on dev-idp's pages and
//! follows the redirect into tessera's loopback listener.
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

const TESSERA: &str = env!("CARGO_BIN_EXE_tessera");
const TEST_BROWSER: &str = env!("CARGO_BIN_EXE_tessera-test-browser");
const SCOPES: &str = "openid profile email offline_access items:read items:write";

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
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("items.db").display());
    let issuer = idp.issuer().to_owned();
    // Bound first: DPoP proofs name the API's PUBLIC_URL.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let api = format!("http://{}", listener.local_addr().unwrap());
    let config = items_api::Config::load_with(None, |name| match name {
        // Demo mode: the demo items for alice and bob.
        "DEMO" => Some("1".to_owned()),
        "OKTA_ISSUER" => Some(issuer.clone()),
        "DATABASE_URL" => Some(database.clone()),
        "PUBLIC_URL" => Some(api.clone()),
        _ => None,
    })
    .unwrap();
    let state = items_api::build(&config).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, items_api::router(state)).await });
    Stack { idp, api, _dir: dir }
}

/// What a run of `tessera` did.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:?}"))
    }

    /// Several JSON documents one after the other (a demo's commands).
    fn json_stream(&self) -> Vec<Value> {
        serde_json::Deserializer::from_str(&self.stdout).into_iter::<Value>().map(Result::unwrap).collect()
    }

    #[track_caller]
    fn expect(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code of {self:#?}");
        self
    }
}

/// One person's machine: a private HOME (config, account book) and working
/// directory, the settings in the environment, and nothing else of ours.
struct Machine {
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Machine {
    /// Pointed at `stack`, memory-only, the test browser signing alice in.
    fn new(stack: Option<&Stack>) -> Self {
        let home = tempfile::tempdir().unwrap();
        let mut machine = Self { home, env: Vec::new() };
        machine = machine
            .with("CLIENT_ID", "tessera-desktop")
            .with("OKTA_SCOPES", SCOPES)
            .with("BROWSER", TEST_BROWSER)
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

    fn without(mut self, name: &str) -> Self {
        self.env.retain(|(n, _)| n != name);
        self
    }

    async fn run(&self, args: &[&str]) -> Run {
        let mut command = self.command(args);
        let output = tokio::task::spawn_blocking(move || command.output()).await.unwrap().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let home: PathBuf = self.home.path().to_owned();
        let mut command = Command::new(TESSERA);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .envs(self.env.iter().map(|(n, v)| (n, v)))
            .current_dir(&home);
        command
    }
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
    assert!(run.stderr.contains("keyring"), "{run:?}");
    assert!(run.stderr.contains("--memory-only"), "no hint: {run:?}");
    assert!(!run.stderr.contains("Signed in"), "{run:?}");
    // Listing accounts needs no tokens, so no keyring.
    machine.run(&["accounts"]).await.expect(0);
    // Asked for, memory-only works.
    machine.with("TESSERA_MEMORY_ONLY", "1").run(&["login"]).await.expect(0);
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
    machine.run(&["login", "--add"]).await.expect(0);
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
    let (shown, url) = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        while stderr.read_line(&mut line).unwrap() > 0 {
            if let Some(rest) = line.split("open ").nth(1) {
                let url = rest.split_whitespace().next().unwrap().to_owned();
                return (line, url);
            }
            line.clear();
        }
        panic!("no code was shown: {line}");
    })
    .await
    .unwrap();
    assert!(shown.contains("shows the code"), "{shown}");
    assert!(url.contains("/activate"), "{shown}");
    // The person approves on another device.
    let driver = dev_idp::testing::Browser::new();
    let dev_idp::testing::Page::Device(form) = driver.open(&url).await.unwrap() else { panic!("no device page") };
    driver.submit(&form, &[("username", "alice"), ("password", "alice-demo-pw")], "approve").await.unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).unwrap();
        (child.wait().unwrap(), out)
    })
    .await
    .unwrap();
    assert!(status.0.success(), "{status:?}");
    let account: Value = serde_json::from_str(&status.1).unwrap();
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

/// Whether the keyring tour can run: inside `scripts/keyring-session.sh`.
fn keyring_session() -> bool {
    if std::env::var("TESSERA_KEYRING_SESSION").is_ok_and(|v| v == "1") {
        return true;
    }
    let required = std::env::var("TESSERA_REQUIRE_KEYRING").is_ok_and(|v| v == "1");
    assert!(!required, "TESSERA_REQUIRE_KEYRING=1 but no keyring session (run inside scripts/keyring-session.sh)");
    eprintln!("skipped: needs a Secret Service (run inside scripts/keyring-session.sh)");
    false
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
    assert_eq!(stack.idp.provider().refreshes(), 3, "the kill's, the restart's and whoami's refreshes");
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
    let added = alice.run(&["items", "add", "--name", "Kettle", "--price", "30", "--json"]).await;
    added.expect(0);
    let id = added.json()["id"].as_str().unwrap().to_owned();
    let shown = alice.run(&["items", "show", &id, "--json"]).await;
    shown.expect(0);
    assert_eq!(shown.json()["name"], "Kettle");
    assert_eq!(stack.idp.provider().refreshes(), 2, "one refresh per process, each with a proof");
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
