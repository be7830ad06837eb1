import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatBinding,
  formatDate,
  formatDuration,
  formatExpiry,
  formatLastRefresh,
  formatOffline,
  formatPrice,
  formatTimeLeft,
  setCurrency,
  initials,
} from "../app/src/format.js";

test("initials come from the first and last words of the name", () => {
  assert.equal(initials("Ada Lovelace", "ada@example.com"), "AL");
  assert.equal(initials("grace brewster murray hopper", null), "GH");
  assert.equal(initials("  Alice  ", null), "A");
  assert.equal(initials("élodie durand"), "ÉD");
});

test("initials fall back to the e-mail's local part, then to a question mark", () => {
  assert.equal(initials("", "bob.smith@example.com"), "BS");
  assert.equal(initials(null, "carol@example.com"), "C");
  assert.equal(initials("", ""), "?");
  assert.equal(initials(undefined, undefined), "?");
});

test("durations read as seconds, minutes and seconds, or hours and minutes", () => {
  assert.equal(formatDuration(0), "0 s");
  assert.equal(formatDuration(59.9), "59 s");
  assert.equal(formatDuration(252), "4 min 12 s");
  assert.equal(formatDuration(3600), "1 h");
  assert.equal(formatDuration(3900), "1 h 5 min");
});

test("the expiry counts down and then says expired", () => {
  assert.equal(formatExpiry(1_000_252, 1_000_000), "expires in 4 min 12 s");
  assert.equal(formatExpiry(1_000_001, 1_000_000.5), "expires in 1 s", "a part second rounds up");
  assert.equal(formatExpiry(1_000_000, 1_000_000), "expired");
  assert.equal(formatExpiry(999_000, 1_000_000), "expired");
});

test("the last refresh is relative to now", () => {
  assert.equal(formatLastRefresh(null, 1_000_000), "not refreshed since sign-in");
  assert.equal(formatLastRefresh(1_000_000, 1_000_000), "last refreshed just now");
  assert.equal(formatLastRefresh(1_000_000, 1_000_030), "last refreshed 30 s ago");
  assert.equal(formatLastRefresh(1_000_000, 1_000_252), "last refreshed 4 min ago");
  assert.equal(formatLastRefresh(1_000_000, 1_003_900), "last refreshed 1 h 5 min ago");
  assert.equal(formatLastRefresh(1_000_010, 1_000_000), "last refreshed just now", "a clock running behind");
});

test("prices have two decimals; unreadable dates are shown as given", () => {
  assert.equal(formatPrice(12.5, "EUR", "en-US"), "€12.50");
  assert.equal(formatPrice(0, "USD", "en-US"), "$0.00");
  assert.equal(formatPrice(1234.5, "EUR", "de-DE"), "1.234,50\u00a0€");
  assert.equal(formatPrice(12.5, "JPY", "en-US"), "¥13");
  assert.equal(formatPrice(12.5, "not a code", "en-US"), "12.50 not a code");
  setCurrency("USD");
  assert.equal(formatPrice(3, undefined, "en-US"), "$3.00");
  setCurrency(null);
  assert.equal(formatPrice(3, undefined, "en-US"), "€3.00");
  assert.equal(formatTimeLeft(1000 + 252, 1000), "4 min 12 s left to finish signing in");
  assert.match(formatTimeLeft(1000, 1000), /^Time is up/);
  assert.equal(formatDate("not a date"), "not a date");
  assert.match(formatDate("2026-11-24T10:00:00Z"), /2026/);
});

test("the offline banner says the session is kept, when it retries, and why", () => {
  const offline = { since: 1_000_000, retryAt: 1_000_040, attempts: 3, message: "cannot connect to the provider" };
  const text = formatOffline(offline, 1_000_000);
  assert.match(text, /^Offline since \d{1,2}[:.]\d{2}/);
  assert.match(text, /You stay signed in; trying again in 40 s\./);
  assert.match(text, /\(cannot connect to the provider\)$/);
  assert.match(formatOffline(offline, 1_000_100), /trying again now/, "an attempt due in the past");
  assert.match(formatOffline({ ...offline, retryAt: 1_000_252 }, 1_000_000), /trying again in 4 min 12 s/);
});

test("the binding names the DPoP key by the start of its thumbprint, or says bearer", () => {
  assert.equal(
    formatBinding("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"),
    "bound to this device (DPoP key 0ZcOCORZ…)",
  );
  assert.equal(formatBinding(null), "bearer tokens (usable by whoever holds them)");
  assert.equal(formatBinding(""), "bearer tokens (usable by whoever holds them)", "an empty key is no key");
});
