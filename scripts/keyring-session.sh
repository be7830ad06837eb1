#!/usr/bin/env bash
# Runs a command inside a private D-Bus session bus with its own, unlocked
# GNOME Keyring (a real Secret Service), a private HOME for the keyring files,
# and a fresh kernel session keyring (keyutils). Nothing of the caller's own
# keyring is touched, and everything goes away when the command ends.
#
#   scripts/keyring-session.sh cargo test -p tessera-signin --test store
#
# Arguments are passed through unchanged; the exit code is the command's.
# Inside, TESSERA_KEYRING_SESSION=1 tells the tests a real Secret Service is
# there. With TESSERA_KEYRING_BUS_FILE=<file>, the session bus address is
# written to that file. Works as root and as an ordinary user (installs what is missing with
# apt, through sudo when not root).
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 <command> [args...]" >&2
  exit 2
fi

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# dbus-run-session (dbus-x11 / dbus-daemon), gnome-keyring-daemon,
# secret-tool (libsecret-tools), keyctl (keyutils).
need=()
command -v dbus-run-session >/dev/null 2>&1 || need+=(dbus-x11)
command -v gnome-keyring-daemon >/dev/null 2>&1 || need+=(gnome-keyring)
command -v secret-tool >/dev/null 2>&1 || need+=(libsecret-tools)
command -v keyctl >/dev/null 2>&1 || need+=(keyutils)
if [ "${#need[@]}" -gt 0 ]; then
  echo "keyring-session: installing ${need[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# The keyring's files live in a throwaway HOME (and XDG dirs inside it). Keep
# the toolchain where it is: rustup and cargo find theirs through HOME.
if [ -z "${RUSTUP_HOME:-}" ] && [ -d "$HOME/.rustup" ]; then export RUSTUP_HOME="$HOME/.rustup"; fi
if [ -z "${CARGO_HOME:-}" ] && [ -d "$HOME/.cargo" ]; then export CARGO_HOME="$HOME/.cargo"; fi
session_home="$(mktemp -d "${TMPDIR:-/tmp}/tessera-keyring.XXXXXX")"
cleanup() { rm -rf "$session_home"; }
trap cleanup EXIT

# The inner script: unlock a fresh login keyring with a known password (this
# creates it), wait until the Secret Service answers, then run the command.
# Not `exec`: the daemon is stopped afterwards, and the exit code kept.
inner='
set -u
export HOME="$TESSERA_KEYRING_HOME"
export XDG_DATA_HOME="$HOME/.local/share" XDG_CONFIG_HOME="$HOME/.config" XDG_CACHE_HOME="$HOME/.cache"
export XDG_RUNTIME_DIR="$HOME/runtime"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
# --unlock reads the password on stdin and creates the login keyring with it.
# --foreground keeps the daemon our child, so it is stopped by its pid.
printf %s "$TESSERA_KEYRING_PASSWORD" |
  gnome-keyring-daemon --foreground --unlock --components=secrets >"$HOME/keyring.env" 2>"$HOME/keyring.log" &
keyring_pid=$!
ready=0
for _ in $(seq 1 100); do
  # Ready when the default collection (the unlocked login keyring) exists;
  # asking does not start a second daemon (the name is already ours, or the
  # activated daemon finds ours through $XDG_RUNTIME_DIR/keyring).
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
       org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true" &&
     dbus-send --session --print-reply --dest=org.freedesktop.secrets /org/freedesktop/secrets \
       org.freedesktop.Secret.Service.ReadAlias string:default 2>/dev/null | grep -q "collection/"; then
    ready=1
    break
  fi
  sleep 0.1
done
if [ "$ready" -ne 1 ]; then
  echo "keyring-session: gnome-keyring-daemon did not come up:" >&2
  cat "$HOME/keyring.log" >&2
  kill "$keyring_pid" 2>/dev/null
  exit 1
fi
unset TESSERA_KEYRING_HOME TESSERA_KEYRING_PASSWORD
# The command gets the display of the caller back (see below).
if [ -n "${TESSERA_KEYRING_DISPLAY:-}" ]; then export DISPLAY="$TESSERA_KEYRING_DISPLAY"; fi
unset TESSERA_KEYRING_DISPLAY
# Tell a caller who asked where the bus is (tests wait on bus names).
if [ -n "${TESSERA_KEYRING_BUS_FILE:-}" ]; then printf %s "$DBUS_SESSION_BUS_ADDRESS" >"$TESSERA_KEYRING_BUS_FILE"; fi
export TESSERA_KEYRING_SESSION=1
"$@"
status=$?
kill "$keyring_pid" 2>/dev/null
wait "$keyring_pid" 2>/dev/null
exit $status
'

export TESSERA_KEYRING_HOME="$session_home"
export TESSERA_KEYRING_PASSWORD="tessera-test-keyring"
# The bus and the keyring daemon start without a display: with one (under
# xvfb-run), a locked keyring would answer with an unlock prompt window
# (gcr-prompter, activated by the bus) that nobody closes, instead of
# failing at once as it does for a person without a desktop session. The
# command inside gets the display back.
export TESSERA_KEYRING_DISPLAY="${DISPLAY:-}"
# `keyctl session -`: a fresh, possessed kernel session keyring for the
# keyutils back end (it prints "Joined session keyring: N" on stderr).
set +e
env -u DISPLAY -u WAYLAND_DISPLAY keyctl session - dbus-run-session -- bash -c "$inner" keyring-session "$@"
status=$?
set -e
exit $status
