//! A service's saved credential (client credentials, RFC 6749 §4.4): what
//! one store entry holds for a machine identity, and how it is written. It
//! lives in the same place as people's sign-ins (the keyring entry of its
//! [`AccountKey`](crate::AccountKey): issuer, client id, and the client id
//! again as subject), never in a file.
//!
//! `tessera-machine/1 {json}`: `client_secret` when the service
//! authenticates with a secret (with `private_key_jwt` only the key file's
//! path is remembered, in the account book), and `access_token` (as in
//! `tessera-grant/3`) once a token was fetched, so that the account's other
//! processes use it while it is fresh. There is no refresh token: an
//! expired access token is fetched again with the credential.

use oauth2::ClientSecret;
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::grant::{StoredAccess, WireAccess};

/// The marker of a service's entry. [`StoredGrant::decode`](super::StoredGrant::decode)
/// refuses it (it is never taken for a refresh token).
pub(crate) const MACHINE_PREFIX: &str = "tessera-machine/";
/// The marker of the format written now.
const MACHINE_V1: &str = "tessera-machine/1 ";

/// A service's saved credential and its latest access token.
#[derive(Clone)]
pub struct StoredMachine {
    /// The client secret (`client_secret_basic`); `None` with
    /// `private_key_jwt`. `Debug` prints `[redacted]`.
    pub client_secret: Option<ClientSecret>,
    /// The latest access token, shared by the account's processes.
    pub access: Option<StoredAccess>,
}

impl std::fmt::Debug for StoredMachine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredMachine")
            .field("client_secret", &self.client_secret.as_ref().map(|_| "[redacted]"))
            .field("access", &self.access)
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<WireAccess>,
}

impl StoredMachine {
    /// The entry's text; the same credential always gives the same text.
    #[must_use]
    pub fn encode(&self) -> String {
        let wire = Wire {
            client_secret: self.client_secret.as_ref().map(|s| s.secret().clone()),
            access_token: self.access.as_ref().map(|access| WireAccess::from_access(access, false)),
        };
        // Serialising strings and numbers cannot fail.
        format!("{MACHINE_V1}{}", serde_json::to_string(&wire).unwrap_or_default())
    }

    /// Reads an entry's text.
    ///
    /// # Errors
    /// [`StoreError::Unreadable`] when it is not a service's entry (a
    /// person's, or damaged); its text is never kept in the error.
    pub fn decode(text: &str) -> Result<Self, StoreError> {
        let json = text.strip_prefix(MACHINE_V1).ok_or(StoreError::Unreadable)?;
        let wire: Wire = serde_json::from_str(json).map_err(|_| StoreError::Unreadable)?;
        Ok(Self {
            client_secret: wire.client_secret.map(ClientSecret::new),
            access: wire.access_token.filter(|a| a.token_type == "Bearer").map(WireAccess::into_access),
        })
    }
}
