import assert from "node:assert/strict";
import { test } from "node:test";
import { IpcError } from "../app/src/errors.js";
import { createIpc } from "../app/src/ipc.js";

/**
 * A fake `window.__TAURI__` that records calls and answers from a table.
 * @param {Record<string, (args: Record<string, unknown> | undefined) => unknown>} answers
 */
function fakeTauri(answers) {
  /** @type {{ command: string, args: Record<string, unknown> | undefined }[]} */
  const calls = [];
  /** @type {Map<string, (event: { payload: unknown }) => void>} */
  const listeners = new Map();
  let unlistened = 0;
  const tauri = {
    core: {
      /** @param {string} command @param {Record<string, unknown>} [args] */
      async invoke(command, args) {
        calls.push({ command, args });
        const answer = answers[command];
        if (!answer) throw `command ${command} not found`;
        return answer(args);
      },
    },
    event: {
      /** @param {string} event @param {(event: { payload: unknown }) => void} handler */
      async listen(event, handler) {
        listeners.set(event, handler);
        return () => {
          unlistened++;
        };
      },
    },
  };
  return {
    tauri,
    calls,
    /** @param {string} event @param {unknown} payload */
    emit: (event, payload) => listeners.get(event)?.({ payload }),
    unlistened: () => unlistened,
  };
}

test("commands are invoked by their IPC names with camelCase arguments", async () => {
  const fake = fakeTauri({
    list_items: () => ({ items: [], nextCursor: null }),
    sign_in: () => ({ id: "a1" }),
    update_item: (args) => ({ id: args?.id }),
    save_settings: () => ({ mode: "configured" }),
    app_info: () => ({ mode: "demo" }),
  });
  const ipc = createIpc(fake.tauri);
  assert.deepEqual(await ipc.listItems({ q: "lamp", limit: 25 }), { items: [], nextCursor: null });
  await ipc.signIn(true);
  await ipc.updateItem("i1", { price: 3 });
  await ipc.appInfo();
  assert.deepEqual(fake.calls, [
    { command: "list_items", args: { q: "lamp", limit: 25 } },
    { command: "sign_in", args: { add: true } },
    { command: "update_item", args: { id: "i1", patch: { price: 3 } } },
    { command: "app_info", args: undefined },
  ]);
});

test("an error object from the shell is rejected as an IpcError", async () => {
  const fake = fakeTauri({
    create_item: () => {
      throw { code: "invalid", message: "Price too high.", field: "price" };
    },
  });
  const ipc = createIpc(fake.tauri);
  await assert.rejects(ipc.createItem({ name: "x", description: "", price: 1e9, tags: [] }), (error) => {
    assert.ok(error instanceof IpcError);
    assert.equal(error.code, "invalid");
    assert.equal(error.message, "Price too high.");
    assert.equal(error.field, "price");
    return true;
  });
});

test("a string rejection is normalised too", async () => {
  const ipc = createIpc(fakeTauri({}).tauri);
  await assert.rejects(ipc.getSettings(), (error) => {
    assert.ok(error instanceof IpcError);
    assert.equal(error.code, "internal");
    assert.equal(error.message, "command get_settings not found");
    return true;
  });
});

test("events reach their handlers with the payload, and can be stopped", async () => {
  const fake = fakeTauri({});
  const ipc = createIpc(fake.tauri);
  let changed = 0;
  /** @type {unknown[]} */
  const progress = [];
  const stop = await ipc.onSessionChanged(() => changed++);
  await ipc.onSignInProgress((p) => progress.push(p));
  fake.emit("session-changed", null);
  fake.emit("sign-in-progress", { phase: "browser-failed", url: "https://idp.example/authorize" });
  assert.equal(changed, 1);
  assert.deepEqual(progress, [{ phase: "browser-failed", url: "https://idp.example/authorize" }]);
  stop();
  assert.equal(fake.unlistened(), 1);
});
