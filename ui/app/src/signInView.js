// The welcome view (signed out) and the waiting view (browser sign-in under way).

import { byId, element } from "./dom.js";

/** @typedef {import("./types.js").AppInfo} AppInfo */
/** @typedef {import("./signInFlow.js").FlowState} FlowState */

/**
 * Wires the sign-in buttons; returns a function that renders the flow state and the demo users.
 * @param {{ onSignIn: () => void, onCancel: () => void }} actions
 * @returns {(flow: FlowState, info: AppInfo | null) => void}
 */
export function createSignInView(actions) {
  const failure = byId("signin-failure", HTMLDivElement);
  const error = byId("signin-error", HTMLParagraphElement);
  const demoUsers = byId("demo-users", HTMLElement);
  const demoRows = byId("demo-users-rows", HTMLTableSectionElement);
  const manualNote = byId("manual-url-note", HTMLDivElement);
  const manualUrl = byId("manual-url", HTMLParagraphElement);

  byId("sign-in", HTMLButtonElement).addEventListener("click", actions.onSignIn);
  byId("retry-sign-in", HTMLButtonElement).addEventListener("click", actions.onSignIn);
  byId("cancel-sign-in", HTMLButtonElement).addEventListener("click", actions.onCancel);

  return (flow, info) => {
    error.textContent = flow.signInError ?? "";
    failure.hidden = !flow.signInError;

    const users = info?.mode === "demo" ? info.demoUsers : [];
    demoUsers.hidden = users.length === 0;
    demoRows.replaceChildren(
      ...users.map((user) => {
        const row = element("tr");
        row.append(element("td", "mono", user.username), element("td", "mono", user.password));
        return row;
      }),
    );

    manualUrl.textContent = flow.manualUrl ?? "";
    manualNote.hidden = !flow.manualUrl;
  };
}
