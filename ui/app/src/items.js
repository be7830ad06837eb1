// Item list logic: queries, pages, tags, write permission. Pure: no DOM.

/** @typedef {import("./types.js").Item} Item */
/** @typedef {import("./types.js").ListItemsArgs} ListItemsArgs */
/** @typedef {import("./types.js").SessionDetails} SessionDetails */

/** How many items one page asks for. */
export const PAGE_SIZE = 25;

/**
 * The `list_items` arguments for a search: empty filters and a missing cursor are left out.
 * @param {{ q: string, tag: string, cursor?: string | null }} query
 * @returns {ListItemsArgs}
 */
export function listItemsArgs({ q, tag, cursor }) {
  /** @type {ListItemsArgs} */
  const args = { limit: PAGE_SIZE };
  if (q.trim()) args.q = q.trim();
  if (tag) args.tag = tag;
  if (cursor) args.cursor = cursor;
  return args;
}

/**
 * Appends a page to the items shown; an item already shown is updated in place, not repeated.
 * @param {Item[]} shown
 * @param {Item[]} page
 * @returns {Item[]}
 */
export function mergePage(shown, page) {
  const byId = new Map(page.map((item) => [item.id, item]));
  const merged = shown.map((item) => byId.get(item.id) ?? item);
  const seen = new Set(shown.map((item) => item.id));
  for (const item of page) {
    if (!seen.has(item.id)) {
      seen.add(item.id);
      merged.push(item);
    }
  }
  return merged;
}

/**
 * Replaces one item in the list (after an edit), or puts it first (after a create).
 * @param {Item[]} shown
 * @param {Item} item
 * @returns {Item[]}
 */
export function upsertItem(shown, item) {
  return shown.some((i) => i.id === item.id)
    ? shown.map((i) => (i.id === item.id ? item : i))
    : [item, ...shown];
}

/**
 * Adds the tags of `items` to the sorted set of tags seen so far (for the tag filter).
 * @param {string[]} known sorted
 * @param {Item[]} items
 * @returns {string[]} sorted, without duplicates
 */
export function collectTags(known, items) {
  const tags = new Set(known);
  for (const item of items) for (const tag of item.tags) tags.add(tag);
  return [...tags].sort((a, b) => a.localeCompare(b));
}

/** Why writing is refused when the sign-in lacks the scope. */
export const MISSING_WRITE_REASON = "Your sign-in lacks the items:write permission";

/**
 * Whether the person may create, edit and delete items, and if not, why.
 * @param {SessionDetails | null} details
 * @returns {{ allowed: true, reason: null } | { allowed: false, reason: string }}
 */
export function writeAccess(details) {
  if (!details) return { allowed: false, reason: "You are not signed in" };
  if (!details.canWrite) return { allowed: false, reason: MISSING_WRITE_REASON };
  return { allowed: true, reason: null };
}
