// The three runtimes compared, each with its own --root under the scratch dir, each run from a
// fresh copy of its executable (see stage()).
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { benchFloor, repoRoot, workDir } from './paths.js';

export interface Runtime {
  name: string;
  bin: string;
  /** Run in a mount namespace without /sys/fs/cgroup/unified (crun on this hybrid host). */
  hideCgroup2: boolean;
  root: string;
}

export const RUNTIME_NAMES = ['tsrun', 'runc', 'crun'] as const;

function which(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const p = r.stdout.trim();
  if (r.status !== 0 || !p) throw new Error(`${name} not found on PATH (bench/run.sh installs it)`);
  return p;
}

/** crun 1.8 refuses hybrid hosts: a cgroup2 mount at /sys/fs/cgroup/unified next to v1 controllers. */
function hybridHost(): boolean {
  try {
    const mi = spawnSync('cat', ['/proc/self/mountinfo'], { encoding: 'utf8' }).stdout;
    return mi.split('\n').some((l) => l.split(' ')[4] === '/sys/fs/cgroup/unified');
  } catch {
    return false;
  }
}

/** tsrun's support files: lib/tsrun beside the executable, or ../lib/tsrun (make install). */
function tsrunLibDir(bin: string): string {
  const candidates = [join(dirname(bin), 'lib', 'tsrun'), join(dirname(bin), '..', 'lib', 'tsrun')];
  const found = candidates.find((d) => existsSync(join(d, 'tsrun-init')));
  if (!found) throw new Error(`no lib/tsrun beside ${bin} (make build)`);
  return found;
}

/**
 * A fresh copy of an executable in the scratch dir. How fast a large executable starts depends
 * on how its pages sit in the page cache: a freshly written file is cached in large folios; one
 * whose pages were reclaimed and faulted back in is cached page by page, and mapping those
 * costs tsrun's 100 MB bun executable up to 1 ms more per start (measured here; runc ~0.4 ms).
 * Copying all three the same way gives them the same start.
 */
export function stage(name: string, bin: string): string {
  const dir = join(workDir(), `bin-${name}`);
  mkdirSync(dir, { recursive: true });
  const copy = join(dir, basename(bin));
  copyFileSync(bin, copy);
  if (name === 'tsrun') cpSync(tsrunLibDir(bin), join(dir, 'lib', 'tsrun'), { recursive: true });
  return copy;
}

export function makeRuntimes(names: readonly string[]): Runtime[] {
  const hybrid = hybridHost();
  return names.map((name) => {
    const bin = stage(name, name === 'tsrun' ? (process.env.TSRUN ?? join(repoRoot, 'build', 'tsrun')) : which(name));
    const root = join(workDir(), `root-${name}`);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    return { name, bin, hideCgroup2: name === 'crun' && hybrid, root };
  });
}

/** An empty program compiled like tsrun (tsrun's floor), staged like the runtimes. */
export function floorRuntime(tsrun: Runtime): Runtime {
  return { ...tsrun, name: 'tsrun', bin: stage('floor', benchFloor()) };
}

export function versionOf(rt: Runtime): string {
  const r = spawnSync(rt.bin, ['--version'], { encoding: 'utf8' });
  const lines = (r.stdout || r.stderr).split('\n').filter((l) => l.trim() !== '');
  const first = lines[0] ?? '?';
  const commit = lines.find((l) => /^commit:/i.test(l));
  return commit && rt.name === 'tsrun' ? `${first} (${commit.trim()})` : first;
}

/** The runtimes in a different order for each iteration, so none always runs first or last. */
export function rotate<T>(xs: readonly T[], i: number): T[] {
  const k = i % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}
