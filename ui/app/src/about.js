// The About dialog: what this app is, which version, where it signs in and
// where its logs are (for a bug report).

import { byId, element } from "./dom.js";

/** @typedef {import("./types.js").AppInfo} AppInfo */

/**
 * The facts About shows, in order, as [label, value] pairs.
 * @param {AppInfo} info
 * @returns {[string, string][]}
 */
export function aboutFacts(info) {
  /** @type {[string, string][]} */
  const facts = [
    ["Version", info.version],
    ["Built with", `Tauri ${info.tauriVersion}`],
    ["Signs in at", info.mode === "demo" ? "the demo provider inside the app" : info.issuer],
    ["Tokens kept in", info.keyring.kind === "keyring" ? "the system keyring" : "memory only (until the app quits)"],
    ["Log files", info.logFolder ?? "none (standard error only)"],
    ["Licence", "Apache-2.0"],
  ];
  if (info.profiles.length > 1) facts.splice(3, 0, ["Profile", info.profile]);
  return facts;
}

/**
 * Wires the About button and dialog.
 * @param {() => AppInfo | null} currentInfo the latest app info
 */
export function createAbout(currentInfo) {
  const button = byId("about-button", HTMLButtonElement);
  const dialog = byId("about-dialog", HTMLDialogElement);
  const facts = byId("about-facts", HTMLDListElement);
  const title = byId("about-title", HTMLHeadingElement);

  button.addEventListener("click", () => {
    const info = currentInfo();
    if (!info) return;
    title.textContent = `About ${info.name}`;
    facts.replaceChildren(...aboutFacts(info).flatMap(([label, value]) => [element("dt", undefined, label), element("dd", undefined, value)]));
    dialog.showModal();
  });
  byId("about-close", HTMLButtonElement).addEventListener("click", () => dialog.close());
}
