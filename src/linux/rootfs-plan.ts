// The container's filesystem: propagation, the config's mounts, /dev, pivot_root, masked and
// read-only paths — in runc's order (libcontainer/rootfs_linux.go).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Device, Mount, Spec } from '../spec/types.js';
import type { PlanOp } from '../native/plan.js';
import { F_HOST, F_NO_SYMLINKS, F_OPTIONAL, Op } from '../native/ops.js';
import { MS, S_IF, makedev } from './constants.js';
import { parseMountOptions } from './mount-options.js';
import { withMountLabel } from './lsm.js';
import { isBind } from '../spec/semantics.js';
import type { HostCgroupMount } from '../cgroups/mounts.js';
import type { HostFacts } from './host-facts.js';

const MNT_DETACH = 2;

export interface RootfsContext {
  /** What the plan needs to know of the host (host-facts.ts). */
  host: HostFacts;
  rootfs: string;
  bundle: string;
  noPivot: boolean;
  /**
   * No mount namespace: the container runs in the caller's (runc does too). The host's / keeps
   * its propagation, the rootfs bind is made private so that nothing mounted under it reaches
   * other namespaces, and the init chroots instead of pivot_root (delete detaches the bind).
   */
  callerMountNs?: boolean;
  /** The container gets a user namespace: devices are bind-mounted, not created with mknod. */
  userns: boolean;
  /** The container gets its own cgroup namespace. */
  cgroupns: boolean;
  /** A mount of the config binds the host's /sys recursively (set by the plan itself). */
  hostSysBound?: boolean;
  /** The host directory of the container's cgroup in a hierarchy (for cgroup bind mounts). */
  cgroupDir: (h: HostCgroupMount) => string | undefined;
  /** fd (in tsrun-init) of a user namespace holding an idmapped mount's mappings. */
  idmapFd?: (m: Mount) => number | undefined;
  /** linux.mountLabel (SELinux): a context= option of the mounts that take one. */
  mountLabel?: string;
  /** The slot of a bind mount's source cloned by OPEN_TREE before the user namespace (planBindTrees). */
  treeSlot?: (m: Mount) => number | undefined;
}

const MAX_TREES = 256;

/**
 * Bind sources cloned (OPEN_TREE) while tsrun-init still has the host's credentials, before it
 * enters a new user namespace whose root could not reach them (a 0700 directory of the host's
 * root): runc opens the sources before the user namespace, too. Idmapped mounts have their own way.
 */
export function planBindTrees(spec: Spec, bundle: string, host: HostFacts): { ops: PlanOp[]; slotOf: Map<Mount, number> } {
  const ops: PlanOp[] = [];
  const slotOf = new Map<Mount, number>();
  for (const m of spec.mounts ?? []) {
    if (!isBind(m) || slotOf.size >= MAX_TREES) continue;
    const o = parseMountOptions(m.options);
    if (o.idmap !== 'none') continue;
    const src = path.resolve(bundle, m.source ?? '');
    if (host.pathKind(src) === 'missing') continue; // gone since the judge: its mount fails, naming it
    slotOf.set(m, slotOf.size);
    ops.push({ op: Op.OPEN_TREE, flags: F_HOST, ints: [slotOf.size - 1, o.flags & MS.REC ? 1 : 0], strs: [src], what: `open the bind source "${src}"` });
  }
  return { ops, slotOf };
}

