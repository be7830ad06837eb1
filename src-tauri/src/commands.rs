//! The `#[tauri::command]`s the webview may call (`ui/IPC.md`): each adapts
//! one [`Desktop`] method. Each is declared in `build.rs`'s app manifest and
//! granted in `src-tauri/capabilities/`.

use std::sync::Arc;

use items_client::{ItemPatch, ListOptions, NewItem};
use serde::Serialize;
use signin::flow::browser::{Browser, BrowserError};
use signin::flow::redirect::{Link, Opening, Shown};
use tauri::{AppHandle, Emitter, Manager, Runtime, State};
use tauri_plugin_opener::OpenerExt;
use url::Url;

use crate::desktop::Starting;
use crate::ipc::{
    AccountView, AppInfo, DoctorReport, IpcError, ItemPageView, ItemView, SessionDetails, SessionState, Settings,
    SettingsInput, SignOutView, SignedInView,
};

/// The event telling the webview that accounts or tokens changed.
pub const SESSION_CHANGED: &str = "session-changed";

/// The event reporting a browser sign-in's progress.
pub const SIGN_IN_PROGRESS: &str = "sign-in-progress";

/// The payload of [`SIGN_IN_PROGRESS`]. `url` (with `waiting` once the
/// browser was sent there, and with `browser-failed`) is the link to sign in
/// with, the latest one: the core pushes the request again before it expires
/// (and once the browser spent it), and each new link comes in another event
/// of the same phase. An authorization URL carries no token.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// `waiting`, `browser-failed`, `done`, `failed`, `signed-out`.
    pub phase: &'static str,
    /// The sign-in page's address: to copy, or to open by hand.
    pub url: Option<String>,
    /// Unix seconds when the sign-in under way stops waiting.
    pub deadline: Option<u64>,
}

/// The event telling the waiting view about `link` (the first one or a
/// renewal): `waiting` when the browser opened, `browser-failed` when the
/// person opens it by hand.
#[must_use]
pub fn link_progress(link: &Link<'_>, deadline: u64) -> Progress {
    let phase = match link.browser {
        Opening::Opened => "waiting",
        Opening::Failed(_) => "browser-failed",
    };
    Progress { phase, url: Some(link.url.to_string()), deadline: Some(deadline) }
}

/// The system browser through `tauri-plugin-opener`. `$BROWSER`, when set,
/// names the program to open URLs with (as `xdg-open` honours it); the tests
/// set it to their HTTP-driver browser.
pub struct OpenerBrowser<R: Runtime> {
    app: AppHandle<R>,
}

impl<R: Runtime> OpenerBrowser<R> {
    /// The opener of `app`.
    #[must_use]
    pub fn new(app: AppHandle<R>) -> Self {
        Self { app }
    }

    /// Opens `url` in the browser.
    ///
    /// # Errors
    /// When the opener fails.
    pub fn open_url(&self, url: &Url) -> Result<(), BrowserError> {
        let with = std::env::var("BROWSER").ok().filter(|v| !v.trim().is_empty());
        self.app.opener().open_url(url.as_str(), with).map_err(|e| BrowserError::Opener(Box::new(e)))
    }
}

impl<R: Runtime> Browser for OpenerBrowser<R> {
    fn open(&self, url: &Url) -> Result<(), BrowserError> {
        self.open_url(url)
    }
}

/// Brings the main window to the front (the browser had it).
pub fn show_main_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let shown = window.unminimize().and_then(|()| window.show()).and_then(|()| window.set_focus());
        if let Err(error) = shown {
            tracing::debug!(%error, "could not bring the window to the front");
        }
    }
}

fn progress<R: Runtime>(app: &AppHandle<R>, phase: &'static str, url: Option<&Url>, deadline: Option<u64>) {
    emit(app, Progress { phase, url: url.map(Url::to_string), deadline });
}

fn emit<R: Runtime>(app: &AppHandle<R>, payload: Progress) {
    if let Err(error) = app.emit(SIGN_IN_PROGRESS, payload) {
        tracing::debug!(%error, "could not emit the sign-in progress");
    }
}

/// Tells the window the browser came back from signing out at the provider.
pub(crate) fn signed_out_at_provider<R: Runtime>(app: &AppHandle<R>) {
    progress(app, "signed-out", None, None);
}

/// The app and where it signs in.
#[tauri::command]
pub async fn app_info(state: State<'_, Starting>) -> Result<AppInfo, IpcError> {
    Ok(state.desktop().await?.app_info())
}

/// The accounts and the active one.
#[tauri::command]
pub async fn session_state(state: State<'_, Starting>) -> Result<SessionState, IpcError> {
    Ok(state.desktop().await?.session_state())
}

