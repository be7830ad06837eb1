// The menu's shortcuts inside the webview too (GTK's accelerators answer
// first when the menu bar has them; these keep working where it has not,
// e.g. keys synthesised by WebDriver). Pure: maps a key event to an entry id.

/** @typedef {"new-item" | "settings" | "search" | "refresh" | "sign-out" | "about"} MenuEntry */

/**
 * The menu entry a key press stands for, or null.
 * @param {{ key: string, ctrlKey: boolean, metaKey: boolean, shiftKey: boolean, altKey: boolean }} event
 * @returns {MenuEntry | null}
 */
export function shortcutOf(event) {
  if (event.key === "F1" && !event.ctrlKey && !event.metaKey && !event.altKey) return "about";
  if (!(event.ctrlKey || event.metaKey) || event.altKey) return null;
  const key = event.key.toLowerCase();
  if (event.shiftKey) return key === "q" ? "sign-out" : null;
  switch (key) {
    case "n":
      return "new-item";
    case ",":
      return "settings";
    case "f":
      return "search";
    case "r":
      return "refresh";
    default:
      return null;
  }
}
