//! What crosses the IPC boundary to the webview (`ui/IPC.md`): views of the
//! session, the items and the settings, and errors as `{code, message}`.
//! No type here can hold a token.

use std::time::{SystemTime, UNIX_EPOCH};

use items_client::{Item, ItemPage, ItemsError};
use serde::{Deserialize, Serialize};
use signin::accounts::Account;
use signin::flow::SigninError;
use signin::{ErrorKind, SessionError};

/// Where the app signs in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// The built-in demo provider (dev-idp in this process).
    Demo,
    /// A provider from the settings or the environment (Okta, …).
    Configured,
}

/// How the browser comes back to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Redirect {
    /// A loopback listener on 127.0.0.1 (RFC 8252 §7.3).
    Loopback,
    /// The app's private-use URI scheme (RFC 8252 §7.1).
    DeepLink,
}

impl From<app::form::RedirectChoice> for Redirect {
    fn from(choice: app::form::RedirectChoice) -> Self {
        match choice {
            app::form::RedirectChoice::Loopback => Self::Loopback,
            app::form::RedirectChoice::DeepLink => Self::DeepLink,
        }
    }
}

/// Where refresh tokens are kept, and why not in the keyring when they are not.
#[derive(Debug, Clone, Serialize)]
pub struct KeyringInfo {
    /// `keyring` or `memory`.
    pub kind: &'static str,
    /// Why sign-ins will not be remembered (memory only outside the demo).
    pub warning: Option<String>,
}

/// A demo person's credentials (public by design: dev-idp's built-in users).
#[derive(Debug, Clone, Serialize)]
pub struct DemoUser {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

/// The app and where it signs in.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    /// Demo or configured.
    pub mode: Mode,
    /// The product name.
    pub name: &'static str,
    /// The app's version.
    pub version: &'static str,
    /// The Tauri version it is built with (for About).
    pub tauri_version: &'static str,
    /// The folder of the app's log files, if it logs to files.
    pub log_folder: Option<String>,
    /// The issuer.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// The items API.
    pub items_api: String,
    /// Loopback or deep link.
    pub redirect: Redirect,
    /// Keyring or memory.
    pub keyring: KeyringInfo,
    /// The demo users (empty outside the demo).
    pub demo_users: Vec<DemoUser>,
    /// The profile in use (`default`: the configuration file's top level).
    pub profile: String,
    /// The currency prices are shown in (ISO 4217 code): `TESSERA_CURRENCY`,
    /// else `currency` in `tessera.toml`, else [`DEFAULT_CURRENCY`].
    pub currency: String,
    /// The profiles to choose from (`default` first), when the
    /// configuration file has named ones; empty otherwise.
    pub profiles: Vec<String>,
}

/// The currency of prices when none is configured.
pub const DEFAULT_CURRENCY: &str = "EUR";

/// A currency setting as an ISO 4217 code (three letters, upper-cased);
/// `None` for anything else.
#[must_use]
pub fn currency_code(value: &str) -> Option<String> {
    let value = value.trim();
    (value.len() == 3 && value.bytes().all(|b| b.is_ascii_alphabetic())).then(|| value.to_ascii_uppercase())
}

/// What a sign-in did: the account, and a notice when asking to add or
/// switch accounts brought back someone already signed in (the provider
/// reused its browser session).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignedInView {
    /// The account signed in, now the active one.
    pub account: AccountView,
    /// What happened and how to really switch, when it was the same person.
    pub notice: Option<String>,
}

/// An account as the account menu shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountView {
    /// The account's id.
    pub id: String,
    /// A name for people.
    pub name: String,
    /// `email`.
    pub email: Option<String>,
    /// `preferred_username`.
    pub login: Option<String>,
    /// Its refresh token no longer works.
    pub needs_sign_in: bool,
    /// Whether it is the active account.
    pub active: bool,
    /// The profile it belongs to (`default`: the top level), when one of
    /// the configuration file signs in where it was signed in.
    pub profile: Option<String>,
}

