//! `tessera-test-browser`: a test aid, not for people. The CLI's tests set
//! `BROWSER` to it: it receives the authorization URL as its one argument,
//! signs the person named by `TEST_BROWSER_USER` / `TEST_BROWSER_PASSWORD` in
//! on dev-idp's pages (sign-in form, consent) with
//! `dev_idp::testing::Browser`, and GETs the redirect it ends at, which is
//! `tessera`'s loopback listener — exactly what a person's browser does.
//!
//! With `TEST_BROWSER_CANCEL=1` it presses Cancel on the sign-in form instead.
//! With `TEST_BROWSER_LOG=<file>` it appends each URL it opens to that file
//! (for tests of what tessera asks the provider for).
//! It reports what it did on stderr (tessera starts it detached).

use std::process::ExitCode;

use dev_idp::testing::{Browser, Page};

fn main() -> ExitCode {
    let Some(url) = std::env::args().nth(1) else {
        eprintln!("usage: tessera-test-browser <authorization URL>");
        return ExitCode::from(2);
    };
    let user = std::env::var("TEST_BROWSER_USER").unwrap_or_else(|_| "alice".to_owned());
    let password = std::env::var("TEST_BROWSER_PASSWORD").unwrap_or_else(|_| format!("{user}-demo-pw"));
    let cancel = std::env::var("TEST_BROWSER_CANCEL").is_ok_and(|v| v == "1");
    if let Ok(log) = std::env::var("TEST_BROWSER_LOG") {
        use std::io::Write as _;
        let logged = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut file| writeln!(file, "{url}"));
        if let Err(e) = logged {
            eprintln!("tessera-test-browser: cannot write {log}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("tessera-test-browser: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(browse(&url, &user, &password, cancel)) {
        Ok(status) => {
            eprintln!("tessera-test-browser: delivered the redirect (HTTP {status})");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("tessera-test-browser: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn browse(url: &str, user: &str, password: &str, cancel: bool) -> Result<u16, String> {
    let browser = Browser::new();
    let redirect = if cancel {
        match browser.open(url).await.map_err(|e| e.to_string())? {
            Page::SignIn(form) => match browser.submit(&form, &[], "cancel").await.map_err(|e| e.to_string())? {
                Page::Redirect(redirect) => redirect,
                other => return Err(format!("cancel did not redirect: {other:?}")),
            },
            other => return Err(format!("expected the sign-in form, got {other:?}")),
        }
    } else {
        browser.sign_in(url, user, password).await.map_err(|e| e.to_string())?
    };
    let (status, _body) = browser.get(redirect.as_str()).await.map_err(|e| e.to_string())?;
    Ok(status.as_u16())
}
