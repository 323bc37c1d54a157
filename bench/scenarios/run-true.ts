// 1. Whole-lifecycle latency: sequential `run` of /bin/true, runtimes alternating.
import { makeBundle } from '../lib/bundles.js';
import type { Ctx } from '../lib/context.js';
import { describeFailure, measure, ok } from '../lib/measure.js';
import { rotate } from '../lib/runtimes.js';
import { add, row, type Row } from '../lib/stats.js';

export function runTrue(ctx: Ctx): { wall: Row; cpu: Row; rss: Row } {
  const bundle = makeBundle('true', ['/bin/true']);
  const wall = row('Latency', `run /bin/true, ${ctx.counts.runs}× sequential`, 'ms', true);
  const rss = row('Peak RSS of the runtime process', 'run', 'kB');
  const cpu = row('CPU time of the runtime process (user + sys)', 'run', 'ms');
  // Warm the page cache and any lazy state first, unmeasured.
  for (const rt of ctx.runtimes) for (let i = 0; i < 3; i++) measure(rt, ['run', '--bundle', bundle, `${rt.name}-warm-${i}`]);
  const failed = new Map<string, number>();
  for (let i = 0; i < ctx.counts.runs; i++) {
    for (const rt of rotate(ctx.runtimes, i)) {
      const s = measure(rt, ['run', '--bundle', bundle, `${rt.name}-run-${i}`]);
      if (!ok(s)) {
        failed.set(rt.name, (failed.get(rt.name) ?? 0) + 1);
        if (failed.get(rt.name) === 1) ctx.problems.push(describeFailure(s));
        measure(rt, ['delete', '--force', `${rt.name}-run-${i}`]);
        continue;
      }
      add(wall, rt.name, s.wallMs);
      add(rss, rt.name, s.maxRssKb);
      add(cpu, rt.name, s.userMs + s.sysMs);
    }
  }
  for (const [name, n] of failed) ctx.problems.push(`${name}: ${n} of ${ctx.counts.runs} runs of /bin/true failed`);
  ctx.log(`run /bin/true: ${ctx.counts.runs} × ${ctx.runtimes.length} done`);
  return { wall, cpu, rss };
}
