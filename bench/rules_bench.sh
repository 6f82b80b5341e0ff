#!/usr/bin/env bash
# Rule count at line rate, side by side in one run: labels a synthetic
# capture (bench/make_capture.cc: 64/576/1500-byte frames between 65,536
# hosts) with 1 rule and with 10,000 host and prefix rules, next to
# `tcpdump -r in.pcap -w copy.pcap`, and times loading the 10,000 rules.
#
#   bench/rules_bench.sh [SIZE] [DIR]      defaults: 1GiB, /tmp/pcapml-rules-bench
#   BUILD=build-foo bench/rules_bench.sh   use another build directory
#
# Outputs are written to DIR: put it on a tmpfs (/dev/shm/...) to time the
# programs rather than the disk. Each command runs ROUNDS times (default 3),
# interleaved; the median wall time and the largest peak RSS are reported
# (/usr/bin/time). The 10,000-rule run must take at most 1.5x the 1-rule run
# and 2x tcpdump, and loading must take under a second.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1GiB}
dir=${2:-/tmp/pcapml-rules-bench}
build=${BUILD:-build}
rounds=${ROUNDS:-3}
mkdir -p "$dir"
if [ ! -x "$build/pcapml" ] || [ ! -x "$build/bench/make_capture" ]; then
  cmake -S . -B "$build" -DPCAPML_BENCH=ON >/dev/null
  cmake --build "$build" -j"$(nproc)" --target pcapml make_capture >/dev/null
fi
pcapml=$(cd "$build" && pwd)/pcapml
in=$dir/in.pcap
[ -f "$in" ] || "$build/bench/make_capture" "$in" "$size" 65536

bench/make_rules.sh > "$dir/rules-10000.toml"  # 10,000 host and prefix rules, then a catch-all
printf '[[rule]]\nid = "all"\nlabel = "traffic"\nfilter = "ip or ip6"\n' > "$dir/rules-1.toml"
tcpdump -r "$in" -c 100 -w "$dir/small.pcap" 2>/dev/null
cat "$in" > /dev/null  # warm the page cache

bytes=$(stat -c %s "$in")
packets=$("$pcapml" summary -M "$in" --csv | tail -1 | cut -d, -f3)
echo "input: $in, $bytes bytes, $packets packets; outputs in $dir; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

declare -A secs cpu rss
run() {  # name, command...: appends wall and CPU seconds and peak KiB of one run
  local name=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$dir/time.txt" "$@" >/dev/null 2>"$dir/stderr.txt" ||
    { echo "$name failed: $(tail -1 "$dir/stderr.txt")" >&2; exit 1; }
  read -r s u y k < "$dir/time.txt"
  secs[$name]="${secs[$name]:-} $s"
  cpu[$name]="${cpu[$name]:-} $(awk -v u="$u" -v y="$y" 'BEGIN { print u + y }')"
  if [ -z "${rss[$name]:-}" ] || [ "$k" -gt "${rss[$name]}" ]; then rss[$name]=$k; fi
}
median() { tr ' ' '\n' <<< "$1" | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for _ in $(seq "$rounds"); do
  run tcpdump tcpdump -r "$in" -w "$dir/copy.pcap"
  rm -f "$dir/copy.pcap"
  run one "$pcapml" -P "$in" -L "$dir/rules-1.toml" -W "$dir/labeled-1.pcapng"
  rm -f "$dir/labeled-1.pcapng"
  run many "$pcapml" -P "$in" -L "$dir/rules-10000.toml" -W "$dir/labeled-10000.pcapng"
  rm -f "$dir/labeled-10000.pcapng"
  run load1 "$pcapml" -P "$dir/small.pcap" -L "$dir/rules-1.toml" -W "$dir/small-1.pcapng"
  run load10000 "$pcapml" -P "$dir/small.pcap" -L "$dir/rules-10000.toml" -W "$dir/small-10000.pcapng"
done

printf '%-66s %8s %8s %8s %8s\n' command wall_s cpu_s Mpkt/s peakMiB
row() {  # name, label
  local s c; s=$(median "${secs[$1]}"); c=$(median "${cpu[$1]}")
  awk -v n="$2" -v s="$s" -v c="$c" -v p="$packets" -v k="${rss[$1]}" \
    'BEGIN { printf "%-66s %8.2f %8.2f %8.2f %8.1f\n", n, s, c, p / (s > 0 ? s : 0.01) / 1e6, k / 1024 }'
}
row tcpdump "tcpdump -r in.pcap -w copy.pcap"
row one "pcapml -P in.pcap -L rules-1.toml -W labeled-1.pcapng"
row many "pcapml -P in.pcap -L rules-10000.toml -W labeled-10000.pcapng"
row load1 "pcapml -P small.pcap -L rules-1.toml (100 packets: start-up)"
row load10000 "pcapml -P small.pcap -L rules-10000.toml (100 packets: loading)"
awk -v t="$(median "${secs[tcpdump]}")" -v o="$(median "${secs[one]}")" -v m="$(median "${secs[many]}")" \
    -v l="$(median "${secs[load10000]}")" -v co="$(median "${cpu[one]}")" -v cm="$(median "${cpu[many]}")" 'BEGIN {
  printf "wall time: 10,000 rules / 1 rule %.2fx (target <= 1.5), 10,000 rules / tcpdump %.2fx (target <= 2)\n", m / o, m / t
  printf "CPU time: 10,000 rules / 1 rule %.2fx; loading 10,000 rules: %.2f s wall (target < 1)\n", cm / co, l
  exit !(m <= 1.5 * o && m <= 2 * t && l < 1) }'
