#!/usr/bin/env bash
# A soak of the daemon: a steady stream from trafgen (netsniff-ng) into a
# veth pair whose inside end lives in a network namespace made here
# (198.18.201.0/24, the benchmarking range), with time rotation, a SIGHUP
# every 10 s, a run-time rule added and one ended every 5 s through the
# control socket and a metrics scrape every second. At the end (SIGTERM) it
# checks that written + counted drops == what reached the interface, that
# tshark reads every file and counts what the daemon says it wrote, and that
# the RSS stayed flat (at most 10%, or 4 MiB, above its value after the
# first tenth of the run). Exits 1 if a check fails.
#   bench/soak.sh [SECONDS] [PPS]     defaults: 180, 2000
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/veth.sh
seconds=${1:-180}
pps=${2:-2000}
dir=$(mktemp -d /tmp/pcapml-soak.XXXXXX)
ns=pcapmlsoak$$
out=pmso$$
in=pmsi$$
[ -x build/pcapml ] || { cmake -S . -B build >/dev/null; cmake --build build -j"$(nproc)" >/dev/null; }
pcapml=$PWD/build/pcapml
daemon=

cleanup() {
  [ -n "$daemon" ] && kill -KILL "$daemon" 2>/dev/null || true
  veth_down "$ns" "$out"
  rm -rf "$dir"
}
trap cleanup EXIT
veth_up "$ns" "$out" "$in"

# UDP from 198.18.201.2 to 198.18.201.1 sent to a MAC nobody has: the host
# ignores it, the promiscuous capture sees it. Source ports cycle over 256.
cat > "$dir/frame.trafgen" <<'EOF'
{ 0x02,0,0,0,0,0x99, 0x02,0,0,0,0,0x02, c16(0x0800), 0x45,0, c16(100), c16(0), c16(0), 64, 17,
  csumip(14,33), 198,18,201,2, 198,18,201,1, 0x10, dinc(0,255), c16(5000), c16(80), c16(0), fill(0x41,72) }
EOF
cat > "$dir/rules.csv" <<'EOF'
BPF:udp src portrange 4096-4159,low
BPF:udp src portrange 4160-4223,mid
BPF:udp,other
EOF
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$dir/out"  # the daemon writes into an existing directory
cat > "$dir/d.toml" <<TOML
[[source]]
interface = "$out"
filter = "inbound"
buffer = "16MiB"
[rules]
files = ["rules.csv"]
unmatched = "keep"
[output]
directory = "out"
rotate_seconds = 10
fsync = false
[metrics]
listen = "127.0.0.1:$port"
[control]
socket = "control.sock"
TOML

"$pcapml" daemon --config "$dir/d.toml" 2> "$dir/daemon.log" &
daemon=$!
until grep -q ready "$dir/daemon.log"; do sleep 0.1; kill -0 "$daemon"; done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$daemon/status"; }
ctl() { "$pcapml" ctl --socket "$dir/control.sock" "$@" > /dev/null; }
rx0=$(cat "/sys/class/net/$out/statistics/rx_packets")
ip netns exec "$ns" trafgen -o "$in" -i "$dir/frame.trafgen" -P 1 -q --no-sock-mem -Q -C -b "${pps}pps" \
  -n $((seconds * pps)) > /dev/null 2>&1 &
sender=$!

start=$(date +%s)
base_rss=0 max_rss=0 scrapes=0 scrape_failures=0 hups=0 adds=0 ends=0
for ((t = 1; t <= seconds; t++)); do
  sleep 1
  curl -sf --max-time 2 "http://127.0.0.1:$port/metrics" > /dev/null && scrapes=$((scrapes + 1)) ||
    scrape_failures=$((scrape_failures + 1))
  if ((t % 10 == 0)); then kill -HUP "$daemon"; hups=$((hups + 1)); fi
  if ((t % 5 == 0)); then
    ctl add --id "soak-$t" --label "run$t" --filter "udp src port $((4096 + t % 256))" && adds=$((adds + 1))
    if ((t > 5)); then ctl end "soak-$((t - 5))" && ends=$((ends + 1)); fi
  fi
  r=$(rss)
  ((t == seconds / 10 + 1)) && base_rss=$r
  ((t > seconds / 10 && r > max_rss)) && max_rss=$r
done
wait "$sender"
sleep 0.5
kill -TERM "$daemon"
wait "$daemon"
daemon=
elapsed=$(($(date +%s) - start))
sent=$(($(cat "/sys/class/net/$out/statistics/rx_packets") - rx0))
line=$(grep 'stopped:' "$dir/daemon.log")
num() { sed -E "s/.* ([0-9]+) $1.*/\1/" <<< "$line"; }
written=$(sed -E 's/.*stopped: ([0-9]+) packets written.*/\1/' <<< "$line")
kernel=$(num "dropped by the kernel")
output=$(num "dropped at output")
unread=$(num "left unread")
files=$(ls "$dir/out"/*.pcapng | wc -l)
in_files=0  # read to the end by Wireshark's file reader (capinfos: tshark's, without dissection)
for f in "$dir/out"/*.pcapng; do
  in_files=$((in_files + $(capinfos -c -M "$f" | awk '/Number of packets/ {print $NF}')))
done
logged_fails=$(grep -c 'failed\|error' "$dir/daemon.log" || true)

echo "soak: ${elapsed}s at ${pps} pps; $hups SIGHUPs, $adds ctl adds, $ends ctl ends, $scrapes scrapes ($scrape_failures failed)"
echo "packets: $sent reached the interface, $written written ($in_files read back by capinfos in $files files)," \
  "$kernel kernel drops, $output output drops, $unread unread"
echo "RSS: ${base_rss} KiB after $((seconds / 10 + 1)) s, at most ${max_rss} KiB after that"
ok=1
((written + kernel + output + unread == sent)) || { echo "FAIL: written + drops != packets that reached the interface"; ok=0; }
((in_files == written)) || { echo "FAIL: tshark reads $in_files packets, the daemon wrote $written"; ok=0; }
((scrape_failures == 0)) || { echo "FAIL: $scrape_failures scrapes failed"; ok=0; }
((max_rss <= base_rss + base_rss / 10 || max_rss <= base_rss + 4096)) || { echo "FAIL: RSS grew"; ok=0; }
((logged_fails == 0)) || { echo "FAIL: the daemon logged failures:"; grep 'failed\|error' "$dir/daemon.log"; ok=0; }
((ok)) && echo "soak: ok"
((ok))
