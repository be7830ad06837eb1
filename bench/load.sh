#!/usr/bin/env bash
# Load benchmark of the items API against a baseline, on this machine.
#
#   bash bench/load.sh
#
# What it does, in one run:
#   1. installs what is missing: wrk (and python3-venv when `python3 -m venv`
#      cannot work) with apt-get, through sudo when not root; oha, the
#      fixed-rate load generator, with `cargo install --locked` (pinned version,
#      once: 5 to 20 minutes on 2 cores, then kept in ~/.cargo/bin); the
#      baseline's pinned requirements into bench/baseline/.venv (gitignored);
#      PostgreSQL through scripts/postgres.sh when it is missing;
#   2. builds the release binaries once: tessera-dev-idp, tessera-items-api and
#      the bench_token example;
#   3. chooses the cores (bench/stack.sh): with taskset and two cores, the load
#      generator on the first and everything that serves (the server under
#      test, dev-idp, PostgreSQL, the baseline's uvicorn) on the second, so
#      that client and server do not take turns on one core and each figure
#      is one server core's; without taskset or a second core, nothing is
#      pinned and the report says so;
#   4. starts dev-idp on a free loopback port and signs alice in (code flow +
#      PKCE, through dev-idp's test browser) for one access token with scope
#      `openid items:read`; the token stays in this shell's memory, never in a file;
#   5. for each server in turn (the items API with local validation, with
#      introspection, on PostgreSQL (a cluster of this run's own, from
#      scripts/postgres.sh), and the FastAPI + PyJWT baseline under uvicorn):
#      starts it, and for each endpoint measured checks one answer is 200 with
#      the token, warms up with wrk, measures the maximum with wrk (closed
#      loop: each connection sends its next request when the answer arrives),
#      then the latency at a fixed rate of half that maximum with oha; with
#      local validation it also measures `/v1/me` (token check, no database)
#      and `/healthz` (neither: the limit of this server on this machine, which
#      each endpoint's requests/s are given as a share of);
#   6. stops everything it started (trap on EXIT) and adds a dated section to
#      BENCHMARKS.md at the repository root: machine, date, commit, commands,
#      pinning, requests/s, p50, p99 at the maximum, the ratio to the baseline
#      and the share of `/healthz` for each, then p50, p99 and p99.9 at half
#      the maximum.
#
# Why oha for the fixed rate. wrk answers "how many requests per second at
# most", but its latencies are those of a closed loop at saturation, and a
# closed loop hides the queueing a stall causes (coordinated omission): while
# the server stalls, the client sends nothing, so nothing is measured as late.
# The latency a service gives at a load it can carry is measured with an open
# loop: requests scheduled at a constant rate whatever the answers, each
# latency counted from when its request was due, not from when it was sent.
# Debian's wrk has no `-R` (that is wrk2, not packaged). oha (crates.io,
# pinned below) does it with `-q RATE --latency-correction`: its scheduler
# hands out send times at the rate, its connections take them in turn, and a
# request that had to wait for a free connection counts that wait. It is one
# `cargo install` from a registry CI already reaches, with no code of ours to
# keep; a load generator of our own (tokio + hyper + HdrHistogram) would be
# the same design with a crate to maintain, dependencies added to the
# workspace, and a build about as long (oha's: 9 CPU-minutes, 17 minutes on
# this shared 2-core machine, once). What to know when reading its figures:
# Tokio's timer has a 1 ms resolution, so oha releases the requests due in
# each millisecond together (at 20,000/s, batches of 20) and counts each
# latency from that release. Arrivals are thus burstier than a smooth or
# Poisson stream, and a request's latency includes waiting behind its batch:
# an error that makes the server look worse, never better. The report also
# states the rate oha reached: below 95% of the one asked, the client (not
# the server) was the limit, and the row is marked.
#
# Settings (environment), defaults in brackets:
#   BENCH_THREADS [1 when pinned, else 2]  wrk threads
#   BENCH_CONNECTIONS [32]  connections of wrk and oha
#   BENCH_DURATION [15s]  each wrk measurement
#   BENCH_WARMUP [5s]  a wrk run before each measurement; 0 for none (the curl
#                      check before it still warms caches and connections)
#   BENCH_RATE_SHARE [50]  the fixed rate, in % of the endpoint's wrk maximum
#   BENCH_RATE_DURATION [BENCH_DURATION]  each fixed-rate run
#   BENCH_WORKERS [1 when pinned, else 2]  uvicorn workers of the baseline
#                      (one per core it may use, as Tokio's worker threads)
#   BENCH_PIN [1]      0: do not pin, even where taskset exists
#   BENCH_IDLE_WAIT [300]  seconds to wait, before each measurement, for other
#                      processes to leave the CPUs idle (then it measures anyway)
#   BENCH_NO_REPORT=1  print the section instead of adding it to BENCHMARKS.md
#
# With the defaults a run takes about 5 minutes once built (six endpoints,
# each 3 s idle check + 5 s warm-up + 15 s wrk + 15 s oha, and the start-ups).
#
# A run with any non-2xx answer stops the script without touching BENCHMARKS.md:
# numbers of error answers would not measure real work. Every request goes to
# 127.0.0.1 only; each wrk and oha run is bounded by its duration.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CONNECTIONS="${BENCH_CONNECTIONS:-32}"
DURATION="${BENCH_DURATION:-15s}"
WARMUP="${BENCH_WARMUP:-5s}"
RATE_SHARE="${BENCH_RATE_SHARE:-50}"
RATE_DURATION="${BENCH_RATE_DURATION:-$DURATION}"
IDLE_WAIT="${BENCH_IDLE_WAIT:-300}"
BASELINE_DIR="$ROOT/bench/baseline"
VENV="$BASELINE_DIR/.venv"
RELEASE="$ROOT/target/release"
# oha, pinned: a newer one may schedule or count differently.
OHA_VERSION=1.16.0
OHA="${CARGO_HOME:-$HOME/.cargo}/bin/oha"
# How the script was invoked, with the settings that differ from the defaults.
INVOCATION="bash bench/load.sh"
for setting in BENCH_THREADS BENCH_CONNECTIONS BENCH_DURATION BENCH_WARMUP BENCH_RATE_SHARE \
  BENCH_RATE_DURATION BENCH_WORKERS BENCH_PIN; do
  if [ -n "${!setting:-}" ]; then INVOCATION="$setting=${!setting} $INVOCATION"; fi
