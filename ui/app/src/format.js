// Text shown for people, computed from data. Pure: no DOM, no clock (callers pass `now`).

/**
 * One or two capital letters for the account button: from the name's first and
 * last words, else from the e-mail's local part, else "?".
 * @param {string | null | undefined} name
 * @param {string | null | undefined} [email]
 * @returns {string}
 */
export function initials(name, email) {
  const source = (name ?? "").trim() || (email ?? "").split("@")[0];
  const words = source.split(/[\s._-]+/).filter(Boolean);
  if (words.length === 0) return "?";
  const first = Array.from(words[0])[0];
  const last = words.length > 1 ? Array.from(words[words.length - 1])[0] : "";
  return (first + last).toUpperCase();
}

/**
 * A duration as "4 min 12 s", "1 h 5 min" or "12 s".
 * @param {number} seconds whole seconds, ≥ 0
 * @returns {string}
 */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  const minutes = Math.floor((s % 3600) / 60);
  return minutes ? `${Math.floor(s / 3600)} h ${minutes} min` : `${Math.floor(s / 3600)} h`;
}

/**
 * The access token countdown: "expires in 4 min 12 s" or "expired".
 * @param {number} expiresAt unix seconds
 * @param {number} now unix seconds
 * @returns {string}
 */
export function formatExpiry(expiresAt, now) {
  const left = expiresAt - now;
  return left > 0 ? `expires in ${formatDuration(Math.ceil(left))}` : "expired";
}

/**
 * When the tokens were last refreshed: "last refreshed 30 s ago".
 * @param {number | null} lastRefresh unix seconds, null if never since sign-in
 * @param {number} now unix seconds
 * @returns {string}
 */
export function formatLastRefresh(lastRefresh, now) {
  if (lastRefresh === null) return "not refreshed since sign-in";
  const ago = Math.floor(now - lastRefresh);
  if (ago < 1) return "last refreshed just now";
  if (ago < 60) return `last refreshed ${ago} s ago`;
  if (ago < 3600) return `last refreshed ${Math.floor(ago / 60)} min ago`;
  return `last refreshed ${formatDuration(ago)} ago`;
}

/**
 * How the tokens are held: bound to this device's key (DPoP, with the key's
 * thumbprint shortened), or bearer tokens.
 * @param {string | null} boundKey the key's RFC 7638 thumbprint
 * @returns {string}
 */
export function formatBinding(boundKey) {
  if (!boundKey) return "bearer tokens (usable by whoever holds them)";
  return `bound to this device (DPoP key ${boundKey.slice(0, 8)}…)`;
}

/**
 * The offline banner: since when the provider cannot be reached, that the
 * session is kept, and when the next attempt comes.
 * @param {import("./types.js").OfflineView} offline
 * @param {number} now unix seconds
 * @returns {string}
 */
export function formatOffline(offline, now) {
  const since = new Date(offline.since * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const left = Math.ceil(offline.retryAt - now);
  const next = left > 0 ? `trying again in ${formatDuration(left)}` : "trying again now";
  return `Offline since ${since}: your sign-in provider cannot be reached. You stay signed in; ${next}. (${offline.message})`;
}

/** The currency of prices when the app names none (IPC.md: AppInfo.currency). */
export const DEFAULT_CURRENCY = "EUR";

/** The currency the app configured (`TESSERA_CURRENCY`, `currency` in tessera.toml). */
let appCurrency = DEFAULT_CURRENCY;

/**
 * Sets the currency prices are shown in (from AppInfo).
 * @param {string | null | undefined} currency an ISO 4217 code
 */
export function setCurrency(currency) {
  appCurrency = currency || DEFAULT_CURRENCY;
}

/**
 * A price in the person's locale and the configured currency ("€12.50",
 * "12,50 €"); an unknown currency code is written after the number.
 * @param {number} price
 * @param {string} [currency] ISO 4217 code; the configured one by default
 * @param {string} [locale] BCP 47; the person's by default
 * @returns {string}
 */
export function formatPrice(price, currency = appCurrency, locale = undefined) {
  try {
    return new Intl.NumberFormat(locale, { style: "currency", currency }).format(price);
  } catch {
    return `${price.toFixed(2)} ${currency}`;
  }
}

/**
 * An ISO timestamp in the person's locale; an unreadable one is shown as given.
 * @param {string} iso
 * @returns {string}
 */
export function formatDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/**
 * The waiting view's countdown: "4 min 12 s left to finish signing in".
 * @param {number} deadline unix seconds when the sign-in stops waiting
 * @param {number} now unix seconds
 * @returns {string}
 */
export function formatTimeLeft(deadline, now) {
  const left = Math.ceil(deadline - now);
  return left > 0 ? `${formatDuration(left)} left to finish signing in` : "Time is up: this sign-in is ending.";
}
