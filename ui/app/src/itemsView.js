// The items view: search, tag filter, the list with "load more", and the detail
// pane that shows either one item or the create / edit form.
//
// The list is windowed: only the rows on screen and a margin either side are in
// the DOM (rows have one height; the list's padding stands in for the rows
// above, its height for all of them), so a thousand items cost what a screenful
// does.

import { debounce } from "./debounce.js";
import { byId, element } from "./dom.js";
import { formatPrice } from "./format.js";
import { createItemDetail } from "./itemDetail.js";
import { createItemEditor } from "./itemEditor.js";
import { collectTags, listItemsArgs, mergePage, upsertItem, writeAccess } from "./items.js";
import { rowWindow, windowAround } from "./rowWindow.js";

/** @typedef {import("./types.js").Item} Item */
/** @typedef {import("./types.js").SessionDetails} SessionDetails */
/** @typedef {import("./ipc.js").Ipc} Ipc */

/** How long the search box waits for typing to pause, in milliseconds. */
const SEARCH_DELAY_MS = 250;

/**
 * @typedef {object} ItemsViewOptions
 * @property {Ipc} ipc
 * @property {(error: unknown) => void} onError any failure; sign-in-required ones included
 * @property {import("./toast.js").Toaster} [toaster] confirms a change (with Undo for a delete)
 */

/**
 * Wires the items view.
 * @param {ItemsViewOptions} options
 * @returns {{
 *   reload: () => void,
 *   clear: () => void,
 *   setDetails: (details: SessionDetails | null) => void,
 *   newItem: () => void,
 *   focusSearch: () => void,
 * }}
 */
