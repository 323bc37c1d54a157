# Sourced by guest.sh and guest-systemd.sh (PID 1 of the test VM after switch_root, see init.sh):
# the results share is at /vm-results; these helpers report a failed set-up there and power off.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8
R=/vm-results

die() {
  echo "vm-guest: FAILED: $*" | tee -a "$R/output" >/dev/console
  echo 125 >"$R/status"
  poweroff_now
}
poweroff_now() {
  sync
  echo 1 >/proc/sys/kernel/sysrq
  echo o >/proc/sysrq-trigger
  sleep 10
}

# Fresh tmpfs on /tmp and /run. The checkout (and the command's directory) may live under /tmp or
# /run: keep each path listed in $R/keep (one a line, from run-in-vm.sh) visible at the same place
# by bind-mounting it aside first and moving it back on top of the new tmpfs.
mount_fresh_tmp_run() {
  local kept=() p n
  [ -f "$R/keep" ] || : >"$R/keep"
  while IFS= read -r p; do
    case "$p" in /tmp/*|/run/*) ;; *) continue ;; esac
    [ -d "$p" ] || continue
    n=${#kept[@]}
    mkdir -p "/.vm-keep/$n" && mount --bind "$p" "/.vm-keep/$n" || die "keep $p visible (bind mount)"
    kept+=("$p")
  done <"$R/keep"
  mount -t tmpfs -o mode=1777 tmpfs /tmp || die "mount /tmp"
  mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run || die "mount /run"
  for n in "${!kept[@]}"; do
    p=${kept[$n]}
    mkdir -p "$p" && mount --move "/.vm-keep/$n" "$p" || die "keep $p visible (move it back)"
  done
}
