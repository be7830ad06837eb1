#!/usr/bin/env bash
# Stages what the packages carry for the `tessera` CLI beside the desktop app
# (tauri.conf.json's bundle.linux.{deb,rpm}.files point here): the release
# binary, its shell completions and its manual page, all generated from the
# command line itself (clap_complete, clap_mangen). Run after
# `cargo build --release -p tessera-cli`; `./x bundle` and `./x test` do.
set -euo pipefail
cd "$(dirname "$0")/.."

built="${CARGO_TARGET_DIR:-target}/release/tessera"
[ -x "$built" ] || { echo "cli-package-files: $built is not built" >&2; exit 1; }
stage=target/cli-package
rm -rf "$stage"
mkdir -p "$stage"
cp "$built" "$stage/tessera"
# Symbols stay in the build; the package carries the program.
strip --strip-unneeded "$stage/tessera"
"$stage/tessera" completions bash >"$stage/tessera.bash"
"$stage/tessera" completions zsh >"$stage/_tessera"
"$stage/tessera" completions fish >"$stage/tessera.fish"
"$stage/tessera" manpage | gzip -9n >"$stage/tessera.1.gz"
for file in tessera.bash _tessera tessera.fish tessera.1.gz; do
  [ -s "$stage/$file" ] || { echo "cli-package-files: $file is empty" >&2; exit 1; }
done
