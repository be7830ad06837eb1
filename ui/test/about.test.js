import assert from "node:assert/strict";
import { test } from "node:test";
import { aboutFacts } from "../app/src/about.js";

/** @type {import("../app/src/types.js").AppInfo} */
const configured = {
  mode: "configured",
  name: "Tessera",
  version: "1.2.3",
  tauriVersion: "2.12.5",
  logFolder: "/home/ada/.local/state/tessera/logs",
  issuer: "https://example.okta.com/oauth2/default",
  clientId: "0oa1",
  itemsApi: "http://127.0.0.1:8000/",
  redirect: "loopback",
  keyring: { kind: "keyring", warning: null },
  demoUsers: [],
  profile: "default",
  profiles: [],
  currency: "EUR",
};

test("About names the version, the runtime, the provider, the token store and the logs", () => {
  assert.deepEqual(aboutFacts(configured), [
    ["Version", "1.2.3"],
    ["Built with", "Tauri 2.12.5"],
    ["Signs in at", "https://example.okta.com/oauth2/default"],
    ["Tokens kept in", "the system keyring"],
    ["Log files", "/home/ada/.local/state/tessera/logs"],
    ["Licence", "Apache-2.0"],
  ]);
});

test("with profiles in the configuration file, About names the one in use", () => {
  const facts = aboutFacts({ ...configured, profile: "preview", profiles: ["default", "preview"] });
  assert.deepEqual(facts[3], ["Profile", "preview"]);
  assert.equal(new Map(aboutFacts(configured)).has("Profile"), false);
});

test("in demo mode, with no keyring and no log folder, About says so", () => {
  const facts = new Map(
    aboutFacts({ ...configured, mode: "demo", keyring: { kind: "memory", warning: "no keyring" }, logFolder: null }),
  );
  assert.equal(facts.get("Signs in at"), "the demo provider inside the app");
  assert.equal(facts.get("Tokens kept in"), "memory only (until the app quits)");
  assert.equal(facts.get("Log files"), "none (standard error only)");
});
