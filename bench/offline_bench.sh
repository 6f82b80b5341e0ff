#!/usr/bin/env bash
# Offline throughput and peak memory, side by side with tcpdump in one run.
#   bench/offline_bench.sh [SIZE] [DIR]     defaults: 1GiB, /tmp/pcapml-bench
# Builds build/ if needed, generates SIZE of mixed 64/576/1500-byte frames
# (bench/make_capture.cc), then times each command (best of 3 warm runs) with
# /usr/bin/time, printing wall seconds, MB/s of input, packets/s and peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1GiB}
dir=${2:-/tmp/pcapml-bench}
mkdir -p "$dir"
[ -x build/bench/make_capture ] || { cmake -S . -B build -DPCAPML_BENCH=ON >/dev/null; cmake --build build -j"$(nproc)" >/dev/null; }
pcapml=$PWD/build/pcapml
in=$dir/in.pcap
[ -f "$in" ] || build/bench/make_capture "$in" "$size" 65536
printf 'BPF:ip or ip6,traffic\n' > "$dir/one-rule.csv"
bytes=$(stat -c %s "$in")
packets=$(build/pcapml summary -M "$in" --csv | tail -1 | cut -d, -f3)
echo "input: $in, $bytes bytes, $packets packets ($(nproc) cores)"
printf '%-58s %8s %9s %12s %9s\n' command seconds MB/s packets/s peakMiB

measure() {  # name, command...: best wall time of 3 runs, peak RSS of the best
  local name=$1; shift
  local best="" rss=""
  for _ in 1 2 3; do
    /usr/bin/time -f '%e %M' -o "$dir/time.txt" "$@" >/dev/null 2>"$dir/stderr.txt" || {
      echo "$name failed: $(tail -1 "$dir/stderr.txt")"; return; }
    read -r secs kb < "$dir/time.txt"
    if [ -z "$best" ] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; rss=$kb; fi
  done
  awk -v n="$name" -v s="$best" -v b="$bytes" -v p="$packets" -v k="$rss" 'BEGIN {
    if (s == 0) s = 0.01
    printf "%-58s %8.2f %9.0f %12.0f %9.1f\n", n, s, b / s / 1e6, p / s, k / 1024 }'
}

measure "tcpdump -r in.pcap -w /dev/null" tcpdump -r "$in" -w /dev/null
measure "pcapml summary -M in.pcap" "$pcapml" summary -M "$in"
measure "tcpdump -r in.pcap -w copy.pcap" tcpdump -r "$in" -w "$dir/copy.pcap"
measure "pcapml -P in.pcap -L one-rule.csv -W labeled.pcapng" "$pcapml" -P "$in" -L "$dir/one-rule.csv" -W "$dir/labeled.pcapng"
measure "tcpdump -r labeled.pcapng -w /dev/null" tcpdump -r "$dir/labeled.pcapng" -w /dev/null
measure "pcapml summary -M labeled.pcapng" "$pcapml" summary -M "$dir/labeled.pcapng"
if "$pcapml" help split >/dev/null 2>&1; then
  rm -rf "$dir/split"
  measure "pcapml -M labeled.pcapng -O split/" "$pcapml" -M "$dir/labeled.pcapng" -O "$dir/split/"
fi
if "$pcapml" help sort >/dev/null 2>&1; then
  measure "pcapml -M labeled.pcapng -s -W sorted.pcapng" "$pcapml" -M "$dir/labeled.pcapng" -s -W "$dir/sorted.pcapng"
fi
rm -f "$dir/copy.pcap"
