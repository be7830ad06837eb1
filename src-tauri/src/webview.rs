//! WebKitGTK settings for an app that shows one local page (Linux; the
//! platform module applies them: WebView2 on Windows and WKWebView on macOS
//! keep their defaults).
//!
//! - **Cache model "document viewer"**: WebKit keeps no memory cache of
//!   pages and resources; the app's page and scripts come from the binary
//!   and are loaded once.
//! - **No accelerated compositing**: WebKit paints the page on the CPU
//!   instead of keeping GL layers and tiles for it. The app's page (forms,
//!   a windowed list, no animations but a spinner) paints quickly that way,
//!   and it saves most of WebKit's memory: measured under Xvfb, the web
//!   process holds 121 MiB instead of 228 MiB with a thousand items listed
//!   (BENCHMARKS.md). It also avoids the blank windows compositing causes
//!   with some GPU drivers. `TESSERA_HARDWARE_ACCELERATION=1` turns it back on.

/// The variable that keeps WebKit's default (accelerated) compositing.
pub const HARDWARE_ACCELERATION_VAR: &str = "TESSERA_HARDWARE_ACCELERATION";

/// Applies the settings above to `window`'s webview.
pub fn tune(window: &tauri::WebviewWindow) {
    let accelerate = std::env::var(HARDWARE_ACCELERATION_VAR).is_ok_and(|v| v == "1");
    let applied = crate::platform::tune_webview(window, accelerate);
    if let Err(error) = applied {
        tracing::warn!(%error, "the webview's settings were not applied");
    }
}
