// Start-up and wiring: owns the session data and the flow state, and connects
// the views to the IPC. Everything else lives in the modules it imports.

import { createAccountMenu } from "./accountMenu.js";
import { byId } from "./dom.js";
import { explainError, needsSignIn, normaliseError, signInFailureText } from "./errors.js";
import { createAbout } from "./about.js";
import { createHeader } from "./header.js";
import { ipcFromWindow } from "./ipc.js";
import { setCurrency } from "./format.js";
import { createItemsView } from "./itemsView.js";
import { createSessionPanel } from "./sessionPanel.js";
import { createSettingsView } from "./settingsView.js";
import { flowReducer, initialFlow, linkActions } from "./signInFlow.js";
import { shortcutOf } from "./shortcuts.js";
import { createSignInView } from "./signInView.js";
import { createToaster } from "./toast.js";

/** @typedef {import("./types.js").AppInfo} AppInfo */
/** @typedef {import("./types.js").AccountView} AccountView */
/** @typedef {import("./types.js").SessionState} SessionState */
/** @typedef {import("./types.js").SignInProgress} SignInProgress */
/** @typedef {import("./signInFlow.js").FlowAction} FlowAction */
/** @typedef {import("./signInFlow.js").View} View */
/** @typedef {import("./ipc.js").Ipc} Ipc */

/** The <main> element of each view. @type {Record<View, HTMLElement>} */
const views = {
  loading: byId("view-loading", HTMLElement),
  welcome: byId("view-welcome", HTMLElement),
  waiting: byId("view-waiting", HTMLElement),
  items: byId("view-items", HTMLElement),
  settings: byId("view-settings", HTMLElement),
};

/** What choosing a profile in the header does (set once the app runs). @type {(name: string) => void} */
let chooseProfile = () => {};
const header = createHeader((name) => chooseProfile(name), (info) => setCurrency(info.currency));

/**
 * Runs the app against the shell's IPC.
 * @param {Ipc} ipc
 */
