// The host's mount table, as the rootfs plan needs it: whole procfs and sysfs mounts (--no-pivot
// hides them) and the mount that holds the rootfs (made private before pivot_root, as runc does).
import * as fs from 'node:fs';

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/**
 * Mount points of whole procfs and sysfs mounts (their root is the filesystem's root), in
 * mountinfo order: what the kernel counts as "fully visible" when a container mounts proc or sysfs.
 */
export function hostProcSysMounts(mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const f = pre.split(' ');
    const fstype = post.split(' ')[0];
    if (f[3] !== '/' || (fstype !== 'proc' && fstype !== 'sysfs')) continue;
    out.push(unescape(f[4] ?? ''));
  }
  return out;
}

/** The mount point of the mount that holds `target` (symlinks resolved): the longest mount point above it. */
export function mountPointOf(target: string, mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): string {
  let path = target;
  try {
    path = fs.realpathSync(target);
  } catch {
    // a missing rootfs fails later with its own error
  }
  let best = '/';
  for (const line of mountinfo.split('\n')) {
    const mp = unescape(line.split(' ')[4] ?? '');
    if (!mp.startsWith('/')) continue;
    const inside = mp === '/' || path === mp || path.startsWith(`${mp}/`);
    if (inside && mp.length > best.length) best = mp;
  }
  return best;
}
