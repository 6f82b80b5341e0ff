#!/usr/bin/env bash
# Installs what is missing, builds pcapml and its tests into build/, and runs
# every test with CTest. The exit status is CTest's.
set -euo pipefail
cd "$(dirname "$0")"
. scripts/deps.sh
# shellcheck disable=SC2086
ensure_packages $BUILD_PACKAGES $TEST_PACKAGES
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPCAPML_TESTS=ON >/dev/null
build_pcapml
cd build
exec ctest --output-on-failure -j"$(nproc)" "$@"
