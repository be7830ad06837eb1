// The only way the webview talks to the Rust shell: typed wrappers around
// Tauri's invoke/listen (see ui/IPC.md). Every rejection becomes an IpcError.

import { IpcError, normaliseError } from "./errors.js";

/** @typedef {import("./types.js").TauriGlobal} TauriGlobal */
/** @typedef {import("./types.js").AppInfo} AppInfo */
/** @typedef {import("./types.js").SessionState} SessionState */
/** @typedef {import("./types.js").SessionDetails} SessionDetails */
/** @typedef {import("./types.js").AccountView} AccountView */
/** @typedef {import("./types.js").SignedInView} SignedInView */
/** @typedef {import("./types.js").SignOutView} SignOutView */
/** @typedef {import("./types.js").Item} Item */
/** @typedef {import("./types.js").ItemPage} ItemPage */
/** @typedef {import("./types.js").NewItem} NewItem */
/** @typedef {import("./types.js").ItemPatch} ItemPatch */
/** @typedef {import("./types.js").ListItemsArgs} ListItemsArgs */
/** @typedef {import("./types.js").Settings} Settings */
/** @typedef {import("./types.js").SettingsInput} SettingsInput */
/** @typedef {import("./types.js").DoctorReport} DoctorReport */
/** @typedef {import("./types.js").SignInProgress} SignInProgress */

/**
 * The shell's commands and events, typed.
 * @param {TauriGlobal} tauri `window.__TAURI__`, or a fake in tests
 */
export function createIpc(tauri) {
  /**
   * @param {string} command
   * @param {Record<string, unknown>} [args]
   * @returns {Promise<any>} typed by each wrapper below
   */
  async function call(command, args) {
    try {
      return await tauri.core.invoke(command, args);
    } catch (raw) {
      throw normaliseError(raw);
    }
  }

  return {
    /** @returns {Promise<AppInfo>} */
    appInfo: () => call("app_info"),
    /** @returns {Promise<SessionState>} */
    sessionState: () => call("session_state"),
    /** @returns {Promise<SessionDetails | null>} */
    sessionDetails: () => call("session_details"),
    /** @param {boolean} add @returns {Promise<SignedInView>} */
    signIn: (add) => call("sign_in", { add }),
    /** @returns {Promise<null>} */
    cancelSignIn: () => call("cancel_sign_in"),
    /** @param {string} id @returns {Promise<AccountView>} */
    switchAccount: (id) => call("switch_account", { id }),
    /** @param {string} id @returns {Promise<SignOutView>} */
    signOut: (id) => call("sign_out", { id }),
    /** @param {string} id @returns {Promise<SignOutView>} */
    removeAccount: (id) => call("remove_account", { id }),
    /** @param {ListItemsArgs} args @returns {Promise<ItemPage>} */
    listItems: (args) => call("list_items", { ...args }),
    /**
     * Opens the latest link of the sign-in under way in the browser again (Open again).
     * @returns {Promise<boolean>} false when no sign-in has shown a link yet
     */
    openSignInLink: () => call("open_sign_in_link"),
    /** @param {NewItem} item @returns {Promise<Item>} */
    createItem: (item) => call("create_item", { item }),
    /** @param {string} id @param {ItemPatch} patch @returns {Promise<Item>} */
    updateItem: (id, patch) => call("update_item", { id, patch }),
    /** @param {string} id @returns {Promise<null>} */
    deleteItem: (id) => call("delete_item", { id }),
    /** @returns {Promise<Settings>} */
    getSettings: () => call("get_settings"),
    /** @param {SettingsInput} settings @returns {Promise<AppInfo>} */
    saveSettings: (settings) => call("save_settings", { settings }),
    /** Checks the settings in use (tessera doctor). @returns {Promise<DoctorReport>} */
    checkSettings: () => call("check_settings"),
    /** @returns {Promise<AppInfo>} */
    useDemo: () => call("use_demo"),
    /** @param {string} name @returns {Promise<AppInfo>} */
    useProfile: (name) => call("use_profile", { name }),
    /** Tells the app its first real view is on screen (it logs the start-up time). @returns {Promise<null>} */
    uiReady: () => call("ui_ready", { stage: "interactive" }),

    /**
     * @param {() => void} handler
     * @returns {Promise<() => void>} stops listening
     */
    onSessionChanged: (handler) => tauri.event.listen("session-changed", () => handler()),
    /**
     * The native menu's entries (and their shortcuts) chosen.
     * @param {(entry: string) => void} handler
     * @returns {Promise<() => void>} stops listening
     */
    onMenu: (handler) => tauri.event.listen("menu", (event) => handler(String(event.payload))),
    /**
     * @param {(progress: SignInProgress) => void} handler
     * @returns {Promise<() => void>} stops listening
     */
    onSignInProgress: (handler) =>
      tauri.event.listen("sign-in-progress", (event) => handler(/** @type {SignInProgress} */ (event.payload))),
  };
}

/** @typedef {ReturnType<typeof createIpc>} Ipc */

/**
 * The IPC of the running app, from Tauri's global API.
 * @returns {Ipc}
 * @throws {IpcError} when the page runs outside the app (or `withGlobalTauri` is off)
 */
export function ipcFromWindow() {
  const tauri = window.__TAURI__;
  if (!tauri) {
    throw new IpcError("internal", "This window must run inside the Tessera app: the Tauri API is missing.");
  }
  return createIpc(tauri);
}
