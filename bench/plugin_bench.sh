#!/usr/bin/env bash
# What loaded plugins cost `pcapml label` when their rules' filters match
# nothing. One capture, several rules files, runs interleaved:
#   none       one catch-all rule, no plugins (the worst case: it needs no
#              rule index, so the plugin rules' filters bring its cost)
#   idle       the three shipped plugins' rules first (filters matching none
#              of the generated traffic), then the catch-all
#   filters    the same three filters as ordinary rules, no plugins: what the
#              filters cost by themselves, so idle - filters is the plugin hook
#   typical    13 host and port rules and the catch-all, no plugins
#   typ+idle   the three idle plugin rules in front of those
#   busy       tls_sni given every TCP packet to port 443, for scale
# Compared by CPU time (perf stat task-clock, min and median of RUNS): on a
# shared machine wall time mostly measures the neighbours.
#   bench/plugin_bench.sh [SIZE] [RUNS]     defaults: 512MiB, 11
#   BUILD=build-dir (default build) picks the build to measure.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-512MiB}
runs=${2:-11}
build=${BUILD:-build}
dir=$(mktemp -d /tmp/pcapml-plugin-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
[ -x "$build/bench/make_capture" ] || { cmake -S . -B "$build" >/dev/null; cmake --build "$build" -j"$(nproc)" >/dev/null; }
pcapml=$(cd "$build" && pwd)/pcapml
plugins=$(cd "$build" && pwd)/plugins
"$build/bench/make_capture" "$dir/in.pcap" "$size" 65536 2>/dev/null

# The generator sends 198.18.0.0/15 and 2001:db8::/32 to ports 80, 443, 53,
# 22, 8080, 123, 5353 and 9000: these filters match none of it.
rule() { printf '[[rule]]\nid = "%s"\n%s = "%s"\nfilter = "%s"\n' "$1" "$2" "$3" "$4"; }
plugin() { printf '[[plugin]]\nname = "%s"\npath = "%s/%s.so"\n' "$1" "$plugins" "$1"; }
rule traffic label traffic "ip or ip6" > "$dir/none.toml"
{ rule sni plugin tls_sni "tcp port 8443"; rule names plugin dns "udp port 5300"
  rule position plugin flow_position "host 192.0.2.1"; cat "$dir/none.toml"
  plugin tls_sni; plugin dns; plugin flow_position; } > "$dir/idle.toml"
{ rule sni label sni "tcp port 8443"; rule names label names "udp port 5300"
  rule position label position "host 192.0.2.1"; cat "$dir/none.toml"; } > "$dir/filters.toml"
{ rule sni plugin tls_sni "tcp dst port 443"; cat "$dir/none.toml"; plugin tls_sni; } > "$dir/busy.toml"

{ for i in $(seq 0 9); do rule "h$i" label "host$i" "host 198.18.$((i * 7)).$((i * 13 + 1))"; done
  for p in 22 123 9000; do rule "p$p" label "port$p" "udp port $p"; done; cat "$dir/none.toml"; } > "$dir/typical.toml"
{ rule sni plugin tls_sni "tcp port 8443"; rule names plugin dns "udp port 5300"
  rule position plugin flow_position "host 192.0.2.1"; cat "$dir/typical.toml"
  plugin tls_sni; plugin dns; plugin flow_position; } > "$dir/typ+idle.toml"
bytes=$(stat -c %s "$dir/in.pcap")
packets=$("$pcapml" summary -M "$dir/in.pcap" --csv | tail -1 | cut -d, -f3)
echo "input: $size, $bytes bytes, $packets packets; $runs interleaved runs each, written to a file beside the input"
variants="none idle filters typical typ+idle busy"
for ((i = 0; i < runs; i++)); do
  for v in $variants; do
    perf stat -x, -e task-clock "$pcapml" label -P "$dir/in.pcap" -L "$dir/$v.toml" -W "$dir/out.pcapng" 2>&1 |
      awk -F, -v v="$v" '/task-clock/ { print v, $1 }' >> "$dir/runs.txt"
  done
done
printf '%-50s %8s %9s %9s %9s\n' rules min-ms median-ms vs-base ns/packet
median() { sort -k2 -n "$dir/runs.txt" | awk -v v="$1" '$1 == v { a[++k] = $2 } END { print a[int((k + 1) / 2)] }'; }
for v in $variants; do
  case $v in
    none) name="catch-all only (no plugins)"; base=none ;;
    idle) name="3 plugin rules, filters match nothing; catch-all"; base=none ;;
    filters) name="the same 3 filters as ordinary rules; catch-all"; base=none ;;
    typical) name="13 host/port rules + catch-all (no plugins)"; base=typical ;;
    typ+idle) name="3 idle plugin rules; 13 rules + catch-all"; base=typical ;;
    busy) name="tls_sni on every TCP packet to port 443"; base=none ;;
  esac
  sort -k2 -n "$dir/runs.txt" | awk -v v="$v" -v n="$name" -v p="$packets" -v base="$(median $base)" '
    $1 == v { a[++k] = $2 }
    END { m = a[int((k + 1) / 2)]
          printf "%-50s %8.1f %9.1f %+8.1f%% %9.1f\n", n, a[1], m, (m / base - 1) * 100, m * 1e6 / p }'
done
echo "vs-base: median against 'catch-all only', or against '13 host/port rules' for the typ+idle row"
