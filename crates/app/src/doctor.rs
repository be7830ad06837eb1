//! `tessera doctor` (and the desktop's *Check*): the settings checked
//! against the provider's discovery and the items API, one line per check in
//! plain words, and what to register in the Okta app for them (issue 16,
//! item 3). Read-only: nothing is signed in, saved or changed.
//!
//! The checks, in order ([`CheckName`]): the issuer reachable and its
//! discovery document valid (OIDC Discovery 1.0 §4); a custom or the org
//! authorization server (Okta's issuer `https://{domain}/oauth2/{id}` or the
//! origin alone) and what that means for the items API; the grant types
//! offered against those Tessera uses; the configured scopes in
//! `scopes_supported`; PAR (RFC 9126) and DPoP (RFC 9449) offered or not;
//! the clock against the provider's `Date` header (RFC 9110 §6.6.1); the
//! items API's `/healthz`; and whether the items API asks for bearer tokens
//! (it does not publish which issuer it accepts).
//!
//! When discovery fails, the checks that need its document are left out: the
//! failed line says so.

use std::time::{Duration, SystemTime};

use serde::Serialize;
use signin::flow::config::{DEFAULT_LOOPBACK_PORTS, LoopbackPorts, RedirectKind, SigninConfig};
use signin::flow::provider::{self, HttpClient, HttpError, Provider};
use url::Url;

use crate::settings::Settings;

/// How far the provider's clock may be from this computer's before the
/// clock check fails.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(60);

/// The grant types Tessera uses (RFC 6749 §4.1 and §6, RFC 8628 §3.4).
pub const GRANT_TYPES: [&str; 3] =
    ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"];

/// What a check is about; `name` in the JSON report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    /// The issuer answers with a valid discovery document.
    Discovery,
    /// A custom or the org authorization server.
    AuthorizationServer,
    /// The grant types Tessera uses are offered.
    GrantTypes,
    /// The configured scopes are in `scopes_supported`.
    Scopes,
    /// Pushed authorization requests offered or not.
    Par,
    /// DPoP offered or not, and whether it is configured.
    Dpop,
    /// This computer's clock against the provider's.
    Clock,
    /// The items API answers `/healthz`.
    ItemsApi,
    /// The items API asks for a bearer token.
    ItemsApiAuth,
    /// The scopes the items API asks for (its `/openapi.json`) are among
    /// the configured ones.
    ItemsApiScopes,
}

impl CheckName {
    /// Every check, in the report's order.
    pub const ALL: [Self; 10] = [
        Self::Discovery,
        Self::AuthorizationServer,
        Self::GrantTypes,
        Self::Scopes,
        Self::Par,
        Self::Dpop,
        Self::Clock,
        Self::ItemsApi,
        Self::ItemsApiAuth,
        Self::ItemsApiScopes,
    ];

    /// The name as in the JSON report.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Discovery => "discovery",
            Self::AuthorizationServer => "authorization_server",
            Self::GrantTypes => "grant_types",
            Self::Scopes => "scopes",
            Self::Par => "par",
            Self::Dpop => "dpop",
            Self::Clock => "clock",
            Self::ItemsApi => "items_api",
            Self::ItemsApiAuth => "items_api_auth",
            Self::ItemsApiScopes => "items_api_scopes",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: CheckName,
    /// Whether it passed.
    pub ok: bool,
    /// What was found, in plain words (and what to do when it failed).
    pub detail: String,
}

impl Check {
    fn pass(name: CheckName, detail: impl Into<String>) -> Self {
        Self { name, ok: true, detail: detail.into() }
    }

    fn fail(name: CheckName, detail: impl Into<String>) -> Self {
        Self { name, ok: false, detail: detail.into() }
    }
}

/// What to register in the Okta app for these settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Register {
    /// The application type: a native app (a public client, no secret, PKCE).
    pub app_type: &'static str,
    /// Every exact sign-in redirect URI (port included: Okta compares them
    /// exactly).
    pub redirect_uris: Vec<String>,
    /// The sign-out redirect URIs (`post_logout_redirect_uri`).
    pub post_logout_redirect_uris: Vec<String>,
    /// The grant types to allow.
    pub grant_types: Vec<String>,
}

