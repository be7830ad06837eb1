//! End-to-end tests of the desktop app: the real binary under Xvfb, driven
//! through tauri-driver and WebKitWebDriver, signing in at dev-idp with a
//! test browser that the app opens through its opener (`$BROWSER`).
//!
//! Needs a display (`xvfb-run`), `tauri-driver`, `WebKitWebDriver` and GNOME
//! Keyring; `./x test` installs them and sets `TESSERA_REQUIRE_UI=1`, so a
//! missing tool fails the run instead of skipping. The scenarios run one
//! after another (each app and its WebKit processes need most of a core).

// Test code: a failed step should stop the test with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;
mod screens;

use demo::DemoStack;
use harness::{App, Driver};
use serde_json::Value;

/// One scenario at a time: two WebKit instances at once slow each other
/// down past the timeouts on a 2-core machine.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The environment of an app configured for `stack` (not the demo).
fn configured(stack: &DemoStack) -> Vec<(&'static str, String)> {
    vec![
        ("OKTA_ISSUER", stack.issuer().to_owned()),
        ("OKTA_CLIENT_ID", "tessera-desktop".to_owned()),
        ("ITEMS_API_URL", stack.items_api().to_string()),
        ("OKTA_SCOPES", "openid profile email offline_access items:read items:write".to_owned()),
    ]
}

async fn account_email(app: &App) -> String {
    app.eval("document.getElementById('account-email').textContent").await.as_str().unwrap_or_default().to_owned()
}

/// The id of the account entry whose text mentions `who`.
async fn account_id(app: &App, who: &str) -> String {
    let script = format!(
        "[...document.querySelectorAll('.account-entry')].find(e => e.textContent.toLowerCase().includes('{who}'))?.dataset.accountId"
    );
    app.eval(&script).await.as_str().unwrap_or_else(|| panic!("no account entry for {who}")).to_owned()
}

/// Waits until the session panel says the active account's tokens are
/// bound to a DPoP key.
async fn assert_bound(app: &App) {
    app.wait_until(
        "document.getElementById('session-binding').textContent.startsWith('bound to this device (DPoP key ')",
        "the session panel to show DPoP-bound tokens",
    )
    .await;
}

