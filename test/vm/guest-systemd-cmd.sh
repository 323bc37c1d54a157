#!/bin/bash
# ExecStart of tsrun-vm-cmd.service in systemd mode (written by guest-systemd.sh): waits until
# systemd says the boot is done, records how it went in /vm-results/booted, runs /vm-results/cmd
# with its output in /vm-results/output and its exit code in /vm-results/status. The unit's
# SuccessAction/FailureAction then power the VM off.
R=/vm-results
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb LANG=C.UTF-8

# "running", or "degraded" with the failed units listed; bounded, as every wait.
state=$(timeout 120 systemctl is-system-running --wait 2>&1)
booted=$(cut -d' ' -f1 /proc/uptime)
{
  echo "kernel $(uname -r)"
  echo "state $state"
  [ "$state" = running ] || echo "failed $(systemctl --failed --no-legend --plain --no-pager | awk '{print $1}' | tr '\n' ' ')"
  echo "uptime $booted"
} >"$R/booted"
echo "vm-guest: systemd $state after $booted s of uptime" >/dev/console

cd /
bash "$R/cmd" </dev/null >"$R/output" 2>&1
status=$?
echo "$status" >"$R/status"
sync
echo "vm-guest: command exited with $status after $(cut -d' ' -f1 /proc/uptime) s of uptime" >/dev/console