impl AccountView {
    /// The view of `account`.
    #[must_use]
    pub fn new(account: &Account, active: bool) -> Self {
        let name = account.identity.name.clone().unwrap_or_else(|| account.display_name().to_owned());
        Self {
            id: account.id(),
            name,
            email: account.identity.email.clone(),
            login: account.identity.preferred_username.clone(),
            needs_sign_in: account.needs_sign_in,
            active,
            profile: None,
        }
    }

    /// The same view, naming the account's profile.
    #[must_use]
    pub fn in_profile(mut self, profile: Option<String>) -> Self {
        self.profile = profile;
        self
    }
}

/// The accounts and the active one.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState {
    /// Every account, most recently used first.
    pub accounts: Vec<AccountView>,
    /// The active account.
    pub active: Option<AccountView>,
    /// Whether a sign-in is under way.
    pub signing_in: bool,
    /// Set while the active account's tokens cannot be refreshed (the
    /// provider unreachable or failing): the session is kept and the
    /// refresh retried.
    pub offline: Option<OfflineView>,
}

/// The provider could not be reached at the last background refresh.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineView {
    /// Since when (Unix seconds): the first failed attempt in a row.
    pub since: u64,
    /// When the next attempt is due (Unix seconds).
    pub retry_at: u64,
    /// Failed attempts in a row.
    pub attempts: u32,
    /// What went wrong, for the person.
    pub message: String,
}

/// The session panel: facts about the active sign-in, never a token.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionDetails {
    /// The account.
    pub account: AccountView,
    /// The issuer.
    pub issuer: String,
    /// The subject.
    pub subject: String,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// When the access token expires (Unix seconds).
    pub expires_at: u64,
    /// When the tokens were last refreshed (Unix seconds).
    pub last_refresh: Option<u64>,
    /// Whether the scopes allow writing items.
    pub can_write: bool,
    /// The thumbprint of the key the tokens are bound to (DPoP); `None`
    /// for bearer tokens.
    pub bound_key: Option<String>,
}

/// What a sign-out did.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignOutView {
    /// The account signed out.
    pub account: AccountView,
    /// Whether the provider's logout page was opened in the browser.
    pub logout_opened: bool,
    /// What did not work (the local sign-out completed anyway).
    pub warning: Option<String>,
}

/// The settings as the settings screen shows them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// `demo`, `file` or `environment`.
    pub source: &'static str,
    /// Environment variables that override the file.
    pub env_overrides: Vec<String>,
    /// The issuer URL (empty in the demo).
    pub issuer: String,
    /// The client id (empty in the demo).
    pub client_id: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Loopback or deep link.
    pub redirect: Redirect,
    /// The loopback redirect's ports as written (`8765 8766`, or `any`);
    /// empty: the default list ([`Settings::default_loopback_ports`]).
    pub loopback_ports: String,
    /// The default loopback ports, for the field's placeholder.
    pub default_loopback_ports: String,
    /// The app's scheme for deep links.
    pub deep_link_scheme: &'static str,
    /// The prompt for adding accounts.
    pub prompt: String,
    /// The items API.
    pub items_api: String,
    /// Whether sign-ins bind tokens to this device (DPoP) when the provider
    /// offers it.
    pub dpop: bool,
}

/// The settings a person saves.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsInput {
    /// An issuer URL or a bare Okta domain.
    pub issuer: String,
    /// The client id.
    pub client_id: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Loopback or deep link.
    pub redirect: Redirect,
    /// The loopback redirect's ports (`8765 8766`, or `any`; empty: the
    /// default list).
    #[serde(default)]
    pub loopback_ports: String,
    /// The prompt for adding accounts (empty: none).
    pub prompt: String,
    /// The items API.
    pub items_api: String,
    /// Bind tokens to this device (DPoP) when the provider offers it.
    #[serde(default)]
    pub dpop: bool,
}

