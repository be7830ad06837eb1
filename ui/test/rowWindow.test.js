import assert from "node:assert/strict";
import { test } from "node:test";
import { OVERSCAN, rowWindow, windowAround } from "../app/src/rowWindow.js";

const base = { viewport: 600, rowHeight: 60, count: 1000, overscan: 5 };

test("at the top, the rows on screen and the margin below", () => {
  assert.deepEqual(rowWindow({ ...base, scrolled: 0 }), { start: 0, end: 15 });
});

test("a list starting lower on the page renders only what reaches the screen", () => {
  // The list's top is 300 px below the viewport's top: 5 rows fit, plus the margin.
  assert.deepEqual(rowWindow({ ...base, scrolled: -300 }), { start: 0, end: 10 });
});

test("a list entirely below the screen renders its margin only", () => {
  assert.deepEqual(rowWindow({ ...base, scrolled: -5000 }), { start: 0, end: 5 });
});

test("scrolled into the middle: a margin on both sides", () => {
  // Rows 100..110 are on screen (6000 px down, 600 px tall).
  assert.deepEqual(rowWindow({ ...base, scrolled: 6000 }), { start: 95, end: 115 });
});

test("a partly shown row counts as shown", () => {
  assert.deepEqual(rowWindow({ ...base, scrolled: 6030 }), { start: 95, end: 116 });
});

test("at the end, the range stops at the last row", () => {
  assert.deepEqual(rowWindow({ ...base, scrolled: 59_700 }), { start: 990, end: 1000 });
  assert.deepEqual(rowWindow({ ...base, scrolled: 1e9 }), { start: 1000, end: 1000 });
});

test("short lists render whole", () => {
  assert.deepEqual(rowWindow({ ...base, count: 3, scrolled: 0 }), { start: 0, end: 3 });
});

test("no rows or no row height yet: nothing to render", () => {
  assert.deepEqual(rowWindow({ ...base, count: 0, scrolled: 0 }), { start: 0, end: 0 });
  assert.deepEqual(rowWindow({ ...base, rowHeight: 0, scrolled: 0 }), { start: 0, end: 0 });
  assert.deepEqual(rowWindow({ ...base, rowHeight: Number.NaN, scrolled: 0 }), { start: 0, end: 0 });
});

test("the default margin is used when none is given", () => {
  const { overscan: _, ...rest } = base;
  assert.deepEqual(rowWindow({ ...rest, scrolled: 6000 }), { start: 100 - OVERSCAN, end: 110 + OVERSCAN });
});

test("a window around one row keeps the margin and the bounds", () => {
  assert.deepEqual(windowAround(500, 1000, 5), { start: 495, end: 506 });
  assert.deepEqual(windowAround(2, 1000, 5), { start: 0, end: 8 });
  assert.deepEqual(windowAround(998, 1000, 5), { start: 993, end: 1000 });
});
