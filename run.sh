#!/usr/bin/env bash
# pcapml's main job on the bundled default: installs what is missing, builds,
# then runs the daemon on the sample lab (config/sample/daemon.toml): it
# replays config/sample/trace.pcap at its recorded pace, labels every packet
# with config/sample/metadata.csv and writes rotating labeled pcapng files to
# out/daemon/. While it runs, the metrics are scraped once; at the end the
# summary of what was written is printed and its labels over time drawn in
# out/timeline.svg. Finishes by itself (~3 s).
set -euo pipefail
cd "$(dirname "$0")"
. scripts/deps.sh
# shellcheck disable=SC2086
ensure_packages $BUILD_PACKAGES
build_pcapml -DPCAPML_TESTS=OFF -DPCAPML_BENCH=OFF >/dev/null
[ -x build/pcapml ] || { echo "run.sh: build failed" >&2; exit 1; }
pcapml=$PWD/build/pcapml
config=config/sample/daemon.toml
rm -rf out/daemon && mkdir -p out/daemon

# The config's metrics port, or the next free one if something else holds it.
port=9431
while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && [ $port -lt 9530 ]; do port=$((port + 1)); done
echo "== pcapml daemon --config $config --metrics-listen 127.0.0.1:$port"
$pcapml daemon --config $config --metrics-listen 127.0.0.1:$port &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT
sleep 1
echo "== metrics while it runs: http://127.0.0.1:$port/metrics"
if exec 3<>/dev/tcp/127.0.0.1/$port; then
  printf 'GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
  grep -E '^pcapml_(packets|files|rules)' <&3 || true
  exec 3<&-
fi
wait $daemon
trap - EXIT
echo
echo "== completed files"
ls -l out/daemon
echo
echo "== pcapml summary of what the daemon wrote (labels over time: out/timeline.svg)"
$pcapml summary -M out/daemon/*.pcapng --timeline out/timeline.svg -L config/sample/metadata.csv
echo
echo "results: out/daemon/ (tshark -r FILE -T fields -e frame.time_epoch -e frame.comment shows the labels)"
