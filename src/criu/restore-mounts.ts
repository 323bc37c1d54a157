// Before CRIU restores, the rootfs gets the mount points the container's mounts need, as create
// made them (runc's prepareCriuRestoreMounts): a rootfs may be new, or a bind source emptied
// since, and CRIU mounts only where a mount point exists. A bind mount is bound for the
// moment, so that mount points of mounts nested in it are made in its source; those temporary
// binds are undone at once. Mount points on a tmpfs are left alone: CRIU restores the tmpfs'
// content itself.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Mount } from '../spec/types.js';
import { koffi } from '../native/koffi.js';
import { errnoName } from '../native/native.js';
import { TsrunError } from '../errors.js';
import { isBind } from './externals.js';
import { resolveInRoot } from './in-root.js';
import { MNT_DETACH, MS_BIND, MS_REC, libcMount } from './root-mount.js';

const onTmpfs = (dest: string, mounts: readonly Mount[]) =>
  mounts.some((m) => m.type === 'tmpfs' && dest.startsWith(`${path.posix.resolve('/', m.destination)}/`));

export function prepareRestoreMounts(rootfs: string, bundle: string, mounts: readonly Mount[]): void {
  const binds: string[] = [];
  try {
    for (const m of mounts) {
      if (m.type === 'cgroup') continue;
      const dest = path.posix.resolve('/', m.destination);
      if (onTmpfs(dest, mounts)) continue;
      const host = path.join(rootfs, resolveInRoot(rootfs, dest));
      const source = m.source ? path.resolve(bundle, m.source) : undefined;
      const fileBind = isBind(m) && source !== undefined && fs.existsSync(source) && !fs.statSync(source).isDirectory();
      try {
        if (fileBind) {
          fs.mkdirSync(path.dirname(host), { recursive: true, mode: 0o755 });
          if (!fs.existsSync(host)) fs.writeFileSync(host, '', { mode: 0o644 });
        } else fs.mkdirSync(host, { recursive: true, mode: 0o755 });
      } catch (e) {
        throw new TsrunError(`create the mount point ${dest} in the rootfs for restore: ${(e as Error).message}`);
      }
      if (isBind(m) && source !== undefined) {
        if (libcMount().mount(source, host, null, MS_BIND | MS_REC, null) < 0) {
          throw new TsrunError(`bind-mount ${source} on ${host} for restore: ${errnoName(koffi().errno())}`);
        }
        binds.push(host);
      }
    }
  } finally {
    for (const h of binds.reverse()) libcMount().umount2(h, MNT_DETACH);
  }
}
