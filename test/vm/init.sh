#!/bin/sh
# /init of the test VM's initramfs (busybox). Loads the 9p/overlay modules, mounts the host's root
# (9p tag "host", read-only) under a tmpfs overlay, mounts the writable results share (tag
# "results") at /vm-results and switch_roots into the guest script named by tsrun_guest= on the
# kernel command line (run by the host's bash, seen through the overlay).
export PATH=/bin
/bin/busybox --install -s /bin

fail() {
  echo "vm-init: FAILED: $*"
  echo "vm-init: FAILED: $*" >/dev/kmsg 2>/dev/null
  poweroff -f
  sleep 5
  reboot -f
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev || fail "mount devtmpfs"
echo "vm-init: loading modules"
for m in $(cat /lib/modules/order); do
  insmod "/lib/modules/$m" || fail "insmod $m"
done

guest=
for w in $(cat /proc/cmdline); do
  case "$w" in tsrun_guest=*) guest=${w#tsrun_guest=} ;; esac
done
[ -n "$guest" ] || fail "no tsrun_guest= on the kernel command line"

mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 host /mnt/host || fail "mount the host root over 9p"
mount -t tmpfs -o mode=0755,size=1024m tmpfs /mnt/rw || fail "mount the overlay's tmpfs"
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/host,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work overlay /newroot || fail "mount the overlay"
mkdir -p /newroot/vm-results
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 results /newroot/vm-results || fail "mount the results share"
[ -f "/newroot$guest" ] || fail "guest script $guest not found in the host root"

mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
echo "vm-init: switching root to $guest"
exec switch_root /newroot /bin/bash "$guest"
