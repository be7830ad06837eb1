//! Tessera's sign-in core: everything a native app needs to sign people in
//! with Okta (or any OpenID provider) and keep them signed in, safely.
//!
//! - [`flow`]: configuration, discovery, Authorization Code + PKCE through the
//!   system browser with a loopback or deep-link redirect, the device grant,
//!   and the ID-token checks.
//! - [`store`]: where refresh tokens live (the OS keyring, or memory when
//!   there is none — never a plain file).
//! - [`accounts`]: the non-secret account book (who, which issuer, which one
//!   is active).
//! - [`platform`]: what differs per operating system (the keyrings, the URL
//!   opener), one module per platform.
//!
//! The desktop shell and the CLI only adapt this crate.

pub mod account;
pub mod accounts;
pub mod flow;
#[doc(hidden)]
pub mod fuzzing;
pub mod platform;
pub mod redact;
pub mod session;
pub mod store;

pub use account::{AccountKey, Identity, Refreshed, Rotation, SignedIn, TokenSet};
pub use session::{ErrorKind, Session, SessionError, SignInMethod, SignedInAccount};

/// The error's message followed by its causes (`: `-separated), skipping a
/// cause whose text is already said (some libraries repeat their cause in
/// their own message): what a person is shown.
#[must_use]
pub fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() && !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}
