import assert from "node:assert/strict";
import { test } from "node:test";
import {
  fieldKey,
  GENERIC_MESSAGE,
  IpcError,
  needsSignIn,
  normaliseError,
  signInFailureText,
} from "../app/src/errors.js";

test("an error object from the shell keeps its code, message and field", () => {
  const err = normaliseError({ code: "invalid", message: "The price is too high.", field: "price" });
  assert.ok(err instanceof IpcError);
  assert.equal(err.code, "invalid");
  assert.equal(err.message, "The price is too high.");
  assert.equal(err.field, "price");
  assert.equal(normaliseError({ code: "forbidden", message: "No." }).field, null);
  assert.equal(normaliseError(err), err);
});

test("a string rejection becomes an internal error with that text", () => {
  const err = normaliseError("command list_items not found");
  assert.equal(err.code, "internal");
  assert.equal(err.message, "command list_items not found");
  assert.equal(normaliseError("  ").message, GENERIC_MESSAGE);
});

test("unknown shapes never show a raw object", () => {
  for (const raw of [undefined, null, 42, {}, { code: 7, message: { nested: true } }, [], { message: "" }]) {
    const err = normaliseError(raw);
    assert.equal(err.message, GENERIC_MESSAGE, JSON.stringify(raw));
    assert.equal(err.code, "internal");
  }
  assert.equal(normaliseError(new Error("boom")).message, "boom");
  assert.equal(normaliseError({ message: "Only a message." }).code, "internal");
});

test("sign-in failures read as plain sentences", () => {
  assert.equal(signInFailureText({ code: "cancelled", message: "x" }), "Sign-in was cancelled.");
  assert.match(signInFailureText({ code: "access_denied", message: "x" }), /denied/);
  assert.match(signInFailureText({ code: "timeout", message: "x" }), /timed out/);
  assert.match(signInFailureText({ code: "provider_unreachable", message: "x" }), /couldn't reach|couldn’t reach/);
  assert.equal(signInFailureText({ code: "provider_error", message: "The provider said no." }), "The provider said no.");
  assert.equal(signInFailureText({ unexpected: true }), GENERIC_MESSAGE);
});

test("a lost session is recognised", () => {
  assert.equal(needsSignIn({ code: "sign_in_required", message: "Sign in again." }), true);
  assert.equal(needsSignIn({ code: "unauthorized", message: "401" }), true);
  assert.equal(needsSignIn({ code: "forbidden", message: "403" }), false);
  assert.equal(needsSignIn("sign_in_required"), false);
});

test("field names compare whatever their case or separators", () => {
  assert.equal(fieldKey("clientId"), fieldKey("client_id"));
  assert.equal(fieldKey("Items-API"), fieldKey("itemsApi"));
  assert.equal(fieldKey(null), "");
});
