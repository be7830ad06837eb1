#!/usr/bin/env bash
# dev-idp as it ships inside the desktop app and the CLI: built alone, without
# the `testing` feature that the workspace's tests turn on (issue 14, item 10).
# Starts it on a free port and checks over HTTP that the admin call is absent
# (404) and that a request for another host is refused (421). Run by ./x test.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --quiet -p tessera-dev-idp --bins
target="${CARGO_TARGET_DIR:-target}"
out=$(mktemp)
"$target/debug/tessera-dev-idp" --port 0 >"$out" 2>/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 100); do
  grep -q '^  issuer:' "$out" && break
  sleep 0.1
done
issuer=$(sed -n 's/^  issuer: *//p' "$out")
if [ -z "$issuer" ]; then
  echo "shipped-dev-idp: dev-idp did not start within 10 s" >&2
  exit 1
fi
origin=${issuer%/oauth2/*}
port=${origin##*:}

check() {
  local want=$1 got
  shift
  got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true)
  if [ "$got" != "$want" ]; then
    echo "shipped-dev-idp: curl $* answered ${got:-nothing}, expected $want" >&2
    exit 1
  fi
}
check 200 "$issuer/.well-known/openid-configuration"
check 404 -X POST "$origin/admin/rotate-keys"
check 421 -H "Host: evil.example:$port" "$issuer/.well-known/openid-configuration"
check 421 -X POST -H "Host: evil.example:$port" "$origin/admin/rotate-keys"
echo "shipped-dev-idp: no admin call, other hosts refused ($issuer)"
