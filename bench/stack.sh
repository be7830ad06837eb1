# The running parts shared by bench/load.sh and bench/profile.sh, sourced by
# both (which define `say` and `die`, and set RELEASE, the folder of the
# release binaries, first): a work folder and the end of everything started
# (trap on EXIT), the choice of cores, dev-idp and a token for alice, a server
# started and waited for, and a private PostgreSQL cluster.
#
# Processes are started in the background and their ids kept in PIDS; the
# cleanup stops them (TERM, then KILL after 5 s), stops the PostgreSQL cluster
# if one was started, shows the last lines of each log when the script fails,
# and deletes the work folder.

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tessera-bench.XXXXXX")"
PIDS=()
PG_STATE=""

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
  local status=$? pid log
  for pid in "${PIDS[@]+"${PIDS[@]}"}"; do
    stop_pid "$pid"
  done
  if [ -n "$PG_STATE" ] && [ -d "$PG_STATE" ]; then
    TMPDIR="$PG_STATE" "$ROOT/scripts/postgres.sh" stop >/dev/null 2>&1 || true
    rm -rf "$PG_STATE"
  fi
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

# Chooses where things run. With taskset and at least two cores this process
# may use (BENCH_PIN=0 turns it off): the load generator on the first
# (PIN_LOAD), everything that serves on the second (PIN_SERVER: the server
# under test, dev-idp, PostgreSQL), so that the two do not take turns on the
# same core and the server's figure is that of one core. Otherwise both
# arrays stay empty. Sets PINNING, a sentence for the report, and
# SERVER_CORES, how many cores the server may use (Tokio starts one worker
# thread per core it may use).
choose_cores() {
  local cpus
  PIN_LOAD=()
  PIN_SERVER=()
  SERVER_CORES="$(nproc)"
  if [ "${BENCH_PIN:-1}" = 0 ]; then
    PINNING="not pinned (BENCH_PIN=0): the load generator and the server share the $SERVER_CORES cores"
    return
  fi
  if ! command -v taskset >/dev/null 2>&1; then
    PINNING="not pinned (no taskset): the load generator and the server share the $SERVER_CORES cores"
    return
  fi
  read -r -a cpus <<<"$(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))')"
  if [ "${#cpus[@]}" -lt 2 ]; then
    PINNING="not pinned (one core): the load generator and the server share it"
    return
  fi
  PIN_LOAD=(taskset -c "${cpus[0]}")
  PIN_SERVER=(taskset -c "${cpus[1]}")
  SERVER_CORES=1
  PINNING="pinned with taskset: the load generator (wrk, oha) on core ${cpus[0]}; the server under test, dev-idp and PostgreSQL on core ${cpus[1]}"
  if [ "${#cpus[@]}" -gt 2 ]; then
    PINNING="$PINNING (the other $((${#cpus[@]} - 2)) cores unused)"
  fi
}

# Starts dev-idp on a free loopback port (on the server's core); sets ISSUER.
start_idp() {
  local port
  port="$(free_port)"
  ISSUER="http://127.0.0.1:$port/oauth2/default"
  say "starting dev-idp at $ISSUER"
  ${PIN_SERVER[@]+"${PIN_SERVER[@]}"} "$RELEASE/tessera-dev-idp" --port "$port" >"$WORK/dev-idp.log" 2>&1 &
  PIDS+=("$!")
  wait_for dev-idp "$ISSUER/.well-known/openid-configuration" "$!"
}

# Signs alice in at ISSUER (code flow + PKCE, dev-idp's test browser) for one
# access token with scope `openid items:read`; sets TOKEN, which stays in this
# shell's memory, never in a file.
sign_in_alice() {
  say "signing alice in (code flow + PKCE) for an access token"
  TOKEN="$("$RELEASE/examples/bench_token" "$ISSUER" "openid items:read")" || die "could not get a token"
  [ -n "$TOKEN" ] || die "bench_token printed no token"
}

# start_server NAME HEALTH_URL COMMAND...: runs COMMAND on the server's core
# in the background, logs to $WORK/NAME.log, sets SERVER_PID.
start_server() {
  local name="$1" health="$2"
  shift 2
  ${PIN_SERVER[@]+"${PIN_SERVER[@]}"} "$@" >"$WORK/$name.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  wait_for "$name" "$health" "$SERVER_PID"
}

# Starts a PostgreSQL cluster of this run's own with scripts/postgres.sh, on
# the server's core (its processes inherit the affinity), in a state folder
# of its own so that a cluster other tests share is neither reused nor
# stopped; sets PG_URL. The cleanup stops it and deletes its files.
start_postgres() {
  PG_STATE="$(mktemp -d "${TMPDIR:-/tmp}/tessera-bench-pg.XXXXXX")"
  chmod 0755 "$PG_STATE"   # as root, the postgres user must reach its data inside
  say "starting a PostgreSQL cluster of this run's own (scripts/postgres.sh)"
  PG_URL="$(TMPDIR="$PG_STATE" ${PIN_SERVER[@]+"${PIN_SERVER[@]}"} "$ROOT/scripts/postgres.sh" 2>"$WORK/postgres.log" | tail -n 1)" \
    || die "scripts/postgres.sh failed: $(tail -n 5 "$WORK/postgres.log")"
  case "$PG_URL" in
    postgres://*) ;;
    *) die "scripts/postgres.sh printed no URL: $(tail -n 5 "$WORK/postgres.log")" ;;
  esac
}
