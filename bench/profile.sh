#!/usr/bin/env bash
# Where the items API spends its time under `GET /v1/items` load, as text:
# run it before and after a change and compare.
#
#   bash bench/profile.sh > /tmp/profile-before.txt
#
# What it does:
#   1. builds the items API with the release profile's optimisations (fat LTO,
#      one codegen unit) but with symbols and line tables, as the Cargo
#      profile `profiling` (defined here with --config, inheriting `release`;
#      target/profiling/, so target/release/'s stripped binaries are not
#      rebuilt): the first build takes as long as a release build; the release
#      dev-idp and bench_token as bench/load.sh does;
#   2. chooses the cores as bench/load.sh does (bench/stack.sh): wrk on one,
#      the items API and dev-idp on the other when taskset and two cores exist;
#   3. starts dev-idp, signs alice in for a token (kept in memory), starts the
#      items API (SQLite, demo items, TOKEN_VALIDATION as set), warms it up
#      with wrk, then loads it with wrk for the duration while
#      `perf record -e cpu-clock -F 999 --call-graph dwarf` samples the items
#      API's threads (cpu-clock: a timer, there on virtual machines without a
#      PMU, where `perf stat -e instructions` is "not supported"; dwarf call
#      graphs: the release profile keeps no frame pointers);
#   4. prints to stdout the profile's summary: the share of the samples in
#      each area (token check, database, HTTP, runtime, kernel, ...), the top
#      functions by their own samples, and the top functions with what they
#      call; progress goes to stderr. perf.data is deleted with the work
#      folder (set BENCH_PROFILE_KEEP to a path to keep it, e.g. for
#      `perf report -i` or a flame graph).
#
# Settings (environment), defaults in brackets:
#   BENCH_PROFILE_PATH [/v1/items]    the path loaded (with alice's token)
#   BENCH_PROFILE_VALIDATION [local]  TOKEN_VALIDATION of the items API
#   BENCH_CONNECTIONS [32]  BENCH_DURATION [10s]  BENCH_WARMUP [3s]  for wrk
#   BENCH_PROFILE_TOP [25]  rows of each function table
#   BENCH_PIN [1]           0: do not pin
#   BENCH_PROFILE_KEEP      a path to copy perf.data to
#
# With the defaults it takes about 40 s once built (perf report's reading of
# dwarf call graphs is most of it). perf comes from the linux-perf package
# (installed when missing); as a user other than root it needs
# kernel.perf_event_paranoid ≤ 1.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PROFILE_PATH="${BENCH_PROFILE_PATH:-/v1/items}"
VALIDATION="${BENCH_PROFILE_VALIDATION:-local}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
DURATION="${BENCH_DURATION:-10s}"
WARMUP="${BENCH_WARMUP:-3s}"
TOP="${BENCH_PROFILE_TOP:-25}"
RELEASE="$ROOT/target/release"
PROFILED="$ROOT/target/profiling/tessera-items-api"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bench/profile.sh: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

case "$DURATION" in
  *[0-9]s) SECONDS_LOADED="${DURATION%s}" ;;
  *[0-9]m) SECONDS_LOADED="$((${DURATION%m} * 60))" ;;
  *) die "BENCH_DURATION must be seconds or minutes, like 10s or 1m, not '$DURATION'" ;;
esac
case "$VALIDATION" in
  local) validation_env=("TOKEN_VALIDATION=local") ;;
  introspection)
    validation_env=("TOKEN_VALIDATION=introspection" "OKTA_CLIENT_ID=items-api" "OKTA_CLIENT_SECRET=items-api-demo-secret")
    ;;
  *) die "BENCH_PROFILE_VALIDATION must be local or introspection, not '$VALIDATION'" ;;
esac

# --- What is missing, and the binaries ---------------------------------------

if [ -z "${CARGO:-}" ] && ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || die "cargo is missing: run ./x test (or ./x run) once to install the toolchain"
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v perf >/dev/null 2>&1 || missing+=(linux-perf)
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

say "building the items API with symbols (Cargo profile 'profiling': release + line tables, not stripped)"
cargo build --locked --profile profiling \
  --config 'profile.profiling.inherits="release"' \
  --config 'profile.profiling.strip="none"' \
  --config 'profile.profiling.debug="line-tables-only"' \
  -p tessera-items-api --bin tessera-items-api
