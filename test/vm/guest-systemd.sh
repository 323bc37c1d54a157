#!/bin/bash
# PID 1 of the test VM in systemd mode (VM_INIT=systemd, see init.sh and run-in-vm.sh) until it
# execs /lib/systemd/systemd: the host's root read-only under a tmpfs overlay, the results share at
# /vm-results. Prepares /tmp and /run as guest.sh does, configures systemd in the overlay's /etc
# (never the host's: the overlay's upper layer is a tmpfs) and hands over to systemd, which mounts
# cgroup2 (pure v2: systemd.unified_cgroup_hierarchy=1), /dev/pts, /dev/shm, bpffs etc. itself.
# The command runs in tsrun-vm-cmd.service (guest-systemd-cmd.sh) once the boot is done; the VM
# powers off when that unit ends.
here=$(dirname "${BASH_SOURCE[0]}")
. "$here/guest-common.sh"

echo "vm-guest: preparing systemd's boot after $(cut -d' ' -f1 /proc/uptime) s" >/dev/console
[ -x /lib/systemd/systemd ] || die "/lib/systemd/systemd not found on the host (apt-get install systemd)"
mount_fresh_tmp_run

# The engines' state directories on tmpfs: overlayfs (podman's and docker's overlay2 drivers,
# containerd's overlayfs snapshotter) cannot use the root overlay as its upper layer.
for d in /var/lib/containers /var/lib/docker /var/lib/containerd; do
  mkdir -p "$d" && mount -t tmpfs -o mode=0711 tmpfs "$d" || die "mount a tmpfs on $d"
done

units=/etc/systemd/system
# Only what the guest needs starts at boot: the host's own choice of enabled units (docker,
# containerd, podman, timers, databases...) is not the guest's; a command starts what it uses
# (`systemctl start docker`). The vendor's static dependencies (/lib/systemd/system/*.wants:
# journald, udev, dbus, logind...) stay.
find "$units" -path "$units/*.wants/*" -type l -delete 2>/dev/null
# Masked, to boot fast under TCG (each costs seconds there; see README.md for the numbers):
# - no login prompt on the console or a tty; no network in the guest (-nic none), so no time sync;
# - no udev: nothing in the guest waits for a device unit (no fstab, no getty), the kernel's
#   devtmpfs has the nodes, the virtio/9p/overlay modules are loaded by the initramfs;
# - no utmp records, binfmt, debug/tracing/config file systems, module lists of the host (and no
#   drm, dm_mod, loop, configfs: fuse stays, for rootless podman), journal on disk
#   (it stays in /run/log/journal), users from sysusers.d (the host's /etc/passwd has them).
for u in getty.target serial-getty@ttyS0.service getty@tty1.service console-getty.service \
    systemd-timesyncd.service systemd-networkd-wait-online.service systemd-time-wait-sync.service \
    apt-daily.timer apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer dpkg-db-backup.timer \
    systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket systemd-udev-trigger.service \
    systemd-update-utmp.service systemd-update-utmp-runlevel.service systemd-binfmt.service \
    proc-sys-fs-binfmt_misc.automount sys-kernel-debug.mount sys-kernel-tracing.mount \
    systemd-modules-load.service systemd-journal-flush.service systemd-sysusers.service \
    systemd-random-seed.service systemd-pstore.service kmod-static-nodes.service sys-kernel-config.mount \
    modprobe@drm.service modprobe@dm_mod.service modprobe@loop.service modprobe@configfs.service; do
  : >"$units/$u" # an empty unit file is a masked one (systemd.unit(5)); no ln process per unit
done
# Debian's tmpfiles (tmp.conf: "D /tmp") would empty /tmp at boot, the kept checkout included.
mkdir -p /etc/tmpfiles.d
echo 'd /tmp 1777 root root -' >/etc/tmpfiles.d/tmp.conf
# No host disks in the guest.
echo '# tsrun VM: no file systems to mount' >/etc/fstab
echo tsrun-vm >/etc/hostname
# multi-user.target, not the host's graphical.target (systemd.unit= on the kernel command line was
# not honoured here: graphical.target still came up).
ln -sfn /lib/systemd/system/multi-user.target "$units/default.target"

cat >"$units/tsrun-vm-cmd.service" <<UNIT
[Unit]
Description=tsrun VM: the command of run-in-vm.sh
After=multi-user.target
# Powers the VM off when the command ends (its status is in /vm-results/status by then); also when
# the wrapper itself dies, which run-in-vm.sh reports as "no status".
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=exec
ExecStart=/bin/bash $here/guest-systemd-cmd.sh
StandardInput=null
StandardOutput=journal+console
Environment=PATH=$PATH HOME=/root TERM=dumb LANG=C.UTF-8
TasksMax=infinity
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
LimitMEMLOCK=infinity
UNIT
mkdir -p "$units/multi-user.target.wants"
ln -sf ../tsrun-vm-cmd.service "$units/multi-user.target.wants/tsrun-vm-cmd.service"

# A boot that ends in emergency or rescue mode reports why and powers off instead of waiting for a
# login on the console until run-in-vm.sh's timeout.
for u in emergency rescue; do
  cat >"$units/$u.service" <<UNIT
[Unit]
Description=tsrun VM: boot failed ($u mode)
DefaultDependencies=no
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
ExecStart=/bin/bash -c '{ echo "vm-guest: FAILED: systemd entered $u mode; failed units:"; systemctl --failed --no-legend --no-pager; } 2>&1 | tee -a $R/output >/dev/console; echo 125 >$R/status; sync'
UNIT
done

echo "vm-guest: starting systemd after $(cut -d' ' -f1 /proc/uptime) s" >/dev/console
exec /lib/systemd/systemd --system
