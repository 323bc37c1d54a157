// 4. The smallest linux.resources.memory.limit (swap the same) under which
// `echo it works` runs: bisected in 4 KiB steps, the runtimes taking turns.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeBundle, setMemoryLimit } from '../lib/bundles.js';
import type { Ctx } from '../lib/context.js';
import { measure, ok } from '../lib/measure.js';
import { workDir } from '../lib/paths.js';
import type { Runtime } from '../lib/runtimes.js';
import { add, note, row, type Row } from '../lib/stats.js';

const PAGE = 4096;
const TOP = 64 * 1024 * 1024;

let probes = 0;

function works(rt: Runtime, limit: number): boolean {
  const bundle = makeBundle(`mem-${rt.name}`, ['echo', 'it works']);
  setMemoryLimit(bundle, limit);
  const id = `${rt.name}-mem-${++probes}`;
  const out = join(workDir(), 'tmp', `mem-out-${probes}`);
  const s = measure(rt, ['run', '--bundle', bundle, id], { stdout: out, timeoutS: 30 });
  let text = '';
  try {
    text = readFileSync(out, 'utf8');
  } catch {
    // none
  }
  rmSync(out, { force: true });
  rmSync(bundle, { recursive: true, force: true });
  const good = ok(s) && text.trim() === 'it works';
  if (!good) measure(rt, ['delete', '--force', id]);
  return good;
}

interface Search {
  rt: Runtime;
  lo: number; // fails (0: assumed)
  hi: number; // works
  done: boolean;
  broken?: string;
}

export function memLimit(ctx: Ctx): Row {
  const r = row('Memory', 'smallest memory limit under which `echo it works` runs', 'KiB');
  const searches: Search[] = ctx.runtimes.map((rt) => ({ rt, lo: 0, hi: TOP, done: false }));
  for (const s of searches) {
    if (!works(s.rt, TOP)) {
      s.done = true;
      s.broken = `fails even at ${TOP / 1048576} MiB`;
    }
  }
  // One probe per runtime per round, so all three see the same machine state.
  while (searches.some((s) => !s.done)) {
    for (const s of searches) {
      if (s.done) continue;
      if (s.hi - s.lo <= PAGE) {
        s.done = true;
        continue;
      }
      const mid = Math.max(PAGE, Math.round((s.lo + s.hi) / 2 / PAGE) * PAGE);
      // Two successes needed: a lucky run must not pull the answer down.
      if (works(s.rt, mid) && works(s.rt, mid)) s.hi = mid;
      else s.lo = mid;
    }
  }
  // Near the answer a run can still fail now and then (what is charged varies a
  // little): step up from it until `limitConfirm` runs in a row succeed.
  for (const s of searches) {
    if (s.broken) {
      note(r, s.rt.name, s.broken);
      ctx.problems.push(`${s.rt.name}: \`echo it works\` ${s.broken}`);
      continue;
    }
    const found = s.hi;
    let limit = s.hi;
    for (;;) {
      let streak = 0;
      while (streak < ctx.counts.limitConfirm && works(s.rt, limit)) streak++;
      if (streak === ctx.counts.limitConfirm || limit >= TOP) break;
      limit += Math.max(PAGE, Math.round(limit * 0.02 / PAGE) * PAGE);
    }
    add(r, s.rt.name, limit / 1024);
    ctx.log(`memory limit ${s.rt.name}: bisection ${found / 1024} KiB (fails at ${s.lo / 1024} KiB); ${ctx.counts.limitConfirm} runs in a row work at ${limit / 1024} KiB`);
  }
  return r;
}
