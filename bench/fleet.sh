#!/usr/bin/env bash
# The items API as a fleet (issue 22): two instances on one PostgreSQL
# database, DPoP on every request, beside one instance; and what the shared
# replay check costs per request.
#
#   bash bench/fleet.sh                 measure, then write its section of BENCHMARKS.md
#   BENCH_SMOKE=1 bash bench/fleet.sh   a few seconds of each, printed, nothing written
#
# What it does, in one run:
#   1. builds the release binaries once: tessera-dev-idp, tessera-items-api and
#      the fleet_load example (crates/items-api/examples/fleet_load.rs, the
#      load generator);
#   2. starts PostgreSQL (scripts/postgres.sh) and makes a fresh database on
#      it, and dev-idp on a free loopback port;
#   3. starts the items API as instance A, then B, on that database with the
#      settings a fleet shares (DATABASE_URL, DPOP_NONCE_KEY, a PUBLIC_URL
#      listing both URLs as a load balancer's one URL would be, DPOP_REPLAY=
#      database, DPOP_NONCE_SECS), and measures with fleet_load: BENCH_CLIENTS
#      clients, each with a client-credentials token bound to a DPoP key of its
#      own, `GET /v1/items` with a fresh proof per request (signed in the load
#      generator, so timed as a client's cost), the API's nonce in it:
#        - one instance: A alone (B not started yet);
#        - two instances: A and B, each client alternating the two URLs;
#        - one instance remembering proofs in memory (DPOP_REPLAY=memory): the
#          same as the first row without the shared check, for its cost end
#          to end;
#   4. runs the criterion bench crates/items-api/benches/replay.rs: one replay
#      check in the process's cache and one INSERT … ON CONFLICT DO NOTHING in
#      the shared table (a fresh database on the same server), per request;
#   5. stops what it started (trap on EXIT) and writes its section of
#      BENCHMARKS.md (between its two markers, replacing the previous run's),
#      or prints it with BENCH_NO_REPORT=1 or BENCH_SMOKE=1.
#
# Settings (environment), defaults in brackets:
#   BENCH_DURATION [15]   seconds of each measured run (after a warm-up of a third of it)
#   BENCH_CLIENTS [16]    concurrent clients of the load generator
#   BENCH_NONCE_SECS [300] DPOP_NONCE_SECS of the instances; 0: no nonces asked for
#   BENCH_IDLE_WAIT [300] seconds to wait for other processes to leave the CPUs
#                         idle before each measurement (then it measures anyway)
#   BENCH_NO_REPORT=1     print the section instead of writing BENCHMARKS.md
#   BENCH_SMOKE=1         a check that everything runs: 3 s runs, no warm-up, no
#                         idle wait, criterion's shortest, printed only
#
# On one machine the instances, PostgreSQL, dev-idp and the load generator
# share the CPUs: two instances cannot serve more than one there, and the
# rows say what a second instance and the shared check cost, not how a fleet
# on several machines scales. Every request goes to 127.0.0.1 only; any answer
# but 200 stops the script without touching BENCHMARKS.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SMOKE="${BENCH_SMOKE:-}"
DURATION="${BENCH_DURATION:-15}"
CLIENTS="${BENCH_CLIENTS:-16}"
NONCE_SECS="${BENCH_NONCE_SECS:-300}"
IDLE_WAIT="${BENCH_IDLE_WAIT:-300}"
NO_REPORT="${BENCH_NO_REPORT:-}"
CRITERION=(--warm-up-time 3 --measurement-time 10)
if [ -n "$SMOKE" ]; then
  DURATION="${BENCH_DURATION:-3}"
  IDLE_WAIT=0
  NO_REPORT=1
  CRITERION=(--warm-up-time 1 --measurement-time 1 --sample-size 10)
fi
WARMUP=$((DURATION / 3))
[ -n "$SMOKE" ] && WARMUP=0
RELEASE="$ROOT/target/release"
INVOCATION="bash bench/fleet.sh"
for setting in BENCH_DURATION BENCH_CLIENTS BENCH_NONCE_SECS BENCH_SMOKE; do
  if [ -n "${!setting:-}" ]; then INVOCATION="$setting=${!setting} $INVOCATION"; fi
done

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bench/fleet.sh: %s\n' "$*" >&2; exit 1; }
# shellcheck source=bench/machine.sh
. "$ROOT/bench/machine.sh"

if [ -z "${CARGO:-}" ] && ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || die "cargo is missing: run ./x test (or ./x run) once to install the toolchain"
for tool in curl python3 psql; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (scripts/postgres.sh installs PostgreSQL and psql)"
done

# --- 1. Release binaries, built once -----------------------------------------

say "building release binaries (dev-idp, items API, fleet_load)"
cargo build --locked --release -p tessera-dev-idp -p tessera-items-api --bins
cargo build --locked --release -p tessera-items-api --example fleet_load

# --- Processes we start, and their end ---------------------------------------

