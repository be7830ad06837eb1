//! Tessera's desktop app: a Tauri 2 shell over the sign-in core.
//!
//! - [`desktop`]: the app's state and every decision it makes, without
//!   Tauri (demo or configured provider, session, items, settings);
//! - [`commands`]: the `#[tauri::command]`s, each adapting one method;
//! - [`ipc`]: what crosses to the webview (never a token).
//!
//! The deep-link redirect (`com.example.tessera:/callback?…`) reaches the
//! running app through `tauri-plugin-deep-link`; a second launch with the
//! link (the OS's scheme handler starts the app again) is forwarded to the
//! first by `tauri-plugin-single-instance`, registered first as its docs ask.

pub mod commands;
pub mod desktop;
pub mod ipc;
pub mod logs;
pub mod menu;
mod platform;
pub mod webview;

/// The app's version (the package's; `tauri.conf.json` takes it from there).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_deep_link::DeepLinkExt;
use url::Url;

use crate::desktop::{Desktop, Options, Starting};

/// How long the app's state waits for the first paint before starting anyway.
pub const FIRST_PAINT_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// When the app started (for the start-up time `ui_ready` logs).
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// The app's builder with its plugins and commands; `run` adds the state
/// and starts it.
#[must_use]
pub fn builder() -> tauri::Builder<tauri::Wry> {
    tauri::Builder::default()
        // First: a second launch hands its arguments (a deep link) to this one.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| commands::show_main_window(app)))
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_opener::init())
        // The window's size, place and maximised state, kept across restarts.
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .invoke_handler(handler())
}

/// The command handler (also used by the in-process IPC tests).
pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        commands::app_info,
        commands::session_state,
        commands::session_details,
        commands::sign_in,
        commands::open_sign_in_link,
        commands::cancel_sign_in,
        commands::switch_account,
        commands::sign_out,
        commands::remove_account,
        commands::list_items,
        commands::get_item,
        commands::create_item,
        commands::update_item,
        commands::delete_item,
        commands::get_settings,
        commands::save_settings,
        commands::check_settings,
        commands::use_demo,
        commands::use_profile,
        commands::ui_ready,
    ]
}

/// Starts the background work of a running app: the session's refresh
/// ahead of expiry, and the `session-changed` events for the webview.
pub fn start_background<R: Runtime>(app: &AppHandle<R>) {
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let Ok(desktop) = handle.state::<Starting>().desktop().await else { return };
        desktop
            .watch_changes(|| {
                if let Err(error) = handle.emit(commands::SESSION_CHANGED, ()) {
                    tracing::debug!(%error, "could not emit session-changed");
                }
            })
            .await;
    });
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let Ok(desktop) = handle.state::<Starting>().desktop().await else { return };
        loop {
            let wait = desktop.keep_fresh().await;
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = desktop.changed() => {}
            }
        }
    });
}

/// Hands deep links to the waiting sign-in.
async fn on_deep_links<R: Runtime>(app: AppHandle<R>, urls: Vec<Url>) {
    let desktop = match app.state::<Starting>().desktop().await {
        Ok(desktop) => desktop,
        Err(error) => return tracing::warn!(%error, "link refused: the app did not start"),
    };
    for url in &urls {
        // Log the scheme and path only: the query holds the code.
        match desktop.deliver_deep_link(url) {
            Ok(desktop::LinkDelivered::SignIn) => {
                tracing::info!(scheme = url.scheme(), path = url.path(), "sign-in link received");
            }
            Ok(desktop::LinkDelivered::SignedOut) => {
                tracing::info!("back from signing out at the provider");
                commands::signed_out_at_provider(&app);
            }
            Err(error) => tracing::warn!(scheme = url.scheme(), path = url.path(), %error, "link refused"),
        }
    }
    commands::show_main_window(&app);
}

/// Runs the app.
///
/// # Errors
/// When the configuration is invalid, the demo stack cannot start, or the
/// window cannot be created.
pub fn run() -> Result<(), Box<dyn std::error::Error>> {
    STARTED.get_or_init(std::time::Instant::now);
    let options = Options::from_process()?;
    builder()
        .setup(move |app| {
            // The window opens now; the demo stack or the keyring gets ready
            // once it has painted (or after FIRST_PAINT_WAIT), and the
            // commands wait for it.
            let (starting, started) = Starting::new();
            app.manage(starting);
            app.manage(commands::FirstPaint::default());
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                let first_paint = handle.state::<commands::FirstPaint>();
                let _ = tokio::time::timeout(FIRST_PAINT_WAIT, first_paint.0.notified()).await;
                started.send(Desktop::start(options).await);
            });
            let handle = app.handle().clone();
            app.deep_link().on_open_url(move |event| {
                tauri::async_runtime::spawn(on_deep_links(handle.clone(), event.urls()));
            });
            // Launched by a link (no sign-in waits yet: it is refused, logged).
            if let Ok(Some(urls)) = app.deep_link().get_current() {
                tauri::async_runtime::spawn(on_deep_links(app.handle().clone(), urls));
            }
            start_background(app.handle());
            let menu = menu::build(app.handle())?;
            app.set_menu(menu)?;
            app.on_menu_event(|app, event| menu::on_event(app, event.id().as_ref()));
            if let Some(window) = app.get_webview_window("main") {
                webview::tune(&window);
            }
            Ok(())
        })
        .run(tauri::generate_context!())?;
    Ok(())
}
