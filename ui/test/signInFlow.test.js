import assert from "node:assert/strict";
import { test } from "node:test";
import { flowReducer, initialFlow, linkActions } from "../app/src/signInFlow.js";

/**
 * Applies actions in turn.
 * @param {import("../app/src/signInFlow.js").FlowAction[]} actions
 */
const run = (...actions) => actions.reduce(flowReducer, initialFlow);

test("start-up shows the items when an account is active, else the welcome", () => {
  assert.equal(initialFlow.view, "loading");
  assert.equal(run({ type: "started", signedIn: true, signingIn: false }).view, "items");
  assert.equal(run({ type: "started", signedIn: false, signingIn: false }).view, "welcome");
  assert.equal(run({ type: "started", signedIn: false, signingIn: true }).view, "waiting");
});

test("welcome → waiting → items", () => {
  const waiting = run({ type: "started", signedIn: false, signingIn: false }, { type: "sign-in-started" });
  assert.equal(waiting.view, "waiting");
  const withUrl = flowReducer(waiting, { type: "browser-failed", url: "https://idp.example/authorize?x=1" });
  assert.equal(withUrl.manualUrl, "https://idp.example/authorize?x=1");
  const done = flowReducer(withUrl, { type: "signed-in" });
  assert.deepEqual(done, {
    view: "items",
    signedIn: true,
    signInError: null,
    signInDetails: null,
    signInCancelled: false,
    manualUrl: null,
    link: null,
    deadline: null,
  });
});

test("a failure goes back to the welcome with the sentence; a retry clears it", () => {
  const failed = run(
    { type: "started", signedIn: false, signingIn: false },
    { type: "sign-in-started" },
    { type: "sign-in-failed", message: "Sign-in timed out." },
  );
  assert.equal(failed.view, "welcome");
  assert.equal(failed.signInError, "Sign-in timed out.");
  assert.equal(flowReducer(failed, { type: "sign-in-started" }).signInError, null);
});

test("cancel returns to where the sign-in started; signed out, it says so calmly", () => {
  const cancel = /** @type {const} */ ({ type: "sign-in-cancelled", message: "Sign-in was cancelled." });
  const started = /** @type {const} */ ({ type: "sign-in-started" });
  const welcome = run({ type: "started", signedIn: false, signingIn: false }, started, cancel);
  assert.equal(welcome.view, "welcome");
  assert.deepEqual([welcome.signInError, welcome.signInCancelled], ["Sign-in was cancelled.", true]);
  const items = run({ type: "started", signedIn: true, signingIn: false }, started, cancel);
  assert.equal(items.view, "items");
  assert.deepEqual([items.signInError, items.signInCancelled], [null, false]);
  // Try again clears it.
  assert.deepEqual([flowReducer(welcome, started).signInError, flowReducer(welcome, started).signInCancelled], [null, false]);
});

test("cancelled at the provider reads as cancelled (neutral); any other failure as an error", () => {
  const waiting = run({ type: "started", signedIn: false, signingIn: false }, { type: "sign-in-started" });
  const cancelled = flowReducer(waiting, {
    type: "sign-in-failed",
    message: "Sign-in was cancelled in the browser.",
    details: "access_denied",
    cancelled: true,
  });
  assert.deepEqual([cancelled.view, cancelled.signInCancelled], ["welcome", true]);
  const failed = flowReducer(waiting, { type: "sign-in-failed", message: "Sign-in took too long." });
  assert.equal(failed.signInCancelled, false);
  // After a cancel, a real failure is an error again.
  assert.equal(flowReducer(flowReducer(cancelled, { type: "sign-in-started" }), { type: "sign-in-failed", message: "No." }).signInCancelled, false);
});

test("a failed 'add account' keeps the items and leaves the welcome message empty", () => {
  const state = run(
    { type: "started", signedIn: true, signingIn: false },
    { type: "sign-in-started" },
    { type: "sign-in-failed", message: "Denied." },
  );
  assert.equal(state.view, "items");
  assert.equal(state.signInError, null);
});

test("a lost session goes to the welcome with a message", () => {
  const state = run(
    { type: "started", signedIn: true, signingIn: false },
    { type: "sign-in-required", message: "Please sign in again." },
  );
  assert.deepEqual(state, {
    view: "welcome",
    signedIn: false,
    signInError: "Please sign in again.",
    signInDetails: null,
    signInCancelled: false,
    manualUrl: null,
    link: null,
    deadline: null,
  });
});

