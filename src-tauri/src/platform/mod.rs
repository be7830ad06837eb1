//! What the desktop shell does differently per operating system, one module
//! per platform: the webview's settings. (The sign-in core's differences,
//! the keyrings and the URL opener, are in `signin::platform`; deep links
//! and single-instance forwarding are the Tauri plugins' on every platform.)

#[cfg(target_os = "linux")]
#[path = "linux.rs"]
mod current;
#[cfg(not(target_os = "linux"))]
#[path = "other.rs"]
mod current;

pub(crate) use current::tune_webview;
