import assert from "node:assert/strict";
import { test } from "node:test";
import {
  fieldKey,
  GENERIC_MESSAGE,
  IpcError,
  needsSignIn,
  normaliseError,
  signInFailureText,
  explainError,
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
  assert.match(signInFailureText({ code: "cancelled", message: "x" }), /^Sign-in was cancelled\./);
  assert.match(signInFailureText({ code: "timeout", message: "x" }), /took too long/);
  assert.match(signInFailureText({ code: "provider_unreachable", message: "x" }), /couldn’t reach/);
  assert.equal(signInFailureText({ code: "rate_limited", message: "Try again in 30 s." }), "Try again in 30 s.");
  assert.match(signInFailureText({ unexpected: true }), /Something went wrong inside Tessera/);
});

test("Cancel on the provider's page (access_denied) reads as cancelled; an unassigned account does not", () => {
  const cancelled = explainError({
    code: "access_denied",
    message:
      "the sign-in was cancelled or access was not allowed at the provider (access_denied: The person cancelled the sign-in.)",
  });
  assert.equal(cancelled.cancelled, true);
  assert.equal(cancelled.summary, "Sign-in was cancelled in the browser. Try again when you’re ready.");
  assert.match(cancelled.details ?? "", /The person cancelled the sign-in\.\)\n\(code: access_denied\)$/);
  const refused = explainError({
    code: "access_denied",
    message:
      "the sign-in was cancelled or access was not allowed at the provider (access_denied: User is not assigned to the client application.)",
  });
  assert.equal(refused.cancelled, false);
  assert.match(refused.summary, /ask your administrator/i);
});

test("an explained error leads with a sentence and keeps the chain as details", () => {
  const chain = "cannot reach the provider at https://nope.example (offline, or is the issuer right?): dns error";
  const explained = explainError({ code: "discovery_failed", message: chain, field: "issuer" });
  assert.match(explained.summary, /^Tessera couldn’t find an identity provider at this address\. Check “Your Okta domain”/);
  assert.equal(explained.details, `${chain}\n(code: discovery_failed)`);
  // A sentence of the shell's own is not repeated as details.
  const own = explainError({ code: "settings_invalid", message: "The client ID is missing.", field: "clientId" });
  assert.deepEqual(own, { summary: "The client ID is missing.", details: null, cancelled: false });
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