# The work folder, PIDS and their end (trap on EXIT), free_port and wait_for,
# shared with bench/load.sh and bench/profile.sh (its core choice and
# PostgreSQL cluster are not used here).
# shellcheck source=bench/stack.sh
. "$ROOT/bench/stack.sh"

# --- 2. PostgreSQL, a fresh database, dev-idp --------------------------------

say "starting PostgreSQL (scripts/postgres.sh)"
PG_SERVER="$(scripts/postgres.sh | tail -n1)"
[ -n "$PG_SERVER" ] || die "scripts/postgres.sh printed no URL"
DATABASE_NAME="tessera_fleet_bench_$(date +%s)_$$"
psql -q "$PG_SERVER" -c "CREATE DATABASE $DATABASE_NAME" >/dev/null || die "could not make a database"
DATABASE="${PG_SERVER%/*}/$DATABASE_NAME"

IDP_PORT="$(free_port)"
ISSUER="http://127.0.0.1:$IDP_PORT/oauth2/default"
say "starting dev-idp at $ISSUER"
"$RELEASE/tessera-dev-idp" --port "$IDP_PORT" >"$WORK/dev-idp.log" 2>&1 &
IDP_PID=$!
PIDS+=("$IDP_PID")
wait_for dev-idp "$ISSUER/.well-known/openid-configuration" "$IDP_PID"

# --- 3. The instances, and the load ------------------------------------------

A_PORT="$(free_port)"
B_PORT="$(free_port)"
A_URL="http://127.0.0.1:$A_PORT"
B_URL="http://127.0.0.1:$B_PORT"
# The key every instance shares; in this shell's memory only.
NONCE_KEY="$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"

# start_instance NAME PORT SETTINGS...: the items API on PORT with the fleet's
# settings (and SETTINGS over them); sets INSTANCE_PID.
start_instance() {
  local name="$1" port="$2"
  shift 2
  say "$name: starting the items API on 127.0.0.1:$port"
  env "OKTA_ISSUER=$ISSUER" "OKTA_AUDIENCE=api://default" "DATABASE_URL=$DATABASE" \
    "PUBLIC_URL=$A_URL,$B_URL" "BIND=127.0.0.1:$port" "DPOP_NONCE_SECS=$NONCE_SECS" \
    "DPOP_NONCE_KEY=$NONCE_KEY" "DPOP_REPLAY=database" "NO_COLOR=1" "RUST_LOG=warn" "$@" \
    "$RELEASE/tessera-items-api" >>"$WORK/$name.log" 2>&1 &
  INSTANCE_PID=$!
  PIDS+=("$INSTANCE_PID")
  wait_for "$name" "http://127.0.0.1:$port/healthz" "$INSTANCE_PID"
}

# measure NAME URL...: warms up, then runs fleet_load against the URLs;
# leaves its JSON line in $WORK/NAME.json.
measure() {
  local name="$1"
  shift
  wait_until_idle "$name: " >"$WORK/$name.busy"
  if [ "$WARMUP" -gt 0 ]; then
    say "$name: warming up (${WARMUP}s)"
    "$RELEASE/examples/fleet_load" "$ISSUER" "$WARMUP" "$CLIENTS" "$@" >/dev/null 2>"$WORK/$name.warmup" \
      || die "$name: the warm-up failed: $(head -c 500 "$WORK/$name.warmup")"
  fi
  say "$name: fleet_load, $CLIENTS clients, ${DURATION}s, against $*"
  "$RELEASE/examples/fleet_load" "$ISSUER" "$DURATION" "$CLIENTS" "$@" >"$WORK/$name.json" 2>"$WORK/$name.err" \
    || die "$name: fleet_load failed or got answers but 200: $(cat "$WORK/$name.json" "$WORK/$name.err" | head -c 500)"
  printf '    %s\n' "$(cat "$WORK/$name.json")" >&2
}

start_instance a "$A_PORT"
A_PID="$INSTANCE_PID"
measure one "$A_URL"
start_instance b "$B_PORT"
measure two "$A_URL" "$B_URL"
stop_pid "$INSTANCE_PID"
stop_pid "$A_PID"
start_instance a-memory "$A_PORT" "DPOP_REPLAY=memory"
measure one-memory "$A_URL"
stop_pid "$INSTANCE_PID"
REPLAY_ROWS="$(psql -qtA "$DATABASE" -c 'SELECT count(*) FROM dpop_replays')"

# --- 4. The replay check alone ------------------------------------------------

say "the replay check alone: cargo bench --bench replay (criterion)"
wait_until_idle "replay: " >"$WORK/replay.busy"
BENCH_DATABASE_URL="$PG_SERVER" cargo bench --locked -p tessera-items-api --bench replay -- "${CRITERION[@]}" \
  >"$WORK/replay.out" 2>&1 || die "the replay bench failed: $(tail -n 20 "$WORK/replay.out")"
grep -A1 -E '^replay/' "$WORK/replay.out" | sed 's/^/    /' >&2 || true

# --- 5. The report ------------------------------------------------------------

