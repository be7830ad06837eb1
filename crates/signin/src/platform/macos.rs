//! macOS: the login Keychain (`apple-native-keyring-store`'s `keychain`
//! store, which needs no provisioning profile); URLs open with `open`.
//! Type-checked in CI (`aarch64-apple-darwin`), not built or run there.

use std::sync::Arc;

use keyring_core::CredentialStore;

use crate::store::{KeyringBackend, StoreError};

/// The platform's name, as people say it.
pub const NAME: &str = "macOS";

/// The keyring used unless another is chosen.
pub const NATIVE_KEYRING: KeyringBackend = KeyringBackend::Keychain;

/// The keyrings there are here, the default first.
pub const KEYRINGS: &[KeyringBackend] = &[KeyringBackend::Keychain];

/// The program that opens a URL in the person's browser.
pub const URL_OPENER: &str = "open";

/// Whether [`URL_OPENER`] needs `$DISPLAY`: no.
pub const OPENER_NEEDS_DISPLAY: bool = false;

/// What separates the programs `$BROWSER` lists.
pub const BROWSER_LIST_SEPARATOR: char = ':';

/// Connects to `backend`.
pub(crate) fn open_keyring(backend: KeyringBackend) -> Result<Arc<CredentialStore>, StoreError> {
    let store: Arc<CredentialStore> = match backend {
        KeyringBackend::Keychain => {
            apple_native_keyring_store::keychain::Store::new().map_err(|e| StoreError::from_keyring(backend, e))?
        }
        other => return Err(StoreError::NotOnThisPlatform { backend: other, platform: NAME }),
    };
    Ok(store)
}
