//! The `tessera-desktop` binary.
// Hide the console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() -> std::process::ExitCode {
    // Logs go to stderr, filtered by RUST_LOG (default: info). Nothing logged
    // carries a token: the core logs account ids, the shell schemes and paths.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    match tessera_desktop::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("tessera-desktop: {}", tessera_desktop::ipc::message_with_causes(error.as_ref()));
            std::process::ExitCode::FAILURE
        }
    }
}
