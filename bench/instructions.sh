#!/usr/bin/env bash
# Instructions executed by each offline command (valgrind's callgrind), for
# two builds side by side on the same input: a comparison the machine's load
# does not move, for "did this change make anything slower?".
#   bench/instructions.sh BUILD_A BUILD_B [SIZE] [DIR]   defaults: 16MiB, /tmp/pcapml-instructions
# e.g. build an older commit into /tmp/old/build, then
#   bench/instructions.sh /tmp/old/build build
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n '2,7p' "$0" >&2; exit 2; }
a=$1 b=$2 size=${3:-16MiB} dir=${4:-/tmp/pcapml-instructions}
for d in "$a" "$b"; do [ -x "$d/pcapml" ] || { echo "instructions.sh: $d/pcapml: no such program" >&2; exit 2; }; done
command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind (apt-get install valgrind)" >&2; exit 2; }
mkdir -p "$dir"
in=$dir/in.pcap
gen=$b/bench/make_capture
[ -x "$gen" ] || gen=$a/bench/make_capture
[ -f "$in" ] || "$gen" "$in" "$size" 65536
bench/make_rules.sh > "$dir/rules-10000.toml"
printf '[[rule]]\nid = "all"\nlabel = "traffic"\nfilter = "ip or ip6"\n' > "$dir/rules-1.toml"
rm -f "$dir/labeled.pcapng"
"$b/pcapml" -P "$in" -L "$dir/rules-1.toml" -W "$dir/labeled.pcapng"  # one labeled input for both builds
echo "input: $in, $(stat -c %s "$in") bytes; instructions counted by valgrind --tool=callgrind"

count() {  # binary, args...: instructions executed, outputs removed before
  local bin=$1; shift
  rm -rf "$dir/out.pcapng" "$dir/split" "$dir/sorted.pcapng"
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$@" 2>&1 >/dev/null |
    awk '/Collected/ { print $NF }'
}
printf '%-52s %15s %15s %7s\n' command A B B/A
row() {  # name, args...
  local name=$1; shift
  local x y
  x=$(count "$a/pcapml" "$@")
  y=$(count "$b/pcapml" "$@")
  awk -v n="$name" -v x="$x" -v y="$y" 'BEGIN { printf "%-52s %15.0f %15.0f %7.3f\n", n, x, y, y / x }'
}
row "summary -M in.pcap" summary -M "$in"
row "-P in.pcap -L rules-1.toml -W out.pcapng" -P "$in" -L "$dir/rules-1.toml" -W "$dir/out.pcapng"
row "-P in.pcap -L rules-10000.toml -W out.pcapng" -P "$in" -L "$dir/rules-10000.toml" -W "$dir/out.pcapng"
row "summary -M labeled.pcapng" summary -M "$dir/labeled.pcapng"
row "-M labeled.pcapng -O split/" -M "$dir/labeled.pcapng" -O "$dir/split/"
row "-M labeled.pcapng -s -W sorted.pcapng" -M "$dir/labeled.pcapng" -s -W "$dir/sorted.pcapng"
