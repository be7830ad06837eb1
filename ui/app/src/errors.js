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

/** Sign-in failures told in plain words; other codes use the shell's own message. */
const SIGN_IN_SENTENCES = /** @type {Record<string, string>} */ ({
  cancelled: "Sign-in was cancelled.",
  access_denied: "The identity provider denied the sign-in.",
  timeout: "Sign-in took too long and timed out.",
  provider_unreachable: "Tessera couldn't reach the identity provider. Check your connection and the provider settings.",
});

/**
 * The sentence shown under the sign-in button after a failed sign-in.
 * @param {unknown} error
 * @returns {string}
 */
export function signInFailureText(error) {
  const err = normaliseError(error);
  return SIGN_IN_SENTENCES[err.code] ?? err.message;
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
