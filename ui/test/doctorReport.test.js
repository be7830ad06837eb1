import assert from "node:assert/strict";
import { test } from "node:test";
import { reportLines, reportSummary } from "../app/src/doctorReport.js";

/** @type {import("../app/src/types.js").DoctorReport} */
const report = {
  checks: [
    { name: "discovery", ok: true, detail: "https://dev-1.okta.com/oauth2/default answers" },
    { name: "scopes", ok: false, detail: "not offered by the provider: items:write" },
    { name: "something_new", ok: true, detail: "fine" },
  ],
  register: {
    appType: "Native (a public client: no client secret, PKCE)",
    redirectUris: ["http://127.0.0.1:8765/callback", "http://[::1]:8765/callback"],
    postLogoutRedirectUris: [],
    grantTypes: ["authorization_code", "refresh_token"],
  },
};

test("each check is a line saying whether it passed, then what to register", () => {
  const lines = reportLines(report);
  assert.deepEqual(lines.slice(0, 3), [
    { ok: true, text: "OK · Provider: https://dev-1.okta.com/oauth2/default answers" },
    { ok: false, text: "Failed · Scopes: not offered by the provider: items:write" },
    { ok: true, text: "OK · something_new: fine" },
  ]);
  const rest = lines.slice(3).map((line) => line.text);
  assert.ok(rest.includes("Application type: Native (a public client: no client secret, PKCE)"));
  assert.ok(rest.includes("Grant types: authorization_code, refresh_token"));
  assert.ok(rest.includes("http://127.0.0.1:8765/callback") && rest.includes("http://[::1]:8765/callback"));
  assert.equal(rest.at(-1), "Sign-out redirect URIs: none");
  assert.ok(lines.slice(3).every((line) => line.ok === null));
});

test("the summary counts the failed checks", () => {
  assert.equal(reportSummary(report), "1 of 3 checks failed.");
  assert.equal(reportSummary({ ...report, checks: [report.checks[0]] }), "Every check passed (1).");
});
