// Where a container's cgroup lives: host mode, path resolution (runc's rules), per-hierarchy directories.
import * as fs from 'node:fs';
import { join, posix } from 'node:path';
import { CgroupError, DEFAULT_ROOT, cgroupRoot } from './fs.js';
import { hostCgroupMounts } from './mounts.js';
import { expandSlice, systemdPlace, unitCgroupPath } from './systemd/unit-name.js';

export { expandSlice };

export type CgroupMode = 'unified' | 'hybrid' | 'legacy';

/** Serializable: stored in the state record (a type alias, so it fits a Record<string, unknown>-like field). */
export type CgroupHandle = {
  /** The cgroup path inside every hierarchy, e.g. "/tsrun/web1". */
  path: string;
  systemd: boolean;
  /** systemd driver: the transient unit that owns the cgroup, and its slice. */
  unit?: string;
  slice?: string;
  /** systemd driver, rootless: the unit is the user's own systemd instance's (the session bus). */
  userBus?: boolean;
  /** The host's mode when the cgroup was resolved; detectMode() when absent. */
  mode?: CgroupMode;
  /**
   * Only for a relative cgroupsPath when the caller sits in different cgroups in different v1
   * hierarchies: hierarchy key ("memory", "name=systemd", "unified", ...) -> path, where it differs from `path`.
   */
  paths?: Record<string, string>;
};

const CGROUP2_SUPER_MAGIC = 0x63677270;

const modeCache = new Map<string, CgroupMode>();

/** unified (cgroup2 at the root), hybrid (v1 + cgroup2 at <root>/unified) or legacy. */
export function detectMode(): CgroupMode {
  const root = cgroupRoot();
  const cached = modeCache.get(root);
  if (cached) return cached;
  let mode: CgroupMode;
  if (root === DEFAULT_ROOT) {
    const type = (p: string): number | undefined => {
      try {
        return Number(fs.statfsSync(p).type);
      } catch {
        return undefined;
      }
    };
    if (type(root) === CGROUP2_SUPER_MAGIC) mode = 'unified';
    else if (type(join(root, 'unified')) === CGROUP2_SUPER_MAGIC) mode = 'hybrid';
    else mode = 'legacy';
  } else {
    // A test double tree is plain files: recognise cgroup2 by its root files.
    if (fs.existsSync(join(root, 'cgroup.controllers'))) mode = 'unified';
    else if (fs.existsSync(join(root, 'unified', 'cgroup.controllers'))) mode = 'hybrid';
    else mode = 'legacy';
  }
  modeCache.set(root, mode);
  return mode;
}

/** v1 hierarchies runc joins, in runc's order (also the order resources are set in). */
export const V1_HIERARCHIES = [
  'cpuset', 'devices', 'memory', 'cpu', 'cpuacct', 'pids', 'blkio', 'hugetlb',
  'net_cls', 'net_prio', 'perf_event', 'freezer', 'rdma', 'misc', 'name=systemd',
] as const;

export function hierarchyDirName(key: string): string {
  return key === 'name=systemd' ? 'systemd' : key;
}

/** Go's filepath.Clean, plus runc's CleanPath rule that a relative path cannot climb out with "..". */
export function cleanPath(p: string): string {
  if (p === '') return '';
  const abs = posix.resolve('/', p);
  if (p.startsWith('/')) return abs;
  const rel = abs.slice(1);
  return rel === '' ? '.' : rel;
}

/** /proc/<pid>/cgroup content -> hierarchy key -> path ("0::/x" is the key "unified"). */
export function parseProcCgroup(content: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of content.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const ctrls = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (ctrls === '') m.set('unified', path);
    else for (const c of ctrls.split(',')) m.set(c, path);
  }
  return m;
}

export interface ResolveOptions {
  systemd: boolean;
  /** Content of /proc/self/cgroup (tests); read from /proc when absent and needed. */
  ownCgroup?: string;
  /** Mode override (tests); detectMode() when absent. */
  mode?: CgroupMode;
  /** systemd driver: a rootless container's unit belongs to the user's systemd instance. */
  rootless?: boolean;
  /** systemd driver, rootless: the user manager's own cgroup (its ControlGroup property). */
  managerCgroup?: string;
}

/**
 * runc's rules. cgroupfs driver: an absolute cgroupsPath is used as is in every hierarchy; a relative
 * one (and the default, which is the container id) is relative to the caller's own cgroup in each
 * v1 hierarchy, and to the parent of the caller's cgroup on a unified host. systemd driver
 * ("slice:prefix:name", default "system.slice:runc:<id>"): the transient unit systemd makes
 * (systemd/scope.ts), whose cgroup is /system.slice/prefix-name.scope.
 */
