//! `tessera login --client-credentials` as a real process against dev-idp
//! and the items API on 127.0.0.1 port 0: a service signs in with its own
//! identity (a client secret on stdin, kept in the keyring; or a private
//! key made here, its public JWK registered at dev-idp), then `tessera
//! token` prints a token about the service and `tessera items list` works
//! as it. A refused secret stores nothing, and the secret never shows in
//! argv, stdout, stderr or the account book's bytes.
//!
//! The secret's tests keep it across processes in the OS keyring: they run
//! inside `scripts/keyring-session.sh` (`TESSERA_KEYRING_SESSION=1`) and are
//! skipped elsewhere unless `TESSERA_REQUIRE_KEYRING=1`. The key's tests
//! need no keyring (only the key file's path is remembered).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use dev_idp::config::{ClientConfig, ITEMS_API_CLIENT_ID, grant};
use jsonwebtoken::jwk::JwkSet;
use serde_json::Value;

mod support;
use support::keyring_session;

const SERVICE: &str = "svc-reports";
const SECRET: &str = "svc-reports-s3cr3t-7Qx";
const KEYED: &str = "svc-keyed";
const RUN_LIMIT: Duration = Duration::from_secs(60);

/// dev-idp with two services allowed `items:read` (one with a secret, one
/// with a key), and the items API (temporary SQLite) on port 0.
struct Stack {
    idp: dev_idp::DevIdp,
    api: String,
    /// The keyed service's private key, PKCS#8 PEM.
    pem: String,
    _dir: tempfile::TempDir,
}

async fn stack() -> Stack {
    let key = dpop::DpopKey::generate().unwrap();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(key.pkcs8())
    );
    let mut config = dev_idp::Config { port: 0, ..Default::default() };
    let template = config.client(ITEMS_API_CLIENT_ID).unwrap().clone();
    let service = |client_id: &str| ClientConfig {
        client_id: client_id.into(),
        name: client_id.into(),
        grant_types: vec![grant::CLIENT_CREDENTIALS.into()],
        allowed_scopes: Some(vec!["items:read".into()]),
        ..template.clone()
    };
    config
        .clients
        .push(ClientConfig { client_secret: Some(dev_idp::config::ClientSecret::new(SECRET)), ..service(SERVICE) });
    config.clients.push(ClientConfig {
        client_secret: None,
        jwks: Some(JwkSet { keys: vec![key.public_jwk()] }),
        ..service(KEYED)
    });
    let idp = dev_idp::spawn(config).await.unwrap();
    let (api, dir) = support::items_api(idp.issuer(), false).await;
    Stack { idp, api, pem, _dir: dir }
}

