//! Windows: the Credential Manager (generic credentials of the signed-in
//! user, `windows-native-keyring-store`); URLs open with `explorer`.
//! Compiled and linked in CI (`x86_64-pc-windows-gnu`), not run there.

use std::sync::Arc;

use keyring_core::CredentialStore;

use crate::store::{KeyringBackend, StoreError};

/// The platform's name, as people say it.
pub const NAME: &str = "Windows";

/// The keyring used unless another is chosen.
pub const NATIVE_KEYRING: KeyringBackend = KeyringBackend::CredentialManager;

/// The keyrings there are here, the default first.
pub const KEYRINGS: &[KeyringBackend] = &[KeyringBackend::CredentialManager];

/// The program that opens a URL in the person's browser (the default
/// browser, through the shell's URL association).
pub const URL_OPENER: &str = "explorer";

/// Whether [`URL_OPENER`] needs `$DISPLAY`: no, a desktop session has one.
pub const OPENER_NEEDS_DISPLAY: bool = false;

/// What separates the programs `$BROWSER` lists (`;`, as in `PATH`: a
/// Windows path holds `:`).
pub const BROWSER_LIST_SEPARATOR: char = ';';

/// Connects to `backend`.
pub(crate) fn open_keyring(backend: KeyringBackend) -> Result<Arc<CredentialStore>, StoreError> {
    let store: Arc<CredentialStore> = match backend {
        KeyringBackend::CredentialManager => {
            windows_native_keyring_store::Store::new().map_err(|e| StoreError::from_keyring(backend, e))?
        }
        other => return Err(StoreError::NotOnThisPlatform { backend: other, platform: NAME }),
    };
    Ok(store)
}
