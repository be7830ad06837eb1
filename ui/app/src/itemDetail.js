// The detail pane of one item, with edit and a two-step delete.

import { byId, renderChips } from "./dom.js";
import { formatDate, formatPrice } from "./format.js";

/** @typedef {import("./types.js").Item} Item */
/** @typedef {ReturnType<typeof import("./items.js").writeAccess>} WriteAccess */

/**
 * @typedef {object} ItemDetailActions
 * @property {(item: Item) => void} onEdit
 * @property {(item: Item) => Promise<void>} onDelete called once the person confirmed
 * @property {() => void} onBack back to the list (narrow windows)
 */

/**
 * Wires the detail pane.
 * @param {ItemDetailActions} actions
 * @returns {{ show: (item: Item | null) => void, setWriteAccess: (access: WriteAccess) => void, focus: () => void }}
 */
export function createItemDetail(actions) {
  const detail = byId("item-detail", HTMLElement);
  const name = byId("detail-name", HTMLHeadingElement);
  const price = byId("detail-price", HTMLParagraphElement);
  const description = byId("detail-description", HTMLParagraphElement);
  const tags = byId("detail-tags", HTMLUListElement);
  const owner = byId("detail-owner", HTMLElement);
  const created = byId("detail-created", HTMLElement);
  const updated = byId("detail-updated", HTMLElement);
  const edit = byId("edit-item", HTMLButtonElement);
  const remove = byId("delete-item", HTMLButtonElement);
  const confirm = byId("delete-confirm", HTMLDivElement);
  const confirmText = byId("delete-confirm-text", HTMLParagraphElement);
  const confirmDelete = byId("confirm-delete", HTMLButtonElement);
  const cancelDelete = byId("cancel-delete", HTMLButtonElement);

  /** @type {Item | null} */
  let shown = null;

  /** @param {boolean} open */
  function setConfirming(open) {
    confirm.hidden = !open;
    if (open) cancelDelete.focus();
  }

  byId("detail-back", HTMLButtonElement).addEventListener("click", actions.onBack);
  edit.addEventListener("click", () => shown && actions.onEdit(shown));
  remove.addEventListener("click", () => {
    if (!shown) return;
    confirmText.textContent = `Delete “${shown.name}”? This can’t be undone.`;
    setConfirming(true);
  });
  cancelDelete.addEventListener("click", () => {
    setConfirming(false);
    remove.focus();
  });
  confirm.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      setConfirming(false);
      remove.focus();
    }
  });
  confirmDelete.addEventListener("click", async () => {
    if (!shown) return;
    confirmDelete.disabled = true;
    try {
      await actions.onDelete(shown);
    } finally {
      confirmDelete.disabled = false;
      setConfirming(false);
    }
  });

  return {
    show(item) {
      shown = item;
      detail.hidden = !item;
      setConfirming(false);
      if (!item) return;
      name.textContent = item.name;
      price.textContent = formatPrice(item.price);
      description.textContent = item.description || "No description.";
      description.classList.toggle("quiet", !item.description);
      renderChips(tags, item.tags);
      owner.textContent = item.owner;
      created.textContent = formatDate(item.createdAt);
      updated.textContent = formatDate(item.updatedAt);
    },
    focus() {
      (edit.disabled ? name : edit).focus();
    },
    setWriteAccess(access) {
      for (const button of [edit, remove]) {
        button.disabled = !access.allowed;
        if (access.reason) button.title = access.reason;
        else button.removeAttribute("title");
      }
      if (!access.allowed) setConfirming(false);
    },
  };
}
