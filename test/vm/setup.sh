#!/usr/bin/env bash
# Prepares what test/vm/run-in-vm.sh boots: Debian's kernel (linux-image-amd64) and a small
# initramfs (busybox-static as /init's shell + the virtio/9p/overlay modules). Installs
# qemu-system-x86 and linux-image-amd64 when missing. Idempotent: the initramfs is cached under
# build/vm/<kernel version>-<hash of this recipe>/ and rebuilt only when either changes.
# Prints the path of an env file (KERNEL=..., INITRD=..., KVER=...) on stdout; progress on stderr.
# --systemd: also the packages the systemd mode (VM_INIT=systemd) boots from the host's root:
# systemd (not systemd-sysv: the host's init stays as it is), dbus, libpam-systemd (logind
# sessions, user@.service) and dbus-user-session (a user bus for rootless podman).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
busybox=${BUSYBOX:-/bin/busybox}
say() { echo "vm-setup: $*" >&2; }
die() { echo "vm-setup: $*" >&2; exit 1; }

# --- packages ---------------------------------------------------------------
missing=""
# criu: test/vm/guest/checkpoint.vm.ts (the guest runs the host's root, read-only, so its binaries).
want="qemu-system-x86 linux-image-amd64 busybox-static criu"
[ "${1:-}" = --systemd ] && want="$want systemd dbus libpam-systemd dbus-user-session"
for p in $want; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing:$missing"
  log=$(mktemp)
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; } >"$log" 2>&1; then
    tail -20 "$log" >&2
    rm -f "$log"
    die "apt-get install$missing failed"
  fi
  rm -f "$log"
fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found after installing qemu-system-x86"
[ -x "$busybox" ] || die "$busybox not found (busybox-static)"

# --- kernel -----------------------------------------------------------------
# The version linux-image-amd64 points at (not the host's running kernel).
kpkg=$(dpkg-query -W -f='${Depends}' linux-image-amd64 | grep -o 'linux-image-[0-9][^ ,]*' | head -1)
kver=${kpkg#linux-image-}
[ -n "$kver" ] || die "cannot tell which kernel linux-image-amd64 installs"
kernel=/boot/vmlinuz-$kver
moddir=/lib/modules/$kver
[ -r "$kernel" ] || die "$kernel missing (reinstall $kpkg)"
[ -f "$moddir/modules.dep" ] || die "$moddir/modules.dep missing"

# --- initramfs --------------------------------------------------------------
# Wanted modules; their dependencies come from modules.dep, loaded deepest first.
WANT="virtio_pci 9pnet_virtio 9p overlay"
key=$(cat "${BASH_SOURCE[0]}" "$here/init.sh" "$busybox" | sha256sum | cut -c1-12)
out=$repo/build/vm/$kver-$key
env_file=$out/image.env
if [ -f "$env_file" ] && [ -f "$out/initramfs.cpio.gz" ]; then
  echo "$env_file"
  exit 0
fi

say "building the initramfs for $kver"
mkdir -p "$repo/build/vm"
tmp=$(mktemp -d "$repo/build/vm/.initramfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# Resolve the load order: a module's dependencies (modules.dep lists them all, transitively) before it.
declare -A seen=()
order=()
dep_of() { awk -v m="$1" -F': *' '{ n=$1; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n); gsub(/-/, "_", n); if (n == m) { print $1 "|" $2; exit } }' "$moddir/modules.dep"; }
add_module() {
  local name=${1//-/_} line path deps d
  [ -n "${seen[$name]:-}" ] && return 0
  seen[$name]=1
  line=$(dep_of "$name")
  [ -n "$line" ] || die "module $name not found in $moddir/modules.dep"
  path=${line%%|*}
  deps=${line#*|}
  # modules.dep lists the direct and indirect dependencies, the deepest last.
  local rev=()
  for d in $deps; do rev=("$d" "${rev[@]}"); done
  for d in "${rev[@]}"; do
    d=${d##*/}
    d=${d%%.ko*}
    add_module "$d"
  done
  order+=("$path")
}
for m in $WANT; do add_module "$m"; done

mkdir -p "$tmp"/{bin,dev,proc,sys,mnt/host,mnt/rw,mnt/results,newroot,lib/modules}
cp "$busybox" "$tmp/bin/busybox"
ln -s busybox "$tmp/bin/sh"
: >"$tmp/lib/modules/order"
for p in "${order[@]}"; do
  base=$(basename "$p")
  case "$base" in
    *.ko.xz) xz -dc "$moddir/$p" >"$tmp/lib/modules/${base%.xz}"; base=${base%.xz} ;;
    *.ko.zst) zstd -qdc "$moddir/$p" >"$tmp/lib/modules/${base%.zst}"; base=${base%.zst} ;;
    *.ko.gz) gzip -dc "$moddir/$p" >"$tmp/lib/modules/${base%.gz}"; base=${base%.gz} ;;
    *) cp "$moddir/$p" "$tmp/lib/modules/$base" ;;
  esac
  echo "$base" >>"$tmp/lib/modules/order"
done
install -m 0755 "$here/init.sh" "$tmp/init"
(cd "$tmp" && find . -mindepth 1 | sed 's|^\./||' | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -9 >"$tmp/initramfs.cpio.gz"

mkdir -p "$out"
mv "$tmp/initramfs.cpio.gz" "$out/initramfs.cpio.gz"
cat >"$env_file.tmp" <<EOF
KVER=$kver
KERNEL=$kernel
INITRD=$out/initramfs.cpio.gz
MODULES="$(tr '\n' ' ' <"$tmp/lib/modules/order" | sed 's/ $//')"
EOF
mv "$env_file.tmp" "$env_file"
# Older cache entries are dead weight.
for d in "$repo"/build/vm/*/; do
  [ "${d%/}" = "$out" ] || [ ! -f "$d/image.env" ] || rm -rf "$d"
done
say "initramfs: $out/initramfs.cpio.gz ($(du -k "$out/initramfs.cpio.gz" | cut -f1) KiB; modules: $(tr '\n' ' ' <"$tmp/lib/modules/order"))"
echo "$env_file"