done

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bench/load.sh: %s\n' "$*" >&2; exit 1; }
# shellcheck source=bench/machine.sh
. "$ROOT/bench/machine.sh"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

case "$RATE_SHARE" in
  '' | *[!0-9]* | 0) die "BENCH_RATE_SHARE must be a whole percentage above 0, not '$RATE_SHARE'" ;;
esac

# --- 1. What is missing -------------------------------------------------------

install_packages() {
  local missing=()
  command -v wrk >/dev/null 2>&1 || missing+=(wrk)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  # Debian's python3 needs python3-venv (ensurepip) for `python3 -m venv`.
  if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

install_oha() {
  if [ -x "$OHA" ] && [ "$("$OHA" --version 2>/dev/null)" = "oha $OHA_VERSION" ]; then
    return
  fi
  say "installing oha $OHA_VERSION (cargo install --locked, once: 5 to 20 minutes on 2 cores)"
  cargo install --locked --quiet --version "$OHA_VERSION" oha
  [ -x "$OHA" ] || die "cargo installed oha, but not at $OHA"
}

install_baseline() {
  local stamp="$VENV/.requirements.sha256" want
  want="$(sha256sum "$BASELINE_DIR/requirements.txt" | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/uvicorn" ]; then
    return
  fi
  say "installing the baseline's pinned requirements into bench/baseline/.venv"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$BASELINE_DIR/requirements.txt"
  echo "$want" >"$stamp"
}