say "building release binaries (dev-idp, bench_token)"
cargo build --locked --release -p tessera-dev-idp --bin tessera-dev-idp
cargo build --locked --release -p tessera-items-api --example bench_token

# --- The stack ----------------------------------------------------------------

# shellcheck source=bench/stack.sh
. "$ROOT/bench/stack.sh"
choose_cores
say "$PINNING"
THREADS="$([ "${#PIN_LOAD[@]}" -gt 0 ] && echo 1 || echo 2)"
start_idp
sign_in_alice

PORT="$(free_port)"
URL="http://127.0.0.1:$PORT$PROFILE_PATH"
say "starting the items API (TOKEN_VALIDATION=$VALIDATION) on 127.0.0.1:$PORT"
start_server items-api "http://127.0.0.1:$PORT/healthz" \
  env "OKTA_ISSUER=$ISSUER" "OKTA_AUDIENCE=api://default" "DEMO=1" "NO_COLOR=1" "${validation_env[@]}" \
  "BIND=127.0.0.1:$PORT" "PUBLIC_URL=http://127.0.0.1:$PORT" "DATABASE_URL=sqlite://$WORK/items.db" \
  "$PROFILED"

code="$(curl -sS -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL")" \
  || die "GET $URL failed"
[ "$code" = 200 ] || die "GET $URL answered $code: $(head -c 300 "$WORK/body")"

wrk_load() {
  ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} wrk -t"$THREADS" -c"$CONNECTIONS" -d"$1" \
    -H "Authorization: Bearer $TOKEN" "$URL"
}
if [ "$WARMUP" != 0 ]; then
  say "warming up ($WARMUP)"
  wrk_load "$WARMUP" >"$WORK/warmup.wrk" 2>&1 || die "wrk warm-up failed: $(cat "$WORK/warmup.wrk")"
fi

say "loading GET $PROFILE_PATH for $DURATION while perf samples the items API"
wrk_load "$((SECONDS_LOADED + 2))s" >"$WORK/load.wrk" 2>&1 &
WRK_PID=$!
PIDS+=("$WRK_PID")
sleep 1   # wrk's connections open before the sampling starts
perf record -q -e cpu-clock -F 999 --call-graph dwarf -p "$SERVER_PID" -o "$WORK/perf.data" \
  -- sleep "$SECONDS_LOADED" >"$WORK/perf-record.log" 2>&1 \
  || die "perf record failed: $(tail -n 5 "$WORK/perf-record.log")"
wait "$WRK_PID" || die "wrk failed: $(cat "$WORK/load.wrk")"
if grep -q 'Non-2xx or 3xx responses' "$WORK/load.wrk"; then
  die "some answers under load were not 2xx: $(grep 'Non-2xx' "$WORK/load.wrk")"
fi
if [ -n "${BENCH_PROFILE_KEEP:-}" ]; then
  cp "$WORK/perf.data" "$BENCH_PROFILE_KEEP"
  say "perf.data copied to $BENCH_PROFILE_KEEP"
fi

say "summarising (perf report)"
perf report -i "$WORK/perf.data" --no-children --sort dso,symbol --stdio -g none --percent-limit 0 \
  >"$WORK/self.txt" 2>/dev/null
perf report -i "$WORK/perf.data" --children --sort symbol --stdio -g none --percent-limit 1 \
  >"$WORK/children.txt" 2>/dev/null

BENCH_WORK="$WORK" BENCH_TOP="$TOP" BENCH_PATH="$PROFILE_PATH" BENCH_VALIDATION="$VALIDATION" \
  BENCH_PINNING="$PINNING" BENCH_DURATION="$DURATION" BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  python3 - <<'PY'
import os
import re

env = os.environ
work = env["BENCH_WORK"]
top = int(env["BENCH_TOP"])