const DEFAULT_DEVICES: Device[] = [
  { type: 'c', path: '/dev/null', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/zero', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/full', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/random', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/urandom', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { type: 'c', path: '/dev/tty', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

const PROPAGATION_FLAGS: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/** linux.rootfsPropagation (the schema's enum) as mount flags; the default is rslave. */
export function rootPropagationFlag(p: string | undefined): number {
  return p ? PROPAGATION_FLAGS[p]! : MS.SLAVE | MS.REC;
}

/**
 * Propagation of the host's tree in the new mount namespace while the rootfs is prepared, as
 * runc's prepareRoot sets it: as given (so a shared volume stays a peer of the host's mount and
 * bidirectional volumes work), but an unbindable tree could not be bound, so that one is applied
 * to / only after pivot_root (planMaskedReadonly).
 */
function setupPropagation(p: string | undefined): number {
  const f = rootPropagationFlag(p);
  return f & MS.UNBINDABLE ? MS.SLAVE | MS.REC : f;
}

export function planRootfs(spec: Spec, ctx: RootfsContext, hooksSync: PlanOp[]): PlanOp[] {
  const ops: PlanOp[] = [];
  if (!ctx.callerMountNs) {
    const rootProp = setupPropagation(spec.linux?.rootfsPropagation);
    ops.push({ op: Op.MOUNT, flags: F_HOST, ints: [rootProp, 0, 0], strs: ['', '/', '', ''], what: 'set the propagation of /' });
    // runc's rootfsParentMountPrivate: nothing bound under the rootfs reaches other namespaces,
    // and pivot_root accepts the tree when the propagation asked for is shared.
    const parent = ctx.host.mountPointOf(ctx.rootfs);
    ops.push({ op: Op.MOUNT, flags: F_HOST, ints: [MS.PRIVATE, 0, 0], strs: ['', parent, '', ''], what: `make the mount ${parent} that holds the rootfs private` });
  }
  ops.push({ op: Op.MOUNT, flags: F_HOST, ints: [MS.BIND | MS.REC, 0, 0], strs: [ctx.rootfs, ctx.rootfs, '', ''], what: `bind-mount the rootfs ${ctx.rootfs}` });
  if (ctx.callerMountNs) {
    ops.push({ op: Op.MOUNT, flags: F_HOST, ints: [MS.PRIVATE | MS.REC, 0, 0], strs: ['', ctx.rootfs, '', ''], what: `make the rootfs ${ctx.rootfs} private` });
  }
  ops.push({ op: Op.ROOTFS, strs: [ctx.rootfs], what: `open the rootfs ${ctx.rootfs}` });

  const mounts = spec.mounts ?? [];
  // runc's rootless spec binds the host's /sys recursively: its cgroup2 submount is then in the
  // way of a new cgroup2 mount (EBUSY), and runc falls back to binding the container's cgroup.
  const sysFromHost = mounts.some((m) => path.posix.normalize(m.destination) === '/sys' && isBind(m) && (m.options ?? []).includes('rbind'));
  const mountCtx = sysFromHost ? { ...ctx, hostSysBound: true } : ctx;
  for (const m of mounts) ops.push(...planMount(m, mountCtx));

  const devBound = mounts.some((m) => path.posix.normalize(m.destination) === '/dev' && isBind(m));
  if (!devBound) {
    const devices = [...DEFAULT_DEVICES];
    for (const d of spec.linux?.devices ?? []) {
      const i = devices.findIndex((x) => x.path === d.path);
      if (i >= 0) devices.splice(i, 1);
      devices.push(d);
    }
    for (const d of devices) ops.push(planDevice(d, ctx.userns));
    ops.push({ op: Op.SYMLINK, strs: ['pts/ptmx', '/dev/ptmx'], what: 'create /dev/ptmx' });
    for (const [target, link] of [
      ['/proc/self/fd', '/dev/fd'],
      ['/proc/self/fd/0', '/dev/stdin'],
      ['/proc/self/fd/1', '/dev/stdout'],
      ['/proc/self/fd/2', '/dev/stderr'],
    ] as const) {
      ops.push({ op: Op.SYMLINK, strs: [target, link], what: `create ${link}` });
    }
    if (ctx.host.kcore) ops.push({ op: Op.SYMLINK, strs: ['/proc/kcore', '/dev/core'], what: 'create /dev/core' });
  }

  const cwd = spec.process?.cwd;
  if (cwd) ops.push({ op: Op.MKDIR, ints: [0o755], strs: [cwd], what: `create the working directory ${cwd}` });

  ops.push(...hooksSync);

  // The caller's mount namespace: its / must stay where it is (no pivot_root, no MS_MOVE).
  if (ctx.callerMountNs) ops.push({ op: Op.MOVE_ROOT, ints: [1], what: `chroot to ${ctx.rootfs} (no mount namespace)` });
  else if (ctx.noPivot) {
    // After chroot the host's /proc and /sys stay in the mount namespace, and the kernel lets a
    // process mount a fresh proc or sysfs while a full one is there: they go first (runc's
    // msMoveRoot; the tree is a slave, so the host keeps them).
    const root = ctx.rootfs.replace(/\/+$/, '');
    for (const mp of ctx.host.procSysMounts) {
      if (mp === root || mp.startsWith(root + '/')) continue;
      ops.push({ op: Op.UMOUNT, flags: F_HOST | F_OPTIONAL, ints: [MNT_DETACH, 1], strs: [mp], what: `hide the host's "${mp}" (--no-pivot)` });
    }
    ops.push({ op: Op.MOVE_ROOT, what: 'move the rootfs to / (--no-pivot)' });
  }
  else ops.push({ op: Op.PIVOT_ROOT, what: `pivot_root to ${ctx.rootfs}` });
  return ops;
}

/**
 * A tmpfs or /dev mounted read-only at once would refuse what comes after it (devices, devpts,
 * mounts below it, a chmod): like runc, it is mounted writable and made read-only after pivot_root.
 */
function readonlyLater(m: Mount): boolean {
  return !isBind(m) && (m.type === 'tmpfs' || path.posix.normalize(m.destination) === '/dev') && !(parseMountOptions(m.options).flags & MS.REMOUNT);
}

/** After pivot_root: deferred read-only tmpfs and /dev mounts, then the root read-only if asked. */
export function planRootfsFinal(spec: Spec): PlanOp[] {
  const ops: PlanOp[] = [];
  for (const m of spec.mounts ?? []) {
    if (!readonlyLater(m)) continue;
    const dest = path.posix.normalize(m.destination);
    const o = parseMountOptions(m.options);
    if (o.flags & MS.RDONLY) {
      ops.push({ op: Op.MOUNT, flags: F_HOST, ints: [MS.REMOUNT | MS.RDONLY | mountFlags(m), 0, 0], strs: ['', dest, '', ''], what: `remount "${dest}" read-only` });
    }
    if (o.attrSet || o.attrClr) {
      ops.push({ op: Op.MOUNT_SETATTR, flags: F_HOST, ints: [o.attrSet, o.attrClr, 0, 1], strs: [dest], what: `set attributes of "${dest}"` });
    }
  }
  if (spec.root?.readonly) {
    ops.push({ op: Op.MOUNT, flags: F_HOST, ints: [MS.BIND | MS.REMOUNT | MS.RDONLY, 0, 0], strs: ['', '/', '', ''], what: 'remount the root read-only' });
  }
  return ops;
}

/** Masked and read-only paths, then a shared or unbindable root (which would refuse the binds). */
export function planMaskedReadonly(spec: Spec): PlanOp[] {
  const ops: PlanOp[] = [];
  for (const p of spec.linux?.readonlyPaths ?? []) ops.push({ op: Op.READONLY, flags: F_HOST | F_OPTIONAL, strs: [p], what: `make ${p} read-only` });
  for (const p of spec.linux?.maskedPaths ?? []) ops.push({ op: Op.MASK, flags: F_HOST | F_OPTIONAL, strs: [p], what: `mask ${p}` });
  const prop = spec.linux?.rootfsPropagation;
  if (prop && !(rootPropagationFlag(prop) & MS.PRIVATE)) {
    // As runc (after pivot_root, all but private): "shared" makes / shared, "rshared" the whole tree.
    ops.push({ op: Op.MOUNT, flags: F_HOST, ints: [rootPropagationFlag(prop), 0, 0], strs: ['', '/', '', ''], what: `make / ${prop}` });
  }
  return ops;
}

function mountFlags(m: Mount): number {
  return parseMountOptions(m.options).flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
}

function planMount(m: Mount, ctx: RootfsContext): PlanOp[] {
  const o = parseMountOptions(m.options);
  const dest = path.posix.normalize(m.destination);
  const ops: PlanOp[] = [];
  const type = m.type ?? '';
  if (isBind(m)) {
    const src = path.resolve(ctx.bundle, m.source ?? '');
    // the source exists (src/spec/mount-sources.ts); one gone since fails at its mount
    const mk = ctx.host.pathKind(src) === 'dir' ? 1 : 2;
    const bind = MS.BIND | (o.flags & MS.REC);
    if (o.idmap !== 'none') {
      // judged: the mount has its mappings, so a user namespace carries them (-1: the mount fails)
      const fd = ctx.idmapFd?.(m) ?? -1;
      const recursive = o.idmap === 'ridmap' || (o.flags & MS.REC) ? 1 : 0;
      ops.push({ op: Op.IDMAP_MOUNT, ints: [fd, recursive, mk, 0o755], strs: [src, dest], what: `idmapped bind-mount "${src}" on "${dest}"` });
    } else if (ctx.treeSlot?.(m) !== undefined) {
      ops.push({ op: Op.BIND_TREE, ints: [ctx.treeSlot(m)!, mk, 0o755], strs: [dest], what: `bind-mount "${src}" on "${dest}"` });
    } else {
      ops.push({ op: Op.MOUNT, ints: [bind, mk, 0o755], strs: [src, dest, '', ''], what: `bind-mount "${src}" on "${dest}"` });
    }
    const extra = o.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
    if (extra) {
      ops.push({ op: Op.MOUNT, ints: [MS.BIND | MS.REMOUNT | extra, 0, 0], strs: ['', dest, '', ''], what: `remount "${dest}" with its options` });
    }
  } else if (type === 'cgroup') {
    ops.push(...planCgroupMount(m, dest, o.flags, ctx));
  } else if (o.flags & MS.REMOUNT) {
    // Changes the flags of what is already mounted at the destination.
    ops.push({ op: Op.MOUNT, ints: [o.flags, 0, 0], strs: ['', dest, type, o.data.join(',')], what: `remount "${dest}"` });
  } else {
    const later = readonlyLater(m);
    const flags = later ? o.flags & ~MS.RDONLY : o.flags;
    // runc: a tmpfs without mode= takes the mode of the directory it covers (mkkind 3)
    const keepMode = type === 'tmpfs' && !o.copyUp && !o.data.some((d) => d.startsWith('mode='));
    ops.push({
      op: o.copyUp && type === 'tmpfs' ? Op.TMPCOPYUP : Op.MOUNT,
      // runc: procfs and sysfs only on an ordinary directory, never through a symlink
      flags: type === 'proc' || type === 'sysfs' ? F_NO_SYMLINKS : 0,
      ints: [flags, keepMode ? 3 : 1, 0o755],
      strs: [m.source ?? type, dest, type, withMountLabel(type, o.data.join(','), ctx.mountLabel)],
      what: `mount "${type}" on "${dest}"`,
    });
  }
  for (const p of o.propagation) {
    ops.push({ op: Op.MOUNT, ints: [p, 0, 0], strs: ['', dest, '', ''], what: `set propagation of "${dest}"` });
  }
  if ((o.attrSet || o.attrClr) && !readonlyLater(m)) {
    ops.push({ op: Op.MOUNT_SETATTR, ints: [o.attrSet, o.attrClr, 0, 1], strs: [dest], what: `set attributes of "${dest}"` });
  }
  return ops;
}

function planCgroupMount(m: Mount, dest: string, flags: number, ctx: RootfsContext): PlanOp[] {
  const hier = ctx.host.cgroupMounts;
  const ro = flags & MS.RDONLY;
  const ops: PlanOp[] = [];
  const base = flags & ~(MS.RDONLY | MS.REMOUNT);
  const unifiedOnly = hier.length === 1 && hier[0]!.version === 2 && hier[0]!.mountPoint === '/sys/fs/cgroup';
  if (unifiedOnly) {
    if (ctx.cgroupns && !(ctx.userns && ctx.hostSysBound)) {
      ops.push({ op: Op.MOUNT, ints: [flags, 1, 0o755], strs: ['cgroup2', dest, 'cgroup2', ''], what: `mount "cgroup2" on "${dest}"` });
    } else {
      const src = ctx.cgroupDir(hier[0]!);
      if (src) ops.push(...bindCgroup(src, dest, base, ro));
    }
    return ops;
  }
  // v1 or hybrid: a writable tmpfs holding one (read-only) directory per hierarchy, like runc.
  ops.push({ op: Op.MOUNT, ints: [base, 1, 0o755], strs: ['tmpfs', dest, 'tmpfs', 'mode=755'], what: `mount "tmpfs" on "${dest}"` });
  for (const h of hier) {
    // runc leaves the hybrid host's cgroup2 tree out of a v1 container's /sys/fs/cgroup.
    if (h.version === 2) continue;
    const sub = path.posix.join(dest, h.name);
    if (ctx.cgroupns) {
      ops.push({ op: Op.MOUNT, ints: [base | ro, 1, 0o755], strs: ['cgroup', sub, 'cgroup', h.options], what: `mount "cgroup" on "${sub}"` });
    } else {
      const src = ctx.cgroupDir(h);
      if (src && ctx.host.pathKind(src) !== 'missing') ops.push(...bindCgroup(src, sub, base, ro));
    }
  }
  return ops;
}

function bindCgroup(src: string, dest: string, flags: number, ro: number): PlanOp[] {
  return [
    { op: Op.MOUNT, ints: [MS.BIND | MS.REC, 1, 0o755], strs: [src, dest, '', ''], what: `bind-mount "${src}" on "${dest}"` },
    { op: Op.MOUNT, ints: [MS.BIND | MS.REMOUNT | flags | ro, 0, 0], strs: ['', dest, '', ''], what: `remount "${dest}"` },
  ];
}

function planDevice(d: Device, userns: boolean): PlanOp {
  const mode = d.fileMode ?? 0o666;
  if (userns) {
    // mknod is not allowed in a user namespace: bind the host's node instead, as runc does.
    return { op: Op.MOUNT, ints: [MS.BIND, 2, 0o755], strs: [d.path, d.path, '', ''], what: `bind-mount device "${d.path}"` };
  }
  const kind = d.type === 'b' ? S_IF.BLK : d.type === 'p' ? S_IF.FIFO : S_IF.CHR;
  const dev = d.type === 'p' ? 0n : makedev(d.major ?? 0, d.minor ?? 0);
  return {
    op: Op.MKNOD,
    ints: [kind | (mode & 0o7777), dev, d.uid ?? 0, d.gid ?? 0],
    strs: [d.path],
    what: `create device "${d.path}"`,
  };
}

export type { HostCgroupMount };
