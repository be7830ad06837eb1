//! The desktop app against the floor no Tauri app goes below: an empty
//! Tauri window built the same way (`bench/empty-window`, same tauri, same
//! release profile, same window size). Run through `bench/desktop.sh`, which
//! builds the release binaries and provides the display, bus and keyring.
//!
//! - **Start-up**: from spawning the process to its first view on screen
//!   (the page reports its first painted frame through `ui_ready`, and the
//!   app logs the wall-clock time). Tessera starts as a newcomer sees it:
//!   demo mode, with dev-idp and the items API starting inside it.
//! - **Memory**: PSS of the app and its WebKit processes, Tessera signed in
//!   with 1,000 items in the list (every page loaded), the floor after its
//!   first paint; both launched through tauri-driver the same way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

// The UI tests' driver; the benchmark uses part of it.
#[allow(dead_code)]
#[path = "../tests/ui/harness.rs"]
mod harness;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use harness::Driver;

const RUNS: usize = 10;
const ITEMS: usize = 1_000;

fn floor_binary() -> PathBuf {
    harness::app_binary().with_file_name("tessera-empty-window")
}

fn unix_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()
}

/// Milliseconds from spawning `binary` to its first paint, and to its first
/// real view when `interactive` (Tessera's welcome screen, ready to sign in).
fn start_once(binary: &Path, home: &Path, interactive: bool) -> (u128, Option<u128>) {
    let started = unix_ms();
    let mut child = Command::new(binary)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("OKTA_ISSUER")
        .env_remove("OKTA_DOMAIN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let field = |line: &str, name: &str| {
        line.split_once(name).and_then(|(_, rest)| rest.split_whitespace().next()?.parse::<u128>().ok())
    };
    let (mut painted, mut ready) = (None, None);
    for line in stderr.lines() {
        let line = line.unwrap();
        painted = painted.or_else(|| field(&line, "first_paint_unix_ms="));
        ready = ready.or_else(|| field(&line, "interactive_unix_ms="));
        if painted.is_some() && (ready.is_some() || !interactive) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    // The next launch must not find this one still on the bus (Tessera's
    // single-instance name; the bus notices the exit a moment later).
    while single_instance_on_bus() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let painted = painted.expect("the app reported no first paint") - started;
    (painted, ready.map(|r| r - started))
}

fn single_instance_on_bus() -> bool {
    let output = Command::new("dbus-send")
        .args(["--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus"])
        .args(["org.freedesktop.DBus.NameHasOwner", "string:com.example.tessera.SingleInstance"])
        .output();
    output.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
}

fn summary(samples: &mut [u128]) -> (u128, u128, u128) {
    samples.sort_unstable();
    (samples[samples.len() / 2], samples[0], samples[samples.len() - 1])
}

/// PSS (KiB) of `pid` and all its descendants; each process's share is
/// printed on stderr.
fn pss_tree(pid: u32) -> u64 {
    let mut total = 0;
    let mut pending = vec![pid];
    while let Some(pid) = pending.pop() {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) {
            let pss = text
                .lines()
                .find_map(|l| l.strip_prefix("Pss:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            eprintln!("  {:>7.1} MiB  {}", pss as f64 / 1024.0, name.trim());
            total += pss;
        }
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        pending.extend(children.split_whitespace().filter_map(|c| c.parse::<u32>().ok()));
    }
    total
}

/// PSS of the empty window after its first paint, launched through
/// tauri-driver as Tessera is; `webkit` = "tessera" gives it Tessera's
/// WebKit settings (`EMPTY_WINDOW_WEBKIT`).
async fn floor_memory(webkit: &str) -> u64 {
    let driver = Driver::start(&[("EMPTY_WINDOW_WEBKIT", webkit.to_owned())]);
    let capabilities = serde_json::json!({ "tauri:options": { "application": floor_binary() } });
    let serde_json::Value::Object(capabilities) = capabilities else { unreachable!() };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = fantoccini::ClientBuilder::rustls()
        .unwrap()
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    eprintln!("empty window (WebKit settings: {}):", if webkit.is_empty() { "default" } else { webkit });
    let pss = pss_tree(pid_of(&floor_binary()));
    client.close().await.unwrap();
    pss
}

/// The pid of the running process whose executable is `binary`.
fn pid_of(binary: &Path) -> u32 {
    let binary = binary.canonicalize().unwrap();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        if std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == binary) {
            return pid;
        }
    }
    panic!("{} is not running", binary.display());
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    if let Some(missing) = harness::missing_tools() {
        eprintln!("cannot run: {missing} (use bench/desktop.sh)");
        std::process::exit(2);
    }
    assert!(floor_binary().exists(), "build it first: cargo build --release -p tessera-empty-window");
    let home = tempfile::tempdir().unwrap();

    // Start-up, alternating so that both see the same machine state.
    let (mut tessera, mut interactive, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    start_once(&harness::app_binary(), home.path(), true);
    start_once(&floor_binary(), home.path(), false);
    for _ in 0..RUNS {
        let (painted, ready) = start_once(&harness::app_binary(), home.path(), true);
        tessera.push(painted);
        interactive.push(ready.expect("Tessera reported no first view"));
        floor.push(start_once(&floor_binary(), home.path(), false).0);
    }
    let (t_med, t_min, t_max) = summary(&mut tessera);
    let (i_med, i_min, i_max) = summary(&mut interactive);
    let (f_med, f_min, f_max) = summary(&mut floor);

    // Memory: Tessera signed in with every one of 1,000 items listed.
    let stack = demo::DemoStack::start().await.unwrap();
    harness::seed_items(&stack, ITEMS).await;
    let env = vec![
        ("OKTA_ISSUER", stack.issuer().to_owned()),
        ("ITEMS_API_URL", stack.items_api().to_string()),
        ("OKTA_SCOPES", "openid profile email offline_access items:read items:write".to_owned()),
    ];
    let driver = Driver::start(&env);
    let app = driver.launch().await;
    app.wait_for_view("welcome").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    eprintln!("Tessera, welcome screen:");
    let welcome_pss = pss_tree(pid_of(&harness::app_binary()));
    driver.browser_signs_in("alice");
    app.click("sign-in").await;
    app.wait_for_items().await;
    while app.eval("!document.getElementById('load-more').hidden").await == serde_json::Value::Bool(true) {
        let before = app.eval("document.getElementById('items-list').dataset.count").await;
        // A script click: rows coming into view change the layout under a
        // WebDriver click that scrolls the button into view.
        app.eval("document.getElementById('load-more').click()").await;
        app.wait_until(&format!("document.getElementById('items-list').dataset.count !== {before}"), "the next page")
            .await;
    }
    let listed = app.eval("Number(document.getElementById('items-list').dataset.count)").await;
    assert!(listed.as_u64().unwrap_or(0) >= ITEMS as u64, "{listed} listed");
    tokio::time::sleep(Duration::from_secs(3)).await;
    eprintln!("Tessera, {ITEMS} items listed:");
    let tessera_pss = pss_tree(pid_of(&harness::app_binary()));
    app.quit().await;
    drop(driver);

    let floor_pss = floor_memory("").await;
    let tuned_floor_pss = floor_memory("tessera").await;

    let ratio = |a: u128, b: u128| a as f64 / b as f64;
    println!("| | Tessera (demo mode) | empty Tauri window | ratio | target |");
    println!("|---|---|---|---|---|");
    println!(
        "| start to first paint, median of {RUNS} (min–max) | {t_med} ms ({t_min}–{t_max}) | {f_med} ms ({f_min}–{f_max}) | {:.2}× | ≤ 1.2× |",
        ratio(t_med, f_med)
    );
    println!(
        "| start to the welcome screen (demo stack ready), median (min–max) | {i_med} ms ({i_min}–{i_max}) | – | {:.2}× the floor's first paint | – |",
        ratio(i_med, f_med)
    );
    println!(
        "| PSS, app + WebKit processes, signed out (welcome screen) | {:.0} MiB | {:.0} MiB | {:.2}× | – |",
        welcome_pss as f64 / 1024.0,
        floor_pss as f64 / 1024.0,
        welcome_pss as f64 / floor_pss as f64
    );
    println!(
        "| PSS, app + WebKit processes | {:.0} MiB (signed in, {ITEMS} items listed) | {:.0} MiB | {:.2}× | ≤ 1.1× |",
        tessera_pss as f64 / 1024.0,
        floor_pss as f64 / 1024.0,
        tessera_pss as f64 / floor_pss as f64
    );
    println!(
        "| the same, the empty window given Tessera's WebKit settings | {:.0} MiB | {:.0} MiB | {:.2}× | – |",
        tessera_pss as f64 / 1024.0,
        tuned_floor_pss as f64 / 1024.0,
        tessera_pss as f64 / tuned_floor_pss as f64
    );
}