if [ -z "${CARGO:-}" ] && ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || die "cargo is missing: run ./x test (or ./x run) once to install the toolchain"
install_packages
install_oha
install_baseline

# --- 2. Release binaries, built once -----------------------------------------

say "building release binaries (dev-idp, items API, bench_token)"
cargo build --locked --release -p tessera-dev-idp -p tessera-items-api --bins
cargo build --locked --release -p tessera-items-api --example bench_token

# --- 3. The cores; the processes we start, and their end ---------------------

# shellcheck source=bench/stack.sh
. "$ROOT/bench/stack.sh"
choose_cores
say "$PINNING"
THREADS="${BENCH_THREADS:-$([ "${#PIN_LOAD[@]}" -gt 0 ] && echo 1 || echo 2)}"
WORKERS="${BENCH_WORKERS:-$SERVER_CORES}"
LOAD_SHOWN="${PIN_LOAD[*]+${PIN_LOAD[*]} }"
# The commands, as they are run and as the report shows them ($TOKEN, $URL and
# $RATE unexpanded).
WRK_SHOWN="${LOAD_SHOWN}wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -H \"Authorization: Bearer \$TOKEN\" \$URL"
OHA_SHOWN="${LOAD_SHOWN}oha -z $RATE_DURATION -c $CONNECTIONS -q \$RATE --latency-correction --no-tui --output-format json -H \"Authorization: Bearer \$TOKEN\" \$URL"

# --- 4. dev-idp and a token --------------------------------------------------

start_idp
sign_in_alice

# --- 5. Each server: start, check, warm up, measure, stop --------------------

# The items API's own settings, common to all of its runs.
items_env=(
  "OKTA_ISSUER=$ISSUER"
  "OKTA_AUDIENCE=api://default"
  "DEMO=1"
  "NO_COLOR=1"
)

# measure NAME URL: checks the token is accepted, warms up, measures the
# maximum with wrk, then the latency at RATE_SHARE% of it with oha; leaves
# wrk's report in $WORK/NAME.wrk, oha's in $WORK/NAME.oha, the rate asked in
# $WORK/NAME.rate and the first answer in $WORK/NAME.body.
measure() {
  local name="$1" url="$2" code rate
  code="$(curl -sS -o "$WORK/$name.body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$url")" \
    || die "$name: GET $url failed"
  [ "$code" = 200 ] || die "$name: GET $url answered $code: $(head -c 300 "$WORK/$name.body")"
  # With every server of ours idle, how busy is the machine? Others' builds
  # would make the numbers meaningless: wait (a while) for them to finish.
  wait_until_idle "$name: " >"$WORK/$name.busy"
  if [ "$WARMUP" != 0 ]; then
    say "$name: warming up ($WARMUP)"
    ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" \
      -H "Authorization: Bearer $TOKEN" "$url" >"$WORK/$name.warmup" 2>&1 \
      || die "$name: wrk warm-up failed: $(cat "$WORK/$name.warmup")"
  fi
  say "$name: the maximum ($WRK_SHOWN)"
  ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency \
    -H "Authorization: Bearer $TOKEN" "$url" >"$WORK/$name.wrk" 2>&1 \
    || die "$name: wrk failed: $(cat "$WORK/$name.wrk")"
  sed 's/^/    /' "$WORK/$name.wrk" >&2
  if grep -q 'Non-2xx or 3xx responses' "$WORK/$name.wrk"; then
    die "$name: some answers were not 2xx; the numbers would not measure real work"
  fi
  rate="$(awk -v share="$RATE_SHARE" '/^Requests\/sec:/ { printf "%d", $2 * share / 100 }' "$WORK/$name.wrk")"
  [ -n "$rate" ] && [ "$rate" -gt 0 ] || die "$name: cannot read wrk's requests/s"
  echo "$rate" >"$WORK/$name.rate"
  say "$name: latency at $rate requests/s, $RATE_SHARE% of the maximum (oha -q $rate, $RATE_DURATION)"
  ${PIN_LOAD[@]+"${PIN_LOAD[@]}"} "$OHA" -z "$RATE_DURATION" -c "$CONNECTIONS" -q "$rate" \
    --latency-correction --no-tui --output-format json \
    -H "Authorization: Bearer $TOKEN" "$url" >"$WORK/$name.oha" 2>"$WORK/$name.oha-err" \
    || die "$name: oha failed: $(head -c 500 "$WORK/$name.oha-err")"
}

# run_items_api NAME DATABASE_URL SETTINGS...: the items API with those
# settings, `GET /v1/items` measured (and, for ours-local, /v1/me and /healthz).
run_items_api() {
  local name="$1" database="$2"
  shift 2
  local port
  port="$(free_port)"
  say "$name: starting the items API on 127.0.0.1:$port"
  start_server "$name" "http://127.0.0.1:$port/healthz" \
    env "${items_env[@]}" "$@" "BIND=127.0.0.1:$port" "PUBLIC_URL=http://127.0.0.1:$port" \
    "DATABASE_URL=$database" "$RELEASE/tessera-items-api"
  measure "$name" "http://127.0.0.1:$port/v1/items"
  if [ "$name" = ours-local ]; then
    # Where the time goes: /v1/me validates the token and reads nothing from
    # the database; /healthz does neither, so it is the most any handler of
    # this server can do on this machine with this load generator: the limit.
    measure ours-local-me "http://127.0.0.1:$port/v1/me"
    measure ours-local-healthz "http://127.0.0.1:$port/healthz"
  fi
  stop_pid "$SERVER_PID"
}

run_items_api ours-local "sqlite://$WORK/ours-local.db" "TOKEN_VALIDATION=local"
run_items_api ours-introspection "sqlite://$WORK/ours-introspection.db" "TOKEN_VALIDATION=introspection" \
  "OKTA_CLIENT_ID=items-api" "OKTA_CLIENT_SECRET=items-api-demo-secret"
start_postgres
run_items_api ours-pg "$PG_URL" "TOKEN_VALIDATION=local"

BASELINE_PORT="$(free_port)"
say "baseline: starting FastAPI + PyJWT under uvicorn ($WORKERS workers) on 127.0.0.1:$BASELINE_PORT"
start_server baseline "http://127.0.0.1:$BASELINE_PORT/healthz" \
  env "OKTA_ISSUER=$ISSUER" "OKTA_AUDIENCE=api://default" \
  "$VENV/bin/uvicorn" app:app --app-dir "$BASELINE_DIR" --host 127.0.0.1 --port "$BASELINE_PORT" \
  --workers "$WORKERS" --loop uvloop --http httptools --no-access-log --log-level warning
measure baseline "http://127.0.0.1:$BASELINE_PORT/v1/items"
stop_pid "$SERVER_PID"

# --- 6. The report -----------------------------------------------------------

export_machine_facts
# `wrk -v` prints its version and exits with 1.
wrk_version="$( (wrk -v 2>&1 || true) | head -n1 | cut -d' ' -f1-2)"
BENCH_PYTHON="$("$VENV/bin/python" --version 2>&1)"
# The PostgreSQL scripts/postgres.sh ran: PG_BIN's, or the newest installed.
BENCH_PG="$(for dir in ${PG_BIN:+"$PG_BIN"} $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
  if [ -x "$dir/postgres" ]; then "$dir/postgres" --version | sed 's/^postgres (PostgreSQL)/PostgreSQL/'; break; fi
done)"
export BENCH_INVOCATION="$INVOCATION" BENCH_WORK="$WORK" BENCH_ROOT="$ROOT" BENCH_WRK_SHOWN="$WRK_SHOWN" \
  BENCH_OHA_SHOWN="$OHA_SHOWN" BENCH_OHA_VERSION="oha $OHA_VERSION" BENCH_PINNING="$PINNING" \
  BENCH_RATE_SHARE="$RATE_SHARE" BENCH_THREADS="$THREADS" \
  BENCH_WORKERS="$WORKERS" BENCH_WARMUP="$WARMUP" BENCH_PYTHON BENCH_PG \
  BENCH_WRK_VERSION="$wrk_version" BENCH_NO_REPORT="${BENCH_NO_REPORT:-}"
