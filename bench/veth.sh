# Sourced by the live benchmarks: a veth pair made for one run, its inside
# end in a network namespace of its own, removed again on exit.
#   veth_up NS OUT IN [NET]   NET (e.g. 198.18.200) gives OUT NET.1/24 and IN NET.2/24;
#                             without it OUT has no IPv6 either (nothing the host sends)
#   veth_down NS OUT
#   capture_config FILE OUT RULES [TOP]   a daemon config capturing OUT (64 MiB buffer)
#                             into FILE's folder/out/ with rules files RULES ('"a.csv", "b.toml"'),
#                             TOP before it ([[plugin]] tables); unmatched kept, no metrics
veth_up() {
  local ns=$1 out=$2 in=$3 net=${4:-}
  ip netns add "$ns"
  ip link add "$out" type veth peer name "$in"
  ip link set "$in" netns "$ns"
  if [ -n "$net" ]; then
    ip addr add "$net.1/24" dev "$out"
  else
    sysctl -qw "net.ipv6.conf.$out.disable_ipv6=1"
  fi
  ip link set "$out" up
  [ -z "$net" ] || ip netns exec "$ns" ip addr add "$net.2/24" dev "$in"
  ip netns exec "$ns" ip link set "$in" up
}

veth_down() {
  ip link del "$2" 2>/dev/null || true
  ip netns del "$1" 2>/dev/null || true
}

capture_config() {
  cat > "$1" <<TOML
${4:-}
[[source]]
interface = "$2"
buffer = "64MiB"
[rules]
files = [$3]
unmatched = "keep"
[output]
directory = "out"
fsync = false
[metrics]
listen = ""
TOML
}
