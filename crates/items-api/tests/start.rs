//! The `tessera-items-api` program started as a person would, in an empty
//! folder (issue 23, item 1): with nothing configured it does not start and
//! says, in one message, what to set; with the demo switch (`--demo` or
//! `DEMO=1`) it starts and serves the demo items; demo items come with the
//! switch only; a non-loopback `BIND` without TLS in front is warned about.
//!
//! Each run has a deadline that fails the test with what the program printed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read as _;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use dev_idp::config::DEMO_ALICE_PASSWORD;
use dev_idp::testing::Browser;
use wait::within;

use testkit as wait;

/// How long a run may take before the test fails.
const DEADLINE: Duration = Duration::from_secs(30);

/// The program with no environment but `PATH`, in `folder`.
fn program(folder: &Path, env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tessera-items-api"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "info")
        .current_dir(folder)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// Runs `command` to its end: its exit status and what it printed on stderr.
fn run_to_exit(mut command: Command) -> (ExitStatus, String) {
    let child = command.spawn().expect("the program starts");
    let pid = child.id();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    match receiver.recv_timeout(DEADLINE) {
        Ok(output) => {
            let output = output.unwrap();
            (output.status, String::from_utf8_lossy(&output.stderr).into_owned())
        }
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("timed out after {DEADLINE:?}: the program stopping (killed)");
        }
    }
}

/// A running program, killed when dropped.
struct Running {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Starts `command` listening on `addr` and waits until `/healthz`
    /// answers there.
    fn start(mut command: Command, addr: SocketAddr) -> Self {
        let child = command.spawn().expect("the program starts");
        let mut running = Self { child, addr };
        let started = Instant::now();
        loop {
            if let Some(status) = running.child.try_wait().unwrap() {
                panic!("the program stopped ({status}): {}", running.stop());
            }
            if healthz(addr) {
                return running;
            }
            if started.elapsed() > DEADLINE {
                panic!("timed out after {DEADLINE:?}: /healthz answering (killed): {}", running.stop());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the program and returns what it printed on stderr.
    fn stop(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut text = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut text);
        }
        text
    }
}

/// Whether `GET /healthz` answers 200 at `addr` (one try, 2 s at most).
fn healthz(addr: SocketAddr) -> bool {
    use std::io::Write as _;
    let Ok(mut socket) = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
        return false;
    };
    let _ = socket.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let mut answer = String::new();
    socket.write_all(request.as_bytes()).is_ok()
        && socket.read_to_string(&mut answer).is_ok()
        && answer.starts_with("HTTP/1.1 200")
}

/// A loopback address nothing listens on (free when asked).
fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

/// Alice's access token from `issuer` (code flow with PKCE, through the
/// test browser).
async fn alice_token(issuer: &str) -> String {
    let browser = Browser::new();
    let token = browser.access_token(issuer, "alice", DEMO_ALICE_PASSWORD, "openid items:read");
    within("alice's access token", token).await.expect("alice signs in")
}

/// The names of the items alice sees at `addr`.
async fn alice_items(addr: SocketAddr, token: &str) -> Vec<String> {
    let page =
        wait::json_of(wait::http_without_redirects().get(format!("http://{addr}/v1/items")).bearer_auth(token)).await;
    page["items"].as_array().unwrap_or_else(|| panic!("{page}")).iter().map(|i| i["name"].to_string()).collect()
}

