#!/usr/bin/env bash
# Prepares the CRI lane (test/cri/*.test.ts call this first):
#   1. test/engines/setup.sh containerd: Debian's containerd and podman, and the busybox
#      image (bundles/busybox/rootfs) as an OCI archive;
#   2. Debian's containernetworking-plugins (bridge, loopback, host-local) when missing;
#   3. the pause image: test/cri/pause.c built statically (gcc, libc6-dev), imported with
#      podman into the engines' podman storage and saved as an OCI archive.
# Prints, as its last line, the work dir (as test/engines/setup.sh) holding
# image/oci.tar, image/NAME, image/pause-oci.tar, image/PAUSE_NAME.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
say() { echo "cri/setup: $*" >&2; }

work=$(bash "$repo/test/engines/setup.sh" containerd | tail -n 1)
exec 9>"$work/.cri-lock"
flock 9

if ! dpkg-query -W -f='${Status}' containernetworking-plugins 2>/dev/null | grep -q 'install ok installed'; then
  say "installing containernetworking-plugins (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends containernetworking-plugins >"$work/apt-cni.log" 2>&1; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends containernetworking-plugins >"$work/apt-cni.log" 2>&1 \
      || { say "apt-get install containernetworking-plugins failed:"; tail -n 20 "$work/apt-cni.log" >&2; exit 1; }
  fi
  rm -f "$work/apt-cni.log"
fi

pause_image=localhost/tsrun-pause:latest
stamp=$(cat "$here/pause.c" "$here/setup.sh" | sha256sum | cut -d' ' -f1)
pm() {
  CONTAINERS_CONF="$work/podman/setup-containers.conf" podman --root "$work/podman/root" --runroot "$work/podman/runroot" \
    --storage-driver overlay --tmpdir "$work/podman/tmp" "$@"
}
if [ "$(cat "$work/image/PAUSE_STAMP" 2>/dev/null)" != "$stamp" ] || [ ! -s "$work/image/pause-oci.tar" ]; then
  say "building $pause_image from test/cri/pause.c"
  rm -f "$work/image/PAUSE_STAMP"
  tmp=$(mktemp -d "$work/pause.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  gcc -static -Os -s -o "$tmp/pause" "$here/pause.c"
  tar --numeric-owner --owner=0 --group=0 -C "$tmp" -cf "$tmp/rootfs.tar" pause
  pm rmi -f "$pause_image" >/dev/null 2>&1 || true
  pm import -q --change 'ENTRYPOINT ["/pause"]' "$tmp/rootfs.tar" "$pause_image" >/dev/null
  rm -f "$work/image/pause-oci.tar"
  pm save -q --format oci-archive -o "$work/image/pause-oci.tar" "$pause_image" >/dev/null
  echo "$pause_image" > "$work/image/PAUSE_NAME"
  echo "$stamp" > "$work/image/PAUSE_STAMP"
fi
echo "$work"
