#!/usr/bin/env bash
# What holding costs `pcapml label` with tls_sni on every TCP packet to port
# 443, against a build without it (BEFORE, e.g. a build of an older commit):
#   base     one catch-all rule, no plugins
#   busy     tls_sni on every TCP packet to port 443, then the catch-all
#            (the generated traffic has no handshakes: nothing is held, so
#            this is the plugin and the delay line's idle cost)
#   held     the same rules over the same traffic with every 1000th TCP
#            packet a SYN that never goes on (after only): a hold is always
#            open, so every packet is copied through the delay line and the
#            64 MiB limit releases the oldest hold again and again
# Compared by CPU time (perf stat task-clock, min and median of RUNS),
# runs interleaved.
#   bench/hold_bench.sh [SIZE] [RUNS]     defaults: 512MiB, 11
#   BUILD=build-dir (default build), BEFORE=build-dir of the build to compare with (optional)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-512MiB}
runs=${2:-11}
build=${BUILD:-build}
before=${BEFORE:-}
dir=$(mktemp -d /tmp/pcapml-hold-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$build/bench/make_capture" "$dir/in.pcap" "$size" 65536 2>/dev/null
"$build/bench/make_capture" "$dir/syn.pcap" "$size" 65536 1000 2>/dev/null

rules() {  # rules() BUILD-DIR NAME: the base and busy rules files for that build's plugin
  printf '[[rule]]\nid = "traffic"\nlabel = "traffic"\nfilter = "ip or ip6"\n' > "$dir/$2-base.toml"
  { printf '[[rule]]\nid = "sni"\nplugin = "tls_sni"\nfilter = "tcp dst port 443"\n'; cat "$dir/$2-base.toml"
    printf '[[plugin]]\nname = "tls_sni"\npath = "%s/plugins/tls_sni.so"\n' "$(realpath "$1")"; } > "$dir/$2-busy.toml"
}
rules "$build" after
variants="after:base:in after:busy:in after:busy:syn"
if [ -n "$before" ]; then
  rules "$before" before
  variants="before:base:in before:busy:in $variants"
fi
packets=$("$build/pcapml" summary -M "$dir/in.pcap" --csv | tail -1 | cut -d, -f3)
echo "input: $size, $packets packets; $runs interleaved runs each, written to a file beside the input"
for ((i = 0; i < runs; i++)); do
  for v in $variants; do
    IFS=: read -r which rule input <<< "$v"
    bin=$build/pcapml
    [ "$which" = before ] && bin=$before/pcapml
    perf stat -x, -e task-clock "$bin" label -P "$dir/$input.pcap" -L "$dir/$which-$rule.toml" \
      -W "$dir/out.pcapng" 2>&1 | awk -F, -v v="$v" '/task-clock/ { print v, $1 }' >> "$dir/runs.txt"
  done
done
"$build/pcapml" label -P "$dir/syn.pcap" -L "$dir/after-busy.toml" -W "$dir/out.pcapng" --stats 2>&1 |
  grep -E "held|plugin" || true
printf '%-48s %8s %9s %9s %9s\n' build:rules:input min-ms median-ms vs-base ns/packet
median() { sort -k2 -n "$dir/runs.txt" | awk -v v="$1" '$1 == v { a[++k] = $2 } END { print a[int((k + 1) / 2)] }'; }
for v in $variants; do
  base=${v%%:*}:base:in
  sort -k2 -n "$dir/runs.txt" | awk -v v="$v" -v p="$packets" -v base="$(median "$base")" '
    $1 == v { a[++k] = $2 }
    END { m = a[int((k + 1) / 2)]
          printf "%-48s %8.1f %9.1f %+8.1f%% %9.1f\n", v, a[1], m, (m / base - 1) * 100, m * 1e6 / p }'
done
echo "vs-base: median against the same build's catch-all only run"