test("session changes leave the items when the account is gone, and nothing else", () => {
  const items = run({ type: "started", signedIn: true, signingIn: false });
  assert.equal(flowReducer(items, { type: "session-changed", signedIn: false }).view, "welcome");
  assert.equal(flowReducer(items, { type: "session-changed", signedIn: true }).view, "items");
  const waiting = flowReducer(items, { type: "sign-in-started" });
  assert.equal(flowReducer(waiting, { type: "session-changed", signedIn: true }).view, "waiting");
});

test("settings open from anywhere but the waiting view and close back", () => {
  const welcome = run({ type: "started", signedIn: false, signingIn: false });
  const settings = flowReducer(welcome, { type: "open-settings" });
  assert.equal(settings.view, "settings");
  assert.equal(flowReducer(settings, { type: "close-settings" }).view, "welcome");
  const signedInSettings = flowReducer(settings, { type: "session-changed", signedIn: true });
  assert.equal(flowReducer(signedInSettings, { type: "close-settings" }).view, "items");
  const waiting = flowReducer(welcome, { type: "sign-in-started" });
  assert.equal(flowReducer(waiting, { type: "open-settings" }).view, "waiting");
  assert.equal(flowReducer(waiting, { type: "browser-failed", url: "u" }).manualUrl, "u");
  assert.equal(flowReducer(welcome, { type: "browser-failed", url: "u" }).manualUrl, null);
});

test("the waiting view keeps the sign-in page's link and deadline; a renewed link replaces it", () => {
  let state = flowReducer({ ...initialFlow, view: "welcome" }, { type: "sign-in-started" });
  state = flowReducer(state, { type: "link", url: null, deadline: 1000 });
  assert.equal(state.deadline, 1000);
  assert.equal(state.link, null);
  state = flowReducer(state, { type: "link", url: "https://idp/authorize?request_uri=1", deadline: null });
  assert.equal(state.link, "https://idp/authorize?request_uri=1");
  assert.equal(state.deadline, 1000);
  state = flowReducer(state, { type: "browser-failed", url: "https://idp/authorize?request_uri=2" });
  assert.equal(state.manualUrl, "https://idp/authorize?request_uri=2");
  assert.equal(state.link, "https://idp/authorize?request_uri=2");
  // Gone with the sign-in; ignored outside the waiting view.
  const failed = flowReducer(state, { type: "sign-in-failed", message: "No.", details: "chain (code: x)" });
  assert.deepEqual([failed.link, failed.deadline, failed.manualUrl], [null, null, null]);
  assert.equal(failed.signInDetails, "chain (code: x)");
  assert.equal(flowReducer(failed, { type: "link", url: "https://x", deadline: 5 }).link, null);
});

test("the waiting view switches to each renewed link; Copy copies the latest", () => {
  const deadline = 2000;
  const events = /** @type {import("../app/src/types.js").SignInProgress[]} */ ([
    { phase: "waiting", url: null, deadline },
    { phase: "waiting", url: "https://idp/authorize?client_id=app&request_uri=urn%3A1", deadline },
    { phase: "waiting", url: "https://idp/authorize?client_id=app&request_uri=urn%3A2", deadline },
  ]);
  let state = flowReducer({ ...initialFlow, view: "welcome" }, { type: "sign-in-started" });
  const seen = [];
  for (const event of events) {
    for (const action of linkActions(event)) state = flowReducer(state, action);
    seen.push(state.link);
  }
  assert.deepEqual(seen, [null, events[1].url, events[2].url], "each new link replaces the one held");
  assert.equal(state.deadline, deadline);
  assert.equal(state.manualUrl, null, "the browser opened: nothing to open by hand");

  // No browser: the link to open by hand is renewed the same way.
  const renewed = "https://idp/authorize?client_id=app&request_uri=urn%3A4";
  state = flowReducer(state, { type: "link", url: "https://idp/authorize?client_id=app&request_uri=urn%3A3", deadline });
  for (const action of linkActions({ phase: "browser-failed", url: renewed, deadline })) state = flowReducer(state, action);
  assert.deepEqual([state.link, state.manualUrl], [renewed, renewed]);

  // Events without a link, or after the sign-in, change nothing.
  assert.deepEqual(linkActions({ phase: "done", url: null, deadline: null }), []);
  assert.deepEqual(linkActions({ phase: "browser-failed", url: null, deadline: null }), []);
  const done = flowReducer(state, { type: "signed-in" });
  for (const action of linkActions({ phase: "waiting", url: renewed, deadline })) {
    assert.equal(flowReducer(done, action).link, null);
  }
});
