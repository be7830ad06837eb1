#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a while (cargo fuzz, libFuzzer, on the
# stable toolchain without a sanitizer) and fails on the first crash, naming
# the reproducer to commit under fuzz/regressions/<target>/.
#
#   scripts/fuzz.sh [--clean] [target...]
#
#   FUZZ_SECONDS   time per target (default 20)
#   --clean        delete fuzz/target afterwards (CI: it is a second build
#                  of the workspace, with instrumentation, and disk is short)
#
# Each target starts from its committed seeds (fuzz/corpus/<target>/seed-*)
# and the regressions; what it finds new stays in fuzz/corpus/<target>/
# (ignored by git) for the next local run. A summary of executions per target
# goes to target/fuzz-summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_FUZZ_VERSION=0.13.2
seconds=${FUZZ_SECONDS:-20}
clean=0
targets=()
for arg in "$@"; do
  case "$arg" in
    --clean) clean=1 ;;
    -*) echo "usage: scripts/fuzz.sh [--clean] [target...]" >&2; exit 2 ;;
    *) targets+=("$arg") ;;
  esac
done

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

export PATH="$HOME/.cargo/bin:$PATH"
if ! cargo install --list 2>/dev/null | grep -q "^cargo-fuzz v$CARGO_FUZZ_VERSION:"; then
  say "installing cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install --quiet --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
fi

if [ "${#targets[@]}" -eq 0 ]; then
  mapfile -t targets < <(cd fuzz && cargo fuzz list)
fi

# No sanitizer: the code under test is safe Rust, and stable rustc cannot
# build AddressSanitizer. Debug assertions on, so overflows are findings too.
fuzz=(cargo fuzz)
flags=(--sanitizer none --debug-assertions)

say "building ${#targets[@]} fuzz targets (release, with coverage instrumentation)"
(cd fuzz && "${fuzz[@]}" build "${flags[@]}")

mkdir -p target
summary=target/fuzz-summary.txt
: >"$summary"
total=0
for name in "${targets[@]}"; do
  corpus="fuzz/corpus/$name"
  artifacts="fuzz/artifacts/$name"
  mkdir -p "$corpus" "$artifacts"
  inputs=("$corpus")
  [ -d "fuzz/regressions/$name" ] && inputs+=("fuzz/regressions/$name")
  say "fuzzing $name for ${seconds}s"
  log=$(mktemp)
  # -rss_limit_mb: the parsers must not need more; -max_len: bigger than any
  # request line, link, token or form the code accepts.
  if ! (cd fuzz && "${fuzz[@]}" run "${flags[@]}" "$name" "${inputs[@]/#fuzz\//}" -- \
      -max_total_time="$seconds" -rss_limit_mb=1024 -max_len=16384 -timeout=10 \
      -artifact_prefix="artifacts/$name/" -print_final_stats=1) >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    reproducer=$(ls -t "$artifacts"/* 2>/dev/null | head -n 1 || true)
    echo "fuzz target $name failed; reproducer: ${reproducer:-none written}" >&2
    echo "  replay it:  (cd fuzz && cargo fuzz run -s none -a $name ../$reproducer)" >&2
    echo "  keep it:    cp $reproducer fuzz/regressions/$name/ (tests/fuzz_corpora.rs replays it)" >&2
    rm -f "$log"
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
  rm -f "$log"
  total=$((total + ${runs:-0}))
  printf '%-18s %12s executions, 0 crashes\n' "$name" "${runs:-?}" | tee -a "$summary" >&2
done
printf '%-18s %12s executions, 0 crashes (%ss per target)\n' total "$total" "$seconds" | tee -a "$summary" >&2

if [ "$clean" -eq 1 ]; then
  rm -rf fuzz/target
fi