/// The settings check (`tessera doctor`'s report) as the settings screen
/// shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorReport {
    /// One line per check, in order.
    pub checks: Vec<DoctorCheck>,
    /// What to register in the Okta app.
    pub register: DoctorRegister,
}

/// One line of the settings check.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorCheck {
    /// What was checked (`discovery`, `scopes`, … as `tessera doctor --json`).
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What was found, in plain words.
    pub detail: String,
}

/// What to register in the Okta app.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DoctorRegister {
    /// The application type.
    pub app_type: &'static str,
    /// Every exact sign-in redirect URI.
    pub redirect_uris: Vec<String>,
    /// The sign-out redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// The grant types to allow.
    pub grant_types: Vec<String>,
}

impl From<app::doctor::Report> for DoctorReport {
    fn from(report: app::doctor::Report) -> Self {
        let register = report.register;
        Self {
            checks: report
                .checks
                .into_iter()
                .map(|c| DoctorCheck { name: c.name.as_str(), ok: c.ok, detail: c.detail })
                .collect(),
            register: DoctorRegister {
                app_type: register.app_type,
                redirect_uris: register.redirect_uris,
                post_logout_redirect_uris: register.post_logout_redirect_uris,
                grant_types: register.grant_types,
            },
        }
    }
}

/// An item as the webview receives it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemView {
    /// The id.
    pub id: String,
    /// The name.
    pub name: String,
    /// The description.
    pub description: String,
    /// The price.
    pub price: f64,
    /// The tags.
    pub tags: Vec<String>,
    /// The owner's user id at the issuer (Okta's `uid`, else `sub`).
    pub owner: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
}

impl From<Item> for ItemView {
    fn from(item: Item) -> Self {
        Self {
            id: item.id,
            name: item.name,
            description: item.description,
            price: item.price,
            tags: item.tags,
            owner: item.owner,
            created_at: item.created_at,
            updated_at: item.updated_at,
        }
    }
}

/// A page of items.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemPageView {
    /// The items, newest first.
    pub items: Vec<ItemView>,
    /// The next page's cursor.
    pub next_cursor: Option<String>,
}

impl From<ItemPage> for ItemPageView {
    fn from(page: ItemPage) -> Self {
        Self { items: page.items.into_iter().map(ItemView::from).collect(), next_cursor: page.next_cursor }
    }
}

/// Unix seconds of `time` (0 before 1970).
#[must_use]
pub fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// An error as the webview receives it: a stable `code` for the UI's logic
/// and a sentence for the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct IpcError {
    /// See `ui/IPC.md`.
    pub code: &'static str,
    /// For people: the error and its causes.
    pub message: String,
    /// The field at fault (`invalid`, `settings_invalid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IpcError {
    /// An error with a code and a message.
    #[must_use]
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), field: None }
    }

    /// With the field at fault.
    #[must_use]
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    fn from_chain(code: &'static str, error: &(dyn std::error::Error + 'static)) -> Self {
        Self::new(code, message_with_causes(error))
    }
}

/// The error's message followed by its causes (`: `-separated), skipping a
/// cause whose text the message already holds.
#[must_use]
pub fn message_with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    signin::error_chain(error)
}

impl From<SessionError> for IpcError {
    fn from(error: SessionError) -> Self {
        Self::from_chain(session_code(error.kind()), &error)
    }
}

/// The IPC code of a session error's kind (`ui/IPC.md`).
fn session_code(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NoAccount | ErrorKind::NoSuchAccount | ErrorKind::AmbiguousAccount => "no_account",
        ErrorKind::SignInRequired => "sign_in_required",
        ErrorKind::KeyringUnavailable | ErrorKind::Keyring => "keyring",
        ErrorKind::Network => "provider_unreachable",
        ErrorKind::RateLimited => "rate_limited",
        ErrorKind::AccessDenied => "access_denied",
        ErrorKind::Cancelled => "cancelled",
        ErrorKind::TimedOut => "timeout",
        ErrorKind::Config => "settings_invalid",
        ErrorKind::SignInFailed => "sign_in_failed",
        ErrorKind::ProviderError => "provider_error",
        ErrorKind::Busy => "busy",
        ErrorKind::AccountBook | ErrorKind::Internal => "internal",
    }
}

