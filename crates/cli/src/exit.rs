//! Errors at the CLI boundary: one exit code per kind, the cause chain on
//! stderr (STYLE practice 7).

use std::error::Error as StdError;
use std::io::Write as _;

use app::{SettingsError, TokenStoreChoice};
use items_client::ItemsError;
use signin::accounts::AccountsError;
use signin::flow::SigninError;
use signin::store::StoreError;
use signin::{ErrorKind, SessionError};

/// What the exit code says (documented in `tessera --help` and docs/cli.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 1: any other error.
    Error = 1,
    /// 2: bad arguments or settings, or a value the items API refuses.
    Usage = 2,
    /// 3: nobody is signed in, or the sign-in is no longer valid.
    SignInRequired = 3,
    /// 4: a missing scope, the API's policy, or a refused sign-in.
    PermissionDenied = 4,
    /// 5: no such item or account.
    NotFound = 5,
    /// 6: the provider or the items API cannot be reached or is unavailable.
    Network = 6,
    /// 7: no OS keyring (Secret Service).
    KeyringUnavailable = 7,
    /// 8: the provider or the items API is limiting requests (HTTP 429):
    /// try again after the wait the message names.
    RateLimited = 8,
}

/// A failed command: the error (with its `source` chain), its exit code and
/// an optional hint for the person.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    error: Box<dyn StdError + Send + Sync>,
    hint: Option<String>,
    /// Already reported on stderr (clap's usage errors).
    reported: bool,
}

impl Failure {
    /// A failure with a given exit code.
    pub fn new(exit: Exit, error: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        let hint = match exit {
            Exit::SignInRequired => Some(SIGN_IN_HINT.to_owned()),
            Exit::KeyringUnavailable => Some(store_hint(TokenStoreChoice::Auto)),
            _ => None,
        };
        Self { exit, error: error.into(), hint, reported: false }
    }

    /// Replaces the hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A usage error clap has already printed.
    #[must_use]
    pub fn usage_reported() -> Self {
        Self { reported: true, ..Self::new(Exit::Usage, "invalid command line") }
    }

