// runc adds HOME to the process environment when the config does not set it: the user's home
// directory from the container's /etc/passwd, or "/".
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Process } from '../spec/types.js';

/** The file inside the rootfs, or undefined when it is missing or a link leads out of it. */
function readInRoot(rootfs: string, file: string): string | undefined {
  try {
    const real = fs.realpathSync(path.join(rootfs, file));
    const root = fs.realpathSync(rootfs);
    if (real !== root && !real.startsWith(root + '/')) return undefined;
    return fs.readFileSync(real, 'utf8');
  } catch {
    return undefined;
  }
}

export function homeOf(rootfs: string, uid: number): string {
  const passwd = readInRoot(rootfs, 'etc/passwd') ?? '';
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 6 && Number(f[2]) === uid && f[2] !== '') return f[5] || '/';
  }
  return '/';
}

export function withHome(p: Process, rootfs: string): Process {
  const env = p.env ?? [];
  if (env.some((e) => e.startsWith('HOME='))) return p;
  return { ...p, env: [...env, `HOME=${homeOf(rootfs, p.user.uid)}`] };
}
