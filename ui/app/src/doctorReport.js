// The settings check (`tessera doctor`'s report) in lines of plain text:
// pure, so that it is unit-tested without a DOM.

/** @typedef {import("./types.js").DoctorReport} DoctorReport */

/**
 * @typedef {object} ReportLine
 * @property {boolean | null} ok null for a line that is not a check
 * @property {string} text
 */

/** What each check is about, said plainly. */
const CHECK_TITLES = {
  discovery: "Provider",
  authorization_server: "Authorization server",
  grant_types: "Grant types",
  scopes: "Scopes",
  par: "Pushed requests (PAR)",
  dpop: "DPoP",
  clock: "Clock",
  items_api: "Items API",
  items_api_auth: "Items API sign-in",
  items_api_scopes: "Items API scopes",
};

/**
 * The report as lines: one per check, then what to register in the Okta app.
 * @param {DoctorReport} report
 * @returns {ReportLine[]}
 */
export function reportLines(report) {
  /** @type {ReportLine[]} */
  const lines = report.checks.map((check) => ({
    ok: check.ok,
    text: `${check.ok ? "OK" : "Failed"} · ${CHECK_TITLES[/** @type {keyof typeof CHECK_TITLES} */ (check.name)] ?? check.name}: ${check.detail}`,
  }));
  const { register } = report;
  lines.push({ ok: null, text: "Register in your Okta app:" });
  lines.push({ ok: null, text: `Application type: ${register.appType}` });
  lines.push({ ok: null, text: `Grant types: ${register.grantTypes.join(", ")}` });
  lines.push({ ok: null, text: "Sign-in redirect URIs (each exactly, port included):" });
  for (const uri of register.redirectUris) lines.push({ ok: null, text: uri });
  lines.push({
    ok: null,
    text: register.postLogoutRedirectUris.length
      ? `Sign-out redirect URIs: ${register.postLogoutRedirectUris.join(", ")}`
      : "Sign-out redirect URIs: none",
  });
  return lines;
}

/**
 * A one-line summary: all passed, or how many failed.
 * @param {DoctorReport} report
 * @returns {string}
 */
export function reportSummary(report) {
  const failed = report.checks.filter((check) => !check.ok).length;
  return failed === 0
    ? `Every check passed (${report.checks.length}).`
    : `${failed} of ${report.checks.length} checks failed.`;
}
