//! Linux: the freedesktop Secret Service on the D-Bus session bus (GNOME
//! Keyring, KWallet, KeePassXC) by default, or the kernel keyring
//! (keyutils) for SSH sessions and servers; URLs open with `xdg-open`,
//! which needs a display.

use std::sync::Arc;

use keyring_core::CredentialStore;

use crate::store::{KeyringBackend, StoreError};

/// The platform's name, as people say it.
pub const NAME: &str = "Linux";

/// The keyring used unless another is chosen.
pub const NATIVE_KEYRING: KeyringBackend = KeyringBackend::SecretService;

/// The keyrings there are here, the default first.
pub const KEYRINGS: &[KeyringBackend] = &[KeyringBackend::SecretService, KeyringBackend::KernelKeyring];

/// The program that opens a URL in the person's browser.
pub const URL_OPENER: &str = "xdg-open";

/// Whether [`URL_OPENER`] needs a display (`$DISPLAY` or `$WAYLAND_DISPLAY`):
/// without one (an SSH session, a server, a container) no browser can open.
pub const OPENER_NEEDS_DISPLAY: bool = true;

/// What separates the programs `$BROWSER` lists (as `xdg-open` reads it).
pub const BROWSER_LIST_SEPARATOR: char = ':';

/// Connects to `backend`.
pub(crate) fn open_keyring(backend: KeyringBackend) -> Result<Arc<CredentialStore>, StoreError> {
    let error = |e| StoreError::from_keyring(backend, e);
    let store: Arc<CredentialStore> = match backend {
        KeyringBackend::SecretService => zbus_secret_service_keyring_store::Store::new().map_err(error)?,
        KeyringBackend::KernelKeyring => linux_keyutils_keyring_store::Store::new().map_err(error)?,
        other => return Err(StoreError::NotOnThisPlatform { backend: other, platform: NAME }),
    };
    Ok(store)
}
