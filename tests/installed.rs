//! The app as a person installs it: `scripts/install-test.sh` builds the
//! `.deb`, installs it with apt, then runs this test against
//! `/usr/bin/tessera-desktop` (`TESSERA_INSTALLED_APP`). The sign-in comes
//! back as a deep link the way the desktop delivers one: the browser hands
//! `com.example.tessera:/callback?…` to `xdg-open`, which finds the app
//! through the installed `.desktop` file's `x-scheme-handler`, starts a
//! second instance with the URL (`Exec=… %u`), and that instance forwards
//! it to the running app.
//!
//! Skipped when `TESSERA_INSTALLED_APP` is not set (a plain `cargo test`).

// Test code: a failed step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "ui/harness.rs"]
mod harness;

use harness::{Driver, INSTALLED_APP_VAR};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installed_app_signs_in_through_a_link_opened_by_xdg_open() {
    let Some(installed) = std::env::var_os(INSTALLED_APP_VAR) else {
        eprintln!("skipped: {INSTALLED_APP_VAR} is not set (scripts/install-test.sh sets it)");
        return;
    };
    if let Some(missing) = harness::missing_tools() {
        panic!("cannot drive the installed app: {missing}");
    }
    assert!(std::path::Path::new(&installed).is_file(), "{} is not installed", installed.to_string_lossy());
    let driver = Driver::start(&[
        ("REDIRECT_URL", "com.example.tessera:/callback".to_owned()),
        ("TEST_BROWSER_SCHEME_HANDLER", "xdg-open".to_owned()),
    ]);
    let app = driver.launch().await;
    app.wait_for_view("welcome").await;
    let badge = app.eval("document.getElementById('mode-badge').hidden").await;
    assert_eq!(badge, serde_json::Value::Bool(false), "the installed app starts in demo mode");
    driver.browser_signs_in("alice");
    app.click("sign-in").await;
    app.wait_for_items().await;
    let email = app.eval("document.getElementById('account-email').textContent").await;
    assert_eq!(email, "alice@example.com");
    let opened = driver.opened();
    let names: Vec<String> = opened[0].query_pairs().map(|(name, _)| name.into_owned()).collect();
    assert_eq!(names, ["client_id", "request_uri"], "a pushed request (RFC 9126): {}", opened[0]);
    // The sign-in came back through the link (xdg-open, a second instance).
    assert!(driver.log().contains("sign-in link received"), "{}", driver.log());
    assert!(!app.item_names().await.is_empty(), "alice's demo items are listed");
    app.quit().await;
}
