// A burst: N `run`s of /bin/true started at once (the way a CI runner or a job queue starts
// work on a small machine), each runtime in turn. Wall time until all have finished, the peak
// memory of the batch (its runtime processes run in the bench's memory cgroup and the
// containers' cgroups are made under it: bench/lib/cgroup.ts), failures, and what is left
// behind (state files, cgroups, processes).
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { makeBundle } from '../lib/bundles.js';
import { BenchCgroup } from '../lib/cgroup.js';
import type { Ctx } from '../lib/context.js';
import { cgroupsNamed, processesNamed } from '../lib/host.js';
import { deleteAll, describeFailure, measureAsync, ok } from '../lib/measure.js';
import { rotate, type Runtime } from '../lib/runtimes.js';
import { add, row, type Row } from '../lib/stats.js';
import { listTree } from './batch.js';

export interface BurstRows {
  wall: Row;
  peak: Row;
  failed: Row;
  left: Row;
}

async function burst(ctx: Ctx, rt: Runtime, n: number, cg: BenchCgroup | undefined, rows: BurstRows): Promise<void> {
  const prefix = `burst${Date.now().toString(36)}-`;
  const id = (i: number) => `${prefix}${i}`;
  const bundles = Array.from({ length: n }, (_, i) =>
    makeBundle(`burst-${rt.name}`, ['/bin/true'], (c) => {
      if (cg) c.linux.cgroupsPath = `/${cg.name}/${id(i)}`;
    }));
  cg?.resetPeak();
  const base = cg ? cg.usage() : NaN;
  const t0 = performance.now();
  const samples = await Promise.all(bundles.map((b, i) => measureAsync(rt, ['run', '--bundle', b, id(i)], { cgroupProcs: cg?.procs })));
  const wallMs = performance.now() - t0;
  const peakMiB = cg ? (cg.peak() - base) / 1048576 : NaN;
  for (const b of bundles) rmSync(b, { recursive: true, force: true });
  const failures = samples.filter((s) => !ok(s));
  const leftovers = [
    ...listTree(rt.root).map((p) => `file ${p}`),
    ...cgroupsNamed(prefix).map((p) => `cgroup ${p}`),
    ...processesNamed(prefix).map((p) => `process ${p}`),
  ];
  if (failures.length || leftovers.length) deleteAll(rt);
  add(rows.wall, rt.name, wallMs);
  if (Number.isFinite(peakMiB)) add(rows.peak, rt.name, peakMiB);
  add(rows.failed, rt.name, failures.length);
  add(rows.left, rt.name, leftovers.length);
  if (failures[0]) ctx.problems.push(`${rt.name}: ${failures.length} of ${n} runs of a burst failed; first: ${describeFailure(failures[0])}`);
  if (leftovers.length) ctx.problems.push(`${rt.name}: a burst of ${n} left ${leftovers.length} things behind, e.g. ${leftovers.slice(0, 3).join('; ')}`);
  ctx.log(`burst of ${n} runs ${rt.name}: ${wallMs.toFixed(0)} ms, peak ${peakMiB.toFixed(0)} MiB, ${failures.length} failed, ${leftovers.length} left`);
}

export async function bursts(ctx: Ctx, n: number, reps: number): Promise<BurstRows> {
  const sec = `Burst: ${n} \`run\`s of /bin/true at once`;
  const rows: BurstRows = {
    wall: row(sec, `wall time until all ${n} have finished`, 'ms', true),
    peak: row(sec, 'peak memory of the burst (charged to its memory cgroup)', 'MiB'),
    failed: row(sec, `failed runs (of ${n})`, 'count'),
    left: row(sec, 'things left behind', 'count'),
  };
  const cg = BenchCgroup.make(`tsrun-bench-${process.pid}-burst`);
  if (!cg) ctx.problems.push('could not make the bench memory cgroup: no burst memory figure');
  try {
    for (let i = 0; i < reps; i++) for (const rt of rotate(ctx.runtimes, i)) await burst(ctx, rt, n, cg, rows);
  } finally {
    cg?.remove();
  }
  return rows;
}
