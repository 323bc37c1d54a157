// The host's cgroup hierarchies, read from the mount table (/proc/self/mountinfo): which
// hierarchies exist is what is mounted, never which directories exist under /sys/fs/cgroup.
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
