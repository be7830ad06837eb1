// Which view the window shows, as a reducer over what happened. Pure: no DOM.

/** @typedef {"loading" | "welcome" | "waiting" | "items" | "settings"} View */

/**
 * @typedef {object} FlowState
 * @property {View} view the view shown (`body[data-view]`)
 * @property {boolean} signedIn an account is active and usable
 * @property {string | null} signInError the sentence under the sign-in button (signed-out only;
 *   a failed "add account" is reported by the caller instead)
 * @property {string | null} signInDetails the technical chain of `signInError`, under "Details"
 * @property {boolean} signInCancelled `signInError` says the person cancelled (shown neutral, not as an error)
 * @property {string | null} manualUrl the authorization URL to open by hand, after `browser-failed`
 * @property {string | null} link the latest link to sign in with (Copy, the waiting view): the first
 *   one, then each the shell renews before its pushed request expires
 * @property {number | null} deadline unix seconds when the sign-in under way gives up
 */

/** @typedef {import("./types.js").SignInProgress} SignInProgress */

/**
 * @typedef {{ type: "started", signedIn: boolean, signingIn: boolean }
 *   | { type: "sign-in-started" }
 *   | { type: "browser-failed", url: string }
 *   | { type: "link", url: string | null, deadline: number | null }
 *   | { type: "signed-in" }
 *   | { type: "sign-in-failed", message: string, details?: string | null, cancelled?: boolean }
 *   | { type: "sign-in-cancelled", message: string }
 *   | { type: "sign-in-required", message: string }
 *   | { type: "session-changed", signedIn: boolean }
 *   | { type: "open-settings" }
 *   | { type: "close-settings" }} FlowAction
 */

/** @type {FlowState} */
export const initialFlow = {
  view: "loading",
  signedIn: false,
  signInError: null,
  signInDetails: null,
  signInCancelled: false,
  manualUrl: null,
  link: null,
  deadline: null,
};

/** What a finished or abandoned sign-in leaves: no link, no error. */
const NO_SIGN_IN = {
  signInError: null,
  signInDetails: null,
  signInCancelled: false,
  manualUrl: null,
  link: null,
  deadline: null,
};

/**
 * The view to return to when leaving the waiting or settings view.
 * @param {boolean} signedIn
 * @returns {View}
 */
function restingView(signedIn) {
  return signedIn ? "items" : "welcome";
}

/**
 * Applies one action to the flow state.
 * @param {FlowState} state
 * @param {FlowAction} action
 * @returns {FlowState}
 */
export function flowReducer(state, action) {
  switch (action.type) {
    case "started":
      return {
        ...state,
        signedIn: action.signedIn,
        view: action.signingIn ? "waiting" : restingView(action.signedIn),
      };
    case "sign-in-started":
      return { ...state, ...NO_SIGN_IN, view: "waiting" };
    case "browser-failed":
      return state.view === "waiting" ? { ...state, manualUrl: action.url, link: action.url } : state;
    case "link":
      return state.view === "waiting"
        ? { ...state, link: action.url ?? state.link, deadline: action.deadline ?? state.deadline }
        : state;
    case "signed-in":
      return { ...state, ...NO_SIGN_IN, view: "items", signedIn: true };
    case "sign-in-failed":
      return {
        ...state,
        ...NO_SIGN_IN,
        view: restingView(state.signedIn),
        signInError: state.signedIn ? null : action.message,
        signInDetails: state.signedIn ? null : (action.details ?? null),
        signInCancelled: !state.signedIn && Boolean(action.cancelled),
      };
    case "sign-in-cancelled":
      // The app's Cancel: signed out, the welcome says so calmly, with Try again.
      return {
        ...state,
        ...NO_SIGN_IN,
        view: restingView(state.signedIn),
        signInError: state.signedIn ? null : action.message,
        signInCancelled: !state.signedIn,
      };
    case "sign-in-required":
      return { ...state, ...NO_SIGN_IN, view: "welcome", signedIn: false, signInError: action.message };
    case "session-changed": {
      const view = state.view === "items" && !action.signedIn ? "welcome" : state.view;
      return { ...state, view, signedIn: action.signedIn };
    }
    case "open-settings":
      return state.view === "waiting" ? state : { ...state, view: "settings" };
    case "close-settings":
      return state.view === "settings" ? { ...state, view: restingView(state.signedIn) } : state;
  }
}

/**
 * What a `sign-in-progress` event carrying a link does to the waiting view:
 * the first link and each renewal (`waiting` when the browser opened,
 * `browser-failed` when the person opens it by hand) replace the one held,
 * so Copy link always copies the live one.
 * @param {SignInProgress} progress
 * @returns {FlowAction[]}
 */
export function linkActions(progress) {
  /** @type {FlowAction} */
  const link = { type: "link", url: progress.url, deadline: progress.deadline ?? null };
  if (progress.phase === "browser-failed" && progress.url) return [{ type: "browser-failed", url: progress.url }, link];
  if (progress.phase === "waiting") return [link];
  return [];
}
