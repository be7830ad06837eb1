// Small DOM helpers shared by the views. Text always goes in through textContent.

/**
 * The element with this id, checked to be of the expected type.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{ new (): T, name: string }} type e.g. HTMLButtonElement
 * @returns {T}
 */
export function byId(id, type) {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`);
  return el;
}

/**
 * A new element with an optional class and text.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function element(tag, className, text) {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

/**
 * Fills a list with one chip per tag.
 * @param {HTMLElement} list a <ul>
 * @param {string[]} tags
 */
export function renderChips(list, tags) {
  list.replaceChildren(...tags.map((tag) => element("li", "chip", tag)));
}

/**
 * Marks the input named by an error's field as invalid (and clears the others).
 * @param {Iterable<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>} inputs
 * @param {HTMLElement | null} invalid the input to mark, or null to clear all
 */
export function markInvalid(inputs, invalid) {
  for (const input of inputs) {
    if (input === invalid) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}
