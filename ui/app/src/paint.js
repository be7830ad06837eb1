// Reports the first frame on screen to the app (it logs the start-up time).
// This module imports nothing, so it runs before main.js's module graph has
// loaded: the frame it reports is the loading view, the page's first paint.
requestAnimationFrame(() =>
  requestAnimationFrame(() => {
    window.__TAURI__?.core.invoke("ui_ready", { stage: "first-paint" }).catch(() => {});
  }),
);