/// The session panel's facts.
#[tauri::command]
pub async fn session_details(state: State<'_, Starting>) -> Result<Option<SessionDetails>, IpcError> {
    let desktop = state.desktop().await?;
    desktop.session_details().await
}

/// Signs someone in through the system browser; resolves when it came back.
#[tauri::command]
pub async fn sign_in<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, Starting>,
    add: bool,
) -> Result<SignedInView, IpcError> {
    let desktop = state.desktop().await?;
    let timeout = desktop.session().config().timeout;
    let deadline = crate::ipc::unix_seconds(std::time::SystemTime::now() + timeout);
    let browser: Arc<dyn Browser> = Arc::new(OpenerBrowser::new(app.clone()));
    let emitter = app.clone();
    // The link to copy (or to open by hand when no browser opened): the
    // first one, then each the core renews before its pushed request expires.
    // Always shown (Copy link, Open again), so always kept fresh.
    let on_link = Arc::new(move |link: Link<'_>| {
        emit(&emitter, link_progress(&link, deadline));
        Shown::Yes
    });
    progress(&app, "waiting", None, Some(deadline));
    let result = desktop.sign_in(add, browser, on_link).await;
    progress(&app, if result.is_ok() { "done" } else { "failed" }, None, None);
    show_main_window(&app);
    result
}

/// Opens the latest link of the sign-in under way in the browser again
/// (*Open again*); `false` when no sign-in has shown one (the webview starts
/// one over). The webview names no URL: the shell opens its own.
#[tauri::command]
pub async fn open_sign_in_link<R: Runtime>(app: AppHandle<R>, state: State<'_, Starting>) -> Result<bool, IpcError> {
    let desktop = state.desktop().await?;
    let browser = OpenerBrowser::new(app);
    desktop.open_sign_in_link(|url| browser.open_url(url).map_err(|e| e.to_string()))
}

/// Cancels the sign-in under way.
#[tauri::command]
pub async fn cancel_sign_in(state: State<'_, Starting>) -> Result<(), IpcError> {
    state.desktop().await?.cancel_sign_in();
    Ok(())
}

/// Switches to another signed-in account, without the browser.
#[tauri::command]
pub async fn switch_account(state: State<'_, Starting>, id: String) -> Result<AccountView, IpcError> {
    let desktop = state.desktop().await?;
    desktop.switch_account(&id).await
}

/// Signs an account out, here and (in the browser) at the provider.
#[tauri::command]
pub async fn sign_out<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, Starting>,
    id: String,
) -> Result<SignOutView, IpcError> {
    let desktop = state.desktop().await?;
    let browser = OpenerBrowser::new(app);
    desktop.sign_out(&id, true, |url| browser.open_url(url).map_err(|e| e.to_string())).await
}

/// Removes an account: revokes and forgets its sign-in, no browser.
#[tauri::command]
pub async fn remove_account(state: State<'_, Starting>, id: String) -> Result<SignOutView, IpcError> {
    let desktop = state.desktop().await?;
    desktop.sign_out(&id, false, |_| Ok(())).await
}

/// A page of items.
#[tauri::command]
pub async fn list_items(
    state: State<'_, Starting>,
    q: Option<String>,
    tag: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
) -> Result<ItemPageView, IpcError> {
    let desktop = state.desktop().await?;
    let options = ListOptions { limit, cursor, q: q.filter(|q| !q.is_empty()), tag: tag.filter(|t| !t.is_empty()) };
    desktop.list_items(&options).await.map(ItemPageView::from)
}

/// One item.
#[tauri::command]
pub async fn get_item(state: State<'_, Starting>, id: String) -> Result<ItemView, IpcError> {
    let desktop = state.desktop().await?;
    desktop.get_item(&id).await.map(ItemView::from)
}

/// Creates an item.
#[tauri::command]
pub async fn create_item(state: State<'_, Starting>, item: NewItem) -> Result<ItemView, IpcError> {
    let desktop = state.desktop().await?;
    desktop.create_item(&item).await.map(ItemView::from)
}

/// Changes an item.
#[tauri::command]
pub async fn update_item(state: State<'_, Starting>, id: String, patch: ItemPatch) -> Result<ItemView, IpcError> {
    let desktop = state.desktop().await?;
    desktop.update_item(&id, &patch).await.map(ItemView::from)
}

/// Deletes an item.
#[tauri::command]
pub async fn delete_item(state: State<'_, Starting>, id: String) -> Result<(), IpcError> {
    let desktop = state.desktop().await?;
    desktop.delete_item(&id).await
}

/// The settings.
#[tauri::command]
pub async fn get_settings(state: State<'_, Starting>) -> Result<Settings, IpcError> {
    Ok(state.desktop().await?.settings())
}

