// What CRIU must treat as external to the container, as runc tells it: bind mounts (the
// config's, the v1 cgroup directories, the device nodes, the /dev/null over masked files),
// namespaces joined by path, and the stdio the container inherited (descriptors.json).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mount, Spec } from '../spec/types.js';
import { hostCgroupMounts } from '../cgroups/mounts.js';
import { layout, type CgroupHandle } from '../cgroups/paths.js';
import type { ExtMount, InheritFd, JoinNs } from './rpc.js';
import { TsrunError, describeError } from '../errors.js';
import { resolveInRoot } from './in-root.js';

/** runc's name for the file in the image directory that lists the init's fds 0, 1 and 2. */
export const DESCRIPTORS_FILE = 'descriptors.json';

/** The devices every container gets (rootfs-plan's defaults), and the config's. */
const DEFAULT_DEVICE_PATHS = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'];

export const isBind = (m: Mount) => m.type === 'bind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');

/** A destination as the container sees it: absolute, clean. */
const dest = (p: string) => path.posix.resolve('/', p);

interface ExtBind {
  /** The mount point in the container (CRIU's key at dump and restore). */
  dest: string;
  /** Its host source (what restore binds there). */
  source: string;
}

/**
 * The bind mounts CRIU must not dump but leave for restore to provide: config binds, v1 cgroup
 * dirs, devices. Destinations are resolved in the rootfs (symlinks) as the mounts were made.
 */
export function externalBinds(spec: Spec, bundle: string, cgroup: CgroupHandle | undefined): ExtBind[] {
  const out: ExtBind[] = [];
  const rootfs = path.resolve(bundle, spec.root?.path ?? 'rootfs');
  const cgroupns = (spec.linux?.namespaces ?? []).some((n) => n.type === 'cgroup');
  for (const m of spec.mounts ?? []) {
    if (isBind(m) && m.source) out.push({ dest: resolveInRoot(rootfs, m.destination), source: path.resolve(bundle, m.source) });
    else if (m.type === 'cgroup' && !cgroupns && cgroup) out.push(...cgroupBinds(dest(m.destination), cgroup));
  }
  for (const p of [...DEFAULT_DEVICE_PATHS, ...(spec.linux?.devices ?? []).map((d) => d.path)]) {
    if (!out.some((b) => b.dest === dest(p))) out.push({ dest: dest(p), source: p });
  }
  return out;
}

/**
 * Without a cgroup namespace the container's cgroup mounts are binds of its host cgroup
 * directories (rootfs-plan): /sys/fs/cgroup itself on a unified host, /sys/fs/cgroup/<hierarchy>
 * on a v1 or hybrid one. (runc mounts a fresh cgroup2 on unified hosts, which CRIU dumps itself.)
 */
function cgroupBinds(at: string, cgroup: CgroupHandle): ExtBind[] {
  const hier = hostCgroupMounts();
  const l = layout(cgroup);
  if (hier.length === 1 && hier[0]!.version === 2) return l.v2 ? [{ dest: at, source: l.v2.dir }] : [];
  const out: ExtBind[] = [];
  for (const h of hier) {
    if (h.version === 2) continue;
    const dir = [...l.v1.values()].find((v) => v.mount === h.mountPoint)?.dir;
    if (dir) out.push({ dest: path.posix.join(at, h.name), source: dir });
  }
  return out;
}

/** Dump: each external bind is known by its mount point; masked files (a /dev/null bind) by "/dev/null". */
export function dumpExtMounts(binds: ExtBind[], maskedPaths: readonly string[], pid: number): ExtMount[] {
  // Masked paths are looked at through the container's own root.
  const out: ExtMount[] = binds.map((b) => ({ key: b.dest, val: b.dest }));
  for (const p of maskedPaths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(`/proc/${pid}/root${dest(p)}`);
    } catch {
      continue; // not there: nothing masked
    }
    if (!st.isDirectory()) out.push({ key: dest(p), val: '/dev/null' });
  }
  return out;
}

/** Restore: each key names what to bind there. */
export function restoreExtMounts(binds: ExtBind[], maskedPaths: readonly string[]): ExtMount[] {
  const out: ExtMount[] = binds.map((b) => ({ key: b.dest, val: b.source }));
  if (maskedPaths.length) out.push({ key: '/dev/null', val: '/dev/null' });
  return out;
}

