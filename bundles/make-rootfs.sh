#!/usr/bin/env bash
# Assemble a busybox root filesystem in <dir> from the host's static busybox
# (Debian busybox-static). Idempotent: a stamp records the busybox binary and
# this recipe; when both are unchanged the script exits at once.
set -euo pipefail

dir=${1:?usage: make-rootfs.sh <dir>}
busybox=${BUSYBOX:-/bin/busybox}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
recipe="$here/$(basename "${BASH_SOURCE[0]}")"
stamp_name=.tsrun-rootfs

if [ ! -x "$busybox" ]; then
  echo "make-rootfs.sh: $busybox not found (apt-get install busybox-static, or run: make apt-deps)" >&2
  exit 1
fi
if ! "$busybox" --list >/dev/null 2>&1; then
  echo "make-rootfs.sh: $busybox does not run" >&2
  exit 1
fi
# A dynamically linked busybox would not run inside the rootfs.
if ldd "$busybox" >/dev/null 2>&1; then
  echo "make-rootfs.sh: $busybox is dynamically linked; install busybox-static" >&2
  exit 1
fi

want=$(cat "$busybox" "$recipe" | sha256sum | cut -d' ' -f1)
if [ -f "$dir/$stamp_name" ] && [ "$(cat "$dir/$stamp_name")" = "$want" ] && [ -x "$dir/bin/busybox" ]; then
  exit 0
fi

mkdir -p "$(dirname "$dir")"
parent=$(cd "$(dirname "$dir")" && pwd)
dir="$parent/$(basename "$dir")"
tmp=$(mktemp -d "$parent/.rootfs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev run var/tmp var/log root home/user
mkdir -m 1777 tmp
chmod 1777 var/tmp
chmod 0700 root
install -m 0755 "$busybox" bin/busybox

# Every applet at the path busybox names for it (bin/, sbin/, usr/bin/, usr/sbin/),
# as a relative link so the tree also works when inspected from the host.
"$busybox" --list-full | while read -r path; do
  [ "$path" = bin/busybox ] && continue
  case "$path" in
    bin/*)         ln -sfn busybox "$path" ;;
    */*/*/*)       echo "make-rootfs.sh: unexpected applet path $path" >&2; exit 1 ;;
    */*/*)         ln -sfn ../../bin/busybox "$path" ;;
    */*)           ln -sfn ../bin/busybox "$path" ;;
    *)             ln -sfn bin/busybox "$path" ;;
  esac
done
[ -e bin/sh ] || ln -s busybox bin/sh

cat > etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > etc/group <<'GROUP'
root:x:0:
tty:x:5:
user:x:1000:
nobody:x:65534:
GROUP
echo tsrun > etc/hostname
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > etc/hosts
: > etc/resolv.conf
chown -R 1000:1000 home/user
chmod 0644 etc/passwd etc/group etc/hostname etc/hosts etc/resolv.conf
chmod 0755 .
echo "$want" > "$stamp_name"

cd - >/dev/null
if [ -e "$dir" ]; then
  old="$parent/.rootfs.old.$$"
  mv "$dir" "$old"
  mv "$tmp" "$dir"
  rm -rf "$old"
else
  mv "$tmp" "$dir"
fi
trap - EXIT