python3 - <<'PY'
import json
import os
import re
import sys

env = os.environ
work = env["BENCH_WORK"]
# Every endpoint measured, the limit first; all but the baseline are the items API.
runs = [
    ("ours-local-healthz", "Items API `GET /healthz`: the limit (no token check, no database)"),
    ("ours-local-me", "Items API `GET /v1/me` (local validation, no database)"),
    ("ours-local", "Items API `GET /v1/items`, local validation (JWKS), SQLite"),
    ("ours-introspection", "Items API `GET /v1/items`, introspection (cached), SQLite"),
    ("ours-pg", "Items API `GET /v1/items`, local validation (JWKS), PostgreSQL"),
    ("baseline", "Baseline: FastAPI + PyJWT `GET /v1/items`, cached JWKS"),
]
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}
share = int(env["BENCH_RATE_SHARE"])


def millis(text):
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not match:
        sys.exit(f"bench/load.sh: cannot read the latency {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse_wrk(name):
    with open(os.path.join(work, f"{name}.wrk")) as f:
        text = f.read()
    rps = re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M)
    p50 = re.search(r"^\s+50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", text, re.M)
    total = re.search(r"^\s+(\d+) requests in", text, re.M)
    if not (rps and p50 and p99 and total):
        sys.exit(f"bench/load.sh: cannot read wrk's report for {name}:\n{text}")
    bad = re.search(r"^\s+Non-2xx or 3xx responses:\s+(\d+)", text, re.M)
    errors = re.search(r"^\s+Socket errors:.*$", text, re.M)
    if bad:
        sys.exit(f"bench/load.sh: {name}: {bad.group(1)} of {total.group(1)} answers were not 2xx; "
                 "the numbers would not measure real work")
    return {
        "rps": float(rps.group(1)),
        "p50": millis(p50.group(1)),
        "p99": millis(p99.group(1)),
        "errors": errors.group(0).strip() if errors else "",
    }


