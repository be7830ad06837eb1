// The create / edit form. Checks what was typed, sends a NewItem or an ItemPatch,
// and on an error keeps the text and points at the field at fault.

import { byId, markInvalid } from "./dom.js";
import { createErrorBox } from "./errorBox.js";
import { fieldKey, needsSignIn, normaliseError } from "./errors.js";
import { itemFormText, itemPatch, parseItemForm } from "./itemForm.js";

/** @typedef {import("./types.js").Item} Item */
/** @typedef {import("./ipc.js").Ipc} Ipc */

/**
 * @typedef {object} ItemEditorOptions
 * @property {Ipc} ipc
 * @property {(item: Item, created: boolean) => void} onSaved the created or updated item
 * @property {() => void} onClose the form was cancelled
 * @property {(error: unknown) => void} onSignInRequired the session is gone
 */

/**
 * Wires the item form.
 * @param {ItemEditorOptions} options
 * @returns {{ open: (item: Item | null) => void, close: () => void, isOpen: () => boolean }}
 */
export function createItemEditor({ ipc, onSaved, onClose, onSignInRequired }) {
  const form = byId("item-form", HTMLFormElement);
  const title = byId("item-form-title", HTMLHeadingElement);
  const errorBox = createErrorBox("item-form-error");
  const save = byId("item-save", HTMLButtonElement);
  const inputs = {
    name: byId("item-name", HTMLInputElement),
    description: byId("item-description", HTMLTextAreaElement),
    price: byId("item-price", HTMLInputElement),
    tags: byId("item-tags", HTMLInputElement),
  };

  /** The item being edited; null while creating one. @type {Item | null} */
  let original = null;

  /**
   * Shows an error at the top of the form and marks the field it names.
   * @param {unknown} raw an IPC error, or a form rule's sentence
   * @param {string | null} field
   */
  function showError(raw, field) {
    if (typeof raw === "string") errorBox.showText(raw);
    else errorBox.show(raw);
    const key = fieldKey(field);
    const input = Object.entries(inputs).find(([name]) => fieldKey(name) === key)?.[1] ?? null;
    markInvalid(Object.values(inputs), input);
    input?.focus();
  }

  function clearError() {
    errorBox.clear();
    markInvalid(Object.values(inputs), null);
  }

  function close() {
    form.hidden = true;
    clearError();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const parsed = parseItemForm({
      name: inputs.name.value,
      description: inputs.description.value,
      price: inputs.price.value,
      tags: inputs.tags.value,
    });
    if (!parsed.ok) {
      showError(parsed.message, parsed.field);
      return;
    }
    clearError();
    save.disabled = true;
    try {
      let saved;
      if (original) {
        const patch = itemPatch(original, parsed.item);
        saved = Object.keys(patch).length ? await ipc.updateItem(original.id, patch) : original;
      } else {
        saved = await ipc.createItem(parsed.item);
      }
      close();
      onSaved(saved, original === null);
    } catch (raw) {
      if (needsSignIn(raw)) {
        close();
        onSignInRequired(raw);
      } else {
        showError(raw, normaliseError(raw).field);
      }
    } finally {
      save.disabled = false;
    }
  });

  byId("item-cancel", HTMLButtonElement).addEventListener("click", () => {
    close();
    onClose();
  });
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
      onClose();
    }
  });

  return {
    open(item) {
      original = item;
      title.textContent = item ? `Edit “${item.name}”` : "New item";
      const text = itemFormText(item);
      inputs.name.value = text.name;
      inputs.description.value = text.description;
      inputs.price.value = text.price;
      inputs.tags.value = text.tags;
      clearError();
      form.hidden = false;
      inputs.name.focus();
    },
    close,
    isOpen: () => !form.hidden,
  };
}
