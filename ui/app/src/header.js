// The header's mode badge and the banners under it (keyring warning,
// offline, errors).

import { byId } from "./dom.js";
import { formatOffline } from "./format.js";

/** @typedef {import("./types.js").AppInfo} AppInfo */
/** @typedef {import("./types.js").OfflineView} OfflineView */

/**
 * Wires the error banner's dismiss button and the provider picker (shown
 * when the configuration file has profiles).
 * @param {(profile: string) => void} [onProfile] a profile was chosen
 * @returns {{
 *   showError: (message: string) => void,
 *   clearError: () => void,
 *   renderAppInfo: (info: AppInfo) => void,
 *   renderOffline: (offline: OfflineView | null) => void,
 * }}
 */
export function createHeader(onProfile = () => {}) {
  const badge = byId("mode-badge", HTMLSpanElement);
  const picker = byId("profile-picker", HTMLLabelElement);
  const select = byId("profile-select", HTMLSelectElement);
  select.addEventListener("change", () => onProfile(select.value));
  const keyringWarning = byId("keyring-warning", HTMLDivElement);
  const banner = byId("app-error", HTMLDivElement);
  const bannerText = byId("app-error-text", HTMLParagraphElement);
  const offlineBanner = byId("offline-banner", HTMLDivElement);
  /** @type {ReturnType<typeof setInterval> | null} */
  let offlineTicker = null;

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
    renderOffline(offline) {
      if (offlineTicker !== null) clearInterval(offlineTicker);
      offlineTicker = null;
      offlineBanner.hidden = offline === null;
      if (offline === null) {
        offlineBanner.textContent = "";
        return;
      }
      const paint = () => {
        offlineBanner.textContent = formatOffline(offline, Date.now() / 1000);
      };
      paint();
      offlineTicker = setInterval(paint, 1000);
    },
    renderAppInfo(info) {
      badge.hidden = info.mode !== "demo";
      document.title = info.name || "Tessera";
      keyringWarning.textContent = info.keyring.warning ?? "";
      keyringWarning.hidden = !info.keyring.warning;
      const profiles = info.profiles ?? [];
      picker.hidden = profiles.length < 2;
      select.replaceChildren(
        ...profiles.map((name) => {
          const option = document.createElement("option");
          option.value = name;
          option.textContent = name;
          option.selected = name === info.profile;
          return option;
        }),
      );
    },
  };
}