def parse_oha(name):
    """oha's JSON report: latencies in seconds, from when each request was due."""
    with open(os.path.join(work, f"{name}.oha")) as f:
        report = json.load(f)
    with open(os.path.join(work, f"{name}.rate")) as f:
        asked = int(f.read())
    codes = {int(code): count for code, count in report["statusCodeDistribution"].items()}
    bad = {code: count for code, count in codes.items() if not 200 <= code < 300}
    if bad:
        sys.exit(f"bench/load.sh: {name}: at the fixed rate, answers not 2xx: {bad}")
    # Requests still in flight at the deadline are cut off; any other error is a failure.
    failed = {error: count for error, count in (report.get("errorDistribution") or {}).items()
              if "deadline" not in error}
    if failed:
        sys.exit(f"bench/load.sh: {name}: at the fixed rate, oha reported errors: {failed}")
    pct = report["latencyPercentiles"]
    elapsed = float(report["summary"]["total"])
    return {
        "asked": asked,
        "reached": sum(codes.values()) / elapsed if elapsed > 0 else 0.0,
        "p50": float(pct["p50"]) * 1000,
        "p99": float(pct["p99"]) * 1000,
        "p999": float(pct["p99.9"]) * 1000,
        "max": float(report["summary"]["slowest"]) * 1000,
    }


def parse(name):
    with open(os.path.join(work, f"{name}.body"), "rb") as f:
        body = f.read()
    with open(os.path.join(work, f"{name}.busy")) as f:
        busy = f.read().strip()
    answer = json.loads(body)
    items = f"{len(answer['items'])} items" if "items" in answer else "—"
    return {**parse_wrk(name), "rate": parse_oha(name), "bytes": len(body), "items": items, "busy": busy}


results = {name: parse(name) for name, _ in runs}
base = results["baseline"]["rps"]
limit = results["ours-local-healthz"]["rps"]
local = results["ours-local"]
me = results["ours-local-me"]
intro = results["ours-introspection"]


