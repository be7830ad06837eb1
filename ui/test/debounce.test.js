import assert from "node:assert/strict";
import { test } from "node:test";
import { debounce } from "../app/src/debounce.js";

/** A hand-driven clock implementing the debounce's timers. */
function fakeTimers() {
  let now = 0;
  let nextId = 1;
  /** @type {Map<unknown, { at: number, fn: () => void }>} */
  const pending = new Map();
  return {
    /** @param {() => void} fn @param {number} ms */
    setTimeout(fn, ms) {
      const id = nextId++;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    /** @param {unknown} id */
    clearTimeout(id) {
      pending.delete(id);
    },
    /** @param {number} ms */
    advance(ms) {
      now += ms;
      for (const [id, timer] of [...pending]) {
        if (timer.at <= now) {
          pending.delete(id);
          timer.fn();
        }
      }
    },
  };
}

test("calls once with the latest arguments after the input settles", () => {
  const timers = fakeTimers();
  /** @type {string[]} */
  const calls = [];
  const search = debounce((/** @type {string} */ q) => calls.push(q), 250, timers);
  search("l");
  timers.advance(100);
  search("la");
  timers.advance(100);
  search("lamp");
  timers.advance(249);
  assert.deepEqual(calls, []);
  timers.advance(1);
  assert.deepEqual(calls, ["lamp"]);
  timers.advance(1000);
  assert.deepEqual(calls, ["lamp"]);
});

test("calls again for input after a pause", () => {
  const timers = fakeTimers();
  /** @type {string[]} */
  const calls = [];
  const search = debounce((/** @type {string} */ q) => calls.push(q), 250, timers);
  search("a");
  timers.advance(250);
  search("b");
  timers.advance(250);
  assert.deepEqual(calls, ["a", "b"]);
});

test("uses the real timers by default", async () => {
  /** @type {number[]} */
  const calls = [];
  const tick = debounce((/** @type {number} */ n) => calls.push(n), 5);
  tick(1);
  tick(2);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(calls, [2]);
});
