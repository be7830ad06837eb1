//! The native menu bar (File, Edit, Account, Help) and its shortcuts. Its
//! own entries are handed to the webview as [`MENU_EVENT`] with the entry's
//! id (`ui/IPC.md`); Edit's are GTK's own (cut, copy, paste, select all).

use tauri::menu::{Menu, MenuBuilder, MenuItemBuilder, SubmenuBuilder};
use tauri::{AppHandle, Emitter, Runtime};

/// The event carrying a chosen menu entry's id to the webview.
pub const MENU_EVENT: &str = "menu";

/// The entries the webview acts on: id, label, accelerator, submenu.
pub const ENTRIES: [(&str, &str, &str, &str); 6] = [
    ("new-item", "New item", "CmdOrCtrl+N", "File"),
    ("settings", "Settings…", "CmdOrCtrl+Comma", "File"),
    ("search", "Search items", "CmdOrCtrl+F", "Edit"),
    ("refresh", "Refresh", "CmdOrCtrl+R", "Account"),
    ("sign-out", "Sign out", "CmdOrCtrl+Shift+Q", "Account"),
    ("about", "About Tessera", "F1", "Help"),
];

/// Builds the menu bar.
///
/// # Errors
/// When the platform's menu cannot be made.
pub fn build<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<Menu<R>> {
    let item = |id: &str| {
        let (id, label, accelerator, _) = ENTRIES.iter().find(|e| e.0 == id).copied().unwrap_or((id, id, "", ""));
        MenuItemBuilder::with_id(id, label).accelerator(accelerator).build(app)
    };
    let file = SubmenuBuilder::new(app, "File")
        .item(&item("new-item")?)
        .separator()
        .item(&item("settings")?)
        .separator()
        .item(&MenuItemBuilder::with_id(QUIT, "Quit").accelerator("CmdOrCtrl+Q").build(app)?)
        .build()?;
    let edit = SubmenuBuilder::new(app, "Edit")
        .undo()
        .redo()
        .separator()
        .cut()
        .copy()
        .paste()
        .select_all()
        .separator()
        .item(&item("search")?)
        .build()?;
    let account = SubmenuBuilder::new(app, "Account").item(&item("refresh")?).item(&item("sign-out")?).build()?;
    let help = SubmenuBuilder::new(app, "Help").item(&item("about")?).build()?;
    MenuBuilder::new(app).items(&[&file, &edit, &account, &help]).build()
}

/// File → Quit: ends the app normally (the window's state is saved then).
const QUIT: &str = "quit";

/// Quits on File → Quit; hands the webview the entries it acts on.
pub fn on_event<R: Runtime>(app: &AppHandle<R>, id: &str) {
    if id == QUIT {
        return app.exit(0);
    }
    if let Some((id, ..)) = ENTRIES.iter().find(|e| e.0 == id)
        && let Err(error) = app.emit(MENU_EVENT, *id)
    {
        tracing::debug!(%error, "could not hand the menu entry to the window");
    }
}