/** CRIU's key for an external namespace: extRootNetNS, extRootPidNS (runc's). */
const NS_KEY: Record<string, string> = { network: 'extRootNetNS', pid: 'extRootPidNS' };
const NS_NAME: Record<string, string> = { network: 'net', pid: 'pid', ipc: 'ipc', uts: 'uts', mount: 'mnt', user: 'user', cgroup: 'cgroup', time: 'time' };

/** Dump: network and pid namespaces joined by path are external (`net[<inode>]:extRootNetNS`). */
export function dumpExternalNamespaces(spec: Spec): string[] {
  const out: string[] = [];
  for (const n of spec.linux?.namespaces ?? []) {
    const key = NS_KEY[n.type];
    if (!key || !n.path) continue;
    let ino: bigint;
    try {
      ino = fs.statSync(n.path, { bigint: true }).ino;
    } catch (e) {
      throw new TsrunError(`${n.type} namespace ${n.path}: ${describeError(e)}`);
    }
    out.push(`${NS_NAME[n.type]}[${ino}]:${key}`);
  }
  return out;
}

/**
 * Restore: network and pid namespaces by path are handed to CRIU as inherited fds under the
 * dump's key; the other namespaces with a path are joined (join_ns). Returns the fds to pass.
 */
export function restoreNamespaces(spec: Spec): { joinNs: JoinNs[]; inheritFd: InheritFd[]; fds: number[] } {
  const joinNs: JoinNs[] = [];
  const inheritFd: InheritFd[] = [];
  const fds: number[] = [];
  try {
    for (const n of spec.linux?.namespaces ?? []) {
      if (!n.path) continue;
      const key = NS_KEY[n.type];
      if (key) {
        let fd: number;
        try {
          fd = fs.openSync(n.path, 'r');
        } catch (e) {
          throw new TsrunError(`${n.type} namespace ${n.path}: ${describeError(e)}`);
        }
        fds.push(fd);
        inheritFd.push({ key, fd });
      } else if (n.type === 'cgroup') {
        throw new TsrunError(`restore cannot join the cgroup namespace ${n.path}: CRIU cannot join a cgroup namespace`);
      } else {
        joinNs.push({ ns: NS_NAME[n.type]!, nsFile: n.path });
      }
    }
  } catch (e) {
    for (const fd of fds) fs.closeSync(fd);
    throw e;
  }
  return { joinNs, inheritFd, fds };
}

/** What the init's fds 0, 1 and 2 are (/proc links: "pipe:[123]", "/dev/pts/0", ...), runc's descriptors.json. */
export function stdioLinks(pid: number): string[] {
  return [0, 1, 2].map((fd) => {
    try {
      return fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '/dev/null';
    }
  });
}

/** Restore: the container's stdio pipes are replaced by criu's (our) fds 0, 1, 2 (runc). */
export function stdioInheritFds(descriptors: readonly string[]): InheritFd[] {
  const out: InheritFd[] = [];
  descriptors.forEach((s, i) => {
    if (i < 3 && s.includes('pipe:')) out.push({ key: s, fd: i });
  });
  return out;
}

export function readDescriptors(imagesDir: string): string[] {
  const file = path.join(imagesDir, DESCRIPTORS_FILE);
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TsrunError(`${file}: ${describeError(e)} (not a checkpoint image directory?)`);
  }
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw new TsrunError(`${file}: not a list of strings`);
  return v as string[];
}

/** The CRIU configuration file: annotation org.criu.config ("" for none), else runc's default. */
export function criuConfigFile(annotations: Record<string, string> | undefined): string | undefined {
  const v = annotations?.['org.criu.config'];
  if (v === undefined) return '/etc/criu/runc.conf';
  return v || undefined;
}

/** The directory CRIU freezes the container with: the v1 freezer cgroup, or the cgroup2 one on a unified host. */
export function freezeCgroup(cgroup: CgroupHandle | undefined): string | undefined {
  if (!cgroup) return undefined;
  const l = layout(cgroup);
  if (l.mode === 'unified') return l.v2?.dir;
  return l.v1.get('freezer')?.dir;
}
