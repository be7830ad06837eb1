// The settings view: which identity provider and items API the app uses.

import { reportLines, reportSummary } from "./doctorReport.js";
import { byId, element, markInvalid } from "./dom.js";
import { createErrorBox } from "./errorBox.js";
import { fieldKey, normaliseError } from "./errors.js";

/** @typedef {import("./types.js").AppInfo} AppInfo */
/** @typedef {import("./types.js").Settings} Settings */
/** @typedef {import("./types.js").SettingsInput} SettingsInput */
/** @typedef {import("./ipc.js").Ipc} Ipc */

/** Where the settings come from, said plainly. */
const SOURCE_TEXT = {
  demo: "Tessera is using its built-in demo provider.",
  file: "These settings are saved in Tessera’s settings file.",
  environment: "These settings come from environment variables.",
};

/**
 * @typedef {object} SettingsViewOptions
 * @property {Ipc} ipc
 * @property {(info: AppInfo) => void} onApplied the provider changed (saved, or back to the demo)
 * @property {() => void} onClose
 */

/**
 * Wires the settings form.
 * @param {SettingsViewOptions} options
 * @returns {{ open: () => Promise<void> }}
 */
export function createSettingsView({ ipc, onApplied, onClose }) {
  const form = byId("settings-form", HTMLFormElement);
  const source = byId("settings-source", HTMLParagraphElement);
  const envNote = byId("settings-env-note", HTMLParagraphElement);
  const redirectHint = byId("settings-redirect-hint", HTMLParagraphElement);
  const errorBox = createErrorBox("settings-error");
  const advanced = byId("settings-advanced", HTMLDetailsElement);
  const status = byId("settings-status", HTMLParagraphElement);
  const save = byId("settings-save", HTMLButtonElement);
  const useDemo = byId("settings-use-demo", HTMLButtonElement);
  const close = byId("settings-close", HTMLButtonElement);
  const check = byId("settings-check", HTMLButtonElement);
  const checkReport = byId("settings-check-report", HTMLElement);
  const checkSummary = byId("settings-check-summary", HTMLParagraphElement);
  const checkList = byId("settings-check-list", HTMLUListElement);
  const inputs = {
    issuer: byId("settings-issuer", HTMLInputElement),
    clientId: byId("settings-client-id", HTMLInputElement),
    scopes: byId("settings-scopes", HTMLInputElement),
    redirect: byId("settings-redirect", HTMLSelectElement),
    loopbackPorts: byId("settings-loopback-ports", HTMLInputElement),
    prompt: byId("settings-prompt", HTMLInputElement),
    itemsApi: byId("settings-items-api", HTMLInputElement),
  };
  const dpop = byId("settings-dpop", HTMLInputElement);
  const loopback = byId("settings-loopback", HTMLDivElement);

  let busy = false;
  let deepLinkScheme = "";

  /**
   * Shows a failed call at the top of the form and marks its field (opening
   * Advanced when the field is there).
   * @param {unknown} raw
   */
  function showError(raw) {
    const err = normaliseError(raw);
    errorBox.show(err);
    const input = Object.entries(inputs).find(([name]) => fieldKey(name) === fieldKey(err.field))?.[1] ?? null;
    markInvalid(Object.values(inputs), input);
    if (input && advanced.contains(input)) advanced.open = true;
    if (input) input.focus();
    else form.scrollIntoView({ block: "start" });
  }

  function clearMessages() {
    errorBox.clear();
    status.textContent = "";
    markInvalid(Object.values(inputs), null);
  }

  function renderRedirectHint() {
    const deepLink = inputs.redirect.value === "deep-link";
    redirectHint.textContent = deepLink
      ? `The provider sends you back to ${deepLinkScheme || "the app’s URL scheme"}:/callback.`
      : "The provider sends you back to http://127.0.0.1 on the first free port listed below, which Tessera opens for each sign-in.";
    // The ports stay in the field while hidden: they are saved with the loopback choice.
    loopback.hidden = deepLink;
  }

  /**
   * Runs a provider change with the buttons disabled; errors stay on the form.
   * @param {() => Promise<AppInfo>} change
   * @param {string} progress what is shown meanwhile
   */
  async function apply(change, progress) {
    clearMessages();
    busy = true;
    for (const button of [save, useDemo, close, check]) button.disabled = true;
    const saveLabel = save.textContent;
    if (progress) save.textContent = progress;
    status.textContent = progress;
    try {
      const info = await change();
      status.textContent = "";
      onApplied(info);
    } catch (raw) {
      status.textContent = "";
      showError(raw);
    } finally {
      busy = false;
      save.textContent = saveLabel;
      for (const button of [save, useDemo, close, check]) button.disabled = false;
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy) return;
    /** @type {SettingsInput} */
    const settings = {
      issuer: inputs.issuer.value.trim(),
      clientId: inputs.clientId.value.trim(),
      scopes: inputs.scopes.value.trim(),
      redirect: inputs.redirect.value === "deep-link" ? "deep-link" : "loopback",
      loopbackPorts: inputs.loopbackPorts.value.trim(),
      prompt: inputs.prompt.value.trim(),
      itemsApi: inputs.itemsApi.value.trim(),
      dpop: dpop.checked,
    };
    void apply(() => ipc.saveSettings(settings), "Checking the provider…");
  });
  /** Clears the last check's report. */
  function clearReport() {
    checkReport.hidden = true;
    checkSummary.textContent = "";
    checkList.replaceChildren();
  }

  /** Runs the settings check (tessera doctor) and lists its lines. */
  async function runCheck() {
    clearMessages();
    clearReport();
    busy = true;
    for (const button of [save, useDemo, close, check]) button.disabled = true;
    status.textContent = "Checking the provider and the items API…";
    try {
      const report = await ipc.checkSettings();
      checkSummary.textContent = reportSummary(report);
      checkList.replaceChildren(
        ...reportLines(report).map((line) =>
          element("li", line.ok === null ? "check-note" : line.ok ? "check-ok" : "check-failed", line.text),
        ),
      );
      checkReport.hidden = false;
    } catch (raw) {
      showError(raw);
    } finally {
      status.textContent = "";
      busy = false;
      for (const button of [save, useDemo, close, check]) button.disabled = false;
    }
  }

  check.addEventListener("click", () => {
    if (!busy) void runCheck();
  });
  useDemo.addEventListener("click", () => void apply(() => ipc.useDemo(), "Switching to the demo provider…"));
  close.addEventListener("click", onClose);
  inputs.redirect.addEventListener("change", renderRedirectHint);
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !busy) {
      event.preventDefault();
      onClose();
    }
  });

  /** @param {Settings} settings */
  function fill(settings) {
    source.textContent = SOURCE_TEXT[settings.source];
    envNote.textContent = settings.envOverrides.length
      ? `These environment variables override what you save here: ${settings.envOverrides.join(", ")}.`
      : "";
    envNote.hidden = settings.envOverrides.length === 0;
    inputs.issuer.value = settings.issuer;
    inputs.clientId.value = settings.clientId;
    inputs.scopes.value = settings.scopes;
    inputs.redirect.value = settings.redirect;
    inputs.loopbackPorts.value = settings.loopbackPorts;
    inputs.loopbackPorts.placeholder = settings.defaultLoopbackPorts;
    inputs.prompt.value = settings.prompt;
    inputs.itemsApi.value = settings.itemsApi;
    dpop.checked = settings.dpop;
    deepLinkScheme = settings.deepLinkScheme;
    renderRedirectHint();
  }

  return {
    async open() {
      clearMessages();
      clearReport();
      fill(await ipc.getSettings());
    },
  };
}
