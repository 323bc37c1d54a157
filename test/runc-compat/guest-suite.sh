#!/usr/bin/env bash
# Runs in the systemd guest (scripts/runc-compat-guest.sh boots it): runc's integration suite
# (../shared/runc-integration) against TSRUN and Debian's runc, with the systemd cgroup driver
# (RUNC_USE_SYSTEMD=1) and without it (cgroupfs on pure v2), each run's TAP between marker lines
#   ### runc-compat <mode> <runtime> begin|end <exit status>
# usage: guest-suite.sh TSRUN MODES [bats args...]   MODES: "systemd cgroupfs" or one of them
set -uo pipefail
tsrun=$1 modes=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
suite=$(cd "$here/../../.." && pwd)/shared/runc-integration
[ -x "$suite/run.sh" ] || suite=${SHARED:-$here/../../../shared}/runc-integration
for mode in $modes; do
  for rt in "$tsrun" /usr/sbin/runc; do
    name=$([ "$rt" = /usr/sbin/runc ] && echo runc || echo tsrun)
    echo "### runc-compat $mode $name begin"
    start=$(date +%s)
    if [ "$mode" = systemd ]; then
      RUNC_USE_SYSTEMD=1 "$suite/run.sh" "$rt" "$@" 2>&1
    else
      env -u RUNC_USE_SYSTEMD "$suite/run.sh" "$rt" "$@" 2>&1
    fi
    status=$?
    echo "### runc-compat $mode $name end $status $(( $(date +%s) - start ))s"
  done
done
