//! What one store entry holds for an account, and how it is written: the
//! only place that knows the entry's format.
//!
//! An entry is text (the Secret Service and the kernel keyring both hold a
//! password string). Three formats are read, one is written:
//!
//! - `tessera-grant/2 {json}`: written now. The JSON has `refresh_token`,
//!   and `id_token` (for `id_token_hint` at sign-out after a restart, OIDC
//!   RP-Initiated Logout §2) and `dpop_key` (the PKCS#8 of the key the
//!   tokens are bound to, base64url, RFC 9449) when there are ones.
//! - `tessera-dpop/1 {key} {token}`: a DPoP-bound refresh token as written
//!   before the ID token was kept.
//! - anything else: a bearer refresh token on its own, as written first.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dpop::DpopKey;
use oauth2::RefreshToken;
use serde::{Deserialize, Serialize};

use super::StoreError;
use crate::account::IdTokenText;

/// The marker of the format written now.
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
}

impl std::fmt::Debug for StoredGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredGrant")
            .field("refresh_token", &"[redacted]")
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field("dpop", &self.dpop.as_ref().map(|key| key.thumbprint().to_owned()))
            .finish()
    }
}

/// The JSON of the `tessera-grant/2` format.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    refresh_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_key: Option<String>,
}

impl StoredGrant {
    /// A bearer refresh token with nothing else.
    #[must_use]
    pub fn bearer(refresh_token: RefreshToken) -> Self {
        Self { refresh_token, id_token: None, dpop: None }
    }

    /// The entry's text. The same grant always gives the same text, so a
    /// store can skip a write that would change nothing.
    #[must_use]
    pub fn encode(&self) -> String {
        let wire = Wire {
            refresh_token: self.refresh_token.secret().clone(),
            id_token: self.id_token.as_ref().map(|t| t.secret().to_owned()),
            dpop_key: self.dpop.as_ref().map(|key| URL_SAFE_NO_PAD.encode(key.pkcs8())),
        };
        // Serialising three strings cannot fail.
        let json = serde_json::to_string(&wire).unwrap_or_default();
        format!("{GRANT_PREFIX}{json}")
    }

    /// Reads an entry's text in any of the three formats: `tessera-grant/2`
    /// JSON (written now), `tessera-dpop/1` (a bound token and its key, as
    /// written before), or a bare refresh token (as written first).
    ///
    /// # Errors
    /// [`StoreError::Unreadable`] when a marked entry is damaged (changed by
    /// something else): its text is never kept in the error.
    pub fn decode(text: &str) -> Result<Self, StoreError> {
        if let Some(json) = text.strip_prefix(GRANT_PREFIX) {
            let wire: Wire = serde_json::from_str(json).map_err(|_| StoreError::Unreadable)?;
            let dpop = wire.dpop_key.as_deref().map(key_from_text).transpose()?;
            return Ok(Self {
                refresh_token: RefreshToken::new(wire.refresh_token),
                id_token: wire.id_token.map(IdTokenText::new),
                dpop,
            });
        }
        if let Some(rest) = text.strip_prefix(DPOP_PREFIX) {
            let (key, token) = rest.split_once(' ').ok_or(StoreError::Unreadable)?;
            return Ok(Self {
                refresh_token: RefreshToken::new(token.to_owned()),
                id_token: None,
                dpop: Some(key_from_text(key)?),
            });
        }
        if text.is_empty() {
            return Err(StoreError::Unreadable);
        }
        Ok(Self::bearer(RefreshToken::new(text.to_owned())))
    }
}

fn key_from_text(text: &str) -> Result<Arc<DpopKey>, StoreError> {
    let pkcs8 = URL_SAFE_NO_PAD.decode(text).map_err(|_| StoreError::Unreadable)?;
    DpopKey::from_pkcs8(&pkcs8).map(Arc::new).map_err(|_| StoreError::Unreadable)
}