/// The id of the listed item named `name`.
async fn item_id(app: &App, name: &str) -> String {
    let script = format!(
        "[...document.querySelectorAll('#items-list li.item')].find(li => li.querySelector('.item-name').textContent === '{name}')?.dataset.itemId"
    );
    app.eval(&script).await.as_str().unwrap_or_else(|| panic!("{name} is not listed")).to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_mode_sign_in_create_and_edit_items_and_cancel_a_sign_in() {
    require_ui!();
    let _serial = SERIAL.lock().await;
    let driver = Driver::start(&[]);
    let app = driver.launch().await;
    app.wait_for_view("welcome").await;
    let badge = app
        .eval("[document.getElementById('mode-badge').hidden, document.getElementById('mode-badge').textContent]")
        .await;
    assert_eq!(badge, serde_json::json!([false, "Demo — local identity provider"]), "the demo is labelled as such");

    // About: the version, the demo provider, where the logs are.
    app.click("about-button").await;
    app.wait_until("document.getElementById('about-dialog').open", "the About dialog").await;
    let about = app.text("about-facts").await;
    assert!(about.contains(env!("CARGO_PKG_VERSION")) && about.contains("the demo provider inside the app"), "{about}");
    assert!(about.contains(&format!("Tauri {}", tauri::VERSION)) && about.contains("logs"), "{about}");
    app.click("about-close").await;
    app.wait_until("!document.getElementById('about-dialog').open", "About to close").await;

    // Nobody finishes in the browser: the person cancels in the app.
    app.click("sign-in").await;
    app.wait_for_view("waiting").await;
    assert!(app.text("waiting").await.contains("Waiting for you to finish signing in in your browser"));
    app.click("cancel-sign-in").await;
    app.wait_for_view("welcome").await;
    assert_eq!(app.eval("document.getElementById('account-button').hidden").await, Value::Bool(true));
    // Cancelled is the person's choice: said calmly (not the red error box), one Try again.
    assert_eq!(app.text("signin-error").await, "Sign-in was cancelled. Try again when you’re ready.");
    assert_eq!(app.eval("document.getElementById('signin-failure').dataset.tone").await, Value::from("neutral"));
    let buttons = "[document.getElementById('sign-in').hidden, document.getElementById('retry-sign-in').hidden]";
    assert_eq!(app.eval(buttons).await, serde_json::json!([true, false]), "one button: Try again");

    // alice signs in through the browser.
    driver.browser_signs_in("alice");
    app.click("retry-sign-in").await;
    app.wait_for_items().await;
    let names = app.item_names().await;
    assert!(names.contains(&"Espresso machine".to_owned()), "alice's demo items: {names:?}");
    assert!(!names.contains(&"Camping stove".to_owned()), "not bob's: {names:?}");
    let opened = driver.opened();
    assert_eq!(opened.len(), 2, "the cancelled sign-in and alice's: {opened:?}");
    // Requests are pushed to the provider (RFC 9126): the browser gets only
    // the client and a one-time request_uri (what they hold is checked
    // against dev-idp in crates/signin/tests).
    assert!(opened.iter().all(pushed), "{opened:?}");
    // The demo binds alice's tokens to a key of the app (DPoP): the items
    // above were fetched with proofs, and the session panel says so.
    assert_bound(&app).await;

    // A new item.
    app.click("new-item").await;
    app.fill("item-name", "Desk lamp").await;
    app.fill("item-description", "Warm light, dimmable.").await;
    app.fill("item-price", "24.50").await;
    app.fill("item-tags", "home, light").await;
    app.click("item-save").await;
    app.wait_until(
        "[...document.querySelectorAll('#items-list .item-name')].some(e => e.textContent === 'Desk lamp')",
        "the new item in the list",
    )
    .await;

    // A bad price is refused and what was typed stays.
    let lamp = item_id(&app, "Desk lamp").await;
    app.click_css(&format!("li.item[data-item-id='{lamp}'] button")).await;
    app.wait_until("document.getElementById('detail-name').textContent === 'Desk lamp'", "the detail").await;
    app.click("edit-item").await;
    app.fill("item-price", "12.345").await;
    app.click("item-save").await;
    app.wait_until("!document.getElementById('item-form-error').hidden", "the price error").await;
    assert_eq!(app.eval("document.getElementById('item-name').value").await, Value::from("Desk lamp"));
    // Corrected, it is saved.
    app.fill("item-price", "19.99").await;
    app.click("item-save").await;
    app.wait_until("document.getElementById('detail-price').textContent.includes('19.99')", "the new price").await;

    // The session panel, opened: how the tokens are held.
    app.eval("document.getElementById('session-panel').open = true").await;
    assert!(app.text("session-binding").await.starts_with("bound to this device (DPoP key "));
    app.eval("document.getElementById('session-binding').scrollIntoView({ block: 'end' })").await;
    app.eval("document.getElementById('session-panel').open = false").await;

    // Settings, for a provider of one's own: DPoP is offered, off until chosen.
    app.click("settings-button").await;
    app.wait_for_view("settings").await;
    assert_eq!(app.eval("document.getElementById('settings-dpop').checked").await, Value::Bool(false));
    app.eval("document.getElementById('settings-dpop').scrollIntoView({ block: 'center' })").await;
    // The loopback ports: none written, the default list as the placeholder.
    let ports = "[document.getElementById('settings-loopback-ports').value, \
                 document.getElementById('settings-loopback-ports').placeholder].join('|')";
    assert_eq!(app.eval(ports).await, Value::from("|8765 8766 8767"));
    // Check: tessera doctor's lines for the settings in use (the demo's), every one passed.
    app.click("settings-check").await;
    app.wait_until("!document.getElementById('settings-check-report').hidden", "the settings check's report").await;
    let summary = app.text("settings-check-summary").await;
    assert!(summary.starts_with("Every check passed"), "{summary}");
    let failed = app.eval("document.querySelectorAll('#settings-check-list .check-failed').length").await;
    assert_eq!(failed, Value::from(0));
    app.eval("document.getElementById('settings-check-report').scrollIntoView({ block: 'end' })").await;
    app.click("settings-close").await;
    app.wait_for_view("items").await;
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_add_switch_restart_and_sign_out_with_the_keyring() {
    require_ui!();
    let _serial = SERIAL.lock().await;
    let stack = harness::within("the demo stack starting", DemoStack::start()).await.unwrap();
    // With DPoP: each account's key is kept in the keyring beside its
    // refresh token, and after the restart below the app refreshes and
    // calls the items API with it.
    let mut env = configured(&stack);
    env.push(("SIGNIN_DPOP", "true".to_owned()));
    let driver = Driver::start(&env);
    let app = driver.launch().await;
    app.wait_for_view("welcome").await;
    assert_eq!(app.eval("document.getElementById('mode-badge').hidden").await, Value::Bool(true));

    driver.browser_signs_in("alice");
    app.click("sign-in").await;
    app.wait_for_items().await;
    assert_eq!(account_email(&app).await, "alice@example.com");

    // Add bob: the provider must ask again although alice's session there is alive.
    driver.browser_signs_in("bob");
    app.click("account-button").await;
    app.click("add-account").await;
    app.wait_until("document.getElementById('account-email').textContent === 'bob@example.com'", "bob").await;
    app.wait_for_items().await;
    assert!(app.item_names().await.contains(&"Camping stove".to_owned()));
    let opened = driver.opened();
    assert_eq!(opened.len(), 2);
    // The prompt travels in the pushed request (crates/signin/tests/session.rs
    // checks it arrives as `login consent`).
    assert!(pushed(&opened[1]), "{}", opened[1]);

    // Back to alice without the browser.
    app.click("account-button").await;
    let alice = account_id(&app, "alice").await;
    app.click_css(&format!(".account-entry[data-account-id='{alice}']")).await;
    app.wait_until("document.getElementById('account-email').textContent === 'alice@example.com'", "alice").await;
    app.wait_until(
        "[...document.querySelectorAll('#items-list .item-name')].some(e => e.textContent === 'Espresso machine')",
        "alice's items",
    )
    .await;
    assert_eq!(driver.opened().len(), 2, "switching opened no browser");

    // Restart: the session comes back from the keyring, no browser; the
    // window comes back at the size it had (tauri-plugin-window-state).
    harness::within("resizing the window", app.client.set_window_size(900, 640)).await.unwrap();
    let size = harness::within("the window's size", app.client.get_window_size()).await.unwrap();
    assert_eq!(size, (900, 640));
    app.quit_from_the_menu().await;
    let app = driver.launch().await;
    let size = harness::within("the window's size", app.client.get_window_size()).await.unwrap();
    assert_eq!(size, (900, 640), "the window's size was remembered");
    app.wait_for_items().await;
    assert_eq!(account_email(&app).await, "alice@example.com");
    assert_eq!(driver.opened().len(), 2, "the restart opened no browser");
    assert_bound(&app).await;

    // Sign out: the provider's logout page opens, alice is gone.
    app.click("account-button").await;
    app.click("sign-out").await;
    app.wait_until("document.getElementById('account-email').textContent !== 'alice@example.com'", "sign-out").await;
    let logout = driver.opened().last().cloned().unwrap();
    assert!(logout.path().ends_with("/logout"), "{logout}");
    assert!(logout.query_pairs().any(|(k, v)| k == "client_id" && v == "tessera-desktop"));
    let entries = app.eval("[...document.querySelectorAll('.account-entry')].map(e => e.textContent)").await;
    assert!(!entries.to_string().to_lowercase().contains("alice"), "{entries}");
    app.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_link_from_a_second_launch_completes_the_sign_in() {
    require_ui!();
    let _serial = SERIAL.lock().await;
    let stack = harness::within("the demo stack starting", DemoStack::start()).await.unwrap();
    let mut env = configured(&stack);
    env.push(("REDIRECT_URL", "com.example.tessera:/callback".to_owned()));
    let driver = Driver::start(&env);
    let app = driver.launch().await;
    app.wait_for_view("welcome").await;
    driver.browser_signs_in("alice");
    app.click("sign-in").await;
    // The browser ends at com.example.tessera:/callback?…, hands it to the
    // scheme handler (a second launch of the app), which forwards it to
    // this one over D-Bus and exits.
    app.wait_for_items().await;
    assert_eq!(account_email(&app).await, "alice@example.com");
    let opened = driver.opened();
    assert!(pushed(&opened[0]), "{}", opened[0]);
    // The sign-in came back through the link, not a loopback listener.
    assert!(driver.log().contains("sign-in link received"), "{}", driver.log());
    app.quit().await;
    // The log file has it too, and no code or token from the link.
    let logged = driver.log_files();
    assert!(logged.contains("sign-in link received"), "{logged}");
    assert!(!logged.contains("eyJ"), "{logged}");
    assert!(logged.match_indices("code=").all(|(at, _)| logged[at + 5..].starts_with("[redacted]")), "{logged}");
}

/// Whether the browser was sent to a pushed authorization request (RFC
/// 9126): `client_id` and `request_uri`, nothing else.
fn pushed(url: &url::Url) -> bool {
    let names: Vec<String> = url.query_pairs().map(|(name, _)| name.into_owned()).collect();
    names == ["client_id", "request_uri"]
}

/// The `aria-posinset` of each row in the DOM, in order.
async fn rows_in_dom(app: &App) -> Vec<u64> {
    let rows = app.eval(
        "[...document.querySelectorAll('#items-list li.item')].map(li => Number(li.getAttribute('aria-posinset')))",
    );
    serde_json::from_value(rows.await).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_list_keeps_only_the_rows_near_the_screen() {
    require_ui!();
    let _serial = SERIAL.lock().await;
    const COUNT: u64 = 160;
    let stack = harness::within("the demo stack starting", DemoStack::start()).await.unwrap();
    harness::seed_items(&stack, COUNT as usize).await;
    let driver = Driver::start(&configured(&stack));
    let app = driver.launch().await;
    app.wait_for_view("welcome").await;
    driver.browser_signs_in("alice");
    app.click("sign-in").await;
    app.wait_for_items().await;
    while app.eval("!document.getElementById('load-more').hidden").await == Value::Bool(true) {
        let before = app.eval("document.getElementById('items-list').dataset.count").await;
        app.click("load-more").await;
        app.wait_until(
            &format!("document.getElementById('items-list').dataset.count !== '{}'", before.as_str().unwrap()),
            "the next page",
        )
        .await;
    }
    // Alice's items: the ones seeded and the demo's own few.
    let total = app.eval("Number(document.getElementById('items-list').dataset.count)").await.as_u64().unwrap();
    assert!((COUNT..COUNT + 10).contains(&total), "{total} items listed");

    // At the top: the first rows and a margin, in order, not all of them.
    // (Clicking "Load more" scrolled the page down to it.)
    app.eval("window.scrollTo(0, 0)").await;
    app.wait_until(
        "document.querySelector('#items-list li.item:first-child')?.getAttribute('aria-posinset') === '1'",
        "the first row",
    )
    .await;
    let rows = rows_in_dom(&app).await;
    assert_eq!(rows.first(), Some(&1), "{rows:?}");
    assert!(rows.windows(2).all(|w| w[1] == w[0] + 1), "rows out of order: {rows:?}");
    assert!(rows.len() < 60, "{} rows in the DOM for {total} items", rows.len());
    // The page is as tall as the whole list: every row can be scrolled to.
    let row_height = app.eval("document.querySelector('#items-list li.item').getBoundingClientRect().height").await;
    let list_height = app.eval("document.getElementById('items-list').getBoundingClientRect().height").await;
    let (row_height, list_height) = (row_height.as_f64().unwrap(), list_height.as_f64().unwrap());
    assert!((list_height - row_height * total as f64).abs() < 2.0, "list {list_height} px, rows {row_height} px");

    // Scrolled to the end: the last rows, where they belong on the page.
    app.eval("window.scrollTo(0, document.documentElement.scrollHeight)").await;
    app.wait_until(
        &format!("document.querySelector('#items-list li.item[aria-posinset=\"{total}\"]')"),
        "the last row",
    )
    .await;
    let rows = rows_in_dom(&app).await;
    assert!(!rows.contains(&1) && rows.len() < 60, "{rows:?}");
    let last_bottom = app
        .eval("document.querySelector('#items-list li.item:last-child').getBoundingClientRect().bottom - document.getElementById('items-list').getBoundingClientRect().bottom")
        .await;
    assert!(last_bottom.as_f64().unwrap().abs() < 2.0, "the last row is {last_bottom} px off the list's end");

    // A row rendered after scrolling is live: clicked, its item is shown.
    let name = app.eval("document.querySelector('#items-list li.item:last-child .item-name').textContent").await;
    app.click_css("#items-list li.item:last-child button").await;
    app.wait_until(&format!("document.getElementById('detail-name').textContent === {name}"), "the item's details")
        .await;

    // The keyboard reaches rows far off screen: Home focuses the first row.
    app.eval("document.querySelector('#items-list li.item:last-child button').focus()").await;
    app.press(&fantoccini::key::Key::Home.to_string()).await;
    app.wait_until(
        "document.activeElement?.closest('li')?.getAttribute('aria-posinset') === '1'",
        "the first row focused",
    )
    .await;
    let top = app.eval("document.activeElement.getBoundingClientRect().top").await.as_f64().unwrap();
    let inner = app.eval("window.innerHeight").await.as_f64().unwrap();
    assert!((0.0..inner).contains(&top), "the focused first row is off screen at {top}");
    app.press(&fantoccini::key::Key::Down.to_string()).await;
    app.wait_until(
        "document.activeElement?.closest('li')?.getAttribute('aria-posinset') === '2'",
        "the second row focused",
    )
    .await;
    app.quit().await;
}
