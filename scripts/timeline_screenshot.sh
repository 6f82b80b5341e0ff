#!/usr/bin/env bash
# Draws the bundled sample lab's labels over time (the `pcapml summary
# --timeline` SVG of config/sample/trace.pcap labeled with
# config/sample/metadata.csv, as ./run.sh writes it) and takes a headless
# Chromium screenshot of it as a browser shows it: docs/images/timeline.png,
# the picture in the README. Installs chromium (Debian) when it is missing;
# a documentation artifact only, no test needs it.
#   scripts/timeline_screenshot.sh [OUT.png]     (default docs/images/timeline.png)
# PCAPML_BIN names the binary (default build/pcapml, built when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
out=${1:-docs/images/timeline.png}
pcapml=${PCAPML_BIN:-$PWD/build/pcapml}
if [ ! -x "$pcapml" ]; then
  # shellcheck disable=SC2086
  ensure_packages $BUILD_PACKAGES
  build_pcapml -DPCAPML_TESTS=OFF -DPCAPML_BENCH=OFF >/dev/null
fi
ensure_packages chromium fonts-dejavu-core
browser=$(command -v chromium || command -v chromium-browser)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$pcapml" -P config/sample/trace.pcap -L config/sample/metadata.csv -W "$work/lab.pcapng"
"$pcapml" summary -M "$work/lab.pcapng" --timeline "$work/timeline.svg" -L config/sample/metadata.csv >/dev/null
if ! cmp -s "$work/timeline.svg" config/sample/timeline.svg; then
  echo "timeline_screenshot.sh: note: config/sample/timeline.svg differs from the timeline drawn now" >&2
fi

# The page is the SVG at its own size, without margins: the screenshot is the picture.
read -r width height < <(sed -n 's/.*<svg [^>]*width="\([0-9]*\)" height="\([0-9]*\)".*/\1 \2/p' "$work/timeline.svg" | head -1)
if [ -z "${width:-}" ] || [ -z "${height:-}" ]; then
  echo "timeline_screenshot.sh: no width/height in the SVG" >&2
  exit 1
fi
cat >"$work/page.html" <<EOF
<!DOCTYPE html>
<html><head><meta charset="utf-8"><style>html,body{margin:0;padding:0;overflow:hidden;background:white}
img{display:block}</style></head>
<body><img src="timeline.svg" width="$width" height="$height" alt="timeline"></body></html>
EOF
# No network, no profile left behind, nothing from the browser's own services.
"$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --force-device-scale-factor=1 \
  --user-data-dir="$work/profile" --window-size="$width,$height" --screenshot="$work/timeline.png" \
  "file://$work/page.html" >"$work/browser.log" 2>&1 || {
  cat "$work/browser.log" >&2
  exit 1
}
[ -s "$work/timeline.png" ] || { cat "$work/browser.log" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
cp "$work/timeline.png" "$out"
echo "wrote $out (${width}x${height}, $(stat -c %s "$out") bytes)"