/// The doctor's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The checks, in order.
    pub checks: Vec<Check>,
    /// What to register in the Okta app.
    pub register: Register,
}

impl Report {
    /// Whether every check passed.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

/// Checks `settings` against the provider and the items API (see the
/// module's documentation). Each request is bounded by the settings' HTTP
/// time limit. Never fails: what goes wrong is a failed line.
pub async fn doctor(settings: &Settings) -> Report {
    let config = &settings.signin;
    let mut checks = Vec::new();
    match provider::http_client_with(config.http_timeout, &config.net) {
        Ok(http) => {
            checks.extend(provider_checks(config, &http).await);
            checks.extend(items_api_checks(&settings.items_api, &settings.signin.scopes, &http).await);
        }
        Err(error) => checks.push(Check::fail(CheckName::Discovery, with_causes(&error))),
    }
    Report { checks, register: register(config) }
}

async fn provider_checks(config: &SigninConfig, http: &HttpClient) -> Vec<Check> {
    let issuer = config.issuer.as_str();
    let provider = match Provider::discover_uncached(&config.issuer, http).await {
        Ok(provider) => provider,
        Err(error) => {
            return vec![Check::fail(
                CheckName::Discovery,
                format!(
                    "{issuer} gave no usable discovery document: {}; the provider's other checks were not run",
                    with_causes(&error)
                ),
            )];
        }
    };
    let mut checks =
        vec![Check::pass(CheckName::Discovery, format!("{issuer} answers with a valid discovery document"))];
    checks.push(authorization_server(&config.issuer));
    checks.push(grant_types(&provider));
    checks.push(scopes(config, &provider));
    checks.push(par(&provider));
    checks.push(dpop(config, &provider));
    checks.push(clock(&provider, http).await);
    checks
}

/// Okta's issuers: `https://{domain}/oauth2/{id}` for a custom authorization
/// server (`default` included), the origin alone for the org server.
fn authorization_server(issuer: &openidconnect::IssuerUrl) -> Check {
    let name = CheckName::AuthorizationServer;
    let url = issuer.url();
    let path = url.path().trim_end_matches('/');
    let origin = url.origin().ascii_serialization();
    if path.is_empty() {
        return Check::fail(
            name,
            format!(
                "the org authorization server (the issuer is the origin alone): its access tokens are meant for \
                 Okta's own APIs and the items API cannot accept them; use a custom authorization server, such as \
                 {origin}/oauth2/default (Okta: Security > API > Authorization Servers; needs API Access Management)"
            ),
        );
    }
    match path.strip_prefix("/oauth2/").filter(|id| !id.is_empty() && !id.contains('/')) {
        Some(id) => Check::pass(
            name,
            format!(
                "a custom authorization server ({id}): its access tokens can be meant for the items API (their \
                 audience and scopes are set on that server)"
            ),
        ),
        None => Check::pass(
            name,
            format!(
                "the issuer's path {path} is not an Okta authorization server's; assumed to issue access tokens for the items API"
            ),
        ),
    }
}

fn grant_types(provider: &Provider) -> Check {
    let name = CheckName::GrantTypes;
    // OIDC Discovery 1.0 §3: when absent, ["authorization_code", "implicit"].
    let offered: Vec<String> = match provider.metadata().grant_types_supported() {
        Some(types) => types.iter().map(|t| AsRef::<str>::as_ref(t).to_owned()).collect(),
        None => vec!["authorization_code".to_owned(), "implicit".to_owned()],
    };
    let has = |grant: &str| offered.iter().any(|o| o == grant);
    let [code, refresh, device] = GRANT_TYPES;
    let missing: Vec<&str> = [code, refresh].into_iter().filter(|g| !has(g)).collect();
    let device_text =
        if has(device) && provider.metadata().additional_metadata().device_authorization_endpoint.is_some() {
            "the device grant too (tessera login --device)"
        } else {
            "not the device grant (tessera login --device will not work)"
        };
    if missing.is_empty() {
        Check::pass(
            name,
            format!(
                "authorization_code (to sign in) and refresh_token (to stay signed in) are offered, and {device_text}"
            ),
        )
    } else {
        Check::fail(
            name,
            format!(
                "not offered: {} (Tessera signs in with authorization_code and stays signed in with \
                 refresh_token); offered: {}",
                missing.join(", "),
                offered.join(", ")
            ),
        )
    }
}

fn scopes(config: &SigninConfig, provider: &Provider) -> Check {
    let name = CheckName::Scopes;
    let Some(supported) = provider.metadata().scopes_supported() else {
        return Check::pass(
            name,
            format!("the provider does not list its scopes; asked for: {}", config.scopes.join(" ")),
        );
    };
    let missing: Vec<&str> = config
        .scopes
        .iter()
        .filter(|s| !supported.iter().any(|o| o.as_str() == s.as_str()))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        Check::pass(name, format!("every scope asked for is offered: {}", config.scopes.join(" ")))
    } else {
        Check::fail(
            name,
            format!(
                "not offered by the provider: {} (add them to the authorization server: Security > API > \
                 Authorization Servers > Scopes, or remove them from OKTA_SCOPES / scopes)",
                missing.join(" ")
            ),
        )
    }
}

