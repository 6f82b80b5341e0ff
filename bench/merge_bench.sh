#!/usr/bin/env bash
# pcapml merge side by side with mergecap (Wireshark) on the same inputs, in one run.
#   bench/merge_bench.sh [SIZE] [DIR]     defaults: 1GiB, /dev/shm/pcapml-merge-bench
# Generates SIZE of mixed frames (bench/make_capture.cc) and has pcapml
# daemons (file sources, replayed fast) label and rotate it into the inputs a
# capture fleet leaves behind, SIZE in total for each case:
#   1 sensor, 100 files      one daemon, rotate_bytes = SIZE/100: files follow each other in time
#   4 sensors, 400 files     four daemons on a quarter of the capture each: every time in 4 files
#   10 sensors, 1,000 files  ten daemons on a tenth each: every time in 10 files
# Then times `mergecap -w out in...` and `pcapml merge -W out in...` (best of
# 3 warm runs, interleaved) with /usr/bin/time: wall seconds, peak RSS, and
# the ratio. The two outputs are checked to hold the same packets in the same
# order (both rewritten by editcap as nanosecond pcaps, then compared: times,
# lengths, bytes; the labels are the e2e tests' business).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1GiB}
dir=${2:-/dev/shm/pcapml-merge-bench}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
[ -x build/bench/make_capture ] || { cmake -S . -B build -DPCAPML_BENCH=ON >/dev/null; cmake --build build -j"$(nproc)" >/dev/null; }
pcapml=$PWD/build/pcapml
bytes=$(numfmt --from=iec-i "${size%B}" 2>/dev/null || echo "$size")

# sensors N: N daemons, each on SIZE/N of the capture, 100 files each, into $dir/fleetN/<sensor>/.
sensors() {
  local n=$1 case=$dir/fleet$1 part=$((bytes / $1))
  [ -f "$case/done" ] && return
  rm -rf "$case" && mkdir -p "$case"
  build/bench/make_capture "$case/in.pcap" "$part" 65536 2>/dev/null
  printf '[[rule]]\nid = "all"\nlabel = "traffic"\nsample = "flow"\n' > "$case/rules.toml"
  for i in $(seq 1 "$n"); do
    mkdir -p "$case/s$i"
    cat > "$case/s$i.toml" <<EOF
sensor_id = "s$i"
[[source]]
file = "in.pcap"
pace = "fast"
[rules]
files = ["rules.toml"]
[output]
directory = "s$i"
prefix = "cap"
rotate_bytes = $((part / 100))
fsync = false
[metrics]
listen = ""
EOF
    "$pcapml" daemon --config "$case/s$i.toml" 2>/dev/null
  done
  touch "$case/done"
}

measure() {  # name, command...: wall seconds and peak KiB of one run
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$dir/time.txt" "$@" >/dev/null 2>"$dir/stderr.txt" || {
    echo "$name failed: $(tail -1 "$dir/stderr.txt")" >&2; exit 1; }
  cat "$dir/time.txt"
}

printf '%-26s %7s %9s %12s %10s %12s %10s %7s\n' case files MB "mergecap s" "peak MiB" "pcapml s" "peak MiB" ratio
for n in ${CASES:-1 4 10}; do
  sensors "$n"
  # Relative names: mergecap lists its inputs in one section comment, and
  # past 64 KiB of names (1,000 absolute paths) its output is damaged.
  mapfile -t files < <(cd "$dir" && ls fleet"$n"/s*/cap-*.pcapng)
  mb=$(cd "$dir" && du -cb "${files[@]}" | tail -1 | awk '{printf "%.0f", $1 / 1e6}')
  best_m="" best_p="" rss_m="" rss_p=""
  for _ in 1 2 3; do
    read -r s k < <(cd "$dir" && measure mergecap mergecap -w mergecap.pcapng "${files[@]}")
    if [ -z "$best_m" ] || awk "BEGIN{exit !($s < $best_m)}"; then best_m=$s rss_m=$k; fi
    read -r s k < <(cd "$dir" && measure pcapml "$pcapml" merge -W pcapml.pcapng "${files[@]}")
    if [ -z "$best_p" ] || awk "BEGIN{exit !($s < $best_p)}"; then best_p=$s rss_p=$k; fi
  done
  editcap -F nsecpcap "$dir/mergecap.pcapng" "$dir/a.pcap"
  editcap -F nsecpcap "$dir/pcapml.pcapng" "$dir/b.pcap"
  cmp -s "$dir/a.pcap" "$dir/b.pcap" || { echo "fleet$n: the outputs differ" >&2; exit 1; }
  rm -f "$dir/a.pcap" "$dir/b.pcap"
  awk -v c="$n sensor(s)" -v f="${#files[@]}" -v mb="$mb" -v sm="$best_m" -v km="$rss_m" -v sp="$best_p" -v kp="$rss_p" \
    'BEGIN { printf "%-26s %7d %9d %12.2f %10.1f %12.2f %10.1f %6.2fx\n", c, f, mb, sm, km / 1024, sp, kp / 1024, sp / sm }'
done
rm -f "$dir/mergecap.pcapng" "$dir/pcapml.pcapng"
echo "(same packets in the same order in both outputs; load average: $(cut -d' ' -f1-3 /proc/loadavg))"