def ms(value):
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


rows = []
for name, label in runs:
    r = results[name]
    ratio = "1×" if name == "baseline" else f"{r['rps'] / base:.1f}×"
    of_limit = "–" if name == "baseline" else f"{100 * r['rps'] / limit:.0f}%"
    rows.append(f"| {label} | {r['rps']:,.0f} | {ms(r['p50'])} | {ms(r['p99'])} | {ratio} | {of_limit} "
                f"| {r['items']}, {r['bytes']} B |")

rate_rows = []
short = []
for name, label in runs:
    r = results[name]["rate"]
    reached = r["reached"] / r["asked"] if r["asked"] else 0.0
    mark = ""
    if reached < 0.95:
        mark = " (**short**)"
        short.append(name)
    rate_rows.append(f"| {label} | {r['asked']:,} | {r['reached']:,.0f}{mark} | {ms(r['p50'])} | {ms(r['p99'])} "
                     f"| {ms(r['p999'])} | {ms(r['max'])} |")

local_rate = local["rate"]
at = f"at {share}% of its maximum" + ("" if share == 50 else " (the target is stated at 50%)")
targets = [
    (f"items API (local) ≥ 20× the baseline's requests/s: {local['rps'] / base:.1f}×", local["rps"] >= 20 * base),
    (f"items API (local) p99 < 5 ms at its maximum: {ms(local['p99'])}", local["p99"] < 5.0),
    (f"introspection (warm cache) within 2× of local: local/introspection = {local['rps'] / intro['rps']:.2f}",
     intro["rps"] * 2 >= local["rps"]),
    (f"`GET /v1/items` (local, SQLite) ≥ 40% of `/healthz`: {100 * local['rps'] / limit:.0f}%",
     local["rps"] >= 0.4 * limit),
    (f"`GET /v1/me` ≥ 60% of `/healthz`: {100 * me['rps'] / limit:.0f}%", me["rps"] >= 0.6 * limit),
    (f"`GET /v1/items` (local, SQLite) {at}: p99 < 2 ms: {ms(local_rate['p99'])}; "
     f"p99.9 < 5 ms: {ms(local_rate['p999'])}",
     share == 50 and local_rate["p99"] < 2.0 and local_rate["p999"] < 5.0 and "ours-local" not in short),
]
errors = [f"{name}: {results[name]['errors']}" for name, _ in runs if results[name]["errors"]]
warmup = ("no wrk warm-up" if env["BENCH_WARMUP"] == "0"
          else f"a {env['BENCH_WARMUP']} wrk warm-up with the same settings")
busy = ", ".join(f"{results[name]['busy']}% before {name}" for name, _ in runs)
mem_gib = int(env["BENCH_MEM_KIB"]) / 1024 / 1024
workers = int(env["BENCH_WORKERS"])
pinned = env["BENCH_PINNING"].startswith("pinned")
baseline_where = ("on the server's core, as the items API (fair: both servers get one core)" if pinned
                  else "on the same cores as the items API")
short_note = ("\n**Short** marks a fixed-rate run whose rate reached is below 95% of the rate asked: there the "
              "load generator, not the server, was the limit, and its latencies are not the server's.\n"
              if short else "")