export_machine_facts
export BENCH_INVOCATION="$INVOCATION" BENCH_WORK="$WORK" BENCH_ROOT="$ROOT" BENCH_CLIENTS_USED="$CLIENTS" \
  BENCH_DURATION_USED="$DURATION" BENCH_NONCE_USED="$NONCE_SECS" BENCH_NO_REPORT_SET="$NO_REPORT" \
  BENCH_REPLAY_ROWS="$REPLAY_ROWS"
python3 - <<'PY'
import json
import os
import re
import sys

env = os.environ
work = env["BENCH_WORK"]


def run(name):
    with open(os.path.join(work, name + ".json")) as f:
        return json.loads(f.read())


def busy(name):
    with open(os.path.join(work, name + ".busy")) as f:
        return f.read().strip() or "?"


UNITS = {"ps": 1e-6, "ns": 1e-3, "\u00b5s": 1.0, "\u03bcs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}
criterion = {}
text = open(os.path.join(work, "replay.out")).read()
for match in re.finditer(r"^(replay/\w+)\s+time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", text, re.M):
    criterion[match.group(1)] = float(match.group(2)) * UNITS[match.group(3)]
if "replay/memory" not in criterion or "replay/postgres" not in criterion:
    sys.exit(f"bench/fleet.sh: cannot read criterion's times: {sorted(criterion)}")

one, two, memory = run("one"), run("two"), run("one-memory")
rows = [
    ("One instance (A), `DPOP_REPLAY=database`", one, "one"),
    ("Two instances (A and B alternated), `DPOP_REPLAY=database`", two, "two"),
    ("One instance (A), `DPOP_REPLAY=memory`", memory, "one-memory"),
]
table = "\n".join(
    f"| {label} | {r['rps']:,.0f} | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | {r['requests']:,} "
    f"| {r['nonce_asks']} | {busy(name)}% |"
    for label, r, name in rows
)
mem, pg = criterion["replay/memory"], criterion["replay/postgres"]
mem_gib = int(env["BENCH_MEM_KIB"]) / 1024 / 1024
nonces = "off" if env["BENCH_NONCE_USED"] == "0" else f"on (`DPOP_NONCE_SECS={env['BENCH_NONCE_USED']}`, one key)"
START = "<!-- bench/fleet.sh: its section starts here; the script rewrites it. -->"
END = "<!-- bench/fleet.sh: its section ends here. -->"
section = f"""{START}
## A fleet: two instances on one PostgreSQL, DPoP on every request

`{env['BENCH_INVOCATION']}`, {env['BENCH_DATE']}, {env['BENCH_NPROC']} cores ({env['BENCH_CPU']}),
{mem_gib:.1f} GiB, {env['BENCH_KERNEL']}, {env['BENCH_RUSTC']}, commit {env['BENCH_COMMIT']}.
Release builds on loopback: dev-idp, PostgreSQL (scripts/postgres.sh, fsync off), the items API
(local validation) and the load generator
[`fleet_load`](crates/items-api/examples/fleet_load.rs): {env['BENCH_CLIENTS_USED']} clients, each with a
client-credentials token bound to a DPoP key of its own, `GET /v1/items` for
{env['BENCH_DURATION_USED']} s with a fresh ES256 proof per request (signed in the load generator: part of
each latency), nonces {nonces}. The instances share `DATABASE_URL`, `DPOP_NONCE_KEY` and a
`PUBLIC_URL` naming both. Every answer was 200.

| Run | requests/s | p50 | p99 | requests | nonce asks | CPUs busy before |
|---|---:|---:|---:|---:|---:|---:|
{table}

The replay check alone ([`benches/replay.rs`](crates/items-api/benches/replay.rs), criterion, through
the `ReplayStore` trait): {mem * 1000:.0f} ns in the process's cache, {pg:.0f} µs for the shared
`INSERT … ON CONFLICT DO NOTHING` into the unlogged `dpop_replays` table over loopback: what
`DPOP_REPLAY=database` adds to each DPoP request ({env['BENCH_REPLAY_ROWS']} proofs were still
remembered at the end of the load runs, each until its window ends). On this one machine the
instances, PostgreSQL and the load generator share {env['BENCH_NPROC']} cores: a second instance adds no
CPU, so the second row shows what alternating costs (two processes' caches to warm, one
database), not how a fleet on several machines scales.
{END}"""

if env.get("BENCH_NO_REPORT_SET"):
    print(section)
    sys.exit(0)
path = os.path.join(env["BENCH_ROOT"], "BENCHMARKS.md")
text = open(path).read()
LOAD_MARKER = "<!-- bench/load.sh adds each run's section below this line, newest first. -->"
if START in text and END in text:
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    text = head + section + tail
elif LOAD_MARKER in text:
    head, tail = text.split(LOAD_MARKER, 1)
    text = head + section + "\n\n" + LOAD_MARKER + tail
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
with open(path, "w") as f:
    f.write(text)
print(section)
print(f"bench/fleet.sh: wrote its section of {path}", file=sys.stderr)
PY
