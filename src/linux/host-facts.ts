// Everything the plan builders need to know about the host, behind one interface: the builders
// are pure functions of the config and a HostFacts, so their logic is tested without root against
// a test double (test/helpers/fake-host.ts), as youki does with its Syscall trait. Real reads
// happen here only, each at most once per command.
import * as fs from 'node:fs';
import { hostCgroupMounts, type HostCgroupMount } from '../cgroups/mounts.js';
import { hostProcSysMounts, mountPointOf } from './host-mounts.js';
import { probeLsmHost, type LsmHost } from './lsm.js';

const PROC_SUPER_MAGIC = 0x9fa0;

export type PathKind = 'dir' | 'file' | 'missing';

export interface HostFacts {
  /** What is at a host path, symlinks followed (bind sources, cgroup directories). */
  pathKind(path: string): PathKind;
  /** The target of a symlink, e.g. /proc/<pid>/ns/net ("net:[4026531992]"); undefined when unreadable. */
  readlink(path: string): string | undefined;
  /** The path is on a procfs (a bind of the host's /proc as the container's /proc). */
  isProcfs(path: string): boolean;
  /** The mount point of the mount holding a host path. */
  mountPointOf(path: string): string;
  /** tsrun runs as the host's root (not in a user namespace): it can open what the container's root cannot. */
  readonly hostRoot: boolean;
  /** /proc/kcore exists (the rootfs gets /dev/core). */
  readonly kcore: boolean;
  readonly cgroupMounts: readonly HostCgroupMount[];
  /** Mount points of whole procfs and sysfs mounts (what --no-pivot hides). */
  readonly procSysMounts: readonly string[];
  readonly lsm: LsmHost;
}

/** This host, read lazily: a fact that no builder asks for is never read. */
export function realHost(opts: { inUserns: boolean } = { inUserns: false }): HostFacts {
  let mountinfo: string | undefined;
  const table = (): string => (mountinfo ??= fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  let cgroups: HostCgroupMount[] | undefined;
  let procSys: string[] | undefined;
  let lsm: LsmHost | undefined;
  let kcore: boolean | undefined;
  return {
    pathKind(path) {
      try {
        return fs.statSync(path).isDirectory() ? 'dir' : 'file';
      } catch {
        return 'missing';
      }
    },
    readlink(path) {
      try {
        return fs.readlinkSync(path);
      } catch {
        return undefined;
      }
    },
    isProcfs(path) {
      try {
        return Number(fs.statfsSync(path).type) === PROC_SUPER_MAGIC;
      } catch {
        return false;
      }
    },
    mountPointOf: (path) => mountPointOf(path, table()),
    hostRoot: !opts.inUserns && process.geteuid?.() === 0,
    get kcore() {
      return (kcore ??= fs.existsSync('/proc/kcore'));
    },
    get cgroupMounts() {
      return (cgroups ??= hostCgroupMounts(table()));
    },
    get procSysMounts() {
      return (procSys ??= hostProcSysMounts(table()));
    },
    get lsm() {
      return (lsm ??= probeLsmHost());
    },
  };
}
