//! The types every part of the core shares: who signed in, and with which tokens.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What identifies an account: the same person at the same provider for the
/// same app (OIDC Core §2: `sub` is unique only within an issuer).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AccountKey {
    /// The issuer identifier, exactly as in the ID token's `iss`.
    pub issuer: String,
    /// The client id the tokens were issued to.
    pub client_id: String,
    /// The ID token's `sub`.
    pub subject: String,
}

impl AccountKey {
    /// A stable, printable id for the account, used as the keyring entry's
    /// user name and on the command line: `sub@host-of-issuer` is readable but
    /// not unique, so a short hash of all three parts follows it.
    #[must_use]
    pub fn id(&self) -> String {
        use base64::Engine as _;
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{}\n{}\n{}", self.issuer, self.client_id, self.subject).as_bytes());
        let short = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..9]);
        format!("{}.{short}", self.subject)
    }
}

/// What the provider told us about the person (ID token and userinfo).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Identity {
    /// `name`.
    pub name: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `preferred_username` (Okta: the login).
    pub preferred_username: Option<String>,
}

/// The tokens a token response gave (a sign-in's or a refresh's), as facts:
/// the access token's lifetime as the provider said it, not an instant on
/// some clock (the session turns it into one, on its own clock, once).
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The bearer token for APIs (`Debug` prints `[redacted]`).
    pub access_token: oauth2::AccessToken,
    /// How long the access token lives from the response (`expires_in`,
    /// RFC 6749 §5.1; an hour when the provider does not say).
    pub expires_in: Duration,
    /// The raw ID token: always after a sign-in; after a refresh only when
    /// the provider sent a new one (OIDC Core §12.2).
    pub id_token: Option<IdTokenText>,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The key the tokens are bound to (DPoP), if any.
    pub dpop: Option<std::sync::Arc<crate::flow::dpop::DpopKey>>,
}

/// What a refresh did to the refresh token (RFC 6749 §6): a provider that
/// rotates sends a new one, which replaces the old; otherwise the old one
/// stays valid.
#[derive(Debug, Clone)]
pub enum Rotation {
    /// The provider sent this new refresh token.
    Rotated(oauth2::RefreshToken),
    /// The provider sent none: the one used stays.
    Unchanged,
}

/// A completed refresh.
#[derive(Debug, Clone)]
pub struct Refreshed {
    /// The new tokens.
    pub tokens: TokenSet,
    /// Whether the refresh token rotated.
    pub refresh_token: Rotation,
}

/// A raw ID token: a bearer-like credential, so never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct IdTokenText(String);

impl IdTokenText {
    /// Wraps a compact JWT.
    #[must_use]
    pub fn new(jwt: String) -> Self {
        Self(jwt)
    }

    /// The compact JWT, for `id_token_hint`.
    #[must_use]
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for IdTokenText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdTokenText([redacted])")
    }
}

/// A completed sign-in: who, and the tokens.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The account.
    pub key: AccountKey,
    /// What we know of the person.
    pub identity: Identity,
    /// The tokens.
    pub tokens: TokenSet,
    /// The refresh token, when `offline_access` was granted.
    pub refresh_token: Option<oauth2::RefreshToken>,
}
