#!/bin/bash
# PID 1 of the test VM after switch_root (see init.sh): the host's root read-only under a tmpfs
# overlay, the results share at /vm-results. Mounts what a container host needs, cgroup2 with every
# controller enabled for the children of the root cgroup, runs /vm-results/cmd with its output in
# /vm-results/output and its exit code in /vm-results/status, then powers the VM off.
. "$(dirname "${BASH_SOURCE[0]}")/guest-common.sh"

mount_fresh_tmp_run
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,gid=5 devpts /dev/pts || die "mount /dev/pts"
ln -sf pts/ptmx /dev/ptmx 2>/dev/null
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm || die "mount /dev/shm"
mount -t mqueue mqueue /dev/mqueue 2>/dev/null
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || die "mount cgroup2 on /sys/fs/cgroup"
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control || die "enable the $c controller"
done
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
hostname tsrun-vm
# A loopback that is up, as on any host: CRIU's kernel checks (kerndat: TCP repair) connect over it.
ip link set lo up 2>/dev/null || busybox ip link set lo up 2>/dev/null

{
  echo "kernel $(uname -r)"
  echo "controllers $(cat /sys/fs/cgroup/cgroup.subtree_control)"
  echo "cpus $(nproc) mem $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
  echo "uptime $(cut -d' ' -f1 /proc/uptime)"
} >"$R/booted"
echo "vm-guest: booted in $(cut -d' ' -f1 /proc/uptime) s; controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)" >/dev/console

cd /
bash "$R/cmd" </dev/null >"$R/output" 2>&1 &
cmd=$!
wait "$cmd"
status=$?
echo "$status" >"$R/status"
echo "vm-guest: command exited with $status after $(cut -d' ' -f1 /proc/uptime) s of uptime" >/dev/console
poweroff_now