fn par(provider: &Provider) -> Check {
    let name = CheckName::Par;
    match provider.par_endpoint() {
        Some(_) => Check::pass(
            name,
            "pushed authorization requests (PAR) are offered: the request is posted to the provider first and the \
             browser opens only a one-time link",
        ),
        None => Check::pass(
            name,
            "pushed authorization requests (PAR) are not offered: the request goes through the browser",
        ),
    }
}

fn dpop(config: &SigninConfig, provider: &Provider) -> Check {
    let name = CheckName::Dpop;
    match (provider.offers_dpop(), config.dpop) {
        (true, true) => Check::pass(name, "DPoP is offered and configured: tokens are bound to this device"),
        (true, false) => Check::pass(
            name,
            "DPoP is offered, not configured: tokens are bearer tokens (SIGNIN_DPOP=true or dpop = true binds them \
             to this device; in Okta, also require DPoP for the app)",
        ),
        (false, true) => Check::fail(
            name,
            "DPoP is configured but the provider does not offer it (ES256): tokens will be bearer tokens",
        ),
        (false, false) => Check::pass(name, "DPoP is not offered and not configured: tokens are bearer tokens"),
    }
}

async fn clock(provider: &Provider, http: &HttpClient) -> Check {
    let name = CheckName::Clock;
    let mut url = provider.issuer().url().clone();
    url.set_path(&format!("{}/.well-known/openid-configuration", url.path().trim_end_matches('/')));
    let before = SystemTime::now();
    let answer = http.send(http.reqwest().get(url)).await;
    let after = SystemTime::now();
    let date = match answer {
        Ok((response, _)) => response.headers().get("date").and_then(|v| v.to_str().ok()).map(str::to_owned),
        Err(error) => return Check::fail(name, format!("the provider did not answer again: {}", with_causes(&error))),
    };
    // The middle of the exchange is when the provider wrote its Date.
    let now = before + after.duration_since(before).unwrap_or_default() / 2;
    clock_check(date.as_deref(), now)
}

/// The clock check for a provider's `Date` header read at `now`.
fn clock_check(date: Option<&str>, now: SystemTime) -> Check {
    let name = CheckName::Clock;
    let Some(date) = date else {
        return Check::pass(name, "the provider sent no Date header: the clock could not be compared");
    };
    let Some(theirs) = parse_http_date(date) else {
        return Check::pass(
            name,
            format!("the provider's Date header ({date:?}) could not be read: the clock could not be compared"),
        );
    };
    // Date has whole seconds: up to a second of difference is rounding.
    let (skew, ahead) = match now.duration_since(theirs) {
        Ok(ahead) => (ahead, true),
        Err(behind) => (behind.duration(), false),
    };
    let seconds = skew.as_secs();
    let way = if ahead { "ahead of" } else { "behind" };
    if skew <= MAX_CLOCK_SKEW {
        Check::pass(name, format!("this computer's clock is within {} s of the provider's", seconds.max(1)))
    } else {
        Check::fail(
            name,
            format!(
                "this computer's clock is {seconds} s {way} the provider's (more than {} s): tokens may look \
                 expired or not yet valid; set the clock right (NTP)",
                MAX_CLOCK_SKEW.as_secs()
            ),
        )
    }
}

