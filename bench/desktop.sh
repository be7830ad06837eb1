#!/usr/bin/env bash
# The desktop app's start-up and memory against an empty Tauri window built
# the same way (bench/desktop.rs has the method). Release builds, on a
# virtual display, inside a private D-Bus session with its own keyring.
#
#   bench/desktop.sh     prints a Markdown table for BENCHMARKS.md
set -euo pipefail
cd "$(dirname "$0")/.."
# Built as the installers are (./x bundle): the release profile, for size.
export CARGO_PROFILE_RELEASE_OPT_LEVEL=s
cargo build --release --locked -p tessera-empty-window -p tessera-test-browser --bin tessera-empty-window --bin tessera-test-browser
export PATH="$HOME/.cargo/bin:$PATH"
xvfb-run -a -s "-screen 0 1280x800x24" scripts/keyring-session.sh \
  cargo bench --locked -p tessera-desktop --bench desktop
