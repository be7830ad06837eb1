//! Linux: WebKitGTK (see [`crate::webview`] for why these settings).

/// Sets WebKitGTK's cache model to "document viewer" and, unless
/// `accelerate`, turns accelerated compositing off.
pub(crate) fn tune_webview(window: &tauri::WebviewWindow, accelerate: bool) -> tauri::Result<()> {
    window.with_webview(move |webview| {
        use webkit2gtk::{SettingsExt, WebContextExt, WebViewExt};
        let view = webview.inner();
        if let Some(context) = view.context() {
            context.set_cache_model(webkit2gtk::CacheModel::DocumentViewer);
        }
        if !accelerate && let Some(settings) = WebViewExt::settings(&view) {
            settings.set_hardware_acceleration_policy(webkit2gtk::HardwareAccelerationPolicy::Never);
        }
    })
}
