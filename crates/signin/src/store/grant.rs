//! What one store entry holds for an account, and how it is written: the
//! only place that knows the entry's format.
//!
//! An entry is text (the Secret Service and the kernel keyring both hold a
//! password string). Four formats are read, two are written:
//!
//! - `tessera-grant/3 {json}`: written when the grant carries the latest
//!   access token ([`StoredAccess`], saved at each refresh so that the
//!   account's other processes use it instead of refreshing again): the
//!   `tessera-grant/2` JSON plus `access_token`, an object with `token`,
//!   `token_type` (`Bearer`, or `DPoP` when the entry holds a key),
//!   `received_at` and `expires_at` (Unix seconds) and `scopes`.
//! - `tessera-grant/2 {json}`: written when there is no access token to
//!   share (a sign-in's entry), so earlier versions still read it. The JSON
//!   has `refresh_token`, and `id_token` (for `id_token_hint` at sign-out
//!   after a restart, OIDC RP-Initiated Logout §2) and `dpop_key` (the
//!   PKCS#8 of the key the tokens are bound to, base64url, RFC 9449) when
//!   there are ones.
//! - `tessera-dpop/1 {key} {token}`: a DPoP-bound refresh token as written
//!   before the ID token was kept.
//! - anything else: a bearer refresh token on its own, as written first.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dpop::DpopKey;
use oauth2::{AccessToken, RefreshToken};
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::account::IdTokenText;

/// The marker of the format with the latest access token.
const SHARED_PREFIX: &str = "tessera-grant/3 ";
/// The marker of the format without one.
const GRANT_PREFIX: &str = "tessera-grant/2 ";
/// The marker of the DPoP format written before it.
const DPOP_PREFIX: &str = "tessera-dpop/1 ";

/// An account's saved sign-in: what lets the app get new tokens without the
/// person (RFC 6749 §6), and what it needs to end the sign-in later.
#[derive(Clone)]
pub struct StoredGrant {
    /// The refresh token.
    pub refresh_token: RefreshToken,
    /// The last ID token, for `id_token_hint` when signing out.
    pub id_token: Option<IdTokenText>,
    /// The key the tokens are bound to (DPoP), if any: a bound refresh token
    /// is of no use without it, so they are kept in one entry and written
    /// in one overwrite.
    pub dpop: Option<Arc<DpopKey>>,
    /// The latest access token, as the last refresh (by any process) got
    /// it: another process adopts it while it is fresh instead of
    /// refreshing again. It lives in the keyring like the refresh token.
    pub access: Option<StoredAccess>,
}

/// An access token shared through the store, with what a process needs to
/// use it: when it was received and when it expires (absolute times, on the
/// clock of the process that received it, to the second) and its scopes.
/// Bound to the entry's DPoP key when the entry has one.
#[derive(Clone)]
pub struct StoredAccess {
    /// The access token (`Debug` prints `[redacted]`).
    pub access_token: AccessToken,
    /// When the token response arrived.
    pub received_at: SystemTime,
    /// When the access token expires.
    pub expires_at: SystemTime,
    /// The scopes granted.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for StoredAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredAccess")
            .field("access_token", &"[redacted]")
            .field("received_at", &self.received_at)
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl std::fmt::Debug for StoredGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredGrant")
            .field("refresh_token", &"[redacted]")
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field("dpop", &self.dpop.as_ref().map(|key| key.thumbprint().to_owned()))
            .field("access", &self.access)
            .finish()
    }
}

/// The JSON of the `tessera-grant/2` and `/3` formats (`/2` never has
/// `access_token`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    refresh_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<WireAccess>,
}

/// The `access_token` object of the `tessera-grant/3` format (and of a
/// service's entry, `tessera-machine/1`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WireAccess {
    token: String,
    pub(super) token_type: String,
    received_at: u64,
    expires_at: u64,
    scopes: Vec<String>,
}

impl WireAccess {
    /// `access` as written, its type `DPoP` when `bound`.
    pub(super) fn from_access(access: &StoredAccess, bound: bool) -> Self {
        Self {
            token: access.access_token.secret().clone(),
            token_type: token_type(bound).to_owned(),
            received_at: unix_seconds(access.received_at),
            expires_at: unix_seconds(access.expires_at),
            scopes: access.scopes.clone(),
        }
    }

    /// The access token as read.
    pub(super) fn into_access(self) -> StoredAccess {
        StoredAccess {
            access_token: AccessToken::new(self.token),
            received_at: from_unix_seconds(self.received_at),
            expires_at: from_unix_seconds(self.expires_at),
            scopes: self.scopes,
        }
    }
}

