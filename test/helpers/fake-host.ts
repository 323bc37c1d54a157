// A HostFacts test double (src/linux/host-facts.ts): the plan builders run against it without
// root or any read of the real host. Paths not named are missing; the defaults describe a
// hybrid cgroup host with /proc and /sys mounted, no LSM.
import type { HostCgroupMount } from '../../src/cgroups/mounts.js';
import type { HostFacts, PathKind } from '../../src/linux/host-facts.js';
import type { LsmHost } from '../../src/linux/lsm.js';

export interface FakeHostOptions {
  paths?: Record<string, PathKind>;
  links?: Record<string, string>;
  procfs?: string[];
  mountPoints?: string[];
  kcore?: boolean;
  hostRoot?: boolean;
  cgroupMounts?: HostCgroupMount[];
  procSysMounts?: string[];
  lsm?: Partial<LsmHost>;
}

export const HYBRID_CGROUPS: HostCgroupMount[] = [
  { name: 'memory', mountPoint: '/sys/fs/cgroup/memory', version: 1, options: 'memory' },
  { name: 'pids', mountPoint: '/sys/fs/cgroup/pids', version: 1, options: 'pids' },
  { name: 'unified', mountPoint: '/sys/fs/cgroup/unified', version: 2, options: '' },
];

export function fakeHost(o: FakeHostOptions = {}): HostFacts {
  const mountPoints = o.mountPoints ?? ['/'];
  return {
    pathKind: (p) => o.paths?.[p] ?? 'missing',
    readlink: (p) => o.links?.[p],
    isProcfs: (p) => (o.procfs ?? []).includes(p),
    mountPointOf: (p) => mountPoints.filter((m) => m === '/' || p === m || p.startsWith(`${m}/`)).sort((a, b) => b.length - a.length)[0] ?? '/',
    kcore: o.kcore ?? true,
    hostRoot: o.hostRoot ?? true,
    cgroupMounts: o.cgroupMounts ?? HYBRID_CGROUPS,
    procSysMounts: o.procSysMounts ?? ['/proc', '/sys'],
    lsm: { apparmor: false, selinux: false, apparmorOwnAttr: false, ...o.lsm },
  };
}
