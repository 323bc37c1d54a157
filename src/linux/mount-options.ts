// Splits an OCI mount's `options` into mount(2) flags, propagation, mount_setattr and fs data.
import { MOUNT_ATTR, MS } from './constants.js';

export interface ParsedMountOptions {
  /** Flags for the mount(2) call itself (and for a bind remount). */
  flags: number;
  /** Flags that a mount(2) call clears (e.g. `rw`, `suid`): only matter for a remount. */
  cleared: number;
  /** Propagation flags, each applied with its own mount(2) call, in order. */
  propagation: number[];
  /** Recursive attributes (rro, rnosuid, ...) for mount_setattr(AT_RECURSIVE). */
  attrSet: number;
  attrClr: number;
  /** Everything that is not a flag: the filesystem's data string. */
  data: string[];
  idmap: 'none' | 'idmap' | 'ridmap';
  /** tmpcopyup: the new tmpfs starts with the contents of the directory it covers. */
  copyUp: boolean;
}

const SET: Record<string, number> = {
  defaults: 0,
  ro: MS.RDONLY,
  nosuid: MS.NOSUID,
  nodev: MS.NODEV,
  noexec: MS.NOEXEC,
  sync: MS.SYNCHRONOUS,
  remount: MS.REMOUNT,
  mand: MS.MANDLOCK,
  dirsync: MS.DIRSYNC,
  nosymfollow: MS.NOSYMFOLLOW,
  noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME,
  bind: MS.BIND,
  rbind: MS.BIND | MS.REC,
  silent: MS.SILENT,
  relatime: MS.RELATIME,
  iversion: MS.I_VERSION,
  strictatime: MS.STRICTATIME,
  lazytime: MS.LAZYTIME,
};

const CLEAR: Record<string, number> = {
  rw: MS.RDONLY,
  suid: MS.NOSUID,
  dev: MS.NODEV,
  exec: MS.NOEXEC,
  async: MS.SYNCHRONOUS,
  nomand: MS.MANDLOCK,
  atime: MS.NOATIME,
  diratime: MS.NODIRATIME,
  norelatime: MS.RELATIME,
  nostrictatime: MS.STRICTATIME,
  loud: MS.SILENT,
  noiversion: MS.I_VERSION,
  nolazytime: MS.LAZYTIME,
  symfollow: MS.NOSYMFOLLOW,
};

const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

const RECURSIVE: Record<string, [set: number, clr: number]> = {
  rro: [MOUNT_ATTR.RDONLY, 0],
  rrw: [0, MOUNT_ATTR.RDONLY],
  rnosuid: [MOUNT_ATTR.NOSUID, 0],
  rsuid: [0, MOUNT_ATTR.NOSUID],
  rnodev: [MOUNT_ATTR.NODEV, 0],
  rdev: [0, MOUNT_ATTR.NODEV],
  rnoexec: [MOUNT_ATTR.NOEXEC, 0],
  rexec: [0, MOUNT_ATTR.NOEXEC],
  rnodiratime: [MOUNT_ATTR.NODIRATIME, 0],
  rdiratime: [0, MOUNT_ATTR.NODIRATIME],
  // The kernel changes the atime mode only as a whole (clear all of _ATIME, set one mode), so
  // the "no" forms pick the mode they fall back to: relatime is the kernel's default.
  rrelatime: [MOUNT_ATTR.RELATIME, MOUNT_ATTR._ATIME],
  rnorelatime: [MOUNT_ATTR.STRICTATIME, MOUNT_ATTR._ATIME],
  rnoatime: [MOUNT_ATTR.NOATIME, MOUNT_ATTR._ATIME],
  ratime: [MOUNT_ATTR.RELATIME, MOUNT_ATTR._ATIME],
  rstrictatime: [MOUNT_ATTR.STRICTATIME, MOUNT_ATTR._ATIME],
  rnostrictatime: [MOUNT_ATTR.RELATIME, MOUNT_ATTR._ATIME],
  rnosymfollow: [MOUNT_ATTR.NOSYMFOLLOW, 0],
  rsymfollow: [0, MOUNT_ATTR.NOSYMFOLLOW],
};

/** Every option name the mount code understands (for the features document). */
export const KNOWN_MOUNT_OPTIONS: readonly string[] = [
  ...Object.keys(SET),
  ...Object.keys(CLEAR),
  ...Object.keys(PROPAGATION),
  ...Object.keys(RECURSIVE),
  'idmap',
  'ridmap',
  'tmpcopyup',
];

export function parseMountOptions(options: readonly string[] = []): ParsedMountOptions {
  const r: ParsedMountOptions = {
    flags: 0,
    cleared: 0,
    propagation: [],
    attrSet: 0,
    attrClr: 0,
    data: [],
    idmap: 'none',
    copyUp: false,
  };
  for (const o of options) {
    const set = SET[o];
    const clr = CLEAR[o];
    const prop = PROPAGATION[o];
    const rec = RECURSIVE[o];
    if (set !== undefined) {
      r.flags |= set;
      r.cleared &= ~set;
    } else if (clr !== undefined) {
      r.flags &= ~clr;
      r.cleared |= clr;
    } else if (prop !== undefined) r.propagation.push(prop);
    else if (rec) {
      r.attrSet = (r.attrSet & ~rec[1]) | rec[0];
      r.attrClr |= rec[1];
    } else if (o === 'idmap' || o === 'ridmap') r.idmap = o;
    else if (o === 'tmpcopyup') r.copyUp = true;
    else r.data.push(o);
  }
  return r;
}