section = f"""## {env['BENCH_DATE']}

- Machine: {env['BENCH_NPROC']} cores ({env['BENCH_CPU']}), {mem_gib:.1f} GiB RAM, {env['BENCH_KERNEL']}
- Toolchains: {env['BENCH_RUSTC']}; {env['BENCH_PYTHON']}; {env['BENCH_WRK_VERSION']}; {env['BENCH_OHA_VERSION']}; {env['BENCH_PG']}
- Commit: {env['BENCH_COMMIT']}
- Command: `{env['BENCH_INVOCATION']}`, which for each endpoint checks one `curl` answer, runs
  {warmup}, measures the maximum with `{env['BENCH_WRK_SHOWN']}`, then the latency at {share}% of that
  maximum with `{env['BENCH_OHA_SHOWN']}` (open loop: requests due at a constant rate, each latency
  counted from when it was due), with a real access token of alice (scope `openid items:read`) from dev-idp
- Cores: {env['BENCH_PINNING']}
- Servers, one at a time: the items API release build (Tokio, one worker thread per core it may use;
  demo seed), with `TOKEN_VALIDATION=local` on SQLite, then `introspection` (answers cached, default
  `INTROSPECTION_CACHE_SECS`) on SQLite, then `local` on PostgreSQL (a cluster of the run's own from
  `scripts/postgres.sh`, on loopback, fsync off); the baseline under uvicorn with {workers} worker
  process{'es' if workers != 1 else ''} {baseline_where}, uvloop, httptools, no access log
- Background CPU use over 3 s with our servers idle, just before each warm-up or measurement (nothing
  else should be running): {busy}

At the maximum (wrk, closed loop: each connection sends its next request when the answer arrives):

| Endpoint | Requests/s | p50 | p99 | vs baseline | % of `/healthz` | Answer |
|---|---:|---:|---:|---:|---:|---|
""" + "\n".join(rows) + f"""

At {share}% of each endpoint's maximum (oha, open loop):

| Endpoint | Rate asked | Rate reached | p50 | p99 | p99.9 | slowest |
|---|---:|---:|---:|---:|---:|---:|
""" + "\n".join(rate_rows) + f"""

"vs baseline" is requests/s over the baseline's; "% of `/healthz`" is the share of the same server's
`/healthz`, which checks no token and reads no database: the most any handler can do here with this
load generator, so what is missing to 100% is the work of the endpoint itself. `/v1/me` checks the
token and reads nothing, so `/v1/me` to `/v1/items` is the database's part.
{short_note}
Targets:

""" + "\n".join(
    f"- {'met' if ok else '**missed**'}: {text}" for text, ok in targets
) + "\n" + ("\nwrk reported: " + "; ".join(errors) + "\n" if errors else "")

if env.get("BENCH_NO_REPORT"):
    print(section)
    sys.exit(0)

path = os.path.join(env["BENCH_ROOT"], "BENCHMARKS.md")
MARKER = "<!-- bench/load.sh adds each run's section below this line, newest first. -->"
HEADER = f"""# Benchmarks

Load benchmark of the items API against a baseline: a FastAPI app that validates the same
access token with PyJWT and a cached JWKS, as the tutorials do (`bench/baseline/`, pinned).
Each run of `bash bench/load.sh` measures, on the machine it runs on, `GET /v1/items` with a
real access token from dev-idp, for the items API with local validation, the items API with
introspection, the items API on PostgreSQL, and the baseline, all with the same wrk command,
beside the items API's `/healthz` (the limit); then each one's latency at half its maximum
with oha at a fixed rate; see the script's header for what it installs and starts.

Targets: at least 20× the baseline's requests/s and p99 under 5 ms at that load with local
validation; introspection within 2× of local once its cache is warm; `GET /v1/items` at least
40% of `/healthz` and `GET /v1/me` 60%; at half its maximum, `GET /v1/items` p99 under 2 ms and
p99.9 under 5 ms.

Each run adds a new dated section below, newest first, and never rewrites earlier ones, so
runs on other machines or commits stay side by side for comparison (delete old sections by
hand when they no longer help). Numbers from different machines are not comparable; the ratio
to the baseline of the same run is the figure that travels.

{MARKER}
"""
text = open(path).read() if os.path.exists(path) else HEADER
if MARKER not in text:
    text = text.rstrip("\n") + "\n\n" + MARKER + "\n"
head, tail = text.split(MARKER, 1)
older = tail.strip("\n")
text = head + MARKER + "\n\n" + section + ("\n" + older + "\n" if older else "")
with open(path, "w") as f:
    f.write(text)
print(section)
print(f"bench/load.sh: added this run to {path}", file=sys.stderr)
PY
