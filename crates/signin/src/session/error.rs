//! Why a session operation failed, and its [`kind`](SessionError::kind): the
//! [`ErrorKind`] the CLI maps to exit codes and the desktop to its
//! `{code, message}`, each with one `match`.

use crate::accounts::{AccountsError, RefreshLockError};
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
    /// Another sign-in is under way: one at a time.
    #[error("a sign-in is already under way; finish or cancel it first")]
    SignInInProgress,
    /// Another process (the desktop app, another `tessera`) held the
    /// account's refresh lock for longer than one refresh may take.
    #[error(
        "another Tessera program has been refreshing the sign-in of {account} for more than {} s; try again",
        waited.as_secs()
    )]
    RefreshBusy {
        /// The account's display name.
        account: String,
        /// How long this process waited.
        waited: std::time::Duration,
    },
    /// The account's refresh lock (a file beside the account book) could
    /// not be created or taken.
    #[error("cannot take the refresh lock of the sign-in")]
    RefreshLock(#[source] RefreshLockError),
    /// A blocking task (keyring access) died.
    #[error("an internal task failed")]
    Task(#[source] tokio::task::JoinError),
}

/// What kind of failure a [`SessionError`] is: what a shell needs to choose
/// an exit code or an IPC code, and what the person can do about it.
///
/// Deliberately exhaustive: the shells `match` it without a catch-all, so a
/// new kind is a compile error in each of them until it is given its code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Nobody is signed in (no active account).
    NoAccount,
    /// No account matches the one asked for.
    NoSuchAccount,
    /// Several accounts match the one asked for.
    AmbiguousAccount,
    /// The account's sign-in is gone or was refused: sign in again.
    SignInRequired,
    /// The keyring as a whole cannot be used (no bus, no Secret Service,
    /// locked, no session keyring): a memory-only session may help.
    KeyringUnavailable,
    /// The keyring failed otherwise (an unreadable or ambiguous entry, a
    /// platform error).
    Keyring,
    /// The account book (or a refresh lock beside it) could not be read or written.
    AccountBook,
    /// The provider could not be reached, or failed (5xx, a cut-off answer).
    Network,
    /// The provider is limiting requests (HTTP 429): try again after the
    /// wait the message names.
    RateLimited,
    /// The person (or the provider's policy) refused the sign-in.
    AccessDenied,
    /// The sign-in was cancelled.
    Cancelled,
    /// The sign-in was not completed in time.
    TimedOut,
    /// The settings are missing or wrong, or the account belongs to a
    /// provider that is not configured now.
    Config,
    /// The provider answered an error (RFC 6749 §4.1.2.1), or refused a
    /// revocation (RFC 7009 §2.2.1).
    ProviderError,
    /// The sign-in's answer failed a check (state, issuer, ID token, …) or
    /// was refused at the token endpoint.
    SignInFailed,
    /// Another sign-in is under way, or another program held the
    /// account's refresh lock too long.
    Busy,
    /// A task of Tessera's own failed.
    Internal,
}

impl SessionError {
    /// The kind of failure. A [`NotRevoked`](Self::NotRevoked) has its
    /// cause's kind; [`OtherProvider`](Self::OtherProvider) is
    /// [`Config`](ErrorKind::Config).
    #[must_use]
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::NoAccount => ErrorKind::NoAccount,
            Self::SignInRequired { .. } => ErrorKind::SignInRequired,
            Self::Accounts(AccountsError::NoSuchAccount { .. }) => ErrorKind::NoSuchAccount,
            Self::Accounts(AccountsError::AmbiguousAccount { .. }) => ErrorKind::AmbiguousAccount,
            Self::Accounts(_) => ErrorKind::AccountBook,
            Self::Store(e) if e.keyring_unavailable() => ErrorKind::KeyringUnavailable,
            Self::Store(_) => ErrorKind::Keyring,
            Self::Signin(e) => signin_kind(e),
            Self::Revocation(_) => ErrorKind::Network,
            Self::RevocationRefused { .. } => ErrorKind::ProviderError,
            Self::NotRevoked { source, .. } => source.kind(),
            Self::OtherProvider { .. } => ErrorKind::Config,
            Self::SignInInProgress | Self::RefreshBusy { .. } => ErrorKind::Busy,
            Self::RefreshLock(_) => ErrorKind::AccountBook,
            Self::Task(_) => ErrorKind::Internal,
        }
    }
}

fn signin_kind(error: &SigninError) -> ErrorKind {
    match error {
        SigninError::InvalidSetting { .. }
        | SigninError::PortInUse { .. }
        | SigninError::PortsInUse { .. }
        | SigninError::Bind { .. }
        | SigninError::PrivateKey { .. } => ErrorKind::Config,
        SigninError::HttpClient(_)
        | SigninError::Discovery { .. }
        | SigninError::Keys(_)
        | SigninError::TokenRequest(_)
        | SigninError::UserInfo(_)
        | SigninError::Push(_)
        | SigninError::ProviderFailed(_)
        | SigninError::Listener(_) => ErrorKind::Network,
        SigninError::RateLimited(_) => ErrorKind::RateLimited,
        SigninError::Cancelled => ErrorKind::Cancelled,
        SigninError::TimedOut { .. } => ErrorKind::TimedOut,
        SigninError::DeviceDenied | SigninError::ClientRefused { .. } => ErrorKind::AccessDenied,
        SigninError::Provider { error, .. } if error == "access_denied" => ErrorKind::AccessDenied,
        SigninError::Provider { .. } => ErrorKind::ProviderError,
        SigninError::RefreshTokenRejected { .. } => ErrorKind::SignInRequired,
        _ => ErrorKind::SignInFailed,
    }
}