    /// Prints `tessera: <error>`, each cause, and the hint on stderr.
    pub fn print(&self) {
        if self.reported {
            return;
        }
        let mut text = format!("tessera: {}\n", self.error);
        let mut last = self.error.to_string();
        let mut source = self.error.source();
        while let Some(cause) = source {
            // Some libraries repeat their cause in their own message: say it once.
            let message = cause.to_string();
            if !last.contains(&message) {
                text.push_str(&format!("  caused by: {message}\n"));
            }
            last = message;
            source = cause.source();
        }
        if let Some(hint) = &self.hint {
            text.push_str(&format!("  hint: {hint}\n"));
        }
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// The exit code of a session error's kind.
fn session_exit(kind: ErrorKind) -> Exit {
    match kind {
        ErrorKind::NoSuchAccount => Exit::NotFound,
        ErrorKind::AmbiguousAccount | ErrorKind::Config => Exit::Usage,
        ErrorKind::NoAccount | ErrorKind::SignInRequired => Exit::SignInRequired,
        ErrorKind::KeyringUnavailable => Exit::KeyringUnavailable,
        ErrorKind::Network => Exit::Network,
        ErrorKind::RateLimited => Exit::RateLimited,
        ErrorKind::AccessDenied => Exit::PermissionDenied,
        ErrorKind::Keyring
        | ErrorKind::AccountBook
        | ErrorKind::Cancelled
        | ErrorKind::TimedOut
        | ErrorKind::ProviderError
        | ErrorKind::SignInFailed
        | ErrorKind::Busy
        | ErrorKind::Internal => Exit::Error,
    }
}

/// How to sign in, on a machine with a browser or without.
pub const SIGN_IN_HINT: &str =
    "sign in with `tessera login` (on a machine without a browser: `tessera login --device`, with a code)";

/// The ways forward when the token store `chosen` cannot be used.
pub fn store_hint(chosen: TokenStoreChoice) -> String {
    if !signin::platform::has_keyring(signin::store::KeyringBackend::KernelKeyring) {
        // Windows and macOS: one keyring, the platform's own, or memory.
        let others = match chosen {
            TokenStoreChoice::Memory => "choose --token-store auto (the system keyring)".to_owned(),
            _ => format!(
                "sign in to the desktop session so that {} can be used, or choose --token-store memory \
                 (forgotten when this command ends)",
                signin::platform::NATIVE_KEYRING.description()
            ),
        };
        return format!("{others}; to keep the choice, set TESSERA_TOKEN_STORE or token_store in tessera.toml");
    }
    let others = match chosen {
        TokenStoreChoice::Kernel => {
            "the kernel keyring needs a session keyring of this login (an SSH or console login has one; \
             elsewhere run tessera under `keyctl session -`); or choose --token-store secret-service \
             (the desktop keyring) or --token-store memory (forgotten when this command ends)"
        }
        TokenStoreChoice::Memory => "choose --token-store secret-service or --token-store kernel",
        TokenStoreChoice::Auto | TokenStoreChoice::SecretService => {
            "choose where sign-ins are kept: --token-store kernel (the kernel keyring: kept for this \
             login session, no D-Bus needed, e.g. over SSH) or --token-store memory (forgotten when this \
             command ends), or start a Secret Service (GNOME Keyring, KWallet)"
        }
    };
    format!("{others}; to keep the choice, set TESSERA_TOKEN_STORE or token_store in tessera.toml")
}

/// The two ways forward when no provider is configured (issue 23).
pub const NO_PROVIDER_HINT: &str = "to sign in with your Okta org, set OKTA_DOMAIN (e.g. dev-123456.okta.com) \
     and CLIENT_ID (your app's client id), in the environment or as okta_domain and client_id in \
     ~/.config/tessera/tessera.toml; or try Tessera first with `tessera demo`, which starts a demo provider \
     and items API of its own";

impl From<SessionError> for Failure {
    fn from(error: SessionError) -> Self {
        Self::new(session_exit(error.kind()), error)
    }
}

/// Refused settings are a usage error (exit 2); with no provider, the two
/// ways forward as the hint.
impl From<SettingsError> for Failure {
    fn from(error: SettingsError) -> Self {
        let no_provider = matches!(error, SettingsError::NoProvider);
        let failure = Self::new(Exit::Usage, error);
        if no_provider { failure.with_hint(NO_PROVIDER_HINT) } else { failure }
    }
}

impl From<SigninError> for Failure {
    fn from(error: SigninError) -> Self {
        Self::from(SessionError::from(error))
    }
}

/// The builder's failures: the session's with its exit codes, the demo's
/// and the items client's as such.
impl From<app::WireError> for Failure {
    fn from(error: app::WireError) -> Self {
        match error {
            app::WireError::Session(error) => error.into(),
            app::WireError::ItemsClient(error) => error.into(),
            other => Self::new(Exit::Error, other),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Self {
        Self::from(SessionError::from(error))
    }
}

impl From<AccountsError> for Failure {
    fn from(error: AccountsError) -> Self {
        Self::from(SessionError::from(error))
    }
}

impl From<ItemsError<SessionError>> for Failure {
    fn from(error: ItemsError<SessionError>) -> Self {
        let exit = match &error {
            // The session's own error decides: nobody signed in, or the network.
            ItemsError::SignInRequired(session) => session_exit(session.kind()),
            ItemsError::Unauthorized { .. } => Exit::SignInRequired,
            ItemsError::MissingScope { .. } | ItemsError::Forbidden { .. } => Exit::PermissionDenied,
            ItemsError::NotFound => Exit::NotFound,
            ItemsError::Invalid { .. } => Exit::Usage,
            ItemsError::RateLimited { .. } => Exit::RateLimited,
            ItemsError::Unavailable { .. } | ItemsError::Network(_) | ItemsError::Certificate { .. } => Exit::Network,
            _ => Exit::Error,
        };
        let failure = Self::new(exit, error);
        match exit {
            Exit::PermissionDenied => failure
                .with_hint("sign in again with the scope it needs (add it to OKTA_SCOPES, then `tessera login --add`)"),
            _ => failure,
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Self::new(Exit::Error, error)
    }
}

#[cfg(test)]
mod tests;
