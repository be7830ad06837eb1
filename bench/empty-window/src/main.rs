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

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).init();
    let result =
        tauri::Builder::default().invoke_handler(tauri::generate_handler![ui_ready]).run(tauri::generate_context!());
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "the empty window failed");
            std::process::ExitCode::FAILURE
        }
    }
}
