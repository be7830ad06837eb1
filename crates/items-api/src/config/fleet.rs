//! The settings that let several instances on one database act as one:
//! where accepted DPoP proofs are remembered (`DPOP_REPLAY`) and the key of
//! the API's DPoP nonces (`DPOP_NONCE_KEY` or `DPOP_NONCE_KEY_FILE`).

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use sha2::{Digest as _, Sha256};

use super::{ConfigError, invalid};

/// The fewest bytes a nonce key holds, decoded.
pub const MIN_NONCE_KEY_BYTES: usize = 32;

/// Where accepted DPoP proofs are remembered (`DPOP_REPLAY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayPlace {
    /// In the database, shared by every instance on it (PostgreSQL only;
    /// its default).
    Database,
    /// In this process's memory (SQLite's only choice: one process).
    Memory,
}

/// `DPOP_REPLAY` (`database` or `memory`) for `database_url`: PostgreSQL
/// defaults to the database, SQLite has memory only.
pub(super) fn replay_place(
    setting: &'static str,
    value: Option<&str>,
    database_url: Option<&str>,
) -> Result<ReplayPlace, ConfigError> {
    let postgres = database_url.is_some_and(|url| url.starts_with("postgres://") || url.starts_with("postgresql://"));
    let Some(value) = value else {
        return Ok(if postgres { ReplayPlace::Database } else { ReplayPlace::Memory });
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "database" if postgres || database_url.is_none() => Ok(ReplayPlace::Database),
        "database" => Err(invalid(
            setting,
            "database needs a PostgreSQL DATABASE_URL; with SQLite (one process) proofs are remembered in memory: \
             leave it unset or set memory",
        )),
        "memory" => Ok(ReplayPlace::Memory),
        _ => Err(invalid(setting, format!("{:?} is neither database nor memory", value.trim()))),
    }
}

/// The secret key of the API's DPoP nonces, the same on every instance of a
/// fleet: `DPOP_NONCE_KEY` (base64 of at least [`MIN_NONCE_KEY_BYTES`]
/// random bytes) or the file `DPOP_NONCE_KEY_FILE` holding it. `Debug`
/// leaves it out.
#[derive(Clone)]
pub struct NonceKey([u8; 32]);

impl fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NonceKey([redacted])")
    }
}

impl NonceKey {
    /// The 32 bytes nonces are made with: the SHA-256 of the decoded key
    /// (so a longer key counts whole). Secret.
    #[must_use]
    pub fn bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The key in `text` (base64, standard or URL-safe, padded or not,
    /// surrounding white space ignored); the problem otherwise, which never
    /// repeats the text.
    fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("is empty".to_owned());
        }
        let indifferent = GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
        let decoded = GeneralPurpose::new(&alphabet::STANDARD, indifferent)
            .decode(text)
            .or_else(|_| GeneralPurpose::new(&alphabet::URL_SAFE, indifferent).decode(text))
            .map_err(|_| "is not base64".to_owned())?;
        if decoded.len() < MIN_NONCE_KEY_BYTES {
            return Err(format!(
                "decodes to {} bytes, fewer than {MIN_NONCE_KEY_BYTES}: make one with `openssl rand -base64 32`",
                decoded.len()
            ));
        }
        Ok(Self(Sha256::digest(&decoded).into()))
    }
}

/// The nonce key from `DPOP_NONCE_KEY` (`key`), else the file
/// `DPOP_NONCE_KEY_FILE` (`file`, or the configuration file's
/// `dpop_nonce_key_file`, `file_setting` naming which); `None` when neither
/// is set. Both variables set is refused.
pub(super) fn nonce_key(
    key: Option<String>,
    file: Option<(&'static str, &Path)>,
) -> Result<Option<NonceKey>, ConfigError> {
    match (key, file) {
        (Some(_), Some(("DPOP_NONCE_KEY_FILE", _))) => {
            Err(invalid("DPOP_NONCE_KEY", "DPOP_NONCE_KEY and DPOP_NONCE_KEY_FILE are both set: set one"))
        }
        (Some(key), _) => NonceKey::parse(&key).map(Some).map_err(|problem| invalid("DPOP_NONCE_KEY", problem)),
        (None, Some((setting, path))) => {
            let text = std::fs::read_to_string(path)
                .map_err(|error| invalid(setting, format!("cannot read {}: {error}", path.display())))?;
            NonceKey::parse(&text)
                .map(Some)
                .map_err(|problem| invalid(setting, format!("the key in {} {problem}", path.display())))
        }
        (None, None) => Ok(None),
    }
}
