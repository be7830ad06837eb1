// The items view: search, tag filter, the list with "load more", and the detail
// pane that shows either one item or the create / edit form.

import { debounce } from "./debounce.js";
import { byId, element } from "./dom.js";
import { formatPrice } from "./format.js";
import { createItemDetail } from "./itemDetail.js";
import { createItemEditor } from "./itemEditor.js";
import { collectTags, listItemsArgs, mergePage, upsertItem, writeAccess } from "./items.js";

/** @typedef {import("./types.js").Item} Item */
/** @typedef {import("./types.js").SessionDetails} SessionDetails */
/** @typedef {import("./ipc.js").Ipc} Ipc */

/** How long the search box waits for typing to pause, in milliseconds. */
const SEARCH_DELAY_MS = 250;

/**
 * @typedef {object} ItemsViewOptions
 * @property {Ipc} ipc
 * @property {(error: unknown) => void} onError any failure; sign-in-required ones included
 */

/**
 * Wires the items view.
 * @param {ItemsViewOptions} options
 * @returns {{ reload: () => void, clear: () => void, setDetails: (details: SessionDetails | null) => void }}
 */
export function createItemsView({ ipc, onError }) {
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
      } catch (error) {
        onError(error);
      }
    },
    onBack: () => {
      const id = selectedId;
      select(null);
      const row = [...list.children].find((li) => li instanceof HTMLElement && li.dataset.itemId === id);
      row?.querySelector("button")?.focus();
    },
  });

  const editor = createItemEditor({
    ipc,
    onSaved: (item) => {
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
    editor.open(item);
    showPane();
  }

  /** @param {string | null} id */
  function select(id) {
    selectedId = id;
    editor.close();
    for (const row of list.children) {
      const button = row.querySelector("button");
      const isSelected = row instanceof HTMLElement && row.dataset.itemId === id;
      row.classList.toggle("selected", isSelected);
      button?.setAttribute("aria-current", String(isSelected));
    }
    showPane();
  }

  /** @param {Item} item */
  function row(item) {
    const li = element("li", item.id === selectedId ? "item selected" : "item");
    li.dataset.itemId = item.id;
    const button = element("button", "item-button");
    button.type = "button";
    button.setAttribute("aria-current", String(item.id === selectedId));
    const chips = element("span", "chips");
    chips.append(...item.tags.map((tag) => element("span", "chip", tag)));
    button.append(
      element("span", "item-name", item.name),
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

  function renderList() {
    list.replaceChildren(...items.map(row));
    list.dataset.count = String(items.length);
    loadMore.hidden = cursor === null;
    renderEmpty();
  }

  /**
   * Adds rows for items appended to the list, keeping the rows shown (a
   * thousand items loaded page by page are built once, not forty times).
   * @param {Item[]} added
   */
  function appendRows(added) {
    list.append(...added.map(row));
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
    /** Items a "load more" added at the end (their rows are appended, the others kept). @type {Item[] | null} */
    let appended = null;
    try {
      const page = await ipc.listItems(
        listItemsArgs({ q: search.value, tag: tagFilter.value, cursor: more ? cursor : null }),
      );
      if (seq !== loadSeq) return;
      const shown = more ? items : [];
      const known = new Set(shown.map((item) => item.id));
      items = mergePage(shown, page.items);
      const updated = more && page.items.some((item) => known.has(item.id));
      if (more && !updated) appended = items.filter((item) => !known.has(item.id));
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
        if (appended) appendRows(appended);
        else renderList();
        if (selectedId !== null && !selected()) select(null);
      }
    }
  }

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