# Areas, by the first pattern a symbol (or its shared object) matches; the
# order matters (a `sqlx_sqlite` function is the database, not sqlx's HTTP).
AREAS = [
    ("token check: RSA and big numbers", r"rsa::|num_bigint|bigint|ring::|aws_lc|jsonwebtoken|\bmontgomery|bn_|RSA_"),
    ("token check: hashing", r"sha2::|sha256|sha1|digest::|blake"),
    ("token check: the rest (claims, base64, cache)", r"items_api::auth|base64|jwt"),
    ("database: SQLite", r"sqlite3|libsqlite3|rusqlite|sqlx_sqlite"),
    ("database: PostgreSQL", r"sqlx_postgres"),
    ("database: sqlx's pool and futures", r"sqlx_core|sqlx::"),
    ("HTTP: hyper, axum, tower", r"hyper|axum|tower|http::|httparse|h2::"),
    ("JSON: serde", r"serde|json"),
    ("async runtime: tokio, futures", r"tokio|futures|mio::|parking_lot|crossbeam"),
    ("memory: allocation", r"malloc|free|realloc|calloc|alloc::|_int_|cfree|memcpy|memmove|memset|mmap|brk"),
    ("logging, tracing", r"tracing"),
    ("items API: the rest", r"items_api"),
]


def rows(path, with_dso):
    """(percent, dso, symbol) of each line of a `perf report --stdio` table."""
    pattern = (re.compile(r"^\s+([0-9.]+)%\s+(\S+)\s+\[(.)\]\s+(.*?)\s*$") if with_dso
               else re.compile(r"^\s+([0-9.]+)%\s+([0-9.]+)%\s+\[(.)\]\s+(.*?)\s*$"))
    out = []
    for line in open(path, errors="replace"):
        match = pattern.match(line)
        if match:
            out.append(match.groups())
    return out


def clean(symbol):
    """A symbol without its hash suffix, shortened for a table."""
    symbol = re.sub(r"::h[0-9a-f]{16}$", "", symbol)
    symbol = re.sub(r"\s+-\s+-\s*$", "", symbol).strip()
    return symbol if len(symbol) <= 110 else symbol[:107] + "..."


self_rows = rows(os.path.join(work, "self.txt"), True)
samples = re.search(r"^# Samples: (\S+)", open(os.path.join(work, "self.txt")).read(), re.M)
areas = {name: 0.0 for name, _ in AREAS}
areas["kernel (network stack, scheduler, system calls)"] = 0.0
areas["other"] = 0.0
for percent, dso, kind, symbol in self_rows:
    percent = float(percent)
    if kind == "k" or dso.startswith("[kernel"):
        areas["kernel (network stack, scheduler, system calls)"] += percent
        continue
    text = f"{dso} {symbol}"
    for name, pattern in AREAS:
        if re.search(pattern, text):
            areas[name] += percent
            break
    else:
        areas["other"] += percent

wrk = open(os.path.join(work, "load.wrk")).read()
rps = re.search(r"^Requests/sec:\s+([0-9.]+)", wrk, re.M)
print(f"# Profile of the items API under GET {env['BENCH_PATH']} load")
print()
print(f"Commit {env['BENCH_COMMIT']}; TOKEN_VALIDATION={env['BENCH_VALIDATION']}, SQLite; "
      f"{env['BENCH_PINNING']}. `perf record -e cpu-clock -F 999 --call-graph dwarf` for "
      f"{env['BENCH_DURATION']}: {samples.group(1) if samples else '?'} samples; wrk meanwhile: "
      f"{float(rps.group(1)) if rps else 0:,.0f} requests/s (sampling slows the server: compare "
      "profiles with profiles, and requests/s with bench/load.sh).")
print()
print("## Share of the samples by area (own time of each function, grouped by name)")
print()
print("| area | share |")
print("|---|---:|")
for name, share in sorted(areas.items(), key=lambda item: -item[1]):
    if share >= 0.05:
        print(f"| {name} | {share:.1f}% |")
print()
print(f"## Top {top} functions by their own samples")
print()
print("| own | object | function |")
print("|---:|---|---|")
for percent, dso, kind, symbol in self_rows[:top]:
    print(f"| {float(percent):.1f}% | {dso} | {clean(symbol)} |")
print()
print(f"## Top {top} functions with what they call (inclusive)")
print()
print("| with callees | own | function |")
print("|---:|---:|---|")
for children, own, kind, symbol in rows(os.path.join(work, "children.txt"), False)[:top]:
    print(f"| {float(children):.1f}% | {float(own):.1f}% | {clean(symbol)} |")
PY
