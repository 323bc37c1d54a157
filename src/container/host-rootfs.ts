// A container without a mount namespace runs in the caller's (config-linux.md: a namespace that
// is not listed is inherited). Its rootfs bind mount, and every mount of the config under it,
// then live in the caller's mount namespace. runc leaves them there when the container is
// gone; tsrun detaches them at delete, and when create fails.
import { fs } from '../io.js';
import type { Native } from '../native/native.js';

const MNT_DETACH = 2;
/** More stacked mounts than this at one path is not something create made. */
const MAX_STACK = 64;

/** What delete needs: the rootfs path and the ids of mounts that were at it before create. */
export interface HostRootfs {
  path: string;
  keep: number[];
}

/** The ids of the mounts at `target` (mount point exactly), in /proc/self/mountinfo order. */
export function mountIdsAt(target: string, mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): number[] {
  const ids: number[] = [];
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    if (unescapeMountinfo(f[4]!) === target) ids.push(Number(f[0]));
  }
  return ids;
}

function unescapeMountinfo(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Called before create: `rootfs` resolved as the kernel shows it, and what is mounted there already. */
export function hostRootfsBefore(rootfs: string): HostRootfs {
  const real = fs.realpathSync(rootfs);
  return { path: real, keep: mountIdsAt(real) };
}

/** Detaches the mounts create stacked on the rootfs (each with everything under it). */
export function unmountHostRootfs(native: Native, h: HostRootfs): void {
  for (let i = 0; i < MAX_STACK; i++) {
    const ours = mountIdsAt(h.path).filter((id) => !h.keep.includes(id));
    if (!ours.length) return;
    native.umount2(h.path, MNT_DETACH);
  }
}
