//! `tessera doctor`: prints the app's doctor report ([`app::doctor`]), as
//! lines for people or as JSON, and fails (exit 1) when a check failed.

use app::doctor::Report;
use app::{Settings, TokenStoreChoice};
use signin::flow::config::SigninConfig;
use url::Url;

use crate::commands::progress;
use crate::exit::{Exit, Failure};
use crate::output;

/// Checks `config` and `items_api` and prints the report.
///
/// # Errors
/// [`Exit::Error`] when a check failed; the report is printed first.
pub async fn run(config: &SigninConfig, items_api: &Url, json: bool) -> Result<(), Failure> {
    progress(&format!("Checking {} and the items API at {items_api} …", config.issuer.as_str()));
    // The doctor contacts the provider and the items API, never the token store.
    let settings = Settings {
        signin: config.clone(),
        items_api: items_api.clone(),
        token_store: TokenStoreChoice::default(),
        profile: None,
    };
    let report = app::doctor::doctor(&settings).await;
    if json {
        output::json(&serde_json::to_value(&report).map_err(std::io::Error::other)?)?;
    } else {
        output::line(&text(&report))?;
    }
    let failed = report.checks.iter().filter(|c| !c.ok).count();
    if failed == 0 {
        return Ok(());
    }
    let total = report.checks.len();
    Err(Failure::new(Exit::Error, format!("{failed} of {total} checks failed")))
}

/// The report for people: one line per check, then what to register.
#[must_use]
pub fn text(report: &Report) -> String {
    let rows: Vec<Vec<String>> = report
        .checks
        .iter()
        .map(|c| vec![if c.ok { "ok" } else { "FAIL" }.to_owned(), c.name.as_str().to_owned(), c.detail.clone()])
        .collect();
    let register = &report.register;
    let list = |uris: &[String], none: &str| {
        if uris.is_empty() {
            format!("    {none}")
        } else {
            uris.iter().map(|u| format!("    {u}")).collect::<Vec<_>>().join("\n")
        }
    };
    format!(
        "{}\n\nRegister in your Okta app (Admin Console: Applications > Applications):\n  \
         Application type: {}\n  Grant types: {}\n  Sign-in redirect URIs (each exactly, port included):\n{}\n  \
         Sign-out redirect URIs:\n{}",
        output::table(&rows),
        register.app_type,
        register.grant_types.join(", "),
        list(&register.redirect_uris, "none"),
        list(&register.post_logout_redirect_uris, "none (no POST_LOGOUT_REDIRECT_URL is set, so none is sent)"),
    )
}
