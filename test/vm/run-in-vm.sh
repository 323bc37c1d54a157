#!/usr/bin/env bash
# run-in-vm.sh CMD [ARG...]: runs CMD as root inside a QEMU VM (TCG, no KVM) booted from Debian's
# kernel with a pure cgroup v2 hierarchy, every controller enabled. The VM sees this host's root
# read-only through 9p under a tmpfs overlay (so everything, e.g. build/, is visible and writable
# without touching the host), /tmp and /run are fresh tmpfs (the checkout and the current
# directory stay visible where they are, even under /tmp). CMD runs in the current directory;
# its output (stdout and stderr together) is printed here once the VM is off, and its exit code is
# this script's. The VM's console goes to $VM_LOG (default: a temp file, printed on failure).
#
# Exit codes: CMD's own; 124 when the VM timed out ($VM_TIMEOUT s, default 600); 125 when it did
# not boot or the command's status never came back (the reason is printed on stderr).
# Environment: VM_INIT=systemd (systemd as PID 1), VM_TIMEOUT, VM_MEM (default 2048, MiB), VM_SMP (default 2), VM_CPU (QEMU -cpu model,
# default max: build/tsrun needs AVX2, which QEMU's default qemu64 lacks), VM_LOG, VM_KEEP=1 (keep
# the results dir and say where), VM_INIT (default: guest.sh is PID 1 and runs CMD itself;
# "systemd": guest-systemd.sh prepares the overlay and execs /lib/systemd/systemd, which boots
# multi-user.target on a pure cgroup v2 hierarchy and runs CMD in tsrun-vm-cmd.service).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -gt 0 ] || { echo "usage: run-in-vm.sh CMD [ARG...]" >&2; exit 2; }
timeout_s=${VM_TIMEOUT:-600}
fail() { echo "run-in-vm: $*" >&2; }
case "${VM_INIT:-}" in
  '') guest=$here/guest.sh; append=""; setup_args=() ;;
  systemd) guest=$here/guest-systemd.sh; setup_args=(--systemd)
    append="systemd.unified_cgroup_hierarchy=1" ;;
  *) fail "VM_INIT=${VM_INIT}: unknown (empty or systemd)"; exit 2 ;;
esac

env_file=$("$here/setup.sh" "${setup_args[@]}") || { fail "VM image setup failed (see above)"; exit 125; }
# shellcheck disable=SC1090
. "$env_file"

results=$(mktemp -d "${TMPDIR:-/tmp}/tsrun-vm.XXXXXX")
log=${VM_LOG:-$results.console.log}
keep_log=
cleanup() {
  if [ "${VM_KEEP:-}" = 1 ]; then
    echo "run-in-vm: results kept in $results, console log $log" >&2
  else
    rm -rf "$results"
    # The console log of a failed run stays for a look (its path was printed).
    [ -n "${VM_LOG:-}" ] || [ -n "$keep_log" ] || rm -f "$log"
  fi
}
trap cleanup EXIT
chmod 0777 "$results"

# The guest mounts fresh tmpfs on /tmp and /run: these paths stay visible there (guest.sh), so
# the checkout and the current directory may be anywhere, /tmp included.
printf '%s\n' "$(cd "$here/../.." && pwd)" "$(cd "$here/../.." && pwd -P)" "$PWD" "$(pwd -P)" | sort -u >"$results/keep"

# The command, run by bash in the guest from the same directory.
{
  printf 'cd %q || exit 125\n' "$PWD"
  printf 'exec'
  printf ' %q' "$@"
  printf '\n'
} >"$results/cmd"

start=$(date +%s.%N)
timeout --kill-after=10 "$timeout_s" qemu-system-x86_64 \
  -accel tcg,thread=multi -cpu "${VM_CPU:-max}" -smp "${VM_SMP:-2}" -m "${VM_MEM:-2048}" \
  -nographic -no-reboot -nic none -monitor none -serial stdio \
  -kernel "$KERNEL" -initrd "$INITRD" \
  -append "console=ttyS0 quiet loglevel=3 panic=-1 tsrun_guest=$guest${append:+ $append}" \
  -virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
  -virtfs local,path="$results",mount_tag=results,security_model=none \
  </dev/null >"$log" 2>&1
qemu_status=$?
elapsed=$(echo "$start $(date +%s.%N)" | awk '{printf "%.1f", $2 - $1}')

[ -f "$results/output" ] && cat "$results/output"

console_tail() {
  keep_log=1
  echo "run-in-vm: last lines of the VM console ($log):" >&2
  # Without the terminal escapes SeaBIOS prints.
  tail -n 25 "$log" | sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\r$//' -e 's/^/  | /' >&2
}
if [ -f "$results/status" ]; then
  status=$(cat "$results/status")
  case "$status" in
    ''|*[!0-9]*) fail "bad status file: $status"; console_tail; exit 125 ;;
  esac
  booted=$(sed -n 's/^uptime //p' "$results/booted" 2>/dev/null)
  state=$(sed -n 's/^state //p' "$results/booted" 2>/dev/null)
  echo "run-in-vm: kernel $KVER booted in ${booted:-?} s${state:+ (systemd: $state)}; VM ran ${elapsed} s in all; command exit status $status" >&2
  exit "$status"
fi
if [ "$qemu_status" = 124 ] || [ "$qemu_status" = 137 ]; then
  if [ -f "$results/booted" ]; then
    fail "timed out after ${timeout_s} s: the VM booted but the command did not finish"
  else
    fail "timed out after ${timeout_s} s: the VM did not boot"
  fi
  console_tail
  exit 124
fi
if [ ! -f "$results/booted" ]; then
  fail "the VM did not boot (qemu exit status $qemu_status after ${elapsed} s)"
else
  fail "the VM stopped before the command reported its status (qemu exit status $qemu_status after ${elapsed} s)"
fi
console_tail
exit 125
