// The one place an error shows in a view: a sentence for people first, the
// technical chain folded under "Details" with a copy button.
//
// Markup (index.html), inside an element with the box's id:
//   <p class="error-summary"></p>
//   <details class="error-details"><summary>Details</summary>
//     <pre class="error-chain"></pre>
//     <button type="button" class="error-copy">Copy details</button></details>

import { byId } from "./dom.js";
import { explainError } from "./errors.js";

/**
 * Copies `text` to the clipboard: the Clipboard API, else a selected
 * off-screen text area and `execCommand("copy")` (WebKitGTK without a
 * clipboard permission).
 * @param {string} text
 * @returns {Promise<boolean>} whether it was copied
 */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "offscreen";
    document.body.append(area);
    area.select();
    let copied = false;
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
    area.remove();
    return copied;
  }
}

/**
 * @typedef {object} ErrorBox
 * @property {(error: unknown) => import("./errors.js").Explained} show shows an IPC error, explained
 * @property {(summary: string, details?: string | null) => void} showText shows a sentence (and details)
 * @property {() => void} clear hides the box
 */

/**
 * Wires the error box `#id`.
 * @param {string} id
 * @returns {ErrorBox}
 */
export function createErrorBox(id) {
  const box = byId(id, HTMLElement);
  const summary = /** @type {HTMLElement} */ (box.querySelector(".error-summary"));
  const details = /** @type {HTMLDetailsElement} */ (box.querySelector(".error-details"));
  const chain = /** @type {HTMLElement} */ (box.querySelector(".error-chain"));
  const copy = /** @type {HTMLButtonElement} */ (box.querySelector(".error-copy"));
  copy.addEventListener("click", async () => {
    const copied = await copyText(chain.textContent ?? "");
    copy.textContent = copied ? "Copied" : "Select the text to copy it";
    setTimeout(() => (copy.textContent = "Copy details"), 2000);
  });

  /** @type {ErrorBox["showText"]} */
  function showText(text, more = null) {
    summary.textContent = text;
    chain.textContent = more ?? "";
    details.hidden = !more;
    details.open = false;
    box.hidden = false;
  }
  return {
    show(error) {
      const explained = explainError(error);
      showText(explained.summary, explained.details);
      return explained;
    },
    showText,
    clear() {
      box.hidden = true;
      summary.textContent = "";
      chain.textContent = "";
    },
  };
}
