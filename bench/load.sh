#!/usr/bin/env bash
# Load benchmark of the items API against a baseline, on this machine.
#
#   bash bench/load.sh
#
# What it does, in one run:
#   1. installs what is missing: wrk (and python3-venv when `python3 -m venv`
#      cannot work) with apt-get, through sudo when not root; the baseline's
#      pinned requirements into bench/baseline/.venv (gitignored);
#   2. builds the release binaries once: tessera-dev-idp, tessera-items-api and
#      the bench_token example;
#   3. starts dev-idp on a free loopback port and signs alice in (code flow +
#      PKCE, through dev-idp's test browser) for one access token with scope
#      `openid items:read`; the token stays in this shell's memory, never in a file;
#   4. for each server in turn (the items API with local validation, the items
#      API with introspection, the FastAPI + PyJWT baseline under uvicorn with
#      2 workers): starts it, checks `GET /v1/items` answers 200 with the token,
#      warms it up with wrk, then measures with the same wrk command, and stops it;
#      with local validation it also measures `/v1/me` (token check, no database)
#      and `/healthz` (neither) as context rows;
#   5. stops everything it started (trap on EXIT) and adds a dated section to
#      BENCHMARKS.md at the repository root: machine, date, commit, command,
#      and requests/s, p50, p99 and the ratio to the baseline for each.
#
# Settings (environment), defaults in brackets:
#   BENCH_THREADS [2]  BENCH_CONNECTIONS [32]  BENCH_DURATION [15s]
#   BENCH_WARMUP [5s]  a wrk run before each measurement; 0 for none (the curl
#                      check before it still warms caches and connections)
#   BENCH_WORKERS [2]  uvicorn workers of the baseline
#   BENCH_IDLE_WAIT [300]  seconds to wait, before each measurement, for other
#                      processes to leave the CPUs idle (then it measures anyway)
#   BENCH_NO_REPORT=1  print the section instead of adding it to BENCHMARKS.md
#
# A run with any non-2xx answer stops the script without touching BENCHMARKS.md:
# numbers of error answers would not measure real work. Every request goes to
# 127.0.0.1 only; each wrk run is bounded by its duration.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

THREADS="${BENCH_THREADS:-2}"
CONNECTIONS="${BENCH_CONNECTIONS:-32}"
DURATION="${BENCH_DURATION:-15s}"
WARMUP="${BENCH_WARMUP:-5s}"
WORKERS="${BENCH_WORKERS:-2}"
IDLE_WAIT="${BENCH_IDLE_WAIT:-300}"
BASELINE_DIR="$ROOT/bench/baseline"
VENV="$BASELINE_DIR/.venv"
RELEASE="$ROOT/target/release"
# The wrk command, as it is run and as the report shows it ($TOKEN and $URL unexpanded).
# How the script was invoked, with the settings that differ from the defaults.
INVOCATION="bash bench/load.sh"
for setting in BENCH_THREADS BENCH_CONNECTIONS BENCH_DURATION BENCH_WARMUP BENCH_WORKERS; do
  if [ -n "${!setting:-}" ]; then INVOCATION="$setting=${!setting} $INVOCATION"; fi
done
WRK_SHOWN="wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency -H \"Authorization: Bearer \$TOKEN\" \$URL"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bench/load.sh: %s\n' "$*" >&2; exit 1; }
# shellcheck source=bench/machine.sh
. "$ROOT/bench/machine.sh"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

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
install_baseline

# --- 2. Release binaries, built once -----------------------------------------

say "building release binaries (dev-idp, items API, bench_token)"
cargo build --locked --release -p tessera-dev-idp -p tessera-items-api --bins
cargo build --locked --release -p tessera-items-api --example bench_token

# --- Processes we start, and their end ---------------------------------------

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tessera-bench.XXXXXX")"
PIDS=()

