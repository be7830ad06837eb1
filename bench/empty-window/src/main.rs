//! An empty Tauri window whose page calls `ui_ready` once painted; the
//! command logs the time as Tessera's does.

/// Logs the first paint, in the same words as Tessera's `ui_ready`.
#[tauri::command]
fn ui_ready(stage: String) {
    if stage != "first-paint" {
        return;
    }
    let unix_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    tracing::info!(first_paint_unix_ms = unix_ms, "first paint");
}

/// With `EMPTY_WINDOW_WEBKIT=tessera`, the WebKit settings Tessera applies
/// (src-tauri/src/webview.rs): no memory cache, no accelerated compositing.
/// The benchmark measures the floor both ways.
fn tune_like_tessera(app: &mut tauri::App) {
    use tauri::Manager;
    if std::env::var("EMPTY_WINDOW_WEBKIT").as_deref() != Ok("tessera") {
        return;
    }
    let Some(window) = app.get_webview_window("main") else { return };
    let _ = window.with_webview(|webview| {
        use webkit2gtk::{SettingsExt, WebContextExt, WebViewExt};
        let view = webview.inner();
        if let Some(context) = view.context() {
            context.set_cache_model(webkit2gtk::CacheModel::DocumentViewer);
        }
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_hardware_acceleration_policy(webkit2gtk::HardwareAccelerationPolicy::Never);
        }
    });
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let result = tauri::Builder::default()
        .setup(|app| {
            tune_like_tessera(app);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![ui_ready])
        .run(tauri::generate_context!());
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the empty window failed");
            std::process::ExitCode::FAILURE
        }
    }
}
