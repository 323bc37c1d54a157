// The three runtimes compared, each with its own --root under the scratch dir.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, workDir } from './paths.js';

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

export function makeRuntimes(names: readonly string[]): Runtime[] {
  const hybrid = hybridHost();
  return names.map((name) => {
    const bin = name === 'tsrun' ? (process.env.TSRUN ?? join(repoRoot, 'build', 'tsrun')) : which(name);
    const root = join(workDir(), `root-${name}`);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    return { name, bin, hideCgroup2: name === 'crun' && hybrid, root };
  });
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
