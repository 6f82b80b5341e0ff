#!/usr/bin/env bash
# Runs the libFuzzer targets (fuzz/README.md), one after another, nice'd:
#   fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 60, all)
# Builds $FUZZ_BUILD (build-fuzz/) with clang if it is not there. New inputs
# go to $FUZZ_WORK/<target>/ (build-fuzz/fuzz-work/), crash reproducers
# there too; the committed corpus in fuzz/corpus/<target>/ is only read.
# Exit status 1 if any target found a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
build=${FUZZ_BUILD:-build-fuzz}
work_root=${FUZZ_WORK:-$build/fuzz-work}
all=(reader legacy_rules labels_file toml_rules daemon_config label filter_expr control tls_sni dns flow_position)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

dict_for() {
  case $1 in
    filter_expr) echo fuzz/dict/filter_expr.dict ;;
    legacy_rules | labels_file) echo fuzz/dict/rules.dict ;;
    toml_rules | daemon_config) echo fuzz/dict/toml.dict ;;
    control) echo fuzz/dict/control.dict ;;
  esac
}

if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DPCAPML_FUZZ=ON -DPCAPML_TESTS=OFF -DPCAPML_BENCH=OFF >/dev/null
fi
make -C "$build" -j"$(nproc)" "${targets[@]/#/fuzz_}" >/dev/null

failed=()
for t in "${targets[@]}"; do
  work=$work_root/$t
  mkdir -p "$work/corpus"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/")
  dict=$(dict_for "$t")
  [ -z "$dict" ] || args+=(-dict="$dict")
  if nice -n 10 "$build/fuzz/fuzz_$t" "${args[@]}" "$work/corpus" "fuzz/corpus/$t" >"$work/log.txt" 2>&1; then
    status=ok
  else
    reproducer=$(ls -t "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | head -1 || true)
    status="CRASH (see $work/log.txt; reproducer: $reproducer)"
    failed+=("$t")
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log.txt" || true)
  echo "$t: ${seconds}s, ${runs:-?} executions, $status"
done
[ ${#failed[@]} -eq 0 ] || { echo "crashes in: ${failed[*]}"; exit 1; }
