#!/usr/bin/env bash
# Installs what is missing, builds pcapml and its tests into build/, and runs
# every test with CTest. The exit status is CTest's.
#   ./test.sh [CTEST_ARGS...]             e.g. ./test.sh -R e2e.test_daemon
#   ./test.sh --sanitize [CTEST_ARGS...]  the same suite built with ASan and
#                                         UBSan, in build-asan/ (slower)
set -euo pipefail
cd "$(dirname "$0")"
. scripts/deps.sh
# shellcheck disable=SC2086
ensure_packages $BUILD_PACKAGES $TEST_PACKAGES
build=build
options=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPCAPML_TESTS=ON)
if [ "${1:-}" = "--sanitize" ]; then
  shift
  build=build-asan
  options+=(-DPCAPML_SANITIZE=ON -DPCAPML_BENCH=OFF)
fi
cmake -S . -B "$build" "${options[@]}" >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
exec ctest --output-on-failure -j"$(nproc)" "$@"