export function resolveCgroup(cgroupsPath: string | undefined, id: string, opts: ResolveOptions): CgroupHandle {
  const mode = opts.mode ?? detectMode();
  if (opts.systemd) {
    const place = systemdPlace(cgroupsPath, id, opts.rootless === true);
    const h: CgroupHandle = { path: unitCgroupPath(place, opts.managerCgroup), systemd: true, unit: place.unit, slice: place.slice, mode };
    if (opts.rootless) h.userBus = true;
    return h;
  }

  const inner = cleanPath(cgroupsPath || id);
  if (inner === '/' || inner === '.') {
    throw new CgroupError(`cgroupsPath ${JSON.stringify(cgroupsPath ?? id)}: names ${inner === '/' ? 'the root cgroup' : "the caller's own cgroup"}`);
  }
  if (inner.startsWith('/')) return { path: inner, systemd: false, mode };

  const own = parseProcCgroup(opts.ownCgroup ?? fs.readFileSync('/proc/self/cgroup', 'utf8'));
  if (mode === 'unified') {
    // runc (fs2): the caller's cgroup most probably has processes, so use its parent.
    return { path: posix.join(posix.dirname(own.get('unified') ?? '/'), inner), systemd: false, mode };
  }
  const keys: string[] = [...V1_HIERARCHIES];
  if (mode === 'hybrid') keys.push('unified');
  const resolved = keys.map((k) => [k, posix.join(own.get(k) ?? '/', inner)] as const);
  const primaryKey = mode === 'hybrid' ? 'unified' : 'devices';
  const path = resolved.find(([k]) => k === primaryKey)![1];
  const h: CgroupHandle = { path, systemd: false, mode };
  const differing = resolved.filter(([, p]) => p !== path);
  if (differing.length > 0) h.paths = Object.fromEntries(differing);
  return h;
}

export function pathIn(h: CgroupHandle, key: string): string {
  return h.paths?.[key] ?? h.path;
}

/** Absolute directories of one cgroup on this host. */
export interface Layout {
  mode: CgroupMode;
  /** v1 hierarchy key -> [mount point, cgroup directory], only for hierarchies mounted here. */
  v1: Map<string, { mount: string; dir: string }>;
  /** The cgroup2 mount and this cgroup's directory in it (unified and hybrid). */
  v2?: { mount: string; dir: string };
}

export function layout(h: CgroupHandle): Layout {
  const root = cgroupRoot();
  const mode = h.mode ?? detectMode();
  const l: Layout = { mode, v1: new Map() };
  if (mode === 'unified') {
    l.v2 = { mount: root, dir: join(root, h.path) };
    return l;
  }
  const mounts = v1Mounts(root);
  for (const key of V1_HIERARCHIES) {
    const mount = mounts.get(key);
    if (mount) l.v1.set(key, { mount, dir: join(mount, pathIn(h, key)) });
  }
  if (mode === 'hybrid') {
    const mount = join(root, 'unified');
    l.v2 = { mount, dir: join(mount, pathIn(h, 'unified')) };
  }
  return l;
}

let v1MountCache: { root: string; mounts: Map<string, string> } | undefined;

/**
 * v1 hierarchy key -> its mount point. On the host, from the mount table: other software may
 * leave plain directories (hugetlb, net_cls, ...) on the cgroup tmpfs for controllers that are
 * not mounted, and those are no hierarchy. A test double tree (TSRUN_CGROUP_ROOT) has no mounts:
 * there a directory stands for a hierarchy.
 */
function v1Mounts(root: string): Map<string, string> {
  if (v1MountCache?.root === root) return v1MountCache.mounts;
  const mounts = new Map<string, string>();
  if (root === DEFAULT_ROOT) {
    const known = new Set<string>(V1_HIERARCHIES);
    for (const m of hostCgroupMounts()) {
      if (m.version !== 1 || posix.dirname(m.mountPoint) !== root) continue;
      for (const opt of m.options.split(',')) if (known.has(opt) && !mounts.has(opt)) mounts.set(opt, m.mountPoint);
    }
  } else {
    for (const key of V1_HIERARCHIES) {
      const mount = join(root, hierarchyDirName(key));
      if (fs.existsSync(mount)) mounts.set(key, mount);
    }
  }
  v1MountCache = { root, mounts };
  return mounts;
}

/** Every directory from just below mount down to dir (mount excluded), top first. */
export function levels(mount: string, dir: string): string[] {
  const out: string[] = [];
  let d = dir;
  while (d.length > mount.length && d.startsWith(mount)) {
    out.unshift(d);
    d = posix.dirname(d);
  }
  return out;
}
