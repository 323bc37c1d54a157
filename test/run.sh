#!/usr/bin/env bash
# Runs the test files (every test/**/*.test.ts, or those under the paths given)
# with tap, then prints the failures and, as the last line,
# `N passed, N failed[, N skipped]` (test points: see test/helpers/tap-count.mjs).
# Exits non-zero when anything failed or when no test passed.
#   test/run.sh                  # everything
#   test/run.sh test/cli         # a subset (directories or files)
# Environment: TEST_JOBS (test files run at once, default 1: the integration
# tests' leak checks look at the whole host), TEST_TIMEOUT (seconds per file,
# default from package.json), RUNTIME (the runtime under test, default build/tsrun).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

[ $# -gt 0 ] || set -- test
files=()
for p in "$@"; do
  if [ -d "$p" ]; then
    while IFS= read -r f; do files+=("$(realpath --relative-to=. "$f")"); done \
      < <(find "$p" -name node_modules -prune -o -type f -name '*.test.ts' -print | sort)
  elif [ -f "$p" ]; then
    files+=("$(realpath --relative-to=. "$p")")
  else
    echo "test/run.sh: $p: no such file or directory" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
done
if [ ${#files[@]} -eq 0 ]; then
  echo "test/run.sh: no *.test.ts files under: $*" >&2
  echo "0 passed, 0 failed"
  exit 1
fi
if [ ! -x node_modules/.bin/tap ]; then
  echo "test/run.sh: node_modules/.bin/tap missing (run: make npm-deps)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

raw=$(mktemp "${TMPDIR:-/tmp}/tsrun-tap.XXXXXX")
trap 'rm -f "$raw"' EXIT
opts=(--reporter=tap --jobs="${TEST_JOBS:-1}")
[ -n "${TEST_TIMEOUT:-}" ] && opts+=(--timeout="$TEST_TIMEOUT")
echo "test/run.sh: ${#files[@]} test file(s)"
node_modules/.bin/tap "${opts[@]}" "${files[@]}" </dev/null | tee "$raw"
tap_status=${PIPESTATUS[0]}
node test/helpers/tap-count.mjs --tap-status="$tap_status" "${files[@]}" <"$raw"