export function createItemsView({ ipc, onError, toaster = { show: () => {}, hide: () => {} } }) {
  const toast = toaster.show;
  const layout = byId("items-layout", HTMLDivElement);
  const search = byId("items-search", HTMLInputElement);
  const tagFilter = byId("tag-filter", HTMLSelectElement);
  const newItem = byId("new-item", HTMLButtonElement);
  const writeNote = byId("write-note", HTMLParagraphElement);
  const loading = byId("items-loading", HTMLParagraphElement);
  const list = byId("items-list", HTMLUListElement);
  const empty = byId("items-empty", HTMLParagraphElement);
  const loadMore = byId("load-more", HTMLButtonElement);
  const placeholder = byId("detail-placeholder", HTMLParagraphElement);
  /** The stylesheet's one-pane layout, where the list hides while an item is shown. */
  const narrow = window.matchMedia("(max-width: 759px)");

  /** @type {Item[]} */
  let items = [];
  /** @type {string | null} */
  let cursor = null;
  /** Every tag seen since the account was chosen, for the filter. @type {string[]} */
  let tags = [];
  /** @type {string | null} */
  let selectedId = null;
  /** Ignores answers to superseded loads. */
  let loadSeq = 0;
  let canWrite = false;
  /** The rows in the DOM, by item id, in the order of `items`. @type {Map<string, HTMLLIElement>} */
  const rendered = new Map();
  /** Every row's height in pixels, measured once shown (0 until then). */
  let rowHeight = 0;

  const selected = () => items.find((item) => item.id === selectedId) ?? null;

  const detail = createItemDetail({
    onEdit: (item) => openForm(item),
    onDelete: async (item) => {
      try {
        await ipc.deleteItem(item.id);
        items = items.filter((i) => i.id !== item.id);
        select(null);
        renderList();
        search.focus();
        // Undo: the API has no "undelete"; the item is created again with
        // the same fields (a new id and dates).
        toast(`“${item.name}” deleted`, { label: "Undo", run: () => void restore(item) });
      } catch (error) {
        onError(error);
      }
    },
    onBack: () => {
      const index = items.findIndex((item) => item.id === selectedId);
      select(null);
      focusRow(index);
    },
  });

  const editor = createItemEditor({
    ipc,
    onSaved: (item, created) => {
      toast(created ? `“${item.name}” created` : `Changes to “${item.name}” saved`);
      items = upsertItem(items, item);
      tags = collectTags(tags, [item]);
      renderTags();
      select(item.id);
      renderList();
      detail.focus();
    },
    onClose: () => {
      showPane();
      if (selected()) detail.focus();
      else newItem.focus();
    },
    onSignInRequired: onError,
  });

  /**
   * Creates a deleted item again with its fields, and shows it.
   * @param {Item} item
   */
  async function restore(item) {
    try {
      const again = await ipc.createItem({
        name: item.name,
        description: item.description,
        price: item.price,
        tags: item.tags,
      });
      items = upsertItem(items, again);
      select(again.id);
      renderList();
      detail.focus();
      toast(`“${again.name}” restored`);
    } catch (error) {
      onError(error);
    }
  }

  /** Shows the form, the selected item, or the placeholder in the detail pane. */
  function showPane() {
    const item = selected();
    const formOpen = editor.isOpen();
    detail.show(formOpen ? null : item);
    placeholder.hidden = formOpen || item !== null;
    layout.dataset.pane = formOpen || item ? "detail" : "list";
  }

  /** @param {Item | null} item the item to edit; null for a new one */
  function openForm(item) {
    if (!canWrite) return;
    toaster.hide();
    editor.open(item);
    showPane();
  }

  /** @param {string | null} id */
  function select(id) {
    selectedId = id;
    editor.close();
    for (const [rowId, row] of rendered) {
      const isSelected = rowId === id;
      row.classList.toggle("selected", isSelected);
      row.querySelector("button")?.setAttribute("aria-current", String(isSelected));
    }
    showPane();
  }

  /**
   * @param {Item} item
   * @param {number} index its place in `items`
   */
  function row(item, index) {
    const li = element("li", item.id === selectedId ? "item selected" : "item");
    li.dataset.itemId = item.id;
    li.setAttribute("aria-posinset", String(index + 1));
    li.setAttribute("aria-setsize", String(items.length));
    const button = element("button", "item-button");
    button.type = "button";
    button.setAttribute("aria-current", String(item.id === selectedId));
    const chips = element("span", "chips");
    chips.append(...item.tags.map((tag) => element("span", "chip", tag)));
    button.append(
      Object.assign(element("span", "item-name", item.name), { title: item.name }),
      element("span", "item-price", formatPrice(item.price)),
      chips,
    );
    button.addEventListener("click", () => {
      select(item.id);
      if (narrow.matches) detail.focus();
    });
    li.append(button);
    return li;
  }

  /**
   * Puts the rows of `range` in the DOM: rows already there stay (with their
   * focus), rows outside it go, the list's padding and height stand in for
   * the rest.
   * @param {{ start: number, end: number }} range
   */
  function renderRows({ start, end }) {
    const wanted = items.slice(start, end);
    const keep = new Set(wanted.map((item) => item.id));
    for (const [id, li] of rendered) {
      if (keep.has(id)) continue;
      li.remove();
      rendered.delete(id);
    }
    /** The first kept row after the current place: new rows go before it. */
    let next = list.firstElementChild;
    for (const [offset, item] of wanted.entries()) {
      const kept = rendered.get(item.id);
      if (kept) {
        next = kept.nextElementSibling;
        continue;
      }
      const li = row(item, start + offset);
      rendered.set(item.id, li);
      list.insertBefore(li, next);
    }
    list.style.paddingTop = rowHeight ? `${start * rowHeight}px` : "";
    list.style.height = rowHeight ? `${items.length * rowHeight}px` : "";
  }

  /** A row's height, measured from a row on screen; 0 while the list is hidden. */
  function measureRow() {
    if (rowHeight || items.length === 0) return rowHeight;
    const probe = rendered.values().next().value ?? list.appendChild(row(items[0], 0));
    rowHeight = probe.getBoundingClientRect().height;
    if (!rendered.has(probe.dataset.itemId ?? "")) probe.remove();
    return rowHeight;
  }

  /** The rows for the list's place on screen now. */
  function visibleRange() {
    if (!measureRow()) return windowAround(0, items.length);
    return rowWindow({
      scrolled: -list.getBoundingClientRect().top,
      viewport: window.innerHeight,
      rowHeight,
      count: items.length,
    });
  }

  /** Renders the rows on screen again at the next frame (after scrolling or resizing). */
  let framePending = false;
  function renderLater() {
    if (framePending) return;
    framePending = true;
    requestAnimationFrame(() => {
      framePending = false;
      renderRows(visibleRange());
    });
  }

  /**
   * Brings the row at `index` into view and focuses it.
   * @param {number} index
   */
  function focusRow(index) {
    if (index < 0 || index >= items.length) return;
    renderRows(windowAround(index, items.length));
    const li = rendered.get(items[index].id);
    li?.scrollIntoView({ block: "nearest" });
    li?.querySelector("button")?.focus();
  }

  /** Builds the list again (after a new search, a delete, an edit). */
  function renderList() {
    for (const li of rendered.values()) li.remove();
    rendered.clear();
    renderRows(visibleRange());
    list.dataset.count = String(items.length);
    loadMore.hidden = cursor === null;
    renderEmpty();
  }

  /**
   * Shows items appended to the list, keeping the rows shown (a thousand
   * items loaded page by page are built once, not forty times).
   */
  function appendRows() {
    for (const li of rendered.values()) li.setAttribute("aria-setsize", String(items.length));
    renderRows(visibleRange());
    list.dataset.count = String(items.length);
    loadMore.hidden = cursor === null;
    renderEmpty();
  }

  function renderEmpty() {
    const filtered = search.value.trim() !== "" || tagFilter.value !== "";
    empty.textContent = filtered
      ? "No items match your search."
      : canWrite
        ? "No items yet. Create one with “New item”."
        : "No items yet.";
    empty.hidden = items.length > 0 || list.dataset.loaded !== "true";
  }

  function renderTags() {
    const current = tagFilter.value;
    const options = tags.includes(current) || current === "" ? tags : [...tags, current];
    const all = element("option", undefined, "All tags");
    all.value = "";
    tagFilter.replaceChildren(
      all,
      ...options.map((tag) => {
        const option = element("option", undefined, tag);
        option.value = tag;
        return option;
      }),
    );
    tagFilter.value = current;
  }

  /**
   * Loads the first page for the current search, or the next page.
   * @param {boolean} more append the next page instead of starting over
   */
  async function load(more) {
    const seq = ++loadSeq;
    list.dataset.loaded = "false";
    list.setAttribute("aria-busy", "true");
    loading.hidden = false;
    loadMore.disabled = true;
    empty.hidden = true;
    /** Whether a "load more" only added items at the end (the rows shown are kept). */
    let appended = false;
    try {
      const page = await ipc.listItems(
        listItemsArgs({ q: search.value, tag: tagFilter.value, cursor: more ? cursor : null }),
      );
      if (seq !== loadSeq) return;
      const shown = more ? items : [];
      const known = new Set(shown.map((item) => item.id));
      items = mergePage(shown, page.items);
      const updated = more && page.items.some((item) => known.has(item.id));
      appended = more && !updated;
      cursor = page.nextCursor;
      tags = collectTags(tags, page.items);
      renderTags();
    } catch (error) {
      if (seq !== loadSeq) return;
      if (!more) {
        items = [];
        cursor = null;
      }
      onError(error);
    } finally {
      if (seq === loadSeq) {
        list.dataset.loaded = "true";
        list.removeAttribute("aria-busy");
        loading.hidden = true;
        loadMore.disabled = false;
        if (appended) appendRows();
        else renderList();
        if (selectedId !== null && !selected()) select(null);
      }
    }
  }

  // Scrolling anywhere (the page or a pane) and resizing move the list on screen.
  document.addEventListener("scroll", renderLater, { capture: true, passive: true });
  window.addEventListener("resize", renderLater);
  // The list pane shown again (one-pane layout) or reflowed.
  new ResizeObserver(() => {
    rowHeight = 0;
    renderLater();
  }).observe(list);
  list.addEventListener("keydown", (event) => {
    const id = event.target instanceof HTMLElement ? event.target.closest("li")?.dataset.itemId : undefined;
    const index = items.findIndex((item) => item.id === id);
    if (index < 0) return;
    const to = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: items.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    focusRow(Math.min(Math.max(to, 0), items.length - 1));
  });

  const searchLater = debounce(() => void load(false), SEARCH_DELAY_MS);
  search.addEventListener("input", searchLater);
  tagFilter.addEventListener("change", () => void load(false));
  loadMore.addEventListener("click", () => void load(true));
  newItem.addEventListener("click", () => {
    select(null);
    openForm(null);
  });

  return {
    reload: () => void load(false),
    newItem() {
      if (newItem.disabled) return;
      select(null);
      openForm(null);
    },
    focusSearch() {
      search.focus();
      search.select();
    },
    clear() {
      loadSeq++;
      items = [];
      cursor = null;
      tags = [];
      search.value = "";
      renderTags();
      list.dataset.loaded = "false";
      select(null);
      renderList();
    },
    setDetails(details) {
      const access = writeAccess(details);
      canWrite = access.allowed;
      newItem.disabled = !access.allowed;
      if (access.reason) newItem.title = access.reason;
      else newItem.removeAttribute("title");
      writeNote.textContent = details && !access.allowed ? `${access.reason}, so you can look at items but not change them.` : "";
      writeNote.hidden = !writeNote.textContent;
      detail.setWriteAccess(access);
      renderEmpty();
      if (!access.allowed && editor.isOpen()) {
        editor.close();
        showPane();
      }
    },
  };
}
