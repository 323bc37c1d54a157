// The host's whole procfs and sysfs mounts, read from the mount table (--no-pivot hides them).
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
