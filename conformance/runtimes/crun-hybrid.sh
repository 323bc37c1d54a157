#!/bin/sh
# crun 1.8 refuses hosts with cgroups in "hybrid" mode (v1 controllers plus a
# cgroup2 mount at /sys/fs/cgroup/unified). Run every crun invocation in a
# mount namespace of its own (a slave of the host one, so the umount never
# reaches the host) without that cgroup2 mount, so crun sees plain v1.
# Usage: RUNTIME=conformance/runtimes/crun-hybrid.sh (arguments as for crun).
CRUN=${CRUN:-crun}
if [ -d /sys/fs/cgroup/unified ] && grep -q ' /sys/fs/cgroup/unified ' /proc/self/mountinfo; then
  exec unshare -m --propagation slave sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec "$0" "$@"' "$CRUN" "$@"
fi
exec "$CRUN" "$@"
