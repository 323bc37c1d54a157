// Where the bench finds its tools and keeps its scratch files.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sampleBundle = join(repoRoot, 'bundles', 'busybox');
export const sampleRootfs = join(sampleBundle, 'rootfs');

export function benchExec(): string {
  return process.env.BENCH_EXEC ?? join(repoRoot, 'build', 'bench', 'bench-exec');
}

/** An empty program compiled with tsrun's bun flags (`make build/bench/bun-floor`). */
export function benchFloor(): string {
  return process.env.BENCH_FLOOR ?? join(repoRoot, 'build', 'bench', 'bun-floor');
}

let work: string | undefined;

/** The run's scratch dir: bundles, --root dirs, result files. */
export function workDir(): string {
  if (work === undefined) {
    work = mkdtempSync(join(tmpdir(), 'tsrun-bench-'));
    mkdirSync(join(work, 'tmp'));
  }
  return work;
}
