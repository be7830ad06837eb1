//! Every screen of the app in the light and the dark theme (issue 19,
//! items 1, 2, 5, 6, 7): each is checked with axe-core in the real webview
//! (no serious or critical violation) and, with `TESSERA_SCREENSHOTS` set,
//! saved as `<screen>-<theme>.png` (the README's pictures).
//!
//! WebKitGTK answers `prefers-color-scheme` from GTK's theme: the app is
//! started with `GTK_THEME=Adwaita` or `GTK_THEME=Adwaita:dark`.

use serde_json::Value;

use crate::harness::{App, Driver};

/// Checks the screen with axe-core, then takes its picture.
async fn screen(app: &App, name: &str, theme: &str) {
    app.axe(&format!("{name} ({theme})")).await;
    app.screenshot(&format!("{name}-{theme}")).await;
}

async fn every_screen_in(theme: &str) {
    let gtk_theme = if theme == "dark" { "Adwaita:dark" } else { "Adwaita" };
    let driver = Driver::start(&[("GTK_THEME", gtk_theme.to_owned()), ("TESSERA_CURRENCY", "EUR".to_owned())]);
    let app = driver.launch().await;
    app.wait_for_view("welcome").await;
    let dark = app.eval("matchMedia('(prefers-color-scheme: dark)').matches").await;
    assert_eq!(dark, Value::Bool(theme == "dark"), "GTK_THEME={gtk_theme} sets the page's colour scheme");

    // Welcome, in demo mode: what demo mode is.
    assert!(app.text("demo-text").await.contains("demo mode"));
    assert_eq!(app.eval("document.getElementById('welcome-text').hidden").await, Value::Bool(true));
    screen(&app, "welcome", theme).await;

    app.click("about-button").await;
    app.wait_until("document.getElementById('about-dialog').open", "the About dialog").await;
    screen(&app, "about", theme).await;
    app.click("about-close").await;

    // Waiting: nobody finishes in the browser. The link, the time left,
    // Copy and Open again.
    // From the keyboard alone: Tab reaches Sign in, its focus shows, Enter starts.
    app.eval("document.getElementById('about-button').focus()").await;
    for _ in 0..5 {
        if app.eval("document.activeElement?.id").await == "sign-in" {
            break;
        }
        app.press(&fantoccini::key::Key::Tab.to_string()).await;
    }
    assert_eq!(app.eval("document.activeElement?.id").await, Value::from("sign-in"), "Tab reaches Sign in");
    let outline = app.eval("getComputedStyle(document.activeElement).outlineStyle").await;
    assert_ne!(outline, Value::from("none"), "the focus is visible");
    app.press(&fantoccini::key::Key::Enter.to_string()).await;
    app.wait_for_view("waiting").await;
    app.wait_until("!document.getElementById('copy-link').disabled", "the link to copy").await;
    let left = app.text("waiting-time-left").await;
    assert!(left.ends_with("left to finish signing in"), "{left}");
    screen(&app, "waiting", theme).await;
    app.click("copy-link").await;
    app.wait_until("document.getElementById('copy-link-status').textContent !== ''", "Copy's answer").await;
    // Open again: the sign-in page again in the browser, from the latest
    // link of the same sign-in (a fresh pushed request: the first is spent).
    app.click("open-again").await;
    driver_waits_for_opened(&driver, 2).await;
    let opened = driver.opened();
    assert_ne!(opened[0], opened[1], "a fresh link, not the spent one: {opened:?}");
    assert_eq!(app.eval("document.body.dataset.view").await, Value::from("waiting"));
    app.click("cancel-sign-in").await;
    app.wait_for_view("welcome").await;
    assert_eq!(app.eval("document.getElementById('signin-failure').dataset.tone").await, Value::from("neutral"));

    // Cancel on the provider's page: cancelled (neutral, not the red error box), with one Try again.
    driver.browser_signs_in("cancel");
    app.click("retry-sign-in").await;
    app.wait_until("!document.getElementById('signin-failure').hidden", "the cancelled sign-in").await;
    assert_eq!(app.text("signin-error").await, "Sign-in was cancelled in the browser. Try again when you’re ready.");
    let buttons = "[document.getElementById('sign-in').hidden, document.getElementById('retry-sign-in').hidden]";
    assert_eq!(app.eval(buttons).await, serde_json::json!([true, false]), "one button: Try again");
    assert_eq!(app.eval("document.getElementById('signin-failure').dataset.tone").await, Value::from("neutral"));
    let border = "getComputedStyle(document.getElementById('signin-failure')).borderTopColor";
    let danger = "getComputedStyle(document.querySelector('.menu-item-danger') ?? document.body).color";
    assert_ne!(app.eval(border).await, app.eval(danger).await, "not the error colour");
    app.eval("document.querySelector('#signin-failure details').open = true").await;
    let details = app.eval("document.querySelector('#signin-failure .error-chain').textContent").await;
    assert!(details.as_str().unwrap().contains("access_denied"), "{details}");
    screen(&app, "sign-in-cancelled", theme).await;

    // Try again: alice signs in; the items, an item's details, prices in euros.
    driver.browser_signs_in("alice");
    app.click("retry-sign-in").await;
    app.wait_for_items().await;
    app.click_css("#items-list li.item button").await;
    app.wait_until("!document.getElementById('item-detail').hidden", "an item's details").await;
    let price = app.text("detail-price").await;
    assert!(price.contains('€'), "{price}");
    screen(&app, "items", theme).await;

    // The item form (Ctrl+N, the menu's shortcut), and an error at its top.
    app.press(&format!("{}n", fantoccini::key::Key::Control)).await;
    app.wait_until("!document.getElementById('item-form').hidden", "Ctrl+N to open the item form").await;
    screen(&app, "item-form", theme).await;
    app.fill("item-name", "Lamp").await;
    app.fill("item-price", "-3").await;
    app.click("item-save").await;
    app.wait_until("!document.getElementById('item-form-error').hidden", "the form's error").await;
    screen(&app, "item-form-error", theme).await;
    // Saved: a toast says so. Deleted: a toast with Undo, which creates it again.
    app.fill("item-price", "3").await;
    app.click("item-save").await;
    app.wait_until("document.getElementById('toast-text').textContent === '“Lamp” created'", "the toast").await;
    app.click("delete-item").await;
    app.click("confirm-delete").await;
    app.wait_until("document.getElementById('toast-text').textContent === '“Lamp” deleted'", "the toast").await;
    assert_eq!(app.text("toast-action").await, "Undo");
    screen(&app, "item-deleted", theme).await;
    app.click("toast-action").await;
    app.wait_until("document.getElementById('toast-text').textContent === '“Lamp” restored'", "Undo").await;
    app.wait_until("document.getElementById('detail-name').textContent === 'Lamp'", "the item back").await;
    let price = app.text("detail-price").await;
    assert!(price.contains('€') && price.contains('3'), "{price}");
    // Ctrl+F: the search box.
    app.press(&format!("{}f", fantoccini::key::Key::Control)).await;
    app.wait_until("document.activeElement?.id === 'items-search'", "Ctrl+F to focus the search").await;

    app.eval("document.getElementById('session-panel').open = true").await;
    app.eval("document.getElementById('session-binding').scrollIntoView({ block: 'end' })").await;
    screen(&app, "session", theme).await;
    app.eval("document.getElementById('session-panel').open = false").await;
    app.eval("window.scrollTo(0, 0)").await;

    app.click("account-button").await;
    app.wait_until("!document.getElementById('account-menu').hidden", "the account menu").await;
    screen(&app, "account-menu", theme).await;
    app.press(&fantoccini::key::Key::Escape.to_string()).await;
    app.wait_until("document.getElementById('account-menu').hidden", "Escape to close the menu").await;

    // Settings for people: the domain and the client ID, the rest folded.
    // Through the native menu's shortcut (GTK's accelerator, File → Settings).
    app.press_on_window("ctrl+comma");
    app.wait_for_view("settings").await;
    let first =
        app.eval("[...document.querySelectorAll('#settings-form label')].slice(0, 2).map(l => l.textContent.trim())");
    assert_eq!(first.await, serde_json::json!(["Your Okta domain", "Client ID"]));
    assert_eq!(app.eval("document.getElementById('settings-advanced').open").await, Value::Bool(false));
    screen(&app, "settings", theme).await;
    app.eval("document.getElementById('settings-advanced').open = true").await;
    screen(&app, "settings-advanced", theme).await;
    app.eval("document.getElementById('settings-advanced').open = false").await;
    app.click("settings-check").await;
    app.wait_until("!document.getElementById('settings-check-report').hidden", "the check's report").await;
    app.eval("document.getElementById('settings-check-report').scrollIntoView({ block: 'end' })").await;
    screen(&app, "settings-check", theme).await;
    // A domain that is no provider: a sentence at the top, the chain under Details.
    app.fill("settings-issuer", "nobody.invalid").await;
    app.fill("settings-client-id", "0oa-none").await;
    app.click("settings-save").await;
    app.wait_until("!document.getElementById('settings-error').hidden", "the settings error").await;
    let summary = app.text("settings-error-text").await;
    assert!(summary.starts_with("Tessera couldn’t find an identity provider at this address."), "{summary}");
    let top = app.eval("document.getElementById('settings-error').getBoundingClientRect().top").await;
    assert!(top.as_f64().unwrap() < 200.0, "the error is at the top of the view: {top}");
    app.eval("document.querySelector('#settings-error details').open = true").await;
    app.eval("window.scrollTo(0, 0)").await;
    screen(&app, "settings-error", theme).await;
    app.click("settings-close").await;
    app.wait_for_view("items").await;
    app.quit().await;
}

/// Waits until the browser was sent to `count` pages.
async fn driver_waits_for_opened(driver: &Driver, count: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while driver.opened().len() < count {
        assert!(std::time::Instant::now() < deadline, "{} pages opened", driver.opened().len());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_screen_in_the_light_and_the_dark_theme_passes_axe() {
    crate::require_ui!();
    let _serial = crate::SERIAL.lock().await;
    for theme in ["light", "dark"] {
        every_screen_in(theme).await;
    }
}
