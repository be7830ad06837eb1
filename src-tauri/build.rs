//! Build script of the desktop shell: the package root is the repository root
//! (where `tauri.conf.json` lives), the shell's own files are in `src-tauri/`.
//!
//! The app manifest declares every command, so that each gets an
//! `allow-<command>` permission and none is callable unless a capability in
//! `src-tauri/capabilities/` grants it.

/// The commands of `src-tauri/src/commands.rs`, in its order (a unit test
/// there checks this list against the file and the capability).
const COMMANDS: &[&str] = &[
    "app_info",
    "session_state",
    "session_details",
    "sign_in",
    "open_sign_in_link",
    "cancel_sign_in",
    "switch_account",
    "sign_out",
    "remove_account",
    "list_items",
    "get_item",
    "create_item",
    "update_item",
    "delete_item",
    "get_settings",
    "save_settings",
    "check_settings",
    "use_demo",
    "use_profile",
    "ui_ready",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        // A build script reports failure by panicking; print the whole chain first.
        eprintln!("tauri-build failed: {error:#}");
        std::process::exit(1);
    }
}