/// Checks and saves the settings.
#[tauri::command]
pub async fn save_settings(state: State<'_, Starting>, settings: SettingsInput) -> Result<AppInfo, IpcError> {
    let desktop = state.desktop().await?;
    desktop.save_settings(&settings).await
}

/// Checks the settings in use against the provider and the items API
/// (`tessera doctor`'s report).
#[tauri::command]
pub async fn check_settings(state: State<'_, Starting>) -> Result<DoctorReport, IpcError> {
    Ok(state.desktop().await?.check_settings().await)
}

/// Back to the demo provider.
#[tauri::command]
pub async fn use_demo(state: State<'_, Starting>) -> Result<AppInfo, IpcError> {
    let desktop = state.desktop().await?;
    desktop.use_demo().await
}

/// Signs in with another profile of the configuration file (`default`: its
/// top level), and uses its most recent account.
#[tauri::command]
pub async fn use_profile(state: State<'_, Starting>, name: String) -> Result<AppInfo, IpcError> {
    let desktop = state.desktop().await?;
    desktop.use_profile(&name).await
}

/// The webview reached a start-up `stage`: `first-paint` (its first frame,
/// the loading view) or `interactive` (the first real view). Logs the time
/// since the app started, and the wall-clock time the start-up benchmark
/// reads. Other stages are ignored.
///
/// The first paint also lets the app's state start (see [`FirstPaint`]).
#[tauri::command]
pub fn ui_ready(first_paint: State<'_, FirstPaint>, stage: String) {
    let since_start = crate::STARTED.get().map_or(0, |s| s.elapsed().as_millis());
    let unix_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
    match stage.as_str() {
        "first-paint" => {
            first_paint.0.notify_one();
            tracing::info!(since_start_ms = since_start, first_paint_unix_ms = unix_ms, "first paint");
        }
        "interactive" => {
            tracing::info!(since_start_ms = since_start, interactive_unix_ms = unix_ms, "first view ready")
        }
        _ => {}
    }
}

/// Rings when the webview has painted its first frame: the app's state (the
/// demo stack's key generation above all) starts then, so that it does not
/// compete with WebKit's start for the CPU.
#[derive(Debug, Default)]
pub struct FirstPaint(pub tokio::sync::Notify);

#[cfg(test)]
mod tests {
    /// The `#[tauri::command]` functions of this file, by name.
    fn commands() -> Vec<&'static str> {
        include_str!("commands.rs")
            .split("#[tauri::command]\npub ")
            .skip(1)
            .filter_map(|rest| rest.split_once("fn ")?.1.split(['(', '<']).next())
            .collect()
    }

    #[test]
    fn build_rs_declares_exactly_these_commands_and_the_capability_grants_them() {
        let build = include_str!("../build.rs");
        let declared: Vec<&str> = build
            .split_once("const COMMANDS: &[&str] = &[")
            .and_then(|(_, rest)| rest.split_once("];"))
            .map(|(list, _)| list.split(',').map(|s| s.trim().trim_matches('"')).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        let commands = commands();
        assert_eq!(commands.len(), 20, "{commands:?}");
        assert_eq!(declared, commands);
        let capability: serde_json::Value = serde_json::from_str(include_str!("../capabilities/default.json")).unwrap();
        let granted: Vec<&str> =
            capability["permissions"].as_array().unwrap().iter().filter_map(|p| p.as_str()).collect();
        for name in commands {
            let permission = format!("allow-{}", name.replace('_', "-"));
            assert!(granted.contains(&permission.as_str()), "{permission} is not granted");
        }
        let plugins: Vec<&&str> = granted.iter().filter(|p| p.contains(':') && !p.starts_with("core:event:")).collect();
        assert!(plugins.is_empty(), "the webview needs no plugin permission: {plugins:?}");
    }

    /// Every link the core hands over (the first, each renewal) reaches the
    /// waiting view with the phase saying whether the browser opened.
    #[test]
    fn each_link_is_a_progress_event_whose_phase_says_whether_the_browser_opened() {
        use signin::flow::browser::BrowserError;
        use signin::flow::redirect::{Link, Opening};
        let url = url::Url::parse("https://idp.example/authorize?client_id=app&request_uri=urn%3Ax").unwrap();
        let renewed = super::link_progress(&Link { url: &url, browser: Opening::Opened, renewed: true }, 42);
        assert_eq!(
            (renewed.phase, renewed.url.as_deref(), renewed.deadline),
            ("waiting", Some(url.as_str()), Some(42))
        );
        let error = BrowserError::NotFound;
        let by_hand = super::link_progress(&Link { url: &url, browser: Opening::Failed(&error), renewed: false }, 42);
        assert_eq!((by_hand.phase, by_hand.url.as_deref()), ("browser-failed", Some(url.as_str())));
    }
}
