// 3 and density: N containers created at once, then started at once, then
// (once their /bin/true has exited) deleted at once. Wall time per phase.
// The runtime processes run in the bench's memory cgroup and the containers'
// cgroups are made under it, so its usage is the memory the batch took
// (runtime processes, waiting processes, kernel memory) and nothing else the
// machine is doing. Also: PSS of the N waiting processes, failures, leftovers.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { makeBundle } from '../lib/bundles.js';
import { BenchCgroup } from '../lib/cgroup.js';
import type { Ctx } from '../lib/context.js';
import { cgroupsNamed, meminfoKb, processesNamed, pssKb } from '../lib/host.js';
import { deleteAll, describeFailure, measureAsync, ok, type Sample } from '../lib/measure.js';
import { rotate, type Runtime } from '../lib/runtimes.js';

export interface BatchResult {
  createS: number;
  startS: number;
  deleteS: number;
  totalS: number;
  failures: number;
  firstFailure?: string;
  /** Memory charged while all N waited for start, kB. */
  heldKb: number;
  /** Sum of the PSS of the N waiting processes, kB. */
  pssSumKb: number;
  /** Peak memory over the whole batch, kB. */
  peakKb: number;
  leftovers: string[];
}

async function all(rt: Runtime, argsFor: (i: number) => string[], n: number, procs?: string): Promise<{ wallS: number; samples: Sample[] }> {
  const t0 = performance.now();
  const samples = await Promise.all(Array.from({ length: n }, (_, i) => measureAsync(rt, argsFor(i), { cgroupProcs: procs })));
  return { wallS: (performance.now() - t0) / 1000, samples };
}

export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  try {
    walk(dir);
  } catch {
    // no root: nothing left
  }
  return out;
}

async function settle(prefix: string, timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = processesNamed(prefix);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    left = processesNamed(prefix);
  }
  return left;
}

/** Host-wide fallback when the bench cannot make its cgroup: MemAvailable, sampled (noisy on a busy host). */
class MemAvailable {
  private min = Infinity;
  private timer = setInterval(() => this.sample(), 10);
  readonly base = meminfoKb('MemAvailable');
  sample(): number {
    const v = meminfoKb('MemAvailable');
    this.min = Math.min(this.min, v);
    return v;
  }
  held(): number {
    return this.base - this.sample();
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.base - this.min;
  }
}

export async function batch(ctx: Ctx, rt: Runtime, n: number, tag: string, cg: BenchCgroup | undefined): Promise<BatchResult> {
  const prefix = `${tag}${Date.now().toString(36)}-`;
  const id = (i: number) => `${prefix}${i}`;
  const bundles = Array.from({ length: n }, (_, i) =>
    makeBundle(`${tag}-${rt.name}`, ['/bin/true'], (c) => {
      if (cg) c.linux.cgroupsPath = `/${cg.name}/${id(i)}`;
    }));
  const failures: Sample[] = [];
  const procs = cg?.procs;
  cg?.resetPeak();
  const base = cg ? cg.usage() : 0;
  const avail = cg ? undefined : new MemAvailable();
  const c = await all(rt, (i) => ['create', '--bundle', bundles[i]!, id(i)], n, procs);
  failures.push(...c.samples.filter((s) => !ok(s)));
  const heldKb = cg ? (cg.usage() - base) / 1024 : avail!.held();
  const waiting = processesNamed(prefix);
  const pssSumKb = waiting.reduce((a, p) => a + (pssKb(p) || 0), 0);
  const s = await all(rt, (i) => ['start', id(i)], n, procs);
  failures.push(...s.samples.filter((x) => !ok(x)));
  const still = await settle(prefix, 30_000);
  if (still.length) ctx.problems.push(`${rt.name} ${tag}: ${still.length} container processes still running 30 s after start`);
  const d = await all(rt, (i) => ['delete', id(i)], n, procs);
  failures.push(...d.samples.filter((x) => !ok(x)));
  const peakKb = cg ? (cg.peak() - base) / 1024 : avail!.stop();
  for (const b of bundles) rmSync(b, { recursive: true, force: true });
  const leftovers = [
    ...listTree(rt.root).map((p) => `file ${p}`),
    ...cgroupsNamed(prefix).map((p) => `cgroup ${p}`),
    ...processesNamed(prefix).map((p) => `process ${p}`),
  ];
  if (failures.length || leftovers.length) deleteAll(rt);
  return {
    createS: c.wallS,
    startS: s.wallS,
    deleteS: d.wallS,
    totalS: c.wallS + s.wallS + d.wallS,
    failures: failures.length,
    firstFailure: failures[0] ? describeFailure(failures[0]) : undefined,
    heldKb,
    pssSumKb,
    peakKb,
    leftovers,
  };
}

/** Runs `reps` batches of n per runtime, runtimes alternating. */
export async function batches(ctx: Ctx, n: number, reps: number, tag: string): Promise<{ results: Map<string, BatchResult[]>; inCgroup: boolean }> {
  const cg = BenchCgroup.make(`tsrun-bench-${process.pid}-${tag}`);
  if (!cg) ctx.problems.push('could not make the bench memory cgroup: batch memory is the drop of MemAvailable (noisy)');
  const out = new Map<string, BatchResult[]>(ctx.runtimes.map((r) => [r.name, []]));
  try {
    for (let i = 0; i < reps; i++) {
      for (const rt of rotate(ctx.runtimes, i)) {
        const r = await batch(ctx, rt, n, tag, cg);
        out.get(rt.name)!.push(r);
        if (r.failures) ctx.problems.push(`${rt.name}: ${r.failures} of ${3 * n} commands failed in a ${n}-container batch; first: ${r.firstFailure}`);
        if (r.leftovers.length) ctx.problems.push(`${rt.name}: a ${n}-container batch left ${r.leftovers.length} things behind, e.g. ${r.leftovers.slice(0, 3).join('; ')}`);
        ctx.log(`batch of ${n} (${i + 1}/${reps}) ${rt.name}: create ${r.createS.toFixed(2)} s, start ${r.startS.toFixed(2)} s, delete ${r.deleteS.toFixed(2)} s, peak ${(r.peakKb / 1024).toFixed(0)} MiB, held ${(r.heldKb / 1024).toFixed(1)} MiB, ${r.failures} failed`);
      }
    }
  } finally {
    cg?.remove();
  }
  return { results: out, inCgroup: cg !== undefined };
}
