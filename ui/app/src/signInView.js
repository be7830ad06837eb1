// The welcome view (signed out) and the waiting view (browser sign-in under way).

import { byId, element } from "./dom.js";
import { copyText, createErrorBox } from "./errorBox.js";
import { formatTimeLeft } from "./format.js";

/** @typedef {import("./types.js").AppInfo} AppInfo */
/** @typedef {import("./signInFlow.js").FlowState} FlowState */

/**
 * Wires the sign-in buttons; returns a function that renders the flow state and the demo users.
 * @param {{ onSignIn: () => void, onCancel: () => void, onOpenAgain: () => void }} actions
 * @returns {(flow: FlowState, info: AppInfo | null) => void}
 */
export function createSignInView(actions) {
  const failure = createErrorBox("signin-failure");
  const failureBox = byId("signin-failure", HTMLDivElement);
  const signInButton = byId("sign-in", HTMLButtonElement);
  const welcomeText = byId("welcome-text", HTMLParagraphElement);
  const demoText = byId("demo-text", HTMLParagraphElement);
  const demoUsers = byId("demo-users", HTMLElement);
  const demoRows = byId("demo-users-rows", HTMLTableSectionElement);
  const manualNote = byId("manual-url-note", HTMLDivElement);
  const manualUrl = byId("manual-url", HTMLParagraphElement);
  const timeLeft = byId("waiting-time-left", HTMLParagraphElement);
  const copyLink = byId("copy-link", HTMLButtonElement);
  const copyStatus = byId("copy-link-status", HTMLParagraphElement);

  /** The flow last rendered (the countdown and Copy read it). @type {FlowState | null} */
  let shown = null;
  /** @type {ReturnType<typeof setInterval> | null} */
  let ticker = null;

  signInButton.addEventListener("click", actions.onSignIn);
  byId("retry-sign-in", HTMLButtonElement).addEventListener("click", actions.onSignIn);
  byId("cancel-sign-in", HTMLButtonElement).addEventListener("click", actions.onCancel);
  byId("open-again", HTMLButtonElement).addEventListener("click", () => {
    copyStatus.textContent = "";
    actions.onOpenAgain();
  });
  copyLink.addEventListener("click", async () => {
    const link = shown?.link;
    if (!link) return;
    const copied = await copyText(link);
    copyStatus.textContent = copied
      ? "Link copied. Paste it into the browser you want to sign in with."
      : "Tessera couldn’t copy the link.";
  });

  function paintTimeLeft() {
    const deadline = shown?.view === "waiting" ? shown.deadline : null;
    timeLeft.textContent = deadline ? formatTimeLeft(deadline, Date.now() / 1000) : "";
  }

  return (flow, info) => {
    const previousLink = shown?.link;
    shown = flow;
    if (flow.signInError) failure.showText(flow.signInError, flow.signInDetails);
    else failure.clear();
    // Cancelled (here or at the provider) is the person's choice, not a failure: neutral, and not an alert.
    failureBox.dataset.tone = flow.signInCancelled ? "neutral" : "error";
    failureBox.setAttribute("role", flow.signInCancelled ? "status" : "alert");
    // One button: "Try again" in the failure box replaces "Sign in".
    signInButton.hidden = Boolean(flow.signInError);

    const demo = info?.mode === "demo";
    demoText.hidden = !demo;
    welcomeText.hidden = demo;
    const users = demo ? info.demoUsers : [];
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
    copyLink.disabled = !flow.link;
    if (flow.link !== previousLink) copyStatus.textContent = "";
    if (flow.view === "waiting" && ticker === null) ticker = setInterval(paintTimeLeft, 1000);
    if (flow.view !== "waiting" && ticker !== null) {
      clearInterval(ticker);
      ticker = null;
    }
    paintTimeLeft();
  };
}
