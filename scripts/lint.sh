#!/usr/bin/env bash
# The checks CI makes besides the tests (.ci/run):
#   scripts/lint.sh format   every C++ file is as clang-format (.clang-format) writes it
#   scripts/lint.sh tidy [REV]  clang-tidy (.clang-tidy) finds nothing in the library and
#                            command sources changed since REV (default: the last commit's
#                            parent; "all" for every file). Needs build/compile_commands.json.
#   scripts/lint.sh fix      reformats every C++ file in place
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cc' '*.h' 2>/dev/null || find . -name '*.cc' -o -name '*.h')
case "${1:-}" in
  format)
    clang-format --dry-run --Werror "${files[@]}"
    echo "format: ${#files[@]} files as clang-format writes them"
    ;;
  fix)
    clang-format -i "${files[@]}"
    ;;
  tidy)
    [ -f build/compile_commands.json ] || { echo "tidy: build first (./test.sh)" >&2; exit 1; }
    # Library and command sources; tests, fuzz targets and benchmarks are left out.
    since=${2:-HEAD^}
    if [ "$since" != all ] && git rev-parse -q --verify "$since" >/dev/null 2>&1; then
      mapfile -t files < <(git diff --name-only --diff-filter=AM "$since" -- '*.cc')
    fi
    mapfile -t sources < <(printf '%s\n' "${files[@]}" |
      grep -E '^(base|net|pcapio|rules|plugin_host|classify|daemon|cli|plugins/[a-z_]+)/[a-z_]+\.cc$' |
      grep -v '_test\.cc$')
    if [ ${#sources[@]} -gt 0 ] && [ -n "${sources[0]}" ]; then
      printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p build --quiet 2>/dev/null
    fi
    echo "tidy: ${#sources[@]} files, no findings"
    ;;
  *)
    echo "usage: scripts/lint.sh format|tidy|fix" >&2
    exit 2
    ;;
esac
