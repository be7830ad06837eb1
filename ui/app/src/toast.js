// Short confirmations at the bottom of the window ("“Lamp” created"), with an
// optional action (Undo). One at a time; each replaces the last.

import { byId } from "./dom.js";

/** How long a confirmation stays, and one with an action. */
export const TOAST_MS = 5000;
export const TOAST_ACTION_MS = 10000;

/**
 * @typedef {{ label: string, run: () => void }} ToastAction
 * @typedef {{ show: (message: string, action?: ToastAction) => void, hide: () => void }} Toaster
 */

/**
 * Wires `#toast`. It hides when the person moves on (opens a form), so it
 * never covers what they work with.
 * @returns {Toaster}
 */
export function createToaster() {
  const toast = byId("toast", HTMLDivElement);
  const text = byId("toast-text", HTMLParagraphElement);
  const button = byId("toast-action", HTMLButtonElement);
  /** @type {ReturnType<typeof setTimeout> | null} */
  let timer = null;
  /** @type {ToastAction | null} */
  let current = null;

  const hide = () => {
    toast.hidden = true;
    current = null;
  };
  button.addEventListener("click", () => {
    const action = current;
    hide();
    action?.run();
  });
  /** @type {Toaster["show"]} */
  const show = (message, action) => {
    if (timer !== null) clearTimeout(timer);
    current = action ?? null;
    text.textContent = message;
    button.textContent = action?.label ?? "";
    button.hidden = !action;
    toast.hidden = false;
    timer = setTimeout(hide, action ? TOAST_ACTION_MS : TOAST_MS);
  };
  return { show, hide };
}
