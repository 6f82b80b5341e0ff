#!/usr/bin/env bash
# Live capture loss with ~10,000 rules, side by side with tcpdump -w, in one
# run: a veth pair whose inside end lives in a network namespace made here
# (198.18.200.0/24, the benchmarking range); tcpreplay --topspeed sends a
# generated capture from inside; pcapml daemon (10,000 host and prefix rules)
# and then tcpdump capture the outside end with the same 64 MiB kernel buffer.
#   bench/live_bench.sh [SIZE] [RULES]     defaults: 200MiB, 10000
#   BUILD=/tmp/old/build bench/live_bench.sh   another build's pcapml
# PLUGIN=tls_sni puts tls_sni on every TCP packet to port 443 in front of
# the rules, and makes every 1000th TCP packet a SYN that never goes on
# (held until the limit: every packet passes through the delay line).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/veth.sh
size=${1:-200MiB}
nrules=${2:-10000}
dir=$(mktemp -d /tmp/pcapml-live.XXXXXX)
ns=pcapmlbench$$
out=pmbo$$
in=pmbi$$
build=${BUILD:-build}
[ -x "$build/bench/make_capture" ] || { cmake -S . -B "$build" -DPCAPML_BENCH=ON >/dev/null; cmake --build "$build" -j"$(nproc)" >/dev/null; }
pcapml=$(cd "$build" && pwd)/pcapml

cleanup() {
  veth_down "$ns" "$out"
  rm -rf "$dir"
}
trap cleanup EXIT
veth_up "$ns" "$out" "$in" 198.18.200

syn_every=0
[ "${PLUGIN:-}" = tls_sni ] && syn_every=1000
build/bench/make_capture "$dir/in.pcap" "$size" 65536 "$syn_every" 2>/dev/null
# Host rules for half the rule count, /24 prefixes for the rest (of
# 198.18.0.0/15, the generator's addresses), and a catch-all last.
awk -v n="$nrules" 'BEGIN {
  for (i = 0; i < n / 2; i++) printf "BPF:host 198.18.%d.%d,host%d\n", int(i / 256) % 256, i % 256, i
  for (i = 0; i < n / 2 - 1; i++) printf "BPF:net 198.%d.%d.0/24,net%d\n", 19 + int(i / 65536), int(i / 256) % 256, i
  print "BPF:ip or ip6,other" }' > "$dir/rules.csv"
files='"rules.csv"'
plugin_table=""
if [ "${PLUGIN:-}" = tls_sni ]; then
  printf '[[rule]]\nid = "sni"\nplugin = "tls_sni"\nfilter = "tcp dst port 443"\n' > "$dir/sni.toml"
  files='"sni.toml", "rules.csv"'
  plugin_table=$(printf '[[plugin]]\nname = "tls_sni"\npath = "%s"\n' "$PWD/build/plugins/tls_sni.so")
fi
mkdir -p "$dir/out"
capture_config "$dir/d.toml" "$out" "$files" "$plugin_table"

replay() {  # tcpreplay's count of packets sent; its rate goes to $dir/rate
  ip netns exec "$ns" tcpreplay -q --topspeed -i "$in" "$dir/in.pcap" > "$dir/replay.log" 2>&1
  awk '/Rated:/ {print $(NF-1), "pps"; exit}' "$dir/replay.log" >> "$dir/rate"
  awk '/Actual:/ {print $2}' "$dir/replay.log"
}

echo "capture: $(stat -c %s "$dir/in.pcap") bytes; rules: $(wc -l < "$dir/rules.csv")"
start=$(date +%s.%N)
"$pcapml" daemon --config "$dir/d.toml" 2> "$dir/daemon.log" &
daemon=$!
until grep -q ready "$dir/daemon.log"; do sleep 0.1; done
load=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
sent=$(replay)
sleep 1
kill -TERM $daemon
wait $daemon
line=$(grep 'stopped:' "$dir/daemon.log")
p_written=$(sed -E 's/.*stopped: ([0-9]+) packets written.*/\1/' <<< "$line")
p_recv=$(sed -E 's/.* ([0-9]+) received.*/\1/' <<< "$line")
p_drop=$(sed -E 's/.* ([0-9]+) dropped by the kernel.*/\1/' <<< "$line")

tcpdump -i "$out" -B 65536 -s 262144 -w "$dir/tcpdump.pcap" 2> "$dir/tcpdump.log" &
td=$!
sleep 1
sent2=$(replay)
sleep 1
kill -INT $td
wait $td || true
t_recv=$(awk '/packets captured/ {print $1}' "$dir/tcpdump.log")
t_drop=$(awk '/dropped by kernel/ {print $1}' "$dir/tcpdump.log")

printf '%-44s %10s %10s %10s\n' "" sent captured dropped
printf '%-44s %10s %10s %10s\n' "pcapml daemon ($(wc -l < "$dir/rules.csv") rules, start-up ${load}s)" "$sent" "$p_recv" "$p_drop"
printf '%-44s %10s %10s %10s\n' "tcpdump -w" "$sent2" "$t_recv" "$t_drop"
echo "pcapml wrote $p_written packets; tcpreplay rates: $(paste -sd, "$dir/rate")"
