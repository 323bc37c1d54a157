#!/usr/bin/env bash
# suite.sh [FILE...]: the cgroup v2 test suites in the VM, TAP on stdout (what test/vm/vm.test.ts runs).
# Default FILEs: test/vm/guest/*.vm.ts and the v2 tests of test/cgroups (see DEFAULT below).
#
# Before booting, on the host:
# - build/tsrun (one file, its native parts inside) is snapshotted: the VM reads the host's files lazily over 9p,
#   and a rebuild during the run would hand it a half-written binary;
# - each test file is bundled to plain JS with bun (tap and koffi stay external): under TCG, tap's
#   runner and its TypeScript loader cost ~45 s per file, the bundle starts in about a second.
# Both go to build/vm-run-<pid>/ (the bundles directly there: two levels below the repository like
# test/<dir>/<file>, as the test helpers find the repository from their own location), removed
# afterwards.
# Exit status: run-in-vm.sh's (the inner suites' status, 124 timeout, 125 no boot / no result).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
fail() { echo "vm-suite: $*" >&2; exit 125; }
DEFAULT=(test/vm/guest/cgroups-v2.vm.ts test/vm/guest/containers.vm.ts test/vm/guest/checkpoint.vm.ts
  test/cgroups/devices-ebpf-host.test.ts test/cgroups/fake-v2.test.ts)
[ $# -gt 0 ] || set -- "${DEFAULT[@]}"

cd "$repo" || fail "cannot cd to $repo"
for f in build/tsrun; do
  [ -e "$f" ] || fail "$f is missing (make build)"
done
[ -x bundles/busybox/rootfs/bin/busybox ] || fail "bundles/busybox/rootfs is missing (make rootfs)"
[ -x node_modules/.bin/bun ] && [ -d node_modules/tap ] || fail "node_modules is incomplete (make npm-deps)"

run=$repo/build/vm-run-$$
trap 'rm -rf "$run"' EXIT

# A copy is good when nothing under build/ changed while it was taken.
stamp() { find build/tsrun -type f -printf '%p %s %T@\n' | sort | sha256sum; }
for try in 1 2 3 4 5 6 7 8 9 10; do
  rm -rf "$run"
  mkdir -p "$run/tsrun"
  before=$(stamp)
  cp build/tsrun "$run/tsrun/tsrun" || fail "copying build/tsrun failed"
  if [ "$(stamp)" = "$before" ] && "$run/tsrun/tsrun" --version >/dev/null 2>&1; then break; fi
  [ "$try" = 10 ] && fail "build/tsrun keeps changing (a build is running?); no consistent copy"
  sleep 3
done

# One bundle per file, named after its path, directly in $run (see above); a file that does not
# build is reported by the guest.
for f in "$@"; do
  name=${f//\//__}
  name=${name%.ts}
  if [ ! -f "$f" ]; then
    echo "$f: no such file" >"$run/$name.error"
  elif ! out=$(node_modules/.bin/bun build --target=node --format=esm --sourcemap=inline --external tap --external koffi \
      --outdir "$run/$name.d" "$f" 2>&1); then
    echo "bun build $f: $out" >"$run/$name.error"
  else
    mv "$run/$name.d/$(basename "${f%.ts}").js" "$run/$name.js" && rmdir "$run/$name.d" 2>/dev/null ||
      echo "bun build $f: unexpected output: $(ls -R "$run/$name.d")" >"$run/$name.error"
  fi
done

"$here/run-in-vm.sh" bash "$here/guest/run.sh" --tsrun "$run/tsrun" --js "$run" "$@"
