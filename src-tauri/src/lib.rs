//! Tessera's desktop shell: a thin Tauri 2 layer over `tessera-signin`.
//!
//! `main.rs` only calls [`run`]; the window, its capabilities and its
//! content-security policy are declared in `tauri.conf.json` (repository root)
//! and `src-tauri/capabilities/`.

/// Starts the desktop app and blocks until its last window closes.
///
/// # Errors
/// Fails when the webview cannot be created (for example, no display).
pub fn run() -> tauri::Result<()> {
    tauri::Builder::default().run(tauri::generate_context!())
}
