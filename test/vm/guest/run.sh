#!/usr/bin/env bash
# Runs inside the test VM: run-in-vm.sh bash test/vm/guest/run.sh --tsrun DIR --js DIR FILE...
# (suite.sh prepares both DIRs). Each FILE's bundle (--js DIR/<path with / as __>.js) runs under node
# and its TAP is nested the way tap's runner does it (`# Subtest: FILE`, indented, then `ok N - FILE`),
# so the host reads one stream. The runtime under test is --tsrun DIR/tsrun (one file). Exit
# status: 0 when every file passed.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."

tsrun=build/tsrun
js=
while [ $# -gt 0 ]; do
  case "$1" in
    --tsrun) tsrun=$2/tsrun; export RUNTIME=$tsrun; shift 2 ;;
    --js) js=$2; shift 2 ;;
    *) break ;;
  esac
done
PER_FILE_TIMEOUT=${PER_FILE_TIMEOUT:-300}

echo "TAP version 14"
if ! out=$("$tsrun" --version 2>&1); then
  echo "Bail out! $tsrun does not run in the VM: $(echo "$out" | tr '\n' ' ')"
  exit 1
fi
if [ ! -x bundles/busybox/rootfs/bin/busybox ]; then
  echo "Bail out! bundles/busybox/rootfs is missing (make rootfs)"
  exit 1
fi
echo "# vm: $(uname -r), $(nproc) CPUs, cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
echo "# vm: $tsrun: $(echo "$out" | head -2 | tr '\n' ' ')"

yaml_block() { # key, text: a YAML literal block at indent 2
  printf '  %s: |\n' "$1"
  sed 's/^/    /'
}

n=0
failed=0
errfile=$(mktemp)
for f in "$@"; do
  n=$((n + 1))
  name=${f//\//__}
  name=${name%.ts}
  echo "# Subtest: $f"
  if [ -f "$js/$name.error" ]; then
    echo "not ok $n - $f"
    echo "  ---"
    yaml_block error <"$js/$name.error"
    echo "  ..."
    failed=$((failed + 1))
    continue
  fi
  start=$(date +%s%N)
  # tap's own per-test timeout defaults to 30 s when not run by its runner.
  TAP_TIMEOUT=$PER_FILE_TIMEOUT timeout -k 10 "$PER_FILE_TIMEOUT" node --enable-source-maps "$js/$name.js" \
    </dev/null 2>"$errfile" | sed -e '/^TAP version /d' -e 's/^/    /'
  status=${PIPESTATUS[0]}
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  if [ "$status" = 0 ]; then
    echo "ok $n - $f # time=${ms}ms"
  else
    failed=$((failed + 1))
    echo "not ok $n - $f # time=${ms}ms"
    echo "  ---"
    if [ "$status" = 124 ] || [ "$status" = 137 ]; then
      echo "  timeout: $PER_FILE_TIMEOUT"
    fi
    echo "  exitCode: $status"
    [ -s "$errfile" ] && tail -n 40 "$errfile" | yaml_block stderr
    echo "  ..."
  fi
done
rm -f "$errfile"
echo "1..$n"
echo "# vm: $((n - failed)) of $n files passed"
[ "$failed" = 0 ]
