// The developers' session panel: issuer, subject, scopes, token expiry countdown, last refresh.
// It never shows a token: the IPC carries none.

import { byId } from "./dom.js";
import { formatBinding, formatExpiry, formatLastRefresh } from "./format.js";

/** @typedef {import("./types.js").SessionDetails} SessionDetails */

/** @returns {number} the current time in unix seconds */
const nowSeconds = () => Date.now() / 1000;

/**
 * Returns a function that shows the details of the active session (null clears
 * the panel); the countdown ticks every second while details are shown.
 * @returns {(details: SessionDetails | null) => void}
 */
export function createSessionPanel() {
  const issuer = byId("session-issuer", HTMLElement);
  const subject = byId("session-subject", HTMLElement);
  const scopes = byId("session-scopes", HTMLElement);
  const expiry = byId("session-expiry", HTMLElement);
  const lastRefresh = byId("session-last-refresh", HTMLElement);
  const binding = byId("session-binding", HTMLElement);

  /** @type {SessionDetails | null} */
  let details = null;
  /** @type {number | undefined} */
  let timer;

  function tick() {
    if (!details) return;
    const now = nowSeconds();
    expiry.textContent = formatExpiry(details.expiresAt, now);
    lastRefresh.textContent = formatLastRefresh(details.lastRefresh, now);
  }

  return (next) => {
    details = next;
    issuer.textContent = next?.issuer ?? "";
    subject.textContent = next?.subject ?? "";
    scopes.textContent = next ? next.scopes.join(" ") || "none" : "";
    binding.textContent = next ? formatBinding(next.boundKey) : "";
    expiry.textContent = "";
    lastRefresh.textContent = "";
    window.clearInterval(timer);
    timer = undefined;
    if (next) {
      tick();
      timer = window.setInterval(tick, 1000);
    }
  };
}