/// An HTTP date in the preferred format, `Sun, 06 Nov 1994 08:49:37 GMT`
/// (IMF-fixdate, RFC 9110 §5.6.7); `None` for anything else.
fn parse_http_date(text: &str) -> Option<SystemTime> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [_weekday, day, month, year, time, "GMT"] = words.as_slice() else { return None };
    let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        .iter()
        .position(|m| m == month)? as i64
        + 1;
    let (day, year): (i64, i64) = (day.parse().ok()?, year.parse().ok()?);
    let parts: Vec<u64> = time.split(':').map(str::parse).collect::<Result<_, _>>().ok()?;
    let [hours, minutes, seconds] = parts.as_slice() else { return None };
    if !(1..=31).contains(&day) || *hours > 23 || *minutes > 59 || *seconds > 60 || year < 1970 {
        return None;
    }
    // Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = u64::try_from(era * 146_097 + doe - 719_468).ok()?;
    let secs = days * 86_400 + hours * 3_600 + minutes * 60 + seconds;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

async fn items_api_checks(items_api: &Url, scopes: &[String], http: &HttpClient) -> Vec<Check> {
    let base = if items_api.path().ends_with('/') {
        items_api.clone()
    } else {
        let mut base = items_api.clone();
        base.set_path(&format!("{}/", items_api.path()));
        base
    };
    let health = base.join("healthz").unwrap_or_else(|_| base.clone());
    let reachable = match http.send(http.reqwest().get(health.clone())).await {
        Ok((response, _)) if response.status().is_success() => {
            Check::pass(CheckName::ItemsApi, format!("the items API answers at {health}"))
        }
        Ok((response, _)) => Check::fail(
            CheckName::ItemsApi,
            format!("{health} answered HTTP {}: is ITEMS_API_URL the items API?", response.status().as_u16()),
        ),
        Err(error) => {
            return vec![Check::fail(
                CheckName::ItemsApi,
                format!(
                    "the items API at {base} cannot be reached ({}); check ITEMS_API_URL / items_api_url",
                    http_words(&error)
                ),
            )];
        }
    };
    let me = base.join("v1/me").unwrap_or_else(|_| base.clone());
    let auth = match http.send(http.reqwest().get(me.clone())).await {
        Ok((response, _)) if response.status().as_u16() == 401 => {
            let challenge = response
                .headers()
                .get_all("www-authenticate")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| v.trim_start().get(..6).is_some_and(|s| s.eq_ignore_ascii_case("bearer")));
            if challenge {
                Check::pass(
                    CheckName::ItemsApiAuth,
                    "the items API asks for a bearer token (401 with a Bearer challenge); it does not say which \
                     issuer it accepts: it must be configured with this one (its OKTA_ISSUER), which only a \
                     signed-in call shows",
                )
            } else {
                Check::fail(CheckName::ItemsApiAuth, format!("{me} answered 401 without a Bearer challenge"))
            }
        }
        Ok((response, _)) => Check::fail(
            CheckName::ItemsApiAuth,
            format!(
                "{me} answered HTTP {} without a token, where the items API asks for one (401)",
                response.status().as_u16()
            ),
        ),
        Err(error) => Check::fail(CheckName::ItemsApiAuth, format!("{me} cannot be reached ({})", http_words(&error))),
    };
    let described = base.join("openapi.json").unwrap_or_else(|_| base.clone());
    let scopes_check = match http.send(http.reqwest().get(described.clone())).await {
        Ok((response, body)) if response.status().is_success() => {
            match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(document) => scope_check(&document, scopes),
                Err(_) => Check::fail(CheckName::ItemsApiScopes, format!("{described} is not a JSON document")),
            }
        }
        Ok((response, _)) => Check::fail(
            CheckName::ItemsApiScopes,
            format!("{described} answered HTTP {}: the items API's scopes are unknown", response.status().as_u16()),
        ),
        Err(error) => {
            Check::fail(CheckName::ItemsApiScopes, format!("{described} cannot be reached ({})", http_words(&error)))
        }
    };
    vec![reachable, auth, scopes_check]
}