#[test]
fn with_nothing_configured_it_does_not_start_and_says_in_one_message_what_to_set() {
    let folder = tempfile::tempdir().unwrap();
    let (status, stderr) = run_to_exit(program(folder.path(), &[]));
    assert_eq!(status.code(), Some(2), "{stderr}");
    for name in ["OKTA_ISSUER", "OKTA_DOMAIN", "DATABASE_URL", "PUBLIC_URL", "ACCEPT_DPOP=false", "--demo", "DEMO=1"] {
        assert!(stderr.contains(name), "{name} in:\n{stderr}");
    }
    assert_eq!(stderr.matches("tessera-items-api:").count(), 1, "one message:\n{stderr}");
    assert!(!stderr.contains("listening"), "{stderr}");
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0, "no database made in the current folder");

    // Part of it set: the rest is listed, and only the rest.
    let issuer = [("OKTA_ISSUER", "https://dev-1.okta.com/oauth2/default")];
    let (status, stderr) = run_to_exit(program(folder.path(), &issuer));
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("DATABASE_URL") && stderr.contains("PUBLIC_URL"), "{stderr}");
    assert!(!stderr.contains("OKTA_ISSUER (or OKTA_DOMAIN)"), "{stderr}");
    // The old spelling of the demo switch is named, not ignored.
    let (status, stderr) =
        run_to_exit(program(folder.path(), &[("DEMO_SEED", "1"), ("DATABASE_URL", "sqlite://x.db")]));
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("DEMO_SEED") && stderr.contains("DEMO=1"), "{stderr}");
    assert_eq!(std::fs::read_dir(folder.path()).unwrap().count(), 0, "still nothing made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_demo_switch_it_starts_and_serves_the_demo_items_which_only_the_switch_brings() {
    let idp =
        within("dev-idp starting", dev_idp::spawn(dev_idp::Config { port: 0, ..Default::default() })).await.unwrap();
    let token = alice_token(idp.issuer()).await;
    let folder = tempfile::tempdir().unwrap();

    // --demo, and DEMO=1: the demo's database in the current folder, the
    // demo items, and the public URL taken from the loopback BIND.
    for switch in ["--demo", "DEMO=1"] {
        let addr = free_addr();
        let bind = addr.to_string();
        let database =
            format!("sqlite://{}", folder.path().join(format!("{}.db", switch.trim_start_matches('-'))).display());
        let mut env = vec![("OKTA_ISSUER", idp.issuer()), ("BIND", bind.as_str()), ("DATABASE_URL", database.as_str())];
        if switch == "DEMO=1" {
            env.push(("DEMO", "1"));
        }
        let mut command = program(folder.path(), &env);
        if switch == "--demo" {
            command.arg("--demo");
        }
        let mut running = tokio::task::spawn_blocking(move || Running::start(command, addr)).await.unwrap();
        let items = alice_items(running.addr, &token).await;
        assert!(items.iter().any(|name| name.contains("Espresso machine")), "{switch}: {items:?}");
        let stderr = running.stop();
        assert!(stderr.contains("seeded demo items"), "{switch}: {stderr}");
    }

    // Configured without the switch: no demo items.
    let addr = free_addr();
    let bind = addr.to_string();
    let public = format!("http://{addr}");
    let database = format!("sqlite://{}", folder.path().join("real.db").display());
    let env = [
        ("OKTA_ISSUER", idp.issuer()),
        ("BIND", bind.as_str()),
        ("DATABASE_URL", database.as_str()),
        ("PUBLIC_URL", public.as_str()),
    ];
    let command = program(folder.path(), &env);
    let mut running = tokio::task::spawn_blocking(move || Running::start(command, addr)).await.unwrap();
    assert_eq!(alice_items(running.addr, &token).await, Vec::<String>::new());
    let stderr = running.stop();
    assert!(!stderr.contains("seeded demo items"), "{stderr}");
}

#[test]
fn a_non_loopback_bind_without_tls_in_front_starts_with_a_warning_naming_what_silences_it() {
    let folder = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", folder.path().join("items.db").display());
    for silenced in [false, true] {
        let port = free_addr().port();
        let bind = format!("0.0.0.0:{port}");
        let public = format!("http://127.0.0.1:{port}");
        let mut env = vec![
            ("DEMO", "1"),
            ("BIND", bind.as_str()),
            ("PUBLIC_URL", public.as_str()),
            ("DATABASE_URL", database.as_str()),
        ];
        if silenced {
            env.push(("TLS_IN_FRONT", "true"));
        }
        let mut running = Running::start(program(folder.path(), &env), SocketAddr::from(([127, 0, 0, 1], port)));
        let stderr = running.stop();
        let warned = stderr.lines().any(|line| line.contains("WARN") && line.contains("TLS_IN_FRONT=true"));
        assert_eq!(warned, !silenced, "TLS_IN_FRONT={silenced}:\n{stderr}");
        if !silenced {
            assert!(stderr.contains(&format!("BIND={bind}")), "{stderr}");
        }
    }
}
