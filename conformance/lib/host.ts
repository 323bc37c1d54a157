// What this host supports, so tests can skip (with the reason) instead of failing.
import { readText, exists, nsOf } from './util.js';

export interface Host {
  cgroup: 'v1' | 'v2' | 'hybrid';
  /** v1 controllers mounted at /sys/fs/cgroup/<name> */
  v1: Set<string>;
  /** controllers available in the cgroup2 root */
  v2: Set<string>;
  timens: boolean;
  userns: boolean;
  resctrl: boolean;
  apparmor: boolean;
  selinux: boolean;
  capSysResource: boolean;
  hugepageSizes: string[];
  hostNs(type: string): string | undefined;
}

export function detectHost(): Host {
  const mi = readText('/proc/self/mountinfo') ?? '';
  const v1 = new Set<string>();
  let v2mount: string | undefined;
  for (const line of mi.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mp = left.split(' ')[4] ?? '';
    const [fstype, , sopts] = right.split(' ');
    if (fstype === 'cgroup') {
      for (const o of (sopts ?? '').split(',')) {
        if (['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'hugetlb', 'net_cls', 'net_prio', 'perf_event', 'rdma', 'misc'].includes(o)) v1.add(o);
      }
    } else if (fstype === 'cgroup2') {
      v2mount = mp;
    }
  }
  const v2 = new Set<string>();
  if (v2mount) for (const c of (readText(`${v2mount}/cgroup.controllers`) ?? '').trim().split(/\s+/)) if (c) v2.add(c);
  const cgroup: Host['cgroup'] = v1.size === 0 && v2mount ? 'v2' : v2mount ? 'hybrid' : 'v1';
  const status = readText('/proc/self/status') ?? '';
  const capEff = BigInt('0x' + (/CapEff:\s*([0-9a-f]+)/.exec(status)?.[1] ?? '0'));
  const hp = (readText('/proc/meminfo') ?? '').match(/Hugepagesize:\s+(\d+) kB/);
  return {
    cgroup,
    v1,
    v2,
    timens: exists('/proc/self/ns/time'),
    userns: exists('/proc/self/ns/user'),
    resctrl: mi.includes(' - resctrl '),
    apparmor: exists('/sys/kernel/security/apparmor'),
    selinux: exists('/sys/fs/selinux/enforce'),
    capSysResource: (capEff & (1n << 24n)) !== 0n,
    hugepageSizes: hp ? [`${Number(hp[1]) / 1024}MB`] : [],
    hostNs: (type: string) => nsOf('self', type),
  };
}
