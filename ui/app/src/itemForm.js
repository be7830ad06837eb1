// Reading the item form into a NewItem or an ItemPatch. Pure: no DOM.

/** @typedef {import("./types.js").Item} Item */
/** @typedef {import("./types.js").NewItem} NewItem */
/** @typedef {import("./types.js").ItemPatch} ItemPatch */

/** @typedef {"name" | "description" | "price" | "tags"} ItemField */

/**
 * The form's raw text, one string per input.
 * @typedef {{ name: string, description: string, price: string, tags: string }} ItemFormText
 */

/**
 * The outcome of reading the form: the item, or the first field at fault.
 * @typedef {{ ok: true, item: NewItem } | { ok: false, field: ItemField, message: string }} ItemFormResult
 */

/** A non-negative decimal with at most two decimals: "3", "3.5", "3.50". */
const PRICE_PATTERN = /^\d+(\.\d{1,2})?$/;

/**
 * Parses a price; null when the text is not a valid price.
 * @param {string} text
 * @returns {number | null}
 */
export function parsePrice(text) {
  const trimmed = text.trim();
  if (!PRICE_PATTERN.test(trimmed)) return null;
  const price = Number(trimmed);
  return Number.isFinite(price) ? price : null;
}

/**
 * Splits comma-separated tags: trimmed, empty ones dropped, duplicates removed (first kept).
 * @param {string} text
 * @returns {string[]}
 */
export function parseTags(text) {
  const tags = text.split(",").map((tag) => tag.trim()).filter(Boolean);
  return [...new Set(tags)];
}

/**
 * Reads the form into a NewItem, or says which field is wrong and why.
 * @param {ItemFormText} text
 * @returns {ItemFormResult}
 */
export function parseItemForm(text) {
  const name = text.name.trim();
  if (!name) return { ok: false, field: "name", message: "Give the item a name." };
  if (!text.price.trim()) return { ok: false, field: "price", message: "Enter a price, for example 12.50." };
  const price = parsePrice(text.price);
  if (price === null) {
    return {
      ok: false,
      field: "price",
      message: "The price must be a number of 0 or more with at most two decimals, for example 12.50.",
    };
  }
  return { ok: true, item: { name, description: text.description.trim(), price, tags: parseTags(text.tags) } };
}

/**
 * The form's text for an existing item (or empty for a new one).
 * @param {Item | null} item
 * @returns {ItemFormText}
 */
export function itemFormText(item) {
  if (!item) return { name: "", description: "", price: "", tags: "" };
  return {
    name: item.name,
    description: item.description,
    price: item.price.toFixed(2),
    tags: item.tags.join(", "),
  };
}

/**
 * The fields of `edited` that differ from `original`; empty when nothing changed.
 * @param {Item} original
 * @param {NewItem} edited
 * @returns {ItemPatch}
 */
export function itemPatch(original, edited) {
  /** @type {ItemPatch} */
  const patch = {};
  if (edited.name !== original.name) patch.name = edited.name;
  if (edited.description !== original.description) patch.description = edited.description;
  if (edited.price !== original.price) patch.price = edited.price;
  const sameTags =
    edited.tags.length === original.tags.length && edited.tags.every((tag, i) => tag === original.tags[i]);
  if (!sameTags) patch.tags = edited.tags;
  return patch;
}
