#!/usr/bin/env bash
# The process plugin in front of ~10,000 rules at trafgen's top speed (root):
# a veth pair whose inside end lives in a network namespace made here
# (198.18.202.0/24); trafgen sends COUNT UDP frames from inside as fast as it
# can, three times, while the outside end is captured by
#   1. pcapml daemon, 10,000 host and prefix rules (the base),
#   2. the same with a `plugin = "process"` rule in front of them,
#   3. tcpdump -w,
# each with a 64 MiB kernel buffer. trafgen's frames come from no socket, so
# the plugin looks every packet up and finds no owner (its slowest path);
# the daemon's CPU time per packet, base against plugin, is its cost.
#   bench/process_live_bench.sh [COUNT] [RULES]     defaults: 2000000, 10000
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/veth.sh
count=${1:-2000000}
nrules=${2:-10000}
dir=$(mktemp -d /tmp/pcapml-plive.XXXXXX)
ns=pcapmlpl$$
out=pmplo$$
in=pmpli$$
pcapml=$PWD/build/pcapml
plugin=$PWD/build/plugins/process.so
[ -x "$pcapml" ] && [ -f "$plugin" ] || { echo "build first (./test.sh)" >&2; exit 1; }

pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  veth_down "$ns" "$out"
  rm -rf "$dir"
}
trap cleanup EXIT
veth_up "$ns" "$out" "$in" 198.18.202
mac_out=$(cat /sys/class/net/"$out"/address)
mac_in=$(ip netns exec "$ns" cat /sys/class/net/"$in"/address)
cat > "$dir/udp.trafgen" <<CONF
{ eth(da=$mac_out, sa=$mac_in, type=0x0800),
  ipv4(saddr=198.18.202.2, daddr=198.18.202.1, proto=17, ttl=64),
  udp(sp=dinc(1024, 61024), dp=9),
  fill(0x41, 22) }
CONF

awk -v n="$nrules" 'BEGIN {
  for (i = 0; i < n / 2; i++) printf "BPF:host 198.19.%d.%d,host%d\n", int(i / 256) % 256, i % 256, i
  for (i = 0; i < n / 2 - 1; i++) printf "BPF:net 198.%d.%d.0/24,net%d\n", 20 + int(i / 65536), int(i / 256) % 256, i
  print "BPF:ip or ip6 or arp,other" }' > "$dir/rules.csv"
printf '[[rule]]\nid = "owner"\nplugin = "process"\n' > "$dir/process.toml"
config() { capture_config "$dir/d.toml" "$out" "$1" "${2:-}"; }  # $1: rules files, $2: top-level text

send() {  # trafgen's count of frames sent; its rate goes to $dir/rate
  local t0 t1
  t0=$(date +%s.%N)
  ip netns exec "$ns" trafgen --dev "$in" --conf "$dir/udp.trafgen" --num "$count" --cpus 1 > "$dir/trafgen.log" 2>&1 ||
    { cat "$dir/trafgen.log" >&2; return 1; }
  t1=$(date +%s.%N)
  awk -v n="$count" -v a="$t0" -v b="$t1" 'BEGIN { printf "%d pps\n", n / (b - a) }' >> "$dir/rate"
  echo "$count"
}

daemon() {  # sets result: received dropped written cpu_seconds
  rm -rf "$dir/out" && mkdir "$dir/out"
  "$pcapml" daemon --config "$dir/d.toml" 2> "$dir/daemon.log" &
  pid=$!
  until grep -q ready "$dir/daemon.log"; do
    kill -0 $pid 2>/dev/null || { cat "$dir/daemon.log" >&2; exit 1; }
    sleep 0.1
  done
  local ticks0
  ticks0=$(awk '{print $14 + $15}' /proc/$pid/stat)
  send > /dev/null
  sleep 1
  local ticks1
  ticks1=$(awk '{print $14 + $15}' /proc/$pid/stat)
  kill -TERM $pid
  wait $pid
  local line
  line=$(grep 'stopped:' "$dir/daemon.log")
  result="$(sed -E 's/.* ([0-9]+) received.*/\1/' <<< "$line")"
  result+=" $(sed -E 's/.* ([0-9]+) dropped by the kernel.*/\1/' <<< "$line")"
  result+=" $(sed -E 's/.*stopped: ([0-9]+) packets written.*/\1/' <<< "$line")"
  result+=" $(awk -v t="$((ticks1 - ticks0))" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }')"
  pid=
}

echo "frames: $count per run; rules: $(wc -l < "$dir/rules.csv")"
config '"rules.csv"' ""
daemon
read -r b_recv b_drop b_written b_cpu <<< "$result"
config '"process.toml", "rules.csv"' "[[plugin]]
name = \"process\"
path = \"$plugin\""
daemon
read -r p_recv p_drop p_written p_cpu <<< "$result"

tcpdump -i "$out" -B 65536 -s 262144 -w "$dir/tcpdump.pcap" 2> "$dir/tcpdump.log" &
td=$!
sleep 1
send > /dev/null
sleep 1
kill -INT $td
wait $td || true
t_recv=$(awk '/packets captured/ {print $1}' "$dir/tcpdump.log")
t_drop=$(awk '/dropped by kernel/ {print $1}' "$dir/tcpdump.log")

printf '%-52s %10s %10s %10s %8s\n' "" received dropped written "CPU s"
printf '%-52s %10s %10s %10s %8s\n' "pcapml daemon, $nrules rules" "$b_recv" "$b_drop" "$b_written" "$b_cpu"
printf '%-52s %10s %10s %10s %8s\n' "pcapml daemon, process plugin rule + $nrules rules" "$p_recv" "$p_drop" "$p_written" "$p_cpu"
printf '%-52s %10s %10s %10s\n' "tcpdump -w" "$t_recv" "$t_drop" "-"
awk -v b="$b_cpu" -v p="$p_cpu" -v nb="$b_recv" -v np="$p_recv" 'BEGIN {
  printf "daemon CPU per packet: %.0f ns base, %.0f ns with the plugin (+%.0f ns)\n",
         b / nb * 1e9, p / np * 1e9, p / np * 1e9 - b / nb * 1e9 }'
echo "trafgen rates: $(paste -sd, "$dir/rate")"
