// The frame after next is the first one on screen (as in Tessera's main.js).
requestAnimationFrame(() => requestAnimationFrame(() => window.__TAURI_INTERNALS__.invoke("ui_ready", { stage: "first-paint" })));
