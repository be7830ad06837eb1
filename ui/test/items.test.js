import assert from "node:assert/strict";
import { test } from "node:test";
import {
  collectTags,
  listItemsArgs,
  MISSING_WRITE_REASON,
  mergePage,
  PAGE_SIZE,
  upsertItem,
  writeAccess,
} from "../app/src/items.js";

/**
 * @param {string} id
 * @param {string[]} [tags]
 * @returns {import("../app/src/types.js").Item}
 */
const item = (id, tags = []) => ({
  id,
  name: `Item ${id}`,
  description: "",
  price: 1,
  tags,
  owner: "ada",
  createdAt: "2026-11-01T00:00:00Z",
  updatedAt: "2026-11-01T00:00:00Z",
});

test("list arguments leave out empty filters and a missing cursor", () => {
  assert.deepEqual(listItemsArgs({ q: "  ", tag: "", cursor: null }), { limit: PAGE_SIZE });
  assert.deepEqual(listItemsArgs({ q: " lamp ", tag: "home", cursor: "c2" }), {
    limit: PAGE_SIZE,
    q: "lamp",
    tag: "home",
    cursor: "c2",
  });
});

test("merging a page appends new items once, in order, and updates known ones in place", () => {
  const shown = [item("a"), item("b")];
  const updatedB = { ...item("b"), name: "B, renamed" };
  const merged = mergePage(shown, [updatedB, item("c"), item("c"), item("d")]);
  assert.deepEqual(merged.map((i) => i.id), ["a", "b", "c", "d"]);
  assert.equal(merged[1].name, "B, renamed");
  assert.deepEqual(shown.map((i) => i.id), ["a", "b"], "the input is not changed");
  assert.deepEqual(mergePage([], []), []);
});

test("a saved item replaces its old version or goes first", () => {
  const shown = [item("a"), item("b")];
  assert.deepEqual(upsertItem(shown, item("c")).map((i) => i.id), ["c", "a", "b"]);
  const renamed = { ...item("b"), name: "Renamed" };
  assert.deepEqual(upsertItem(shown, renamed)[1], renamed);
  assert.equal(upsertItem(shown, renamed).length, 2);
});

test("tags seen are collected, sorted and unique", () => {
  assert.deepEqual(collectTags(["home"], [item("a", ["work", "home"]), item("b", ["garden"])]), [
    "garden",
    "home",
    "work",
  ]);
});

test("writing needs the items:write scope", () => {
  /** @type {import("../app/src/types.js").SessionDetails} */
  const details = {
    account: { id: "1", name: "Ada", email: null, login: null, needsSignIn: false, active: true, profile: null },
    issuer: "https://idp.example",
    subject: "sub",
    scopes: ["openid", "items:read", "items:write"],
    expiresAt: 0,
    lastRefresh: null,
    boundKey: null,
    canWrite: true,
  };
  assert.deepEqual(writeAccess(details), { allowed: true, reason: null });
  assert.deepEqual(writeAccess({ ...details, canWrite: false }), { allowed: false, reason: MISSING_WRITE_REASON });
  assert.equal(MISSING_WRITE_REASON, "Your sign-in lacks the items:write permission");
  assert.equal(writeAccess(null).allowed, false);
});