/// The `token_type` (RFC 6749 §7.1, RFC 9449 §5) of an access token bound
/// (or not) to a key.
fn token_type(bound: bool) -> &'static str {
    if bound { "DPoP" } else { "Bearer" }
}

fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn from_unix_seconds(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

impl StoredGrant {
    /// A bearer refresh token with nothing else.
    #[must_use]
    pub fn bearer(refresh_token: RefreshToken) -> Self {
        Self { refresh_token, id_token: None, dpop: None, access: None }
    }

    /// The grant with one optional part fewer, for a keyring that cannot
    /// hold it all: first without the shared access token (each process
    /// then refreshes on its own), then without the ID token (sign-out then
    /// sends no `id_token_hint`). `None` when only the refresh token and
    /// its DPoP key are left.
    #[must_use]
    pub fn without_extras(&self) -> Option<Self> {
        if self.access.is_some() {
            Some(Self { access: None, ..self.clone() })
        } else if self.id_token.is_some() {
            Some(Self { id_token: None, ..self.clone() })
        } else {
            None
        }
    }

    /// The entry's text. The same grant always gives the same text, so a
    /// store can skip a write that would change nothing.
    #[must_use]
    pub fn encode(&self) -> String {
        let wire = Wire {
            refresh_token: self.refresh_token.secret().clone(),
            id_token: self.id_token.as_ref().map(|t| t.secret().to_owned()),
            dpop_key: self.dpop.as_ref().map(|key| URL_SAFE_NO_PAD.encode(key.pkcs8())),
            access_token: self.access.as_ref().map(|access| WireAccess {
                token: access.access_token.secret().clone(),
                token_type: token_type(self.dpop.is_some()).to_owned(),
                received_at: unix_seconds(access.received_at),
                expires_at: unix_seconds(access.expires_at),
                scopes: access.scopes.clone(),
            }),
        };
        // Serialising strings and numbers cannot fail.
        let json = serde_json::to_string(&wire).unwrap_or_default();
        let prefix = if self.access.is_some() { SHARED_PREFIX } else { GRANT_PREFIX };
        format!("{prefix}{json}")
    }

    /// Reads an entry's text in any of the four formats: `tessera-grant/3`
    /// or `/2` JSON (written now), `tessera-dpop/1` (a bound token and its
    /// key, as written before), or a bare refresh token (as written first).
    /// A shared access token whose type does not match the entry's key
    /// (a bearer token in an entry with a key, or the reverse) is left out.
    ///
    /// # Errors
    /// [`StoreError::Unreadable`] when a marked entry is damaged (changed by
    /// something else): its text is never kept in the error.
    pub fn decode(text: &str) -> Result<Self, StoreError> {
        if let Some(json) = text.strip_prefix(SHARED_PREFIX).or_else(|| text.strip_prefix(GRANT_PREFIX)) {
            let wire: Wire = serde_json::from_str(json).map_err(|_| StoreError::Unreadable)?;
            let dpop = wire.dpop_key.as_deref().map(key_from_text).transpose()?;
            let access =
                wire.access_token.filter(|access| access.token_type == token_type(dpop.is_some())).map(|access| {
                    StoredAccess {
                        access_token: AccessToken::new(access.token),
                        received_at: from_unix_seconds(access.received_at),
                        expires_at: from_unix_seconds(access.expires_at),
                        scopes: access.scopes,
                    }
                });
            return Ok(Self {
                refresh_token: RefreshToken::new(wire.refresh_token),
                id_token: wire.id_token.map(IdTokenText::new),
                dpop,
                access,
            });
        }
        if let Some(rest) = text.strip_prefix(DPOP_PREFIX) {
            let (key, token) = rest.split_once(' ').ok_or(StoreError::Unreadable)?;
            return Ok(Self {
                refresh_token: RefreshToken::new(token.to_owned()),
                id_token: None,
                dpop: Some(key_from_text(key)?),
                access: None,
            });
        }
        // A service's entry is no refresh token (see `StoredMachine`).
        if text.is_empty() || text.starts_with(super::machine::MACHINE_PREFIX) {
            return Err(StoreError::Unreadable);
        }
        Ok(Self::bearer(RefreshToken::new(text.to_owned())))
    }
}

fn key_from_text(text: &str) -> Result<Arc<DpopKey>, StoreError> {
    let pkcs8 = URL_SAFE_NO_PAD.decode(text).map_err(|_| StoreError::Unreadable)?;
    DpopKey::from_pkcs8(&pkcs8).map(Arc::new).map_err(|_| StoreError::Unreadable)
}
