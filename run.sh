#!/usr/bin/env bash
# pcapml's main job on the bundled default: installs what is missing, builds,
# labels the bundled sample lab (config/sample/) in both modes, and prints the
# summary of each labeled dataset. Results go to out/.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/deps.sh
# shellcheck disable=SC2086
ensure_packages $BUILD_PACKAGES
build_pcapml -DPCAPML_TESTS=OFF -DPCAPML_BENCH=OFF >/dev/null
[ -x build/pcapml ] || { echo "run.sh: build failed" >&2; exit 1; }
mkdir -p out
pcapml=build/pcapml
sample=config/sample

echo "== directory mode: one sample per file of $sample/dataset/"
$pcapml -D $sample/dataset/ -L $sample/labels.txt -W out/dataset.pcapng --stats
$pcapml summary -M out/dataset.pcapng
echo
echo "== capture mode: rules of $sample/metadata.csv over $sample/trace.pcap"
$pcapml -P $sample/trace.pcap -L $sample/metadata.csv -W out/labeled.pcapng --stats
$pcapml summary -M out/labeled.pcapng
echo
echo "results: out/dataset.pcapng and out/labeled.pcapng"
echo "  (tshark -r out/labeled.pcapng -T fields -e frame.time_epoch -e frame.comment shows the labels)"
