//! One refresh across processes (issue 17, item 5) with real processes:
//! `tessera token` run eight at a time, and the desktop app's session (a
//! `signin::Session` in this test process, over the same keyring entry and
//! account book, as the desktop makes it) beside a `tessera` process, all
//! against dev-idp with short-lived access tokens and a rotation grace
//! period of 0 (a rotated refresh token spent again revokes its whole family
//! at once, as Okta does after its grace period).
//!
//! The sign-in is shared through the OS keyring, so these run inside
//! `scripts/keyring-session.sh` (a private Secret Service and kernel session
//! keyring; `TESSERA_KEYRING_SESSION=1`) and are skipped elsewhere unless
//! `TESSERA_REQUIRE_KEYRING=1` makes them required. The test browser must be
//! built first: `cargo build -p tessera-test-browser`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use dev_idp::DevIdp;

mod support;
use support::{Run, TESSERA, keyring_session};

const SCOPES: &str = "openid profile email offline_access items:read";
/// dev-idp's access tokens live this long here: due for a refresh half-way.
const ACCESS_TOKEN_SECS: u64 = 10;
/// The longest one `tessera` run may take.
const RUN_LIMIT: Duration = Duration::from_secs(90);

async fn idp() -> DevIdp {
    let mut config = dev_idp::Config { port: 0, ..Default::default() };
    config.lifetimes.access_token_secs = ACCESS_TOKEN_SECS;
    config.refresh_token_rotation.grace_period_secs = 0;
    dev_idp::spawn(config).await.unwrap()
}

