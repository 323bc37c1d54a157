// CRIU restores into a root that must be a mount point whose parent is not overmounted: like
// runc, the rootfs is bind-mounted (recursively) for the restore, but beside the container's
// state directory rather than in it (<root>/.criu-root.<id>): a restore killed midway leaves
// that mount, and a later `delete --force` removing the state directory recursively would
// then remove the rootfs's files through it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { koffi } from '../native/koffi.js';
import { errnoName } from '../native/native.js';
import { TsrunError } from '../errors.js';

export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MNT_DETACH = 2;

let libc: { mount: (...a: unknown[]) => number; umount2: (...a: unknown[]) => number } | undefined;

export function libcMount() {
  if (libc) return libc;
  const lib = koffi().load('libc.so.6');
  libc = {
    mount: lib.func('int mount(const char *src, const char *dst, const char *type, unsigned long flags, const char *data)') as never,
    umount2: lib.func('int umount2(const char *target, int flags)') as never,
  };
  return libc;
}

/** Binds rootfs on <stateRoot>/.criu-root.<id>; returns it and its undo (lazy unmount, rmdir). */
export function mountCriuRoot(rootfs: string, stateRoot: string, id: string): { root: string; release: () => void } {
  const root = path.join(stateRoot, `.criu-root.${id}`);
  try {
    // A leftover of a restore that was killed: unmount and reuse it.
    libcMount().umount2(root, MNT_DETACH);
    fs.rmdirSync(root);
  } catch {
    /* none */
  }
  fs.mkdirSync(root, { mode: 0o755 });
  if (libcMount().mount(rootfs, root, null, MS_BIND | MS_REC, null) < 0) {
    const e = koffi().errno();
    fs.rmdirSync(root);
    throw new TsrunError(`bind-mount the rootfs ${rootfs} on ${root} for CRIU: ${errnoName(e)}`);
  }
  return {
    root,
    release: () => {
      libcMount().umount2(root, MNT_DETACH);
      try {
        fs.rmdirSync(root);
      } catch {
        /* the state directory goes anyway */
      }
    },
  };
}
