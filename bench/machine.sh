# What the benchmarks read of the machine they run on, sourced by
# bench/load.sh and bench/under_attack.sh (which define `say` first):
# how busy its CPUs are, a wait for them to be idle, and the facts each
# report states (machine, toolchain, commit, date).

# Percentage of CPU time not idle over 3 s, from /proc/stat.
cpu_busy() {
  local a b total=0 idle i
  read -r -a a </proc/stat
  sleep 3
  read -r -a b </proc/stat
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  idle=$((b[4] - a[4] + b[5] - a[5]))
  echo $((total > 0 ? 100 * (total - idle) / total : 0))
}

# Waits up to $IDLE_WAIT seconds for other processes (others' builds) to
# leave the CPUs idle (at most 10% busy), saying so with PREFIX, then
# measures anyway; prints the last reading.
wait_until_idle() {
  local prefix="$1" busy waited=0
  busy="$(cpu_busy)"
  while [ "$busy" -gt 10 ] && [ "$waited" -lt "$IDLE_WAIT" ]; do
    say "${prefix}the CPUs are ${busy}% busy with something else; waiting for them to be idle"
    sleep 7
    waited=$((waited + 10))
    busy="$(cpu_busy)"
  done
  if [ "$busy" -gt 10 ]; then
    say "${prefix}warning: measuring although the CPUs were ${busy}% busy with something else"
  fi
  echo "$busy"
}

# Exports what every report states: BENCH_DATE, BENCH_CPU, BENCH_NPROC,
# BENCH_MEM_KIB, BENCH_KERNEL, BENCH_RUSTC and BENCH_COMMIT (short, with a
# note when tracked files differ from it).
export_machine_facts() {
  BENCH_DATE="$(date -u '+%Y-%m-%d %H:%M UTC')"
  BENCH_CPU="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)"
  BENCH_CPU="${BENCH_CPU:-unknown}"
  BENCH_NPROC="$(nproc)"
  BENCH_MEM_KIB="$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)"
  BENCH_KERNEL="$(uname -srm)"
  BENCH_RUSTC="$(rustc --version)"
  BENCH_COMMIT="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    BENCH_COMMIT="$BENCH_COMMIT (with uncommitted changes)"
  fi
  export BENCH_DATE BENCH_CPU BENCH_NPROC BENCH_MEM_KIB BENCH_KERNEL BENCH_RUSTC BENCH_COMMIT
}
