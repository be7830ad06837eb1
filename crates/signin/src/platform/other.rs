//! Any other system (the BSDs, …): no keyring is wired in, so sign-ins are
//! kept in memory when the person agrees; URLs open with `xdg-open`.

use std::sync::Arc;

use keyring_core::CredentialStore;

use crate::store::{KeyringBackend, StoreError};

/// The platform's name, as people say it.
pub const NAME: &str = "this system";

/// The keyring asked for unless another is chosen (it is refused here).
pub const NATIVE_KEYRING: KeyringBackend = KeyringBackend::SecretService;

/// The keyrings there are here: none.
pub const KEYRINGS: &[KeyringBackend] = &[];

/// The program that opens a URL in the person's browser.
pub const URL_OPENER: &str = "xdg-open";

/// Whether [`URL_OPENER`] needs a display (`$DISPLAY` or `$WAYLAND_DISPLAY`).
pub const OPENER_NEEDS_DISPLAY: bool = true;

/// What separates the programs `$BROWSER` lists.
pub const BROWSER_LIST_SEPARATOR: char = ':';

/// Refuses every keyring.
pub(crate) fn open_keyring(backend: KeyringBackend) -> Result<Arc<CredentialStore>, StoreError> {
    Err(StoreError::NotOnThisPlatform { backend, platform: NAME })
}
