//! Tauri's build step for the empty window.

fn main() {
    tauri_build::build();
}
