#!/usr/bin/env bash
# Prepares the container-engine tests (test/engines/*.test.ts call this first):
#   1. installs the engines from Debian's packages when missing (quiet, idempotent):
#      podman (always: it also builds the image archives), containerd, docker.io;
#   2. builds the busybox image once per rootfs: bundles/busybox/rootfs -> a tar ->
#      `podman import` into the tests' own podman storage, then
#      `podman save --format oci-archive` (for `ctr images import`) and
#      `podman save --format docker-archive` (for `docker load`).
# Nothing of the host's engine configuration is touched: podman runs with its own
# --root/--runroot and CONTAINERS_CONF; daemons are never started by package
# installation (a temporary policy-rc.d is put in place when the host has none).
#
#   test/engines/setup.sh [podman] [containerd] [docker]     (default: all three)
# Prints, as its last line, the work dir (TSRUN_ENGINES_DIR, default
# /var/tmp/tsrun-engines) holding image/oci.tar, image/docker.tar, image/NAME.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
work=${TSRUN_ENGINES_DIR:-/var/tmp/tsrun-engines}
[ $# -gt 0 ] || set -- podman containerd docker

say() { echo "engines/setup: $*" >&2; }

# One setup at a time (two test runs may start together).
mkdir -p "$work"
exec 9>"$work/.lock"
flock 9

# --- 1. packages -------------------------------------------------------------
pkgs=(podman)
for e in "$@"; do
  case "$e" in
    podman) ;;
    containerd) pkgs+=(containerd) ;;
    docker) pkgs+=(docker.io) ;;
    *) say "unknown engine $e (podman, containerd, docker)"; exit 2 ;;
  esac
done
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (Debian packages)"
  made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    # Package scripts must not start the host's dockerd/containerd: the tests start their own.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  restore() { if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi; }
  trap restore EXIT
  need_update=0
  for p in "${missing[@]}"; do
    cand=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ {print $2}')
    if [ -z "$cand" ] || [ "$cand" = "(none)" ]; then need_update=1; fi
  done
  if [ "$need_update" = 1 ]; then apt-get update -qq >/dev/null; fi
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$work/apt.log" 2>&1; then
    apt-get update -qq >/dev/null
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$work/apt.log" 2>&1; then
      say "apt-get install ${missing[*]} failed:"; tail -n 20 "$work/apt.log" >&2; exit 1
    fi
  fi
  rm -f "$work/apt.log"
  restore
  trap - EXIT
fi

# --- 2. the image --------------------------------------------------------------
bash "$repo/bundles/make-rootfs.sh" "$repo/bundles/busybox/rootfs"
rootfs="$repo/bundles/busybox/rootfs"
stamp=$(cat "$rootfs/.tsrun-rootfs")
image=localhost/tsrun-busybox:latest
mkdir -p "$work/image" "$work/podman"

# The podman storage and containers.conf the podman tests use too (podman.test.ts
# regenerates containers.conf; this minimal one is enough to import and save).
conf="$work/podman/setup-containers.conf"
cat > "$conf" <<'CONF'
[containers]
default_ulimits = []
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
pm() {
  CONTAINERS_CONF="$conf" podman --root "$work/podman/root" --runroot "$work/podman/runroot" \
    --storage-driver overlay --tmpdir "$work/podman/tmp" "$@"
}

if [ "$(cat "$work/image/STAMP" 2>/dev/null)" != "$stamp" ] || [ ! -s "$work/image/oci.tar" ] \
   || [ ! -s "$work/image/docker.tar" ] || ! pm image exists "$image" 2>/dev/null; then
  say "building $image from $rootfs"
  rm -f "$work/image/STAMP"
  tar --numeric-owner --sort=name --exclude=./.tsrun-rootfs -C "$rootfs" -cf "$work/image/rootfs.tar" .
  pm rmi -f "$image" >/dev/null 2>&1 || true
  pm import -q --change 'CMD ["/bin/sh"]' "$work/image/rootfs.tar" "$image" >/dev/null
  rm -f "$work/image/oci.tar" "$work/image/docker.tar"
  pm save -q --format oci-archive -o "$work/image/oci.tar" "$image" >/dev/null
  pm save -q --format docker-archive -o "$work/image/docker.tar" "$image" >/dev/null
  rm -f "$work/image/rootfs.tar"
  echo "$image" > "$work/image/NAME"
  echo "$stamp" > "$work/image/STAMP"
fi
echo "$work"