#[derive(Debug)]
struct Run {
    args: Vec<String>,
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    #[track_caller]
    fn expect(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code of {self:#?}");
        self
    }

    #[track_caller]
    fn never_shows(&self, secret: &str) {
        assert!(!self.args.iter().any(|a| a.contains(secret)), "argv: {self:?}");
        assert!(!self.stdout.contains(secret) && !self.stderr.contains(secret), "printed: {self:?}");
    }
}

/// A machine with its own HOME, pointed at `stack`, using `store`
/// (`keyring`: the surrounding session's Secret Service; else memory).
struct Machine {
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Machine {
    fn new(stack: &Stack, keyring: bool) -> Self {
        let mut env = vec![
            ("OKTA_ISSUER".to_owned(), stack.idp.issuer().to_owned()),
            ("ITEMS_API_URL".to_owned(), stack.api.clone()),
            ("CLIENT_ID".to_owned(), SERVICE.to_owned()),
            ("OKTA_SCOPE".to_owned(), "items:read".to_owned()),
            ("RUST_LOG".to_owned(), "warn".to_owned()),
        ];
        if keyring {
            for name in ["DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"] {
                if let Ok(value) = std::env::var(name) {
                    env.push((name.to_owned(), value));
                }
            }
        } else {
            env.push(("TESSERA_MEMORY_ONLY".to_owned(), "1".to_owned()));
        }
        Self { home: tempfile::tempdir().unwrap(), env }
    }

    fn with(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    fn book(&self) -> PathBuf {
        self.home.path().join(".config/tessera/accounts.json")
    }

    /// Runs `tessera args` with `stdin` piped in (none: an empty stdin).
    async fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let command = support::tessera(self.home.path(), self.env.iter().map(|(n, v)| (n.as_str(), v.as_str())), args);
        let (input, args) = (stdin.unwrap_or_default().to_owned(), args.iter().map(|a| (*a).to_owned()).collect());
        let output = tokio::task::spawn_blocking(move || run_within(command, &input)).await.unwrap();
        Run {
            args,
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }
}

fn run_within(mut command: Command, input: &str) -> std::process::Output {
    let mut child = command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    let deadline = Instant::now() + RUN_LIMIT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("tessera did not end within {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn claims(jwt: &str) -> Value {
    let part = jwt.trim().split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[track_caller]
fn assert_book_lacks(book: &Path, secret: &str) {
    if let Ok(bytes) = std::fs::read(book) {
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "the account book holds the secret");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_signs_in_with_a_secret_on_stdin_kept_in_the_keyring() {
    if !keyring_session() {
        return;
    }
    let stack = stack().await;
    let machine = Machine::new(&stack, true);
    let mut runs = Vec::new();

    // A refused secret: a clear message, exit 4, nothing kept.
    let refused = machine.run(&["login", "--client-credentials"], Some("not-the-secret\n")).await;
    refused.expect(4);
    assert!(refused.stderr.contains("refused the credentials of the service svc-reports"), "{refused:?}");
    assert!(!refused.stderr.contains("not-the-secret"), "{refused:?}");
    assert!(!machine.book().exists(), "nothing is kept for a refused secret");
    let token = machine.run(&["token"], None).await;
    token.expect(3);
    // No secret at all.
    let empty = machine.run(&["login", "--client-credentials"], Some("")).await;
    empty.expect(2);
    assert!(empty.stderr.contains("no client secret was given"), "{empty:?}");

    let login = machine.run(&["login", "--client-credentials", "--json"], Some(&format!("{SECRET}\n"))).await;
    login.expect(0);
    assert!(login.stderr.contains("Signed in as the service svc-reports"), "{login:?}");
    assert!(login.stderr.contains("kept in the token store"), "{login:?}");
    let account: Value = serde_json::from_str(&login.stdout).unwrap();
    assert_eq!((account["subject"].as_str(), account["service"].as_bool()), (Some(SERVICE), Some(true)));
    runs.push(login);

    // Another process: the token is the service's.
    let token = machine.run(&["token"], None).await;
    token.expect(0);
    let at = claims(&token.stdout);
    assert_eq!((at["sub"].as_str(), at["cid"].as_str()), (Some(SERVICE), Some(SERVICE)));
    assert_eq!(at["scp"], serde_json::json!(["items:read"]));
    runs.push(token);
    let items = machine.run(&["items", "list", "--json"], None).await;
    items.expect(0);
    assert!(items.stdout.trim_start().starts_with('['), "{items:?}");
    runs.push(items);
    let accounts = machine.run(&["accounts"], None).await;
    accounts.expect(0);
    assert!(accounts.stdout.contains(SERVICE) && accounts.stdout.contains("service"), "{accounts:?}");
    runs.push(accounts);
    let whoami = machine.run(&["whoami"], None).await;
    whoami.expect(0);
    runs.push(whoami);
    for run in &runs {
        run.never_shows(SECRET);
    }
    assert_book_lacks(&machine.book(), SECRET);
    assert!(std::fs::read_to_string(machine.book()).unwrap().contains(SERVICE));

    // Sign-out: nothing to revoke, said so; the keyring entry is gone.
    let logout = machine.run(&["logout"], None).await;
    logout.expect(0);
    assert!(logout.stderr.contains("nothing to revoke"), "{logout:?}");
    logout.never_shows(SECRET);
    machine.run(&["token"], None).await.expect(3);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_signs_in_with_a_private_key_and_keeps_only_its_path() {
    let stack = stack().await;
    let machine = Machine::new(&stack, false);
    let key = machine.home.path().join("svc-keyed.pem");
    std::fs::write(&key, &stack.pem).unwrap();
    let key_arg = key.to_str().unwrap();
    let login = machine
        .run(
            &["login", "--client-credentials", "--client-id", KEYED, "--private-key", key_arg, "--scope", "items:read"],
            None,
        )
        .await;
    login.expect(0);
    assert!(login.stderr.contains("Signed in as the service svc-keyed"), "{login:?}");
    assert!(login.stderr.contains("private key"), "{login:?}");
    // A new process with nothing in its (memory) store: the key file signs again.
    let token = machine.run(&["token"], None).await;
    token.expect(0);
    assert_eq!(claims(&token.stdout)["cid"], KEYED);
    machine.run(&["items", "list"], None).await.expect(0);
    let book = std::fs::read_to_string(machine.book()).unwrap();
    assert!(book.contains(key_arg), "the key's path is remembered: {book}");
    let key_body = stack.pem.lines().nth(1).unwrap();
    assert!(!book.contains("PRIVATE KEY") && !book.contains(&key_body[..40]), "the key never is: {book}");

    // Another key than the registered one: refused, nothing kept.
    let other = Machine::new(&stack, false);
    let wrong = other.home.path().join("wrong.pem");
    let fresh = dpop::DpopKey::generate().unwrap();
    let fresh_pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(fresh.pkcs8())
    );
    std::fs::write(&wrong, fresh_pem).unwrap();
    let refused = other
        .run(&["login", "--client-credentials", "--client-id", KEYED, "--private-key", wrong.to_str().unwrap()], None)
        .await;
    refused.expect(4);
    assert!(refused.stderr.contains("refused the credentials of the service svc-keyed"), "{refused:?}");
    assert!(!other.book().exists());
    // A file that is no key: a usage error naming it.
    let garbage = other.home.path().join("garbage.pem");
    std::fs::write(&garbage, "not a key").unwrap();
    let run = other.run(&["login", "--client-credentials", "--private-key", garbage.to_str().unwrap()], None).await;
    run.expect(2);
    assert!(run.stderr.contains("garbage.pem"), "{run:?}");
}

/// The tutorial's `.env` names that no longer mean anything get a one-line
/// note each on stderr; `--client-credentials` conflicts with a person's
/// options; `login --help` documents it.
#[tokio::test(flavor = "multi_thread")]
async fn tutorial_names_are_noted_and_the_option_is_documented() {
    let stack = stack().await;
    let machine = Machine::new(&stack, false)
        .with("OKTA_TOKEN", "https://elsewhere.example/v1/token")
        .with("OKTA_INTROSPECTION", "https://elsewhere.example/v1/introspect")
        .with("OKTA_CLIENT_SECRET", SECRET);
    let run = machine.run(&["accounts"], None).await;
    run.expect(0);
    for name in ["OKTA_TOKEN", "OKTA_INTROSPECTION", "OKTA_CLIENT_SECRET"] {
        let line =
            run.stderr.lines().find(|l| l.contains(name)).unwrap_or_else(|| panic!("no note on {name}: {run:?}"));
        assert!(line.contains("is ignored"), "{line}");
    }
    run.never_shows(SECRET);
    let both = machine.run(&["login", "--client-credentials", "--device"], None).await;
    both.expect(2);
    let help = machine.run(&["login", "--help"], None).await;
    help.expect(0);
    for words in ["--client-credentials", "--private-key", "--client-id", "--scope", "never a command-line argument"] {
        assert!(help.stdout.contains(words), "login --help lacks {words:?}: {}", help.stdout);
    }
}
