#!/usr/bin/env bash
# Run the OCI runtime-spec conformance suite against a runc-compatible runtime.
#
#   RUNTIME=build/tsrun bash conformance/run.sh            (the default runtime)
#   RUNTIME=runc bash conformance/run.sh
#   RUNTIME=conformance/runtimes/crun-hybrid.sh bash conformance/run.sh
#   bash conformance/run.sh --filter 'hooks'               (tests whose "section: name" matches)
#   bash conformance/run.sh --json results.json            (machine-readable results too)
#   bash conformance/run.sh --catalogue                    (the statements and their tests, Markdown)
#
# Prints TAP, a summary per section and the statement coverage; exits non-zero
# when any test fails. Needs root, gcc (static glibc), busybox-static, node 20.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"

if [ ! -d node_modules/@tapjs/typescript ]; then
  echo "conformance: node_modules missing; run 'make npm-deps' (npm install) first" >&2
  exit 1
fi
export TS_NODE_TRANSPILE_ONLY=1
node_run=(node --import @tapjs/typescript/import "$here/main.ts")

if [ "${1:-}" = "--catalogue" ]; then
  exec "${node_run[@]}" --catalogue
fi

if [ "$(id -u)" != 0 ]; then
  echo "conformance: must run as root (it creates real containers)" >&2
  exit 1
fi

runtime=${RUNTIME:-build/tsrun}
# A runtime given as a path is made absolute; a bare name is looked up in PATH.
case "$runtime" in
  */*) runtime=$(cd "$(dirname "$runtime")" && pwd)/$(basename "$runtime") ;;
esac
first=${runtime%% *}
if ! command -v "$first" >/dev/null 2>&1 && [ ! -x "$first" ]; then
  echo "conformance: runtime '$runtime' not found (set RUNTIME=...)" >&2
  exit 1
fi

work=$(mktemp -d /tmp/tsrun-conformance.XXXXXX)
chmod 0755 "$work"   # user-namespaced containers (host uid 100000...) must reach the rootfs
cleanup() {
  # unmount anything a test left under the work dir, deepest first, then remove it
  awk -v w="$work" '$5 ~ "^"w {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$work" 2>/dev/null || true
}
trap cleanup EXIT

mkdir -p "$work/tools"
gcc -static -O2 -o "$work/tools/probe" "$here/probe/probe.c"
gcc -O2 -o "$work/tools/fdrecv" "$here/probe/fdrecv.c"

# The rootfs: the project's busybox recipe when present, else a minimal one.
if [ -f "$repo/bundles/make-rootfs.sh" ]; then
  bash "$repo/bundles/make-rootfs.sh" "$work/rootfs"
else
  busybox=${BUSYBOX:-/bin/busybox}
  mkdir -p "$work/rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root}
  cp "$busybox" "$work/rootfs/bin/busybox"
  "$work/rootfs/bin/busybox" --install -s "$work/rootfs/bin" 2>/dev/null || true
  for a in $("$busybox" --list); do [ -e "$work/rootfs/bin/$a" ] || ln -s busybox "$work/rootfs/bin/$a"; done
  chmod 1777 "$work/rootfs/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$work/rootfs/etc/passwd"
  printf 'root:x:0:\n' > "$work/rootfs/etc/group"
fi
install -m 0755 "$work/tools/probe" "$work/rootfs/bin/probe"

set +e
"${node_run[@]}" --runtime "$runtime" --work "$work" --rootfs "$work/rootfs" --tools "$work/tools" "$@"
rc=$?
set -e
exit $rc
