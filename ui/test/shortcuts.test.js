import assert from "node:assert/strict";
import { test } from "node:test";
import { shortcutOf } from "../app/src/shortcuts.js";

/** @param {string} k @param {Partial<{ ctrlKey: boolean, metaKey: boolean, shiftKey: boolean, altKey: boolean }>} [mods] */
const key = (k, mods = {}) => ({ key: k, ctrlKey: false, metaKey: false, shiftKey: false, altKey: false, ...mods });

test("the menu's shortcuts map to its entries", () => {
  assert.equal(shortcutOf(key("n", { ctrlKey: true })), "new-item");
  assert.equal(shortcutOf(key("N", { metaKey: true })), "new-item");
  assert.equal(shortcutOf(key(",", { ctrlKey: true })), "settings");
  assert.equal(shortcutOf(key("f", { ctrlKey: true })), "search");
  assert.equal(shortcutOf(key("r", { ctrlKey: true })), "refresh");
  assert.equal(shortcutOf(key("Q", { ctrlKey: true, shiftKey: true })), "sign-out");
  assert.equal(shortcutOf(key("F1")), "about");
});

test("other keys are left alone", () => {
  assert.equal(shortcutOf(key("n")), null);
  assert.equal(shortcutOf(key("q", { ctrlKey: true })), null);
  assert.equal(shortcutOf(key("n", { ctrlKey: true, altKey: true })), null);
  assert.equal(shortcutOf(key("c", { ctrlKey: true })), null);
});
