// Which rows of a long list are worth having in the DOM: the ones on screen
// and a margin either side. Rows all have the same height, so the range
// follows from how far the list has scrolled past the top of the viewport.

/** Rows kept beyond each edge of the viewport, so Tab and the arrow keys always find the next one. */
export const OVERSCAN = 12;

/**
 * @typedef {object} RowWindowInput
 * @property {number} scrolled how far the list's top is above the viewport's top, in pixels (negative when below it)
 * @property {number} viewport the viewport's height, in pixels
 * @property {number} rowHeight every row's height, in pixels (> 0)
 * @property {number} count how many rows the list has
 * @property {number} [overscan] rows kept beyond each edge (default OVERSCAN)
 */

/**
 * The rows to render, as a half-open range of indexes.
 * @param {RowWindowInput} input
 * @returns {{ start: number, end: number }} 0 ≤ start ≤ end ≤ count
 */
export function rowWindow({ scrolled, viewport, rowHeight, count, overscan = OVERSCAN }) {
  if (count <= 0 || !(rowHeight > 0)) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrolled) / rowHeight);
  const last = Math.ceil(Math.max(0, scrolled + viewport) / rowHeight);
  const start = clamp(first - overscan, 0, count);
  const end = clamp(last + overscan, start, count);
  return { start, end };
}

/**
 * A range around one row (a row being focused or shown), in the same shape.
 * @param {number} index
 * @param {number} count
 * @param {number} [overscan]
 * @returns {{ start: number, end: number }}
 */
export function windowAround(index, count, overscan = OVERSCAN) {
  const start = clamp(index - overscan, 0, count);
  return { start, end: clamp(index + overscan + 1, start, count) };
}

/**
 * @param {number} value
 * @param {number} low
 * @param {number} high
 */
function clamp(value, low, high) {
  return Math.min(Math.max(value, low), high);
}
