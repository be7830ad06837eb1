//! Why a session operation failed, with a stable [`code`](SessionError::code)
//! for the CLI's exit codes and the desktop's `{code, message}`.

use crate::accounts::AccountsError;
use crate::flow::{BoxError, SigninError};
use crate::store::StoreError;

/// A session failure. Messages are for people; the `source` chain has the
/// detail. No variant carries a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// Nobody is signed in (no active account).
    #[error("nobody is signed in; sign in first")]
    NoAccount,
    /// The account's saved sign-in is gone or was refused (`invalid_grant`):
    /// the person has to sign in again (interactively).
    #[error("the sign-in of {account} is no longer valid; please sign in again")]
    SignInRequired {
        /// The account's display name (email, login, name or subject).
        account: String,
        /// The refusal, when the provider refused the refresh token.
        #[source]
        source: Option<Box<SigninError>>,
    },
    /// The account book could not be read or written, or no account matches.
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    /// The token store (keyring) failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A sign-in, discovery or refresh failed.
    #[error(transparent)]
    Signin(#[from] SigninError),
    /// The revocation request (RFC 7009) could not be made.
    #[error("the provider could not be reached to revoke the sign-in")]
    Revocation(#[source] BoxError),
    /// The revocation endpoint answered with an error status (RFC 7009 §2.2.1).
    #[error("the provider refused to revoke the sign-in (HTTP {status})")]
    RevocationRefused {
        /// The HTTP status.
        status: u16,
    },
    /// The account was signed out here, but its refresh token could not be
    /// revoked at the issuer that issued it (the only place it is ever
    /// sent): that issuer is unreachable, failing, or refused.
    #[error("the sign-in could not be revoked at {issuer}; it was forgotten here only")]
    NotRevoked {
        /// The account's own issuer (not the one configured now).
        issuer: String,
        /// Why.
        #[source]
        source: Box<SessionError>,
    },
    /// The account was signed in at another provider than the one configured
    /// now: its tokens go only to its own issuer, and its access tokens are
    /// not handed to an API set up for another provider, so it cannot be
    /// used until that provider is configured again (it can be signed out).
    #[error(
        "{account} was signed in at {issuer}, but Tessera is set up for {configured}; \
         configure {issuer} again to use this account, or sign it out"
    )]
    OtherProvider {
        /// The account's display name.
        account: String,
        /// The account's issuer.
        issuer: String,
        /// The issuer configured now.
        configured: String,
    },
    /// A blocking task (keyring access) died.
    #[error("an internal task failed")]
    Task(#[source] tokio::task::JoinError),
}

impl SessionError {
    /// A stable, machine-readable code: `no-account`, `ambiguous-account`,
    /// `sign-in-required`, `keyring-unavailable`, `keyring`, `account-book`,
    /// `network`, `provider`, `access-denied`, `cancelled`, `timeout`,
    /// `config`, `internal`. A [`NotRevoked`](Self::NotRevoked) has its
    /// cause's code; [`OtherProvider`](Self::OtherProvider) is `config`.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoAccount => "no-account",
            Self::SignInRequired { .. } => "sign-in-required",
            Self::Accounts(AccountsError::NoSuchAccount { .. }) => "no-account",
            Self::Accounts(AccountsError::AmbiguousAccount { .. }) => "ambiguous-account",
            Self::Accounts(_) => "account-book",
            Self::Store(e) if e.keyring_unavailable() => "keyring-unavailable",
            Self::Store(_) => "keyring",
            Self::Signin(e) => signin_code(e),
            Self::Revocation(_) => "network",
            Self::RevocationRefused { .. } => "provider",
            Self::NotRevoked { source, .. } => source.code(),
            Self::OtherProvider { .. } => "config",
            Self::Task(_) => "internal",
        }
    }
}

fn signin_code(error: &SigninError) -> &'static str {
    match error {
        SigninError::InvalidSetting { .. }
        | SigninError::ConfigRead { .. }
        | SigninError::ConfigWrite { .. }
        | SigninError::ConfigParse { .. }
        | SigninError::DotEnv { .. }
        | SigninError::NoProvider
        | SigninError::PortInUse { .. }
        | SigninError::Bind { .. } => "config",
        SigninError::HttpClient(_)
        | SigninError::Discovery { .. }
        | SigninError::Keys(_)
        | SigninError::TokenRequest(_)
        | SigninError::UserInfo(_)
        | SigninError::Push(_)
        | SigninError::ProviderFailed(_)
        | SigninError::Listener(_) => "network",
        SigninError::Cancelled => "cancelled",
        SigninError::TimedOut { .. } => "timeout",
        SigninError::DeviceDenied => "access-denied",
        SigninError::Provider { error, .. } if error == "access_denied" => "access-denied",
        SigninError::RefreshTokenRejected { .. } => "sign-in-required",
        _ => "provider",
    }
}
