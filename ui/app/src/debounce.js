// Delaying a call until its input has settled (the search box).

/**
 * @typedef {object} Timers
 * @property {(fn: () => void, ms: number) => unknown} setTimeout
 * @property {(handle: unknown) => void} clearTimeout
 */

/** @type {Timers} */
const realTimers = {
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(/** @type {number} */ (handle)),
};

/**
 * Returns a function that calls `fn` with the latest arguments once `ms` passed without a new call.
 * @template {unknown[]} A
 * @param {(...args: A) => void} fn
 * @param {number} ms
 * @param {Timers} [timers] injected by tests
 * @returns {(...args: A) => void}
 */
export function debounce(fn, ms, timers = realTimers) {
  /** @type {unknown} */
  let pending = null;
  return (...args) => {
    if (pending !== null) timers.clearTimeout(pending);
    pending = timers.setTimeout(() => {
      pending = null;
      fn(...args);
    }, ms);
  };
}
