#!/usr/bin/env bash
# The items API under attack, on this machine: p50 and p99 of good requests
# alone, and with as many hostile requests interleaved (half the traffic), in
# both validation modes.
#
#   bash bench/under_attack.sh
#
# It runs the load test of crates/items-api/tests/under_attack (load.rs; the
# method is in its header) in a release build, at a larger scale than
# `./x test` does: dev-idp, the items API (SQLite, demo items) and the clients
# in one process on 127.0.0.1, on a Tokio runtime of 2 worker threads. Good
# requests are `GET /v1/items` with alice's access token over keep-alive
# connections; each client sends one row of the hostile corpus (corpus.rs: 70
# kinds of bad tokens and requests) after each good request, on a connection
# of its own. Only the good requests are timed. The test's own checks hold at
# this scale too (every answer exact, /healthz, JWKS and introspection counts,
# the p99 bound); if one fails, nothing is written.
#
# Then it writes its section of BENCHMARKS.md (between its two markers,
# replacing the previous run's) and prints it.
#
# Settings (environment), defaults in brackets:
#   BENCH_GOOD [20000]    good requests per phase (as many hostile ones)
#   BENCH_CLIENTS [8]     concurrent clients
#   BENCH_IDLE_WAIT [300] seconds to wait for other processes to leave the CPUs
#                         idle before measuring (then it measures anyway)
#   BENCH_NO_REPORT=1     print the section instead of writing BENCHMARKS.md
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

GOOD="${BENCH_GOOD:-20000}"
CLIENTS="${BENCH_CLIENTS:-8}"
IDLE_WAIT="${BENCH_IDLE_WAIT:-300}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'bench/under_attack.sh: %s\n' "$*" >&2; exit 1; }
# shellcheck source=bench/machine.sh
. "$ROOT/bench/machine.sh"

if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
command -v cargo >/dev/null 2>&1 || die "cargo is missing: run ./x test (or ./x run) once to install the toolchain"
command -v python3 >/dev/null 2>&1 || die "python3 is missing (it writes the report)"

TEST=(cargo test --locked --release -p tessera-items-api --test under_attack)
say "building the under_attack test (release profile)"
"${TEST[@]}" --no-run

busy="$(wait_until_idle "")"

OUT="$(mktemp "${TMPDIR:-/tmp}/tessera-under-attack.XXXXXX")"
trap 'rm -f "$OUT"' EXIT
say "measuring: $GOOD good requests per phase, $CLIENTS clients, each mode in turn"
UNDER_ATTACK_GOOD="$GOOD" UNDER_ATTACK_CLIENTS="$CLIENTS" \
  "${TEST[@]}" load:: -- --nocapture --test-threads=1 >"$OUT" 2>&1 \
  || { cat "$OUT" >&2; die "the load test failed: nothing written"; }
grep -E 'under attack, |^  ' "$OUT" | sed 's/^test .* \.\.\. //' >&2 || true

export_machine_facts
BENCH_BUSY="$busy" BENCH_OUT="$OUT" BENCH_ROOT="$ROOT" BENCH_NO_REPORT="${BENCH_NO_REPORT:-}" \
python3 - <<'PY'
import os
import re
import sys

env = os.environ
lines = [l for l in open(env["BENCH_OUT"]).read().splitlines() if l.startswith("UNDER_ATTACK ")]
runs = {}
for line in lines:
    fields = dict(pair.split("=", 1) for pair in line.split()[1:])
    runs[fields["mode"]] = fields
if set(runs) != {"local", "introspection"}:
    sys.exit(f"bench/under_attack.sh: expected a figures line per mode, found {sorted(runs)}")

def ms(value):
    value = float(value)
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"

rows = []
for mode, label in (("local", "local (JWKS)"), ("introspection", "introspection (cached)")):
    r = runs[mode]
    ratio = float(r["attacked_p99_ms"]) / max(float(r["alone_p99_ms"]), 1e-9)
    traffic = (f"{r['jwks_fetches']} JWKS fetches" if mode == "local"
               else f"{int(r['introspections']):,} introspections (each hostile token once per 30 s)")
    rows.append(
        f"| {label} | {ms(r['alone_p50_ms'])} | {ms(r['alone_p99_ms'])} | {int(r['alone_rps']):,} "
        f"| {ms(r['attacked_p50_ms'])} | {ms(r['attacked_p99_ms'])} | {int(r['attacked_rps']):,} "
        f"| {ratio:.2f}× | {traffic} |")
first = runs["local"]
intro = runs["introspection"]
reached = int(intro["introspections"]) / max(int(intro["hostile"]), 1)
mem_gib = int(env["BENCH_MEM_KIB"]) / 1024 / 1024
START = "<!-- bench/under_attack.sh: its section starts here; the script rewrites it. -->"
END = "<!-- bench/under_attack.sh: its section ends here. -->"
section = f"""{START}
## Under attack: good requests with half the traffic hostile

`bash bench/under_attack.sh`, {env['BENCH_DATE']}, {env['BENCH_NPROC']} cores ({env['BENCH_CPU']}),
{mem_gib:.1f} GiB, {env['BENCH_KERNEL']}, {env['BENCH_RUSTC']}, commit {env['BENCH_COMMIT']};
background CPU use just before: {env['BENCH_BUSY']}%. The load test of
[`crates/items-api/tests/under_attack`](crates/items-api/tests/under_attack/load.rs) in a release build
with `UNDER_ATTACK_GOOD={first['good']}` and `UNDER_ATTACK_CLIENTS={first['clients']}`: dev-idp, the
items API (SQLite, demo items) and {first['clients']} clients in one process on loopback (Tokio, 2 worker
threads). Each mode sends {int(first['good']):,} good requests (`GET /v1/items`, alice's token, keep-alive)
alone, then the same again with one hostile request after each ({int(first['hostile']):,} in all, the
{first['kinds']} kinds of the corpus in turn, each on a new connection), in 4 alternating rounds.
Latencies are of the good requests only; requests/s count every request of the phase.

| Validation | alone: p50 | p99 | requests/s | with 50% hostile: good p50 | good p99 | requests/s | p99 ratio | issuer traffic under attack |
|---|---:|---:|---:|---:|---:|---:|---:|---|
""" + "\n".join(rows) + f"""

Every good request got 200 and every hostile one its exact status and challenge. The test's bound
is p99 under attack ≤ 2 × alone + 25 ms; in `./x test` it runs the same way in a debug build with
1,000 good requests and 4 clients. With local validation no hostile request reaches the issuer but
for the rate-limited JWKS refetches of unknown `kid`s. With introspection, {reached:.2%} of the hostile
requests did: a token that passes the size and character checks is asked about, and the refusal is
then remembered for 30 s, so a token sent again and again costs one introspection per 30 s. An
attacker who sends a new token each time still makes the API ask the issuer once per request; the
issuer's own rate limit is what bounds that.
{END}"""

if env.get("BENCH_NO_REPORT"):
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
print(f"bench/under_attack.sh: wrote its section of {path}", file=sys.stderr)
PY
