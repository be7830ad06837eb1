//! `tessera-test-browser`: a test aid, not for people, in a package of its
//! own that is never published, installed or bundled. The CLI's and the
//! desktop app's tests set `BROWSER` to it (they find it in the target
//! folder beside the program they test): it receives the authorization URL
//! as its one argument, signs the person named by `TEST_BROWSER_USER` /
//! `TEST_BROWSER_PASSWORD` in on dev-idp's pages (sign-in form, consent)
//! with `dev_idp::testing::Browser`, and GETs the redirect it ends at, which is
//! `tessera`'s loopback listener — exactly what a person's browser does.
//!
//! `TEST_BROWSER_USER_FILE=<file>`, when set, names a file holding the user
//! name instead (read at each sign-in, so a test can sign different people
//! in through one running app). An empty file means nobody is at the
//! keyboard: the page is left open and nothing comes back.
//!
//! A URL that is not an authorization request (the provider's logout page)
//! is fetched, following redirects, as a browser shows it.
//!
//! A redirect to a private-use scheme (`com.example.tessera:/callback?…`) is
//! handed to the program `TEST_BROWSER_SCHEME_HANDLER` names, with the URL
//! as its one argument — as a real browser hands it to the desktop's scheme
//! handler (`xdg-open`); without it, to `xdg-open`.
//!
//! With `TEST_BROWSER_CANCEL=1` (or `cancel` as the user) it presses Cancel
//! on the sign-in form instead.
//! With `TEST_BROWSER_CA_FILE=<file>` it also trusts that PEM certificate
//! (a test's own CA, for a provider served over TLS).
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
    let from_file = std::env::var("TEST_BROWSER_USER_FILE").ok().map(|path| std::fs::read_to_string(&path));
    let user = match from_file {
        Some(Ok(user)) => user.trim().to_owned(),
        Some(Err(e)) => {
            eprintln!("tessera-test-browser: cannot read TEST_BROWSER_USER_FILE: {e}");
            return ExitCode::FAILURE;
        }
        None => std::env::var("TEST_BROWSER_USER").unwrap_or_else(|_| "alice".to_owned()),
    };
    let password = std::env::var("TEST_BROWSER_PASSWORD").unwrap_or_else(|_| format!("{user}-demo-pw"));
    let cancel = std::env::var("TEST_BROWSER_CANCEL").is_ok_and(|v| v == "1") || user == "cancel";
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
    if user.is_empty() {
        eprintln!("tessera-test-browser: nobody signs in (empty TEST_BROWSER_USER_FILE)");
        return ExitCode::SUCCESS;
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
            eprintln!("tessera-test-browser: delivered the redirect (status {status})");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("tessera-test-browser: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn browse(url: &str, user: &str, password: &str, cancel: bool) -> Result<u16, String> {
    let ca = match std::env::var("TEST_BROWSER_CA_FILE") {
        Ok(path) => {
            let pem = std::fs::read(&path).map_err(|e| format!("cannot read TEST_BROWSER_CA_FILE {path}: {e}"))?;
            Some(dev_idp::testing::Certificate::from_pem(&pem).map_err(|e| format!("TEST_BROWSER_CA_FILE: {e}"))?)
        }
        Err(_) => None,
    };
    let browser = Browser::trusting(ca);
    let authorization = url::Url::parse(url).map_err(|e| e.to_string())?.path().ends_with("/authorize");
    if !authorization {
        let (status, _body) = browser.get_following(url).await.map_err(|e| e.to_string())?;
        return Ok(status.as_u16());
    }
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
    if !matches!(redirect.scheme(), "http" | "https") {
        let handler = std::env::var("TEST_BROWSER_SCHEME_HANDLER").unwrap_or_else(|_| "xdg-open".to_owned());
        // Without $BROWSER: xdg-open would hand a link nothing else claims
        // back to this browser.
        let status = std::process::Command::new(&handler)
            .arg(redirect.as_str())
            .env_remove("BROWSER")
            .status()
            .map_err(|e| format!("cannot start the scheme handler {handler}: {e}"))?;
        return if status.success() { Ok(0) } else { Err(format!("the scheme handler {handler} failed ({status})")) };
    }
    let (status, _body) = browser.get(redirect.as_str()).await.map_err(|e| e.to_string())?;
    Ok(status.as_u16())
}
