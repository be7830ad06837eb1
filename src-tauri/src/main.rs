//! The `tessera-desktop` binary.
// Hide the console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use tessera_desktop::logs;

const HELP: &str = "\
Tessera: sign in with Okta or any OpenID provider and browse your items.

Usage: tessera-desktop [LINK]

  LINK           a sign-in link (com.example.tessera:/callback?…) for the
                 running app; the desktop passes it when you follow one
  -V, --version  print the version and exit
  -h, --help     print this help and exit

Without a configured provider (tessera.toml, OKTA_ISSUER / OKTA_DOMAIN) the
app starts in demo mode. Logs go to standard error and to the log folder
(TESSERA_LOG_DIR, or ~/.local/state/tessera/logs), tokens removed.
";

#[allow(clippy::print_stdout)] // --version and --help answer on standard output
fn main() -> std::process::ExitCode {
    match std::env::args().nth(1).as_deref() {
        Some("-V" | "--version") => {
            println!("Tessera {}", tessera_desktop::VERSION);
            return std::process::ExitCode::SUCCESS;
        }
        Some("-h" | "--help") => {
            print!("{HELP}");
            return std::process::ExitCode::SUCCESS;
        }
        _ => {}
    }
    let _logs = logs::init();
    match tessera_desktop::run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            let message = tessera_desktop::ipc::message_with_causes(error.as_ref());
            tracing::error!("{message}");
            eprintln!("tessera-desktop: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
