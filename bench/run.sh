#!/usr/bin/env bash
# `make bench`: tsrun against runc and crun (Debian packages), same run, runtimes alternating.
#   bench/run.sh            full run (~3 min), writes bench/RESULTS.md
#   bench/run.sh --quick    smoke run (~1 min), writes build/bench/RESULTS-quick.md
#   bench/run.sh --only=run,commands,parallel,density,burst,engines,memlimit --runtimes=tsrun,runc
# Needs root, build/tsrun (make build) and bundles/busybox/rootfs (make rootfs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

missing=""
for p in runc crun gcc libc6-dev; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "bench: installing:$missing"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >/dev/null
fi
[ -x build/tsrun ] || { echo "bench: build/tsrun missing (make build)" >&2; exit 1; }
[ -x build/bench/bun-floor ] || make -s build/bench/bun-floor
[ -x bundles/busybox/rootfs/bin/busybox ] || { echo "bench: bundles/busybox/rootfs missing (make rootfs)" >&2; exit 1; }

mkdir -p build/bench
for tool in bench-exec:exec.c rt-timer:rt-timer.c; do
  bin=build/bench/${tool%%:*} src=bench/${tool#*:}
  if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
    gcc -static -O2 -Wall -Wextra -Werror -o "$bin" "$src"
    strip "$bin"
  fi
done

BUN=node_modules/.bin/bun
[ -x "$BUN" ] || { echo "bench: $BUN missing (make npm-deps)" >&2; exit 1; }
exec "$BUN" bench/main.ts "$@"
