import assert from "node:assert/strict";
import { test } from "node:test";
import { itemFormText, itemPatch, parseItemForm, parsePrice, parseTags } from "../app/src/itemForm.js";

/** @type {import("../app/src/types.js").Item} */
const lamp = {
  id: "i1",
  name: "Lamp",
  description: "A desk lamp",
  price: 12.5,
  tags: ["home", "light"],
  owner: "ada",
  createdAt: "2026-11-01T00:00:00Z",
  updatedAt: "2026-11-02T00:00:00Z",
};

test("prices are decimals of 0 or more with at most two decimals", () => {
  assert.equal(parsePrice("3"), 3);
  assert.equal(parsePrice(" 3.5 "), 3.5);
  assert.equal(parsePrice("0.00"), 0);
  assert.equal(parsePrice("1999.99"), 1999.99);
  for (const bad of ["abc", "1.234", "-1", "", "1.", ".5", "1e3", "1,50", "+2", "Infinity"]) {
    assert.equal(parsePrice(bad), null, bad);
  }
});

test("tags are split on commas, trimmed, de-duplicated and never empty", () => {
  assert.deepEqual(parseTags(" home, light ,,home, ,Light "), ["home", "light", "Light"]);
  assert.deepEqual(parseTags(""), []);
  assert.deepEqual(parseTags(" , "), []);
});

test("a valid form becomes a NewItem with trimmed text", () => {
  const result = parseItemForm({ name: "  Lamp ", description: " A desk lamp \n", price: "12.50", tags: "home, light" });
  assert.deepEqual(result, {
    ok: true,
    item: { name: "Lamp", description: "A desk lamp", price: 12.5, tags: ["home", "light"] },
  });
});

test("the form names the first field at fault", () => {
  const noName = parseItemForm({ name: "   ", description: "", price: "1", tags: "" });
  assert.equal(noName.ok, false);
  assert.equal(!noName.ok && noName.field, "name");

  const noPrice = parseItemForm({ name: "Lamp", description: "", price: " ", tags: "" });
  assert.equal(!noPrice.ok && noPrice.field, "price");

  for (const price of ["abc", "1.234", "-1"]) {
    const result = parseItemForm({ name: "Lamp", description: "", price, tags: "" });
    assert.equal(result.ok, false, price);
    assert.equal(!result.ok && result.field, "price");
    assert.match(!result.ok ? result.message : "", /two decimals/);
  }
});

test("an item fills the form, and an unchanged form gives an empty patch", () => {
  const text = itemFormText(lamp);
  assert.deepEqual(text, { name: "Lamp", description: "A desk lamp", price: "12.50", tags: "home, light" });
  assert.deepEqual(itemFormText(null), { name: "", description: "", price: "", tags: "" });
  const parsed = parseItemForm(text);
  assert.ok(parsed.ok);
  assert.deepEqual(itemPatch(lamp, parsed.item), {});
});

test("a patch holds only the changed fields", () => {
  assert.deepEqual(itemPatch(lamp, { ...lamp, price: 10 }), { price: 10 });
  assert.deepEqual(itemPatch(lamp, { ...lamp, name: "Big lamp", tags: ["home"] }), {
    name: "Big lamp",
    tags: ["home"],
  });
  assert.deepEqual(itemPatch(lamp, { ...lamp, tags: ["light", "home"] }), { tags: ["light", "home"] });
  assert.deepEqual(itemPatch(lamp, { ...lamp, description: "" }), { description: "" });
});
