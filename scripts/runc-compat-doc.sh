#!/usr/bin/env bash
# usage: runc-compat-doc.sh RESULT_DIR DOC: writes DOC from the table that test/runc-compat made in RESULT_DIR.
set -euo pipefail
dir=$1 doc=$2
[ -f "$dir/table.md" ] || { echo "runc-compat-doc.sh: no $dir/table.md (the suite did not run)" >&2; exit 1; }
commit=$(git describe --always --dirty 2>/dev/null || echo unknown)
{
  echo "# runc's integration suite: tsrun against runc"
  echo
  echo "runc's own bats integration tests (v1.1.15, \`../shared/runc-integration\`), run by \`make runc-compat\`"
  echo "(and by \`make test\`: test/runc-compat/) against \`build/tsrun\` and Debian's runc 1.1.5 in the same run,"
  echo "on $(uname -r), $(nproc) cores, $( [ -f /sys/fs/cgroup/cgroup.controllers ] && echo 'cgroup v2' || echo 'hybrid cgroups'), commit \`$commit\`, $(date -u +%F)."
  echo "The expected outcome of every test that tsrun may fail, and why, is in"
  echo "[test/runc-compat/expected.tsv](../test/runc-compat/expected.tsv); a test not listed there must pass."
  echo
  cat "$dir/table.md"
} >"$doc.tmp"
mv "$doc.tmp" "$doc"
echo "runc-compat-doc.sh: wrote $doc"