/// One person's machine: a private HOME (config folder, account book, lock
/// files), the session's keyring, the settings in the environment.
struct Machine {
    home: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Machine {
    fn new(idp: &DevIdp, token_store: &str) -> Self {
        let browser = PathBuf::from(TESSERA).with_file_name("tessera-test-browser");
        assert!(browser.is_file(), "{} is not built: run `cargo build -p tessera-test-browser`", browser.display());
        let mut env: Vec<(String, String)> = [
            ("OKTA_ISSUER", idp.issuer()),
            ("CLIENT_ID", "tessera-desktop"),
            ("OKTA_SCOPES", SCOPES),
            ("BROWSER", browser.to_str().unwrap()),
            ("TEST_BROWSER_USER", "alice"),
            ("TEST_BROWSER_PASSWORD", "alice-demo-pw"),
            ("SIGNIN_TIMEOUT_SECS", "30"),
            ("TESSERA_TOKEN_STORE", token_store),
            // The core's debug lines (never a token) say who refreshed and who waited.
            ("RUST_LOG", "signin=debug,warn"),
        ]
        .into_iter()
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
        for name in ["DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"] {
            if let Ok(value) = std::env::var(name) {
                env.push((name.to_owned(), value));
            }
        }
        Self { home: tempfile::tempdir().unwrap(), env }
    }

    /// Where `tessera` keeps the account book here.
    fn book_path(&self) -> PathBuf {
        self.home.path().join(".config").join("tessera").join("accounts.json")
    }

    fn command(&self, args: &[&str]) -> Command {
        let env = self.env.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let mut command = support::tessera(self.home.path(), env, args);
        command.stdin(Stdio::null());
        command
    }

    /// Runs `tessera args` once.
    async fn run(&self, args: &[&str]) -> Run {
        self.run_at_once(1, args).await.remove(0)
    }

    /// Starts `count` processes of `tessera args` at once and waits for all
    /// (each is killed, failing the test, after [`RUN_LIMIT`]).
    async fn run_at_once(&self, count: usize, args: &[&str]) -> Vec<Run> {
        let children: Vec<Child> = (0..count)
            .map(|_| self.command(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("tessera starts"))
            .collect();
        let what = format!("tessera {}", args.join(" "));
        tokio::task::spawn_blocking(move || children.into_iter().map(|child| Run::of_child(child, &what)).collect())
            .await
            .unwrap()
    }

    /// The settings the desktop app loads on this machine (its environment).
    fn settings(&self) -> app::settings::Settings {
        let env = self.env.clone();
        let lookup = move |name: &str| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        app::settings::Settings::load_from(None, lookup).unwrap()
    }
}

impl Run {
    /// Waits for `child` (its output is small: a token, a line of error)
    /// and reads what it printed.
    fn of_child(mut child: Child, what: &str) -> Self {
        let status = testkit::wait_child(&mut child, what, RUN_LIMIT);
        let (mut stdout, mut stderr) = (String::new(), String::new());
        child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
        child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        Self { code: status.code().unwrap_or(-1), stdout, stderr }
    }

    /// The access token `tessera token` printed.
    #[track_caller]
    fn token(&self) -> String {
        self.expect(0);
        let token = self.stdout.trim_end().to_owned();
        assert_eq!(token.split('.').count(), 3, "a JWT: {self:?}");
        assert!(!self.stderr.contains(&token), "the token on stdout only: {self:?}");
        token
    }
}

/// Whether dev-idp still takes `token` (RFC 7662 introspection).
async fn active_at(idp: &DevIdp, token: &str) -> bool {
    let introspect = testkit::http().post(format!("{}/v1/introspect", idp.issuer()));
    testkit::json_of(introspect.form(&[("client_id", "tessera-desktop"), ("token", token)])).await["active"] == true
}

/// The refresh token the keyring holds for alice (the only account).
async fn stored_refresh_token(machine: &Machine, store: &Arc<dyn signin::store::TokenStore>) -> Option<String> {
    let book = signin::accounts::AccountBook::load(machine.book_path()).unwrap();
    let key = book.list()[0].key.clone();
    let store = store.clone();
    tokio::task::spawn_blocking(move || store.load(&key).unwrap().map(|g| g.refresh_token.secret().clone()))
        .await
        .unwrap()
}

fn keyring(backend: signin::store::KeyringBackend) -> Arc<dyn signin::store::TokenStore> {
    Arc::new(signin::store::KeyringStore::open(backend).unwrap())
}

/// Eight `tessera token` at once, twice (at the start, then at the next
/// expiry): every one succeeds, dev-idp sees one refresh each time, and
/// every process prints that refresh's token. No refresh token is spent
/// twice, so the family is never revoked and later commands still work.
async fn eight_at_once(token_store: &str, backend: signin::store::KeyringBackend) {
    let idp = idp().await;
    let provider = idp.provider();
    let alice = Machine::new(&idp, token_store);
    alice.run(&["login"]).await.expect(0);
    assert_eq!(provider.refreshes(), 0);

    // The sign-in's access token stayed with `tessera login`: one refresh
    // for all eight.
    let runs = alice.run_at_once(8, &["token"]).await;
    let tokens: Vec<String> = runs.iter().map(Run::token).collect();
    assert_eq!(provider.refreshes(), 1, "one refresh for eight processes: {runs:#?}");
    assert!(tokens.iter().all(|t| *t == tokens[0]), "every process printed the one refreshed token");

    // Until it is due (half its 10 s), later processes use it as it is.
    assert_eq!(alice.run(&["token"]).await.token(), tokens[0]);
    assert_eq!(provider.refreshes(), 1);

    // Past that: eight at once again, one refresh.
    tokio::time::sleep(Duration::from_secs(ACCESS_TOKEN_SECS / 2 + 1)).await;
    let runs = alice.run_at_once(8, &["token"]).await;
    let next: Vec<String> = runs.iter().map(Run::token).collect();
    assert_eq!(provider.refreshes(), 2, "one refresh per expiry: {runs:#?}");
    assert!(next.iter().all(|t| *t == next[0] && *t != tokens[0]));

    // Never a reuse: the family lives, and a later command still works.
    assert_eq!(provider.reused_refresh_tokens(), 0, "a rotated refresh token was spent twice");
    let store = tokio::task::spawn_blocking(move || keyring(backend)).await.unwrap();
    let refresh_token = stored_refresh_token(&alice, &store).await.expect("still signed in");
    assert!(active_at(&idp, &refresh_token).await, "the token family was revoked");
    assert!(active_at(&idp, &next[0]).await);
    alice.run(&["whoami"]).await.expect(0);
    alice.run(&["logout", "--all"]).await.expect(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn eight_token_processes_at_once_refresh_once_per_expiry_with_the_secret_service() {
    if !keyring_session() {
        return;
    }
    eight_at_once("secret-service", signin::store::KeyringBackend::SecretService).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn eight_token_processes_at_once_refresh_once_per_expiry_with_the_kernel_keyring() {
    if !keyring_session() {
        return;
    }
    eight_at_once("kernel", signin::store::KeyringBackend::KernelKeyring).await;
}

/// The desktop app's session and `tessera token` refreshing alice's tokens
/// at the same moment: one refresh, the same token for both; and the same
/// at the next expiry with the desktop's background refresh. The provider
/// answers token requests slowly (1.6 s), so whichever of the two refreshes
/// first is still at it when the other comes to refresh: without the lock
/// the second would spend the same refresh token again and, with a grace
/// period of 0, get the family revoked.
#[tokio::test(flavor = "multi_thread")]
async fn the_desktop_session_and_a_cli_process_refresh_once_between_them() {
    if !keyring_session() {
        return;
    }
    let idp = idp().await;
    let provider = idp.provider();
    let alice = Machine::new(&idp, "secret-service");
    alice.run(&["login"]).await.expect(0);
    provider.misbehave(&[dev_idp::misbehave::Misbehavior::TokenResponseSlow]);

    // The desktop's session as the desktop makes it: the OS keyring (the
    // same entry the CLI uses) and the account book in the same folder.
    let store = tokio::task::spawn_blocking(|| keyring(signin::store::KeyringBackend::SecretService)).await.unwrap();
    let book = signin::accounts::AccountBook::load(alice.book_path()).unwrap();
    let desktop = Arc::new(signin::Session::new(alice.settings().signin, store.clone(), book));
    assert_eq!(desktop.active().unwrap().identity.email.as_deref(), Some("alice@example.com"));

    for round in 1..=2 {
        let cli = alice.run(&["token"]);
        let desktop_token = async {
            if round == 1 {
                testkit::within("desktop.access_token", desktop.access_token()).await.unwrap()
            } else {
                // The background refresh, then the token it keeps.
                testkit::within("desktop.keep_fresh", desktop.keep_fresh()).await;
                assert_eq!(desktop.offline(), None);
                testkit::within("desktop.access_token", desktop.access_token()).await.unwrap()
            }
        };
        let (cli, desktop_token) = tokio::join!(cli, desktop_token);
        assert_eq!(provider.refreshes(), round, "round {round}: one refresh between them: {cli:?}");
        assert_eq!(cli.token(), *desktop_token.secret(), "round {round}: the same token");
        tokio::time::sleep(Duration::from_secs(ACCESS_TOKEN_SECS / 2 + 1)).await;
    }
    assert_eq!(provider.reused_refresh_tokens(), 0);
    provider.misbehave(&[]);
    let refresh_token = stored_refresh_token(&alice, &store).await.expect("still signed in");
    assert!(active_at(&idp, &refresh_token).await, "the token family was revoked");
    alice.run(&["token"]).await.token();
    alice.run(&["logout", "--all"]).await.expect(0);
}
