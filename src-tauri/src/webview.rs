//! WebKitGTK settings for an app that shows one local page.
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
    #[cfg(target_os = "linux")]
    let applied = window.with_webview(move |webview| {
        use webkit2gtk::{SettingsExt, WebContextExt, WebViewExt};
        let view = webview.inner();
        if let Some(context) = view.context() {
            context.set_cache_model(webkit2gtk::CacheModel::DocumentViewer);
        }
        if !accelerate && let Some(settings) = WebViewExt::settings(&view) {
            settings.set_hardware_acceleration_policy(webkit2gtk::HardwareAccelerationPolicy::Never);
        }
    });
    #[cfg(not(target_os = "linux"))]
    let applied: tauri::Result<()> = {
        let _ = (window, accelerate);
        Ok(())
    };
    if let Err(error) = applied {
        tracing::warn!(%error, "the webview's settings were not applied");
    }
}