async function run(ipc) {
  let flow = initialFlow;
  const toaster = createToaster();
  /** @type {AppInfo | null} */
  let appInfo = null;
  createAbout(() => appInfo);
  /** The usable active account, whose items are shown. @type {string | null} */
  let activeId = null;
  /** Bumped when a sign-in is cancelled or started, so a stale answer is ignored. */
  let signInAttempt = 0;
  let signInPending = false;
  /** Whether the sign-in under way adds an account (Open again starts the same kind). */
  let lastAdd = false;

  /** @param {FlowAction} action */
  function dispatch(action) {
    const previous = flow.view;
    flow = flowReducer(flow, action);
    document.body.dataset.view = flow.view;
    for (const [name, view] of Object.entries(views)) view.hidden = name !== flow.view;
    renderSignIn(flow, appInfo);
    if (flow.view !== previous) {
      // A confirmation belongs to the view it was shown in.
      toaster.hide();
      /** @type {HTMLElement | null} */ (views[flow.view].querySelector("[data-focus]"))?.focus();
    }
  }

  /**
   * Shows an error: a lost session goes back to the welcome view, anything else to the banner.
   * @param {unknown} error
   */
  function reportError(error) {
    const err = normaliseError(error);
    if (needsSignIn(err)) {
      activeId = null;
      itemsView.clear();
      dispatch({ type: "sign-in-required", message: err.message });
    } else {
      header.showError(err);
    }
  }

  /** Reloads accounts and session details; reloads the items when the active account changed. */
  async function syncSession() {
    const state = await ipc.sessionState();
    header.renderOffline(state.offline);
    renderAccounts(state);
    let details;
    try {
      details = await ipc.sessionDetails();
    } catch (error) {
      // Offline (or the provider limiting requests): the banner says so; the rest of the view stays as it was.
      const { code } = normaliseError(error);
      if (state.offline && (code === "provider_unreachable" || code === "rate_limited")) return state;
      throw error;
    }
    renderSession(details);
    itemsView.setDetails(details);
    const usable = state.active && !state.active.needsSignIn ? state.active.id : null;
    if (usable !== activeId) {
      activeId = usable;
      itemsView.clear();
      if (usable) itemsView.reload();
    }
    return state;
  }

  /** @param {boolean} add sign in to another account, keeping the current ones */
  async function signIn(add) {
    lastAdd = add;
    const attempt = ++signInAttempt;
    header.clearError();
    dispatch({ type: "sign-in-started" });
    signInPending = true;
    try {
      const signedIn = await ipc.signIn(add);
      if (attempt !== signInAttempt) return;
      await syncSession();
      dispatch({ type: "signed-in" });
      if (signedIn.notice) header.showError(signedIn.notice);
    } catch (error) {
      if (attempt !== signInAttempt) return;
      const explained = explainError(error);
      dispatch({
        type: "sign-in-failed",
        message: explained.summary,
        details: explained.details,
        cancelled: explained.cancelled,
      });
      if (flow.signedIn) header.showError(error);
    } finally {
      if (attempt === signInAttempt) signInPending = false;
    }
  }

  /**
   * Open again: the sign-in page in the browser again, from the latest link
   * of the same sign-in (the shell renews it before its pushed request
   * expires). When no link is known yet, the sign-in starts over; the view
   * stays on waiting either way.
   */
  async function openAgain() {
    try {
      if (await ipc.openSignInLink()) return;
    } catch (error) {
      reportError(error);
      return;
    }
    signInAttempt++;
    signInPending = false;
    try {
      await ipc.cancelSignIn();
    } catch (error) {
      reportError(error);
      return;
    }
    await signIn(lastAdd);
  }

  async function cancelSignIn() {
    signInAttempt++;
    signInPending = false;
    dispatch({ type: "sign-in-cancelled", message: signInFailureText({ code: "cancelled" }) });
    try {
      await ipc.cancelSignIn();
    } catch (error) {
      reportError(error);
    }
  }

  /**
   * Follows a sign-in this window did not start (or started before a reload).
   * @param {SignInProgress} progress
   */
  async function onProgress(progress) {
    if (progress.phase === "signed-out") {
      header.showError("You are signed out at your identity provider in the browser too.");
    } else if (progress.phase === "browser-failed" || progress.phase === "waiting") {
      // The first link and each renewal: Copy link and the manual URL show the latest.
      for (const action of linkActions(progress)) dispatch(action);
    } else if (!signInPending && flow.view === "waiting") {
      if (progress.phase === "done") {
        await syncSession();
        dispatch({ type: "signed-in" });
      } else if (progress.phase === "failed") {
        dispatch({ type: "sign-in-failed", message: "Sign-in didn’t finish. Please try again." });
      }
    }
  }

  /**
   * Signs out of, or removes, an account, then shows what is left.
   * @param {(id: string) => Promise<import("./types.js").SignOutView>} leave
   * @param {AccountView} account
   */
  async function leaveAccount(leave, account) {
    header.clearError();
    try {
      const result = await leave(account.id);
      if (result.warning) header.showError(result.warning);
      await syncSession();
      dispatch({ type: "session-changed", signedIn: activeId !== null });
    } catch (error) {
      reportError(error);
    }
  }

  /** @param {AccountView} account */
  async function switchTo(account) {
    if (account.active && !account.needsSignIn && flow.signedIn) return;
    header.clearError();
    try {
      await ipc.switchAccount(account.id);
      // An account of another profile brings its profile along.
      appInfo = await ipc.appInfo();
      header.renderAppInfo(appInfo);
      await syncSession();
      dispatch({ type: "signed-in" });
    } catch (error) {
      reportError(error);
    }
  }

  /** Signs in with another profile of the configuration file. @param {string} name */
  async function useProfile(name) {
    if (appInfo?.profile === name) return;
    header.clearError();
    try {
      appInfo = await ipc.useProfile(name);
      header.renderAppInfo(appInfo);
      await syncSession();
      dispatch({ type: "session-changed", signedIn: activeId !== null });
    } catch (error) {
      if (appInfo) header.renderAppInfo(appInfo);
      reportError(error);
    }
  }
  chooseProfile = (name) => void useProfile(name);

  const renderSignIn = createSignInView({
    onSignIn: () => void signIn(false),
    onCancel: () => void cancelSignIn(),
    onOpenAgain: () => void openAgain(),
  });
  const renderSession = createSessionPanel();
  const itemsView = createItemsView({ ipc, onError: reportError, toaster });
  const renderAccounts = createAccountMenu({
    onSwitch: (account) => void switchTo(account),
    onAdd: () => void signIn(true),
    onSignOut: (account) => void leaveAccount(ipc.signOut, account),
    onRemove: (account) => void leaveAccount(ipc.removeAccount, account),
  });
  const settingsView = createSettingsView({
    ipc,
    onApplied: (info) => {
      appInfo = info;
      header.renderAppInfo(info);
      dispatch({ type: "close-settings" });
      syncSession()
        .then(() => dispatch({ type: "session-changed", signedIn: activeId !== null }))
        .catch(reportError);
    },
    onClose: () => dispatch({ type: "close-settings" }),
  });

  /**
   * A menu entry or its shortcut, where it makes sense in the view shown.
   * @param {string} entry
   */
  async function onMenu(entry) {
    const signedInView = flow.view === "items";
    if (entry === "new-item" && signedInView) itemsView.newItem();
    else if (entry === "search" && signedInView) itemsView.focusSearch();
    else if (entry === "refresh" && (signedInView || flow.view === "welcome")) {
      await syncSession();
      dispatch({ type: "session-changed", signedIn: activeId !== null });
      if (activeId) itemsView.reload();
    } else if (entry === "sign-out" && flow.signedIn) {
      const state = await ipc.sessionState();
      if (state.active) await leaveAccount(ipc.signOut, state.active);
    } else if (entry === "settings") byId("settings-button", HTMLButtonElement).click();
    else if (entry === "about") byId("about-button", HTMLButtonElement).click();
  }
  document.addEventListener("keydown", (event) => {
    const entry = shortcutOf(event);
    if (!entry) return;
    event.preventDefault();
    void onMenu(entry).catch(reportError);
  });

  byId("settings-button", HTMLButtonElement).addEventListener("click", async () => {
    if (flow.view === "waiting" || flow.view === "settings") return;
    try {
      await settingsView.open();
      dispatch({ type: "open-settings" });
    } catch (error) {
      reportError(error);
    }
  });

  await Promise.all([
    ipc.onSessionChanged(() => {
      syncSession()
        .then(() => dispatch({ type: "session-changed", signedIn: activeId !== null }))
        .catch(reportError);
    }),
    ipc.onSignInProgress((progress) => void onProgress(progress).catch(reportError)),
    ipc.onMenu((entry) => void onMenu(entry).catch(reportError)),
  ]);

  appInfo = await ipc.appInfo();
  header.renderAppInfo(appInfo);
  const state = await syncSession();
  if (state.active?.needsSignIn) {
    dispatch({ type: "sign-in-required", message: `${state.active.name} needs to sign in again.` });
  } else {
    dispatch({ type: "started", signedIn: activeId !== null, signingIn: state.signingIn });
  }
  // The frame after next is the first one showing a real view on screen.
  requestAnimationFrame(() => requestAnimationFrame(() => void ipc.uiReady().catch(() => {})));
}

try {
  await run(ipcFromWindow());
} catch (error) {
  header.showError(normaliseError(error));
  document.body.dataset.view = "welcome";
  views.loading.hidden = true;
  views.welcome.hidden = false;
}
