// What the UI makes of a failed IPC call. Pure: no DOM.

/** Shown when a rejection carries nothing a person can read. */
export const GENERIC_MESSAGE = "Something went wrong. Please try again.";

/** A failed IPC call, normalised: a stable `code`, a sentence, and the form field at fault if any. */
export class IpcError extends Error {
  /**
   * @param {string} code stable code from IPC.md ("internal" when unknown)
   * @param {string} message a sentence for a person
   * @param {string | null} [field] the offending field of an `invalid` / `settings_invalid` error
   */
  constructor(code, message, field = null) {
    super(message);
    this.name = "IpcError";
    this.code = code;
    this.field = field;
  }
}

/**
 * Turns whatever a Tauri command rejected with into an IpcError. The Rust side
 * serialises `{ code, message, field? }`; a string or anything else is tolerated
 * so that no raw object ever reaches the screen.
 * @param {unknown} raw
 * @returns {IpcError}
 */
export function normaliseError(raw) {
  if (raw instanceof IpcError) return raw;
  if (typeof raw === "string") {
    return new IpcError("internal", raw.trim() || GENERIC_MESSAGE);
  }
  if (raw !== null && typeof raw === "object") {
    const { code, message, field } = /** @type {Record<string, unknown>} */ (raw);
    const text = typeof message === "string" && message.trim() ? message.trim() : GENERIC_MESSAGE;
    return new IpcError(
      typeof code === "string" && code ? code : "internal",
      text,
      typeof field === "string" && field ? field : null,
    );
  }
  return new IpcError("internal", GENERIC_MESSAGE);
}

/**
 * What a person reads first for each code: what happened, then what to do.
 * Codes missing here (settings_invalid, invalid, rate_limited, sign_in_required,
 * …) carry a sentence of the shell's own that says both.
 */
const SENTENCES = /** @type {Record<string, string>} */ ({
  cancelled: "Sign-in was cancelled. Try again when you’re ready.",
  timeout: "Sign-in took too long, so Tessera stopped waiting. Try again, and finish signing in in your browser within a few minutes.",
  provider_unreachable: "Tessera couldn’t reach your identity provider. Check your network connection, then try again.",
  provider_error: "Your identity provider reported a problem with the sign-in. Try again in a moment; if it keeps happening, check Settings or ask your administrator.",
  sign_in_failed: "Tessera couldn’t complete the sign-in: your identity provider’s answer didn’t pass Tessera’s checks. Try again; if it keeps happening, ask your administrator.",
  busy: "Another sign-in is still under way. Finish it in your browser or cancel it first.",
  keyring: "Tessera couldn’t use your system keyring to keep your sign-in. Unlock the keyring (or sign in to your desktop again), then try again.",
  discovery_failed: "Tessera couldn’t find an identity provider at this address. Check “Your Okta domain” (for example dev-123.okta.com) and your network connection, then save again.",
  network: "Tessera couldn’t reach the items service. Check your network connection, then try again.",
  unavailable: "The items service isn’t answering right now. Try again in a moment.",
  not_found: "This item no longer exists; it may have been deleted elsewhere. The list has been refreshed.",
  missing_scope: "Your sign-in doesn’t allow this. Ask your administrator for the permission, then sign in again.",
  forbidden: "You aren’t allowed to do this with this item.",
  no_account: "Nobody is signed in with this account any more. Sign in again.",
  internal: "Something went wrong inside Tessera. Try again; if it keeps happening, copy the details below into a bug report.",
});

/**
 * A failed call told for people: `summary` first (what happened, what to
 * do), `details` the shell's technical message and the code, folded away
 * (null when it would only repeat the summary); `cancelled` when the person
 * (or the provider's Cancel button: `access_denied`) ended a sign-in, which
 * is not a failure to explain.
 * @typedef {{ summary: string, details: string | null, cancelled: boolean }} Explained
 */

/**
 * @param {unknown} error
 * @returns {Explained}
 */
export function explainError(error) {
  const err = normaliseError(error);
  let summary = SENTENCES[err.code] ?? err.message;
  let cancelled = err.code === "cancelled";
  if (err.code === "access_denied") {
    // Okta answers access_denied both to Cancel on its sign-in page and to
    // someone the app is not assigned to; dev-idp says "cancelled".
    // The provider's own description follows the code: "… (access_denied: …)".
    const description = /access_denied: ([^)]*)/.exec(err.message)?.[1] ?? "";
    if (/not assigned|not allowed|policy/i.test(description)) {
      summary = "Your identity provider didn’t let this account use Tessera. Ask your administrator to give you access, then try again.";
    } else {
      summary = "Sign-in was cancelled in the browser. Try again when you’re ready.";
      cancelled = true;
    }
  }
  const details = summary === err.message ? null : `${err.message}\n(code: ${err.code})`;
  return { summary, details, cancelled };
}

/**
 * The sentence shown after a failed sign-in.
 * @param {unknown} error
 * @returns {string}
 */
export function signInFailureText(error) {
  return explainError(error).summary;
}

/**
 * Whether the error means the account must sign in again (the session is gone).
 * @param {unknown} error
 * @returns {boolean}
 */
export function needsSignIn(error) {
  const { code } = normaliseError(error);
  return code === "sign_in_required" || code === "unauthorized";
}

/**
 * Reduces a field name from an error (`clientId`, `client_id`, `Client-ID`) to a
 * comparable key, so the UI can find the input to highlight.
 * @param {string | null} field
 * @returns {string}
 */
export function fieldKey(field) {
  return (field ?? "").toLowerCase().replace(/[^a-z0-9]/g, "");
}
