// The account button and its menu: who is signed in, switching, adding, signing out.

import { byId, element } from "./dom.js";
import { initials } from "./format.js";

/** @typedef {import("./types.js").SessionState} SessionState */
/** @typedef {import("./types.js").AccountView} AccountView */

/**
 * @typedef {object} AccountMenuActions
 * @property {(account: AccountView) => void} onSwitch an account entry was chosen
 * @property {() => void} onAdd
 * @property {(account: AccountView) => void} onSignOut
 * @property {(account: AccountView) => void} onRemove
 */

/**
 * Wires the account menu; returns a function that renders the session into it.
 * @param {AccountMenuActions} actions
 * @returns {(session: SessionState | null) => void}
 */
export function createAccountMenu(actions) {
  const button = byId("account-button", HTMLButtonElement);
  const menu = byId("account-menu", HTMLDivElement);
  const name = byId("account-name", HTMLParagraphElement);
  const email = byId("account-email", HTMLParagraphElement);
  const list = byId("account-list", HTMLDivElement);
  const signOut = byId("sign-out", HTMLButtonElement);
  const remove = byId("remove-account", HTMLButtonElement);

  /** @type {SessionState | null} */
  let session = null;

  /** @returns {HTMLButtonElement[]} */
  const menuItems = () => [...menu.querySelectorAll("button")].filter((b) => !b.disabled);

  /** @param {boolean} open @param {boolean} [restoreFocus] */
  function setOpen(open, restoreFocus = false) {
    menu.hidden = !open;
    button.setAttribute("aria-expanded", String(open));
    if (open) menuItems()[0]?.focus();
    else if (restoreFocus) button.focus();
  }

  /** @param {() => void} action */
  const closeThen = (action) => {
    setOpen(false, true);
    action();
  };

  button.addEventListener("click", () => setOpen(menu.hidden));
  button.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" && menu.hidden) {
      event.preventDefault();
      setOpen(true);
    }
  });
  menu.addEventListener("keydown", (event) => {
    const items = menuItems();
    const at = items.indexOf(/** @type {HTMLButtonElement} */ (document.activeElement));
    /** @type {Record<string, number>} */
    const moves = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 };
    if (event.key === "Escape") {
      event.preventDefault();
      setOpen(false, true);
    } else if (event.key in moves) {
      event.preventDefault();
      items[(moves[event.key] + items.length) % items.length]?.focus();
    } else if (event.key === "Tab") {
      setOpen(false);
    }
  });
  document.addEventListener("click", (event) => {
    const target = /** @type {Node} */ (event.target);
    if (!menu.hidden && !menu.contains(target) && !button.contains(target)) setOpen(false);
  });

  byId("add-account", HTMLButtonElement).addEventListener("click", () => closeThen(actions.onAdd));
  signOut.addEventListener("click", () => {
    const active = session?.active;
    if (active) closeThen(() => actions.onSignOut(active));
  });
  remove.addEventListener("click", () => {
    const active = session?.active;
    if (active) closeThen(() => actions.onRemove(active));
  });

  /** @param {AccountView} account */
  function entry(account) {
    const item = element("button", account.active ? "menu-item account-entry active" : "menu-item account-entry");
    item.type = "button";
    item.dataset.accountId = account.id;
    item.setAttribute("role", "menuitemradio");
    item.setAttribute("aria-checked", String(account.active));
    item.append(
      element("span", "avatar avatar-small", initials(account.name, account.email)),
      element("span", "account-entry-name", account.name || account.email || account.login || account.id),
    );
    if (account.profile) item.append(element("span", "account-entry-profile", account.profile));
    if (account.needsSignIn) item.append(element("span", "account-entry-note", "needs sign-in"));
    item.addEventListener("click", () => closeThen(() => actions.onSwitch(account)));
    return item;
  }

  return (next) => {
    session = next;
    const accounts = next?.accounts ?? [];
    const active = next?.active ?? null;
    button.hidden = accounts.length === 0;
    if (accounts.length === 0) setOpen(false);
    const shown = initials(active?.name ?? accounts[0]?.name, active?.email ?? accounts[0]?.email);
    button.textContent = shown;
    // The initials shown begin the accessible name (WCAG 2.5.3, label in name).
    button.setAttribute("aria-label", active ? `${shown}: account of ${active.name}` : `${shown}: accounts`);
    name.textContent = active ? active.name : "Not signed in";
    email.textContent = active?.email ?? active?.login ?? "";
    email.hidden = !email.textContent;
    list.replaceChildren(...accounts.map(entry));
    signOut.disabled = !active;
    remove.disabled = !active;
  };
}
