// Host clean-up for the daemons' tests: what a daemon leaves that is not about
// the runtime (parent cgroups it made, mounts under its temp dir).
import { readFileSync, readdirSync, rmdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** A host file's text, trimmed, or a note saying why it could not be read (for assertions). */
export function readHostFile(p: string): string {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch (e) {
    return `(unreadable: ${(e as Error).message})`;
  }
}

/** /sys/fs/cgroup/<hierarchy>/<rel> for every hierarchy where it exists. */
export function cgroupDirs(rel: string): string[] {
  // A pure cgroup v2 host: one hierarchy at the root.
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) return existsSync(join('/sys/fs/cgroup', rel)) ? [join('/sys/fs/cgroup', rel)] : [];
  const out: string[] = [];
  for (const h of readdirSync('/sys/fs/cgroup')) {
    const p = join('/sys/fs/cgroup', h, rel);
    if (existsSync(p)) out.push(p);
  }
  return out;
}

/** Removes the (empty) parent cgroups a daemon made for its containers, e.g. /<namespace> or /docker. */
export function removeEmptyCgroups(rel: string): void {
  for (const d of cgroupDirs(rel)) {
    try {
      rmdirSync(d);
    } catch {
      // still in use, or removed already
    }
  }
}

/** Lazily unmounts everything mounted at or under dir (deepest first). */
export function unmountUnder(dir: string): void {
  const points: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4]?.replace(/\\040/g, ' ');
    if (mp && (mp === dir || mp.startsWith(dir + '/'))) points.push(mp);
  }
  for (const p of points.sort((a, b) => b.length - a.length)) spawnSync('umount', ['-l', p], { stdio: 'ignore' });
}

/**
 * Remembers which of `dirs` do not exist yet; the returned function removes
 * those of them that exist by then and are empty (deepest first), i.e. the
 * host dirs a daemon made only because the test ran it.
 */
export function removeLaterIfMadeNow(dirs: string[]): () => void {
  const missing = dirs.filter((d) => !existsSync(d)).sort((a, b) => b.length - a.length);
  return () => {
    for (const d of missing) {
      try {
        rmdirSync(d);
      } catch {
        // not there, or not empty
      }
    }
  };
}