impl From<SigninError> for IpcError {
    fn from(error: SigninError) -> Self {
        SessionError::Signin(error).into()
    }
}

/// Refused or unreadable settings (the settings screen shows them).
impl From<app::SettingsError> for IpcError {
    fn from(error: app::SettingsError) -> Self {
        Self::from_chain("settings_invalid", &error)
    }
}

impl From<ItemsError<SessionError>> for IpcError {
    fn from(error: ItemsError<SessionError>) -> Self {
        let code = match &error {
            // The token source is the session: say why it had no token (the
            // provider may just be unreachable; signing in again would not
            // help then).
            ItemsError::SignInRequired(session) => match session.kind() {
                ErrorKind::SignInRequired | ErrorKind::NoAccount | ErrorKind::NoSuchAccount => "sign_in_required",
                kind => return Self::from_chain(session_code(kind), session),
            },
            ItemsError::Unauthorized { .. } => "unauthorized",
            ItemsError::MissingScope { .. } => "missing_scope",
            ItemsError::Forbidden { .. } => "forbidden",
            ItemsError::NotFound => "not_found",
            ItemsError::Conflict { .. } => "conflict",
            ItemsError::Invalid { field, message } => {
                let error = Self::new("invalid", message.clone());
                return match field {
                    Some(field) => error.with_field(field.clone()),
                    None => error,
                };
            }
            ItemsError::Unavailable { .. } => "unavailable",
            ItemsError::RateLimited { .. } => "rate_limited",
            ItemsError::Network(_) | ItemsError::Certificate { .. } => "network",
            _ => "internal",
        };
        Self::from_chain(code, &error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_errors_map_to_the_documented_codes_with_their_causes() {
        let error: IpcError = SessionError::Signin(SigninError::Cancelled).into();
        assert_eq!(error.code, "cancelled");
        let error: IpcError = SessionError::NoAccount.into();
        assert_eq!(error.code, "no_account");
        let error: IpcError = SessionError::SignInRequired { account: "alice@example.com".into(), source: None }.into();
        assert_eq!(error.code, "sign_in_required");
        assert!(error.message.contains("alice@example.com"), "{}", error.message);
        let error: IpcError = SessionError::Signin(SigninError::StateMismatch).into();
        assert_eq!(error.code, "sign_in_failed");
        let unreachable = SigninError::Discovery {
            issuer: "https://example.okta.com".into(),
            source: Box::new(std::io::Error::other("connection refused")),
        };
        let error: IpcError = unreachable.into();
        assert_eq!(error.code, "provider_unreachable");
        assert!(error.message.ends_with(": connection refused"), "{}", error.message);
    }

    #[test]
    fn an_items_call_without_a_token_says_why() {
        let offline = SessionError::Signin(SigninError::Discovery {
            issuer: "https://example.okta.com".into(),
            source: Box::new(std::io::Error::other("connection refused")),
        });
        let error: IpcError = ItemsError::SignInRequired(offline).into();
        assert_eq!(error.code, "provider_unreachable", "not a new sign-in: the provider is offline");
        let refused = SessionError::SignInRequired { account: "bob".into(), source: None };
        let error: IpcError = ItemsError::SignInRequired(refused).into();
        assert_eq!(error.code, "sign_in_required");
        let error: IpcError =
            ItemsError::Invalid { field: Some("price".into()), message: "price must be at least 0".into() }.into();
        assert_eq!((error.code, error.field.as_deref()), ("invalid", Some("price")));
        let json = serde_json::to_value(&error).unwrap();
        assert_eq!(json["code"], "invalid");
        assert_eq!(json["field"], "price");
    }
}
