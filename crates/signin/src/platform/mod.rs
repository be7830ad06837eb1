//! What differs from one operating system to the next, in one module per
//! platform: the OS keyrings there are and how each is opened, the program
//! that opens a URL in the person's browser, and how `$BROWSER` lists
//! programs. Everything else in the workspace is the same code on every
//! platform (folders come from the `directories` crate's answers for the
//! platform, file locks from `std::fs::File::lock`).
//!
//! | Platform | Keyrings ([`KeyringBackend`](crate::store::KeyringBackend)) | Opener |
//! |---|---|---|
//! | Linux | Secret Service (default), kernel keyring | `xdg-open` (needs a display) |
//! | Windows | Credential Manager | `explorer` |
//! | macOS | Keychain | `open` |
//! | others | none (memory only) | `xdg-open` |

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod current;
#[cfg(target_os = "macos")]
#[path = "macos.rs"]
mod current;
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
#[path = "other.rs"]
mod current;
#[cfg(windows)]
#[path = "windows.rs"]
mod current;

pub(crate) use current::open_keyring;
pub use current::{BROWSER_LIST_SEPARATOR, KEYRINGS, NAME, NATIVE_KEYRING, OPENER_NEEDS_DISPLAY, URL_OPENER};

/// Whether `backend` exists on this platform (is one of [`KEYRINGS`]).
#[must_use]
pub fn has_keyring(backend: crate::store::KeyringBackend) -> bool {
    KEYRINGS.contains(&backend)
}
