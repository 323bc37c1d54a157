// The config.json that `tsrun spec` writes: the same as `runc spec` (runc 1.1's
// specconv.Example and ToRootless), except ociVersion, which is the spec version tsrun follows.
import type { Spec } from './types.js';

export const SPEC_VERSION = '1.3.0';

export interface DefaultSpecOptions {
  /** As `runc spec --rootless`: a user namespace mapping the caller, no network namespace or cgroup limits. */
  rootless?: boolean;
  /** Host uid/gid mapped to root with `rootless` (default: this process's effective ids). */
  uid?: number;
  gid?: number;
  /** A pure cgroup v2 host: runc's spec adds a cgroup namespace there. */
  cgroupV2?: boolean;
}

export function defaultSpec(options: DefaultSpecOptions = {}): Spec {
  const spec: Spec = {
    ociVersion: SPEC_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      {
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
      },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  if (options.cgroupV2) spec.linux!.namespaces!.push({ type: 'cgroup' });
  if (options.rootless) makeRootless(spec, options.uid ?? process.geteuid?.() ?? 0, options.gid ?? process.getegid?.() ?? 0);
  return spec;
}

// runc's specconv.ToRootless: no network namespace, a user namespace mapping the caller to
// root, /sys bind-mounted from the host (sysfs cannot be mounted without a netns of one's own),
// no uid=/gid= mount options (those ids would not be mapped), no cgroup resources.
function makeRootless(spec: Spec, uid: number, gid: number): void {
  const linux = spec.linux!;
  const { resources: _dropped, ...rest } = linux;
  const namespaces = (linux.namespaces ?? []).filter((ns) => ns.type !== 'network' && ns.type !== 'user');
  namespaces.push({ type: 'user' });
  spec.linux = {
    uidMappings: [{ containerID: 0, hostID: uid, size: 1 }],
    gidMappings: [{ containerID: 0, hostID: gid, size: 1 }],
    ...rest,
    namespaces,
  };
  spec.mounts = (spec.mounts ?? []).map((m) => {
    if (m.destination.replace(/\/+$/, '') === '/sys') {
      return { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
    }
    const options = m.options?.filter((o) => !o.startsWith('gid=') && !o.startsWith('uid='));
    return options === undefined ? m : { ...m, options };
  });
}
