// The header's mode badge and the banners under it (keyring warning,
// offline, errors).

import { byId } from "./dom.js";
import { createErrorBox } from "./errorBox.js";
import { formatOffline } from "./format.js";

/** @typedef {import("./types.js").AppInfo} AppInfo */
/** @typedef {import("./types.js").OfflineView} OfflineView */

/**
 * Wires the error banner's dismiss button and the provider picker (shown
 * when the configuration file has profiles).
 * @param {(profile: string) => void} [onProfile] a profile was chosen
 * @param {(info: AppInfo) => void} [onAppInfo] the app's facts changed (before the views render)
 * @returns {{
 *   showError: (error: unknown) => void,
 *   clearError: () => void,
 *   renderAppInfo: (info: AppInfo) => void,
 *   renderOffline: (offline: OfflineView | null) => void,
 * }}
 */
export function createHeader(onProfile = () => {}, onAppInfo = () => {}) {
  const badge = byId("mode-badge", HTMLSpanElement);
  const picker = byId("profile-picker", HTMLLabelElement);
  const select = byId("profile-select", HTMLSelectElement);
  select.addEventListener("change", () => onProfile(select.value));
  const keyringWarning = byId("keyring-warning", HTMLDivElement);
  const banner = createErrorBox("app-error");
  const offlineBanner = byId("offline-banner", HTMLDivElement);
  /** @type {ReturnType<typeof setInterval> | null} */
  let offlineTicker = null;

  const clearError = () => banner.clear();
  byId("app-error-dismiss", HTMLButtonElement).addEventListener("click", clearError);

  return {
    /** A sentence as it is, or an IPC error explained (its chain under Details). */
    showError(error) {
      if (typeof error === "string") banner.showText(error);
      else banner.show(error);
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
      onAppInfo(info);
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