/// Whether `configured` holds the scopes the items API's OpenAPI
/// `document` asks for to list items (required) and to create them (else
/// items are read-only).
fn scope_check(document: &serde_json::Value, configured: &[String]) -> Check {
    let asked = |method: &str| -> Vec<String> {
        document["paths"]["/v1/items"][method]["security"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_object)
            .flat_map(|requirement| requirement.values())
            .filter_map(serde_json::Value::as_array)
            .flatten()
            .filter_map(|scope| scope.as_str().map(str::to_owned))
            .collect()
    };
    let missing =
        |scopes: &[String]| -> Vec<String> { scopes.iter().filter(|s| !configured.contains(s)).cloned().collect() };
    let (read, write) = (asked("get"), asked("post"));
    if read.is_empty() {
        return Check::fail(CheckName::ItemsApiScopes, "the items API's description names no scope for reading items");
    }
    let (no_read, no_write) = (missing(&read), missing(&write));
    if !no_read.is_empty() {
        return Check::fail(
            CheckName::ItemsApiScopes,
            format!(
                "the items API asks for {} to read items, which the configured scopes do not hold: add it to \
                 OKTA_SCOPES (scopes in tessera.toml) and sign in again",
                no_read.join(" ")
            ),
        );
    }
    if no_write.is_empty() {
        Check::pass(
            CheckName::ItemsApiScopes,
            format!(
                "the items API asks for {} to read and {} to write; both are configured",
                read.join(" "),
                write.join(" ")
            ),
        )
    } else {
        Check::pass(
            CheckName::ItemsApiScopes,
            format!(
                "the items API asks for {} to read (configured) and {} to write (not configured: items can be read \
                 but not changed)",
                read.join(" "),
                no_write.join(" ")
            ),
        )
    }
}

/// An HTTP failure said about a server that is not the provider.
fn http_words(error: &HttpError) -> String {
    match error {
        HttpError::Connect(_) => "no connection could be made".to_owned(),
        HttpError::TimedOut { after, .. } => format!("no answer within {} s", after.as_secs()),
        HttpError::Failed(failure) => format!("HTTP {}", failure.status),
        other => with_causes(other),
    }
}

/// What to register for `config`: a native app, its grant types, each
/// loopback redirect URI on 127.0.0.1 and [::1] (the configured ports, or
/// the default list when the redirect is a custom scheme), and the custom
/// scheme when configured.
#[must_use]
pub fn register(config: &SigninConfig) -> Register {
    let (ports, path, custom) = match &config.redirect {
        RedirectKind::Loopback { ports, path, .. } => (ports.clone(), path.clone(), None),
        RedirectKind::Custom(url) => (
            LoopbackPorts::Listed(DEFAULT_LOOPBACK_PORTS.to_vec()),
            signin::flow::config::DEFAULT_CALLBACK_PATH.to_owned(),
            Some(url.as_str().to_owned()),
        ),
    };
    let mut redirect_uris = Vec::new();
    match ports {
        LoopbackPorts::Listed(ports) => {
            for host in ["127.0.0.1", "[::1]"] {
                redirect_uris.extend(ports.iter().map(|port| format!("http://{host}:{port}{path}")));
            }
        }
        // A provider that takes any port compares the URI without it.
        LoopbackPorts::Any => redirect_uris.extend(["127.0.0.1", "[::1]"].map(|host| format!("http://{host}{path}"))),
    }
    redirect_uris.extend(custom);
    Register {
        app_type: "Native (a public client: no client secret, PKCE)",
        redirect_uris,
        // Only when one is configured: otherwise none is sent.
        post_logout_redirect_uris: config.post_logout_redirect.iter().map(ToString::to_string).collect(),
        grant_types: GRANT_TYPES.iter().map(|g| (*g).to_owned()).collect(),
    }
}

/// An error and its causes, on one line.
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests;
