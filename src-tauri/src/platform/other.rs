//! Windows (WebView2) and macOS (WKWebView): the webview keeps its defaults.

/// Nothing to set.
#[allow(clippy::unnecessary_wraps)]
pub(crate) fn tune_webview(window: &tauri::WebviewWindow, accelerate: bool) -> tauri::Result<()> {
    let _ = (window, accelerate);
    Ok(())
}
