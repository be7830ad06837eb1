// The header's mode badge and the banners under it (keyring warning, errors).

import { byId } from "./dom.js";

/** @typedef {import("./types.js").AppInfo} AppInfo */

/**
 * Wires the error banner's dismiss button.
 * @returns {{ showError: (message: string) => void, clearError: () => void, renderAppInfo: (info: AppInfo) => void }}
 */
export function createHeader() {
  const badge = byId("mode-badge", HTMLSpanElement);
  const keyringWarning = byId("keyring-warning", HTMLDivElement);
  const banner = byId("app-error", HTMLDivElement);
  const bannerText = byId("app-error-text", HTMLParagraphElement);

  const clearError = () => {
    banner.hidden = true;
    bannerText.textContent = "";
  };
  byId("app-error-dismiss", HTMLButtonElement).addEventListener("click", clearError);

  return {
    showError(message) {
      bannerText.textContent = message;
      banner.hidden = false;
    },
    clearError,
    renderAppInfo(info) {
      badge.hidden = info.mode !== "demo";
      document.title = info.name || "Tessera";
      keyringWarning.textContent = info.keyring.warning ?? "";
      keyringWarning.hidden = !info.keyring.warning;
    },
  };
}