stop_pid() {
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$? pid
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
    stop_pid "$pid"
  done
  if [ "$status" -ne 0 ] && [ -d "$WORK" ]; then
    for log in "$WORK"/*.log; do
      [ -f "$log" ] || continue
      printf '\n--- last lines of %s ---\n' "$(basename "$log")" >&2
      tail -n 20 "$log" >&2
    done
  fi
  rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Waits until `url` answers 200 (up to 30 s), or fails naming `what`.
wait_for() {
  local what="$1" url="$2" pid="$3"
  for _ in $(seq 1 300); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || die "$what exited during start-up"
    sleep 0.1
  done
  die "$what did not answer at $url within 30 s"
}

# --- 3. dev-idp and a token --------------------------------------------------

IDP_PORT="$(free_port)"
ISSUER="http://127.0.0.1:$IDP_PORT/oauth2/default"
say "starting dev-idp at $ISSUER"
"$RELEASE/tessera-dev-idp" --port "$IDP_PORT" >"$WORK/dev-idp.log" 2>&1 &
IDP_PID=$!
PIDS+=("$IDP_PID")
wait_for dev-idp "$ISSUER/.well-known/openid-configuration" "$IDP_PID"

say "signing alice in (code flow + PKCE) for an access token"
TOKEN="$("$RELEASE/examples/bench_token" "$ISSUER" "openid items:read")" || die "could not get a token"
[ -n "$TOKEN" ] || die "bench_token printed no token"

# --- 4. Each server: start, check, warm up, measure, stop --------------------

# The items API's own settings, common to both of its runs.
items_env=(
  "OKTA_ISSUER=$ISSUER"
  "OKTA_AUDIENCE=api://default"
  "DEMO=1"
  "NO_COLOR=1"
)

# start_server NAME HEALTH_URL COMMAND...: runs COMMAND in the background, logs
# to $WORK/NAME.log, sets SERVER_PID.
start_server() {
  local name="$1" health="$2"
  shift 2
  "$@" >"$WORK/$name.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_for "$name" "$health" "$SERVER_PID"
}

# measure NAME URL: checks the token is accepted, warms up, measures; leaves
# wrk's report in $WORK/NAME.wrk and the first answer in $WORK/NAME.body.
measure() {
  local name="$1" url="$2" code
  code="$(curl -sS -o "$WORK/$name.body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$url")" \
    || die "$name: GET $url failed"
  [ "$code" = 200 ] || die "$name: GET $url answered $code: $(head -c 300 "$WORK/$name.body")"
  # With every server of ours idle, how busy is the machine? Others' builds
  # would make the numbers meaningless: wait (a while) for them to finish.
  wait_until_idle "$name: " >"$WORK/$name.busy"
  if [ "$WARMUP" != 0 ]; then
    say "$name: warming up ($WARMUP)"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "Authorization: Bearer $TOKEN" "$url" >"$WORK/$name.warmup" 2>&1 \
      || die "$name: wrk warm-up failed: $(cat "$WORK/$name.warmup")"
  fi
  say "$name: measuring ($WRK_SHOWN)"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$url" \
    >"$WORK/$name.wrk" 2>&1 || die "$name: wrk failed: $(cat "$WORK/$name.wrk")"
  sed 's/^/    /' "$WORK/$name.wrk" >&2
}

run_items_api() {
  local name="$1"
  shift
  local port
  port="$(free_port)"
  say "$name: starting the items API on 127.0.0.1:$port"
  start_server "$name" "http://127.0.0.1:$port/healthz" \
    env "${items_env[@]}" "$@" "BIND=127.0.0.1:$port" "PUBLIC_URL=http://127.0.0.1:$port" \
    "DATABASE_URL=sqlite://$WORK/$name.db" "$RELEASE/tessera-items-api"
  measure "$name" "http://127.0.0.1:$port/v1/items"
  if [ "$name" = ours-local ]; then
    # Context for the table: where the time goes. /v1/me validates the token
    # and reads nothing from the database; /healthz does neither, so it is the
    # HTTP ceiling of this machine with wrk on the same cores.
    measure ours-local-me "http://127.0.0.1:$port/v1/me"
    measure ours-local-healthz "http://127.0.0.1:$port/healthz"
  fi
  stop_pid "$SERVER_PID"
}

run_items_api ours-local "TOKEN_VALIDATION=local"
run_items_api ours-introspection "TOKEN_VALIDATION=introspection" \
  "OKTA_CLIENT_ID=items-api" "OKTA_CLIENT_SECRET=items-api-demo-secret"

BASELINE_PORT="$(free_port)"
say "baseline: starting FastAPI + PyJWT under uvicorn ($WORKERS workers) on 127.0.0.1:$BASELINE_PORT"
start_server baseline "http://127.0.0.1:$BASELINE_PORT/healthz" \
  env "OKTA_ISSUER=$ISSUER" "OKTA_AUDIENCE=api://default" \
  "$VENV/bin/uvicorn" app:app --app-dir "$BASELINE_DIR" --host 127.0.0.1 --port "$BASELINE_PORT" \
  --workers "$WORKERS" --loop uvloop --http httptools --no-access-log --log-level warning
measure baseline "http://127.0.0.1:$BASELINE_PORT/v1/items"
stop_pid "$SERVER_PID"

# --- 5. The report -----------------------------------------------------------

export_machine_facts
# `wrk -v` prints its version and exits with 1.
wrk_version="$( (wrk -v 2>&1 || true) | head -n1 | cut -d' ' -f1-2)"
BENCH_PYTHON="$("$VENV/bin/python" --version 2>&1)"
export BENCH_INVOCATION="$INVOCATION" BENCH_WORK="$WORK" BENCH_ROOT="$ROOT" BENCH_WRK_SHOWN="$WRK_SHOWN" \
  BENCH_WORKERS="$WORKERS" BENCH_WARMUP="$WARMUP" BENCH_PYTHON \
  BENCH_WRK_VERSION="$wrk_version" BENCH_NO_REPORT="${BENCH_NO_REPORT:-}"
python3 - <<'PY'
import json
import os
import re
import sys

work = os.environ["BENCH_WORK"]
runs = [
    ("ours-local", "Items API (Rust), local validation (JWKS)"),
    ("ours-introspection", "Items API (Rust), introspection (cached)"),
    ("baseline", "Baseline: FastAPI + PyJWT, cached JWKS"),
]
# Context rows, same server as ours-local, same wrk command, other paths.
context = [
    ("ours-local-me", "Context: items API `GET /v1/me` (local validation, no database)"),
    ("ours-local-healthz", "Context: items API `GET /healthz` (no token check, no database)"),
]
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def millis(text):
    match = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    if not match:
        sys.exit(f"bench/load.sh: cannot read the latency {text!r}")
    return float(match.group(1)) * UNITS[match.group(2)]


def parse(name):
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
    with open(os.path.join(work, f"{name}.body"), "rb") as f:
        body = f.read()
    with open(os.path.join(work, f"{name}.busy")) as f:
        busy = f.read().strip()
    answer = json.loads(body)
    items = f"{len(answer['items'])} items" if "items" in answer else "—"
    return {
        "rps": float(rps.group(1)),
        "p50": millis(p50.group(1)),
        "p99": millis(p99.group(1)),
        "requests": int(total.group(1)),
        "errors": errors.group(0).strip() if errors else "",
        "bytes": len(body),
        "items": items,
        "busy": busy,
    }


results = {name: parse(name) for name, _ in runs + context}
base = results["baseline"]["rps"]
local = results["ours-local"]
intro = results["ours-introspection"]


def ms(value):
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


rows = []
for name, label in runs + context:
    r = results[name]
    ratio = "1×" if name == "baseline" else f"{r['rps'] / base:.1f}×"
    rows.append(f"| {label} | {r['rps']:,.0f} | {ms(r['p50'])} | {ms(r['p99'])} | {ratio} "
                f"| {r['items']}, {r['bytes']} B |")

mem_gib = int(os.environ["BENCH_MEM_KIB"]) / 1024 / 1024
targets = [
    (f"items API (local) ≥ 20× the baseline's requests/s: {local['rps'] / base:.1f}×", local["rps"] >= 20 * base),
    (f"items API (local) p99 < 5 ms at that load: {ms(local['p99'])}", local["p99"] < 5.0),
    (f"introspection (warm cache) within 2× of local: local/introspection = {local['rps'] / intro['rps']:.2f}",
     intro["rps"] * 2 >= local["rps"]),
]
errors = [f"{name}: {results[name]['errors']}" for name, _ in runs + context if results[name]["errors"]]
warmup = ("no wrk warm-up" if os.environ["BENCH_WARMUP"] == "0"
          else f"a {os.environ['BENCH_WARMUP']} wrk warm-up with the same settings")
busy = ", ".join(f"{results[name]['busy']}% before {name}" for name, _ in runs + context)

section = f"""## {os.environ['BENCH_DATE']}

- Machine: {os.environ['BENCH_NPROC']} cores ({os.environ['BENCH_CPU']}), {mem_gib:.1f} GiB RAM, {os.environ['BENCH_KERNEL']}
- Toolchains: {os.environ['BENCH_RUSTC']}; {os.environ['BENCH_PYTHON']}; {os.environ['BENCH_WRK_VERSION']}
- Commit: {os.environ['BENCH_COMMIT']}
- Command: `{os.environ['BENCH_INVOCATION']}`, which for each server checks one `curl` answer, runs
  {warmup}, then `{os.environ['BENCH_WRK_SHOWN']}` with `URL` = `http://127.0.0.1:<port>/v1/items`
  and a real access token of alice (scope `openid items:read`) from dev-idp
- Servers, one at a time on the same machine, with wrk beside them on the same {os.environ['BENCH_NPROC']} cores:
  the items API release build (Tokio, one worker thread per core; SQLite; demo seed), first with
  `TOKEN_VALIDATION=local`, then `introspection` (answers cached, default `INTROSPECTION_CACHE_SECS`);
  the baseline under uvicorn with {os.environ['BENCH_WORKERS']} worker processes (one per core), uvloop, httptools, no access log
- Background CPU use over 3 s with our servers idle, just before each warm-up or measurement (nothing
  else should be running): {busy}

| Server | Requests/s | p50 | p99 | vs baseline | Answer |
|---|---:|---:|---:|---:|---|
""" + "\n".join(rows) + """

"vs baseline" is requests/s over the baseline's. The two context rows are not part of the
targets: they show where the time of `GET /v1/items` goes (token validation, then the database),
and `/healthz` is the most any handler can do on this machine with wrk on the same cores.

Targets:

""" + "\n".join(
    f"- {'met' if ok else '**missed**'}: {text}" for text, ok in targets
) + "\n" + ("\nwrk reported: " + "; ".join(errors) + "\n" if errors else "")

if os.environ.get("BENCH_NO_REPORT"):
    print(section)
    sys.exit(0)

path = os.path.join(os.environ["BENCH_ROOT"], "BENCHMARKS.md")
MARKER = "<!-- bench/load.sh adds each run's section below this line, newest first. -->"
HEADER = f"""# Benchmarks

Load benchmark of the items API against a baseline: a FastAPI app that validates the same
access token with PyJWT and a cached JWKS, as the tutorials do (`bench/baseline/`, pinned).
Each run of `bash bench/load.sh` measures, on the machine it runs on, `GET /v1/items` with a
real access token from dev-idp, for the items API with local validation, the items API with
introspection, and the baseline, all with the same wrk command; see the script's header for what
it installs and starts.

Targets: at least 20× the baseline's requests/s and p99 under 5 ms at that load with local
validation; introspection within 2× of local once its cache is warm.

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
