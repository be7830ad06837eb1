#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests.
#
#   export TEST_DATABASE_URL=$(scripts/postgres.sh)    start (or reuse) it, print its URL
#   scripts/postgres.sh stop                            stop it and delete its files
#
# Starts a cluster in a temporary directory (owned by the `postgres` user when
# run as root, since PostgreSQL refuses to run as root), listening on
# 127.0.0.1 only, on a free port, with a password-protected role `tessera`
# that may create databases (each test makes its own) and a database
# `tessera`. The server keeps running in the background. Running the script
# again prints the same URL while that server is up; otherwise it starts a
# new one. Installs the `postgresql` package first when it is missing
# (through sudo when not root). Only the URL goes to stdout; progress goes to
# stderr. Durability is off (fsync): the data is meant to be thrown away.
set -euo pipefail

STATE_ROOT="${TMPDIR:-/tmp}"
POINTER="$STATE_ROOT/tessera-postgres.current"   # holds the current cluster's directory
LOCK="$STATE_ROOT/tessera-postgres.lock"
DATABASE=tessera
ROLE=tessera

say() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Runs a command as the user who owns the cluster.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

find_bin() {
  local dir
  if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then
    echo "$PG_BIN"
    return
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return
    fi
  done
}

install_postgres() {
  BIN="$(find_bin)"
  if [ -z "$BIN" ]; then
    say "installing postgresql"
    as_root apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
    BIN="$(find_bin)"
    [ -n "$BIN" ] || die "postgresql is installed but no initdb was found under /usr/lib/postgresql (set PG_BIN)"
  fi
}

# Whether something accepts connections on 127.0.0.1:$1.
port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The running cluster's URL, if the pointer names one that answers.
current_url() {
  local dir port
  [ -f "$POINTER" ] || return 1
  dir="$(cat "$POINTER")"
  [ -f "$dir/url" ] && [ -f "$dir/port" ] || return 1
  port="$(cat "$dir/port")"
  as_owner "$BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 || return 1
  "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 5 || return 1
  cat "$dir/url"
}

# Stops the cluster the pointer names, if any, and deletes its files.
stop_current() {
  local dir
  [ -f "$POINTER" ] || return 0
  dir="$(cat "$POINTER")"
  rm -f "$POINTER"
  case "$dir" in
    "$STATE_ROOT"/tessera-postgres.*) ;;
    *) say "not touching unexpected directory $dir"; return 0 ;;
  esac
  if [ -d "$dir/data" ]; then
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

start_new() {
  local dir password port attempt started
  dir="$(mktemp -d "$STATE_ROOT/tessera-postgres.XXXXXX")"
  chmod 0755 "$dir"   # the postgres user must reach its data directory inside
  echo "$dir" >"$POINTER"
  password="$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
  mkdir -m 0700 "$dir/data"
  printf '%s\n' "$password" >"$dir/superuser-password"
  chmod 0600 "$dir/superuser-password"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir/data" "$dir/superuser-password"
    chown postgres: "$dir"
  fi

  say "initialising a cluster in $dir"
  as_owner "$BIN/initdb" -D "$dir/data" -U postgres --pwfile="$dir/superuser-password" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  rm -f "$dir/superuser-password"   # the superuser signs in through the socket only

  as_owner tee -a "$dir/data/postgresql.conf" >/dev/null <<EOF
# tessera: a throwaway server for tests
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

  started=""
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + RANDOM % 40000))
    port_in_use "$port" && continue
    if as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 30 start >/dev/null 2>&1 9>&-; then
      started=yes
      break
    fi
    say "could not start on port $port (attempt $attempt), trying another"
  done
  [ -n "$started" ] || { tail -n 20 "$dir/server.log" >&2 || true; die "could not start PostgreSQL"; }
  # Remember the port in the configuration too, for a later `pg_ctl start`.
  echo "port = $port" | as_owner tee -a "$dir/data/postgresql.conf" >/dev/null

  as_owner "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres \
    -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$password'" \
    -c "CREATE DATABASE $DATABASE OWNER $ROLE" >&2

  echo "$port" >"$dir/port"
  (umask 077 && echo "postgres://$ROLE:$password@127.0.0.1:$port/$DATABASE" >"$dir/url")
  say "PostgreSQL is running on 127.0.0.1:$port (data in $dir; stop with: $0 stop)"
  cat "$dir/url"
}

main() {
  install_postgres
  PSQL="$BIN/psql"
  [ -x "$PSQL" ] || PSQL="$(command -v psql)" || die "psql not found"
  # One run at a time, so that two callers share one server. (The server must
  # not inherit this descriptor, or it would hold the lock for its lifetime.)
  exec 9>"$LOCK"
  flock 9
  case "${1:-start}" in
    start)
      if current_url; then
        say "reusing the running server"
        return
      fi
      stop_current
      start_new
      ;;
    stop)
      stop_current
      say "stopped"
      ;;
    *)
      die "usage: $0 [start|stop]"
      ;;
  esac
}

main "$@"
