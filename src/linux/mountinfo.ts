// The host's cgroup hierarchies, read from /proc/self/mountinfo.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface HostCgroupMount {
  /** Directory name under /sys/fs/cgroup (cpu, memory, systemd, unified, ...). */
  name: string;
  mountPoint: string;
  version: 1 | 2;
  /** The controller options to mount it again (e.g. "cpu", "name=systemd"). */
  options: string;
}

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

export function hostCgroupMounts(mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): HostCgroupMount[] {
  const out: HostCgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const mountPoint = pre.split(' ')[4] ?? '';
    const [fstype, , superOpts = ''] = post.split(' ');
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    if (!mountPoint.startsWith('/sys/fs/cgroup')) continue;
    const options = superOpts
      .split(',')
      .filter((o) => o !== 'rw' && o !== 'ro' && !o.startsWith('nsdelegate') && !o.startsWith('memory_'))
      .join(',');
    out.push({ name: path.basename(mountPoint), mountPoint, version: fstype === 'cgroup2' ? 2 : 1, options });
  }
  return out;
}
