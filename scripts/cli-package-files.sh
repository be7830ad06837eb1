#!/usr/bin/env bash
# Stages what the packages carry for the `tessera` CLI beside the desktop app
# (tauri.conf.json's bundle.linux.{deb,rpm}.files point here): the command
# `/usr/bin/tessera`, its shell completions and its manual page.
#
# The packages ship one program: `/usr/bin/tessera` is a two-line script that
# starts `/usr/bin/tessera-desktop --cli "$@"`, the CLI's entry point linked
# into the desktop binary (src-tauri/src/main.rs), instead of a second binary
# with its own copy of the sign-in core, the demo provider and the items API.
# Completions and the manual page are generated from the command line itself
# (clap_complete, clap_mangen) by any build of the CLI: the debug one will do
# (`cargo build -p tessera-cli`; `./x bundle` and `./x test` build it).
set -euo pipefail
cd "$(dirname "$0")/.."

built="${TESSERA_CLI:-${CARGO_TARGET_DIR:-target}/debug/tessera}"
[ -x "$built" ] || { echo "cli-package-files: $built is not built" >&2; exit 1; }
stage=target/cli-package
rm -rf "$stage"
mkdir -p "$stage"
cat >"$stage/tessera" <<'SCRIPT'
#!/bin/sh
exec /usr/bin/tessera-desktop --cli "$@"
SCRIPT
chmod 755 "$stage/tessera"
"$built" completions bash >"$stage/tessera.bash"
"$built" completions zsh >"$stage/_tessera"
"$built" completions fish >"$stage/tessera.fish"
"$built" manpage | gzip -9n >"$stage/tessera.1.gz"
for file in tessera.bash _tessera tessera.fish tessera.1.gz; do
  [ -s "$stage/$file" ] || { echo "cli-package-files: $file is empty" >&2; exit 1; }
done
