#!/usr/bin/env bash
# Installs Tessera's .deb as a person would, checks what it put on the
# machine, signs in through the installed app with the link coming back
# through xdg-open, and uninstalls it. Needs root (apt) and the bundle built
# by `./x bundle`; `./x test` runs it.
#
#   scripts/install-test.sh [path/to/tessera.deb]
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEME=com.example.tessera
BIN=/usr/bin/tessera-desktop
CLI=/usr/bin/tessera
DESKTOP=/usr/share/applications/Tessera.desktop

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
fail() { printf 'install test: %s\n' "$*" >&2; exit 1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

deb=${1:-$(ls -t "${CARGO_TARGET_DIR:-target}"/release/bundle/deb/*.deb 2>/dev/null | head -n 1)}
[ -f "$deb" ] || fail "no .deb (run ./x bundle first)"
package=$(dpkg-deb -f "$deb" Package)
# The app and the CLI are the programs shipped: no test aid
# (tessera-test-browser, dev-idp) rides along.
# (Tauri writes the paths without a leading "./"; dpkg-deb's own builds have one.)
programs=$(dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./||' | grep -E '^usr/(s?bin|libexec)/.' | sort | tr '\n' ' ' || true)
[ "$programs" = "${CLI#/} ${BIN#/} " ] || fail "the .deb ships other programs than $CLI and $BIN: $programs"
# The .rpm beside it holds the same files and entry (no RPM system to install
# it on here: unpack and compare).
rpm=$(ls -t "$(dirname "$deb")"/../rpm/*.rpm 2>/dev/null | head -n 1 || true)
if [ -n "$rpm" ]; then
  say "checking $(basename "$rpm")"
  unpacked=$(mktemp -d)
  # Debian's rpm2cpio exits 1 on the payloads of Tauri's RPM writer after
  # writing them out whole: judge by what comes out.
  rpm2cpio "$rpm" > "$unpacked/payload.cpio" || true
  (cd "$unpacked" && cpio -idm --quiet < payload.cpio)
  [ -x "$unpacked$BIN" ] || fail "the .rpm has no $BIN"
  [ "$(ls "$unpacked/usr/bin" | tr '\n' ' ')" = "$(basename "$CLI") $(basename "$BIN") " ] ||
    fail "the .rpm ships other programs: $(ls "$unpacked/usr/bin")"
  [ -x "$unpacked$CLI" ] && [ -s "$unpacked/usr/share/man/man1/tessera.1.gz" ] || fail "the .rpm lacks the CLI or its manual page"
  cmp -s "$unpacked$DESKTOP" <(dpkg-deb --fsys-tarfile "$deb" | tar -xO "${DESKTOP#/}") ||
    fail "the .rpm's $DESKTOP differs from the .deb's"
  grep -qx "Exec=tessera-desktop %u" "$unpacked$DESKTOP" || fail "the .rpm's Exec does not pass the link"
  rm -rf "$unpacked"
fi

remove() { as_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq --purge "$package" >/dev/null 2>&1 || true; }
if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
  say "removing the $package left by an earlier run"
  remove
fi
trap remove EXIT

say "installing $(basename "$deb") with apt"
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$(realpath "$deb")" >/dev/null

say "checking the installed files"
[ -x "$BIN" ] || fail "$BIN is missing"
[ -f "$DESKTOP" ] || fail "$DESKTOP is missing"
for size in 32x32 128x128 512x512; do
  [ -f "/usr/share/icons/hicolor/$size/apps/tessera-desktop.png" ] || fail "no $size icon in /usr/share/icons/hicolor"
done
desktop-file-validate "$DESKTOP" || fail "$DESKTOP is not a valid desktop entry"
grep -qx "Exec=tessera-desktop %u" "$DESKTOP" || fail "Exec does not pass the link (%u): $(grep ^Exec= "$DESKTOP")"
grep -q "^MimeType=.*x-scheme-handler/$SCHEME;" "$DESKTOP" || fail "MimeType does not claim $SCHEME links"
handler=$(xdg-mime query default "x-scheme-handler/$SCHEME")
[ "$handler" = "Tessera.desktop" ] || fail "xdg-mime says the $SCHEME handler is '$handler', not Tessera.desktop"
version=$("$BIN" --version)
[ "$version" = "Tessera $(dpkg-deb -f "$deb" Version)" ] || fail "--version says '$version'"
# The CLI: the same version, its manual page and completions in place.
cli_version=$("$CLI" --version)
[ "$cli_version" = "tessera $(dpkg-deb -f "$deb" Version)" ] || fail "tessera --version says '$cli_version'"
man -w tessera >/dev/null 2>&1 || fail "man does not find tessera's manual page"
MANPAGER=cat MANWIDTH=80 man tessera 2>/dev/null | grep -q -- "--token-store" || fail "man tessera does not describe its options"
[ -s /usr/share/bash-completion/completions/tessera ] || fail "no bash completion for tessera"
[ -s /usr/share/zsh/vendor-completions/_tessera ] || fail "no zsh completion for tessera"
[ -s /usr/share/fish/vendor_completions.d/tessera.fish ] || fail "no fish completion for tessera"
"$CLI" accounts --json >/dev/null || fail "the installed tessera cannot list accounts"
depends=$(dpkg-deb -f "$deb" Depends)
case "$depends" in *libwebkit2gtk-4.1*) ;; *) fail "Depends lacks WebKitGTK: $depends" ;; esac

say "signing in through the installed app (the link comes back through xdg-open)"
export PATH="$HOME/.cargo/bin:$PATH"
TESSERA_INSTALLED_APP="$BIN" TESSERA_REQUIRE_UI=1 \
  xvfb-run -a -s "-screen 0 1280x800x24" scripts/keyring-session.sh \
  cargo test --locked -p tessera-desktop --test installed -- --nocapture

say "uninstalling"
trap - EXIT
as_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq --purge "$package" >/dev/null
[ ! -e "$BIN" ] || fail "$BIN is still there after removal"
[ ! -e "$CLI" ] || fail "$CLI is still there after removal"
[ ! -e "$DESKTOP" ] || fail "$DESKTOP is still there after removal"
handler=$(xdg-mime query default "x-scheme-handler/$SCHEME" || true)
[ -z "$handler" ] || fail "xdg-mime still names '$handler' for $SCHEME links after removal"
say "install test passed: $(basename "$deb") installs, opens its links, signs in and uninstalls cleanly"
