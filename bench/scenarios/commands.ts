// 2. Each command alone — create, state, start, exec /bin/true, kill, delete —
// in cycles over a container running `sleep`, runtimes alternating. Between
// create and start the waiting process is measured: its PSS and what its
// memory cgroup was charged; around exec, the peak charge the joining process
// added to the running container's cgroup.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeBundle } from '../lib/bundles.js';
import type { Ctx } from '../lib/context.js';
import { cgroupBytes, chargedKb, cpuMsOf, memoryCgroupOf, pssKb, waitGone } from '../lib/host.js';
import { describeFailure, measure, ok, type Sample } from '../lib/measure.js';
import { workDir } from '../lib/paths.js';
import { floorRuntime, rotate, type Runtime } from '../lib/runtimes.js';
import { add, row, type Row } from '../lib/stats.js';

export const COMMANDS = ['create', 'state', 'list', 'start', 'pause', 'resume', 'exec', 'kill', 'delete'] as const;

export interface CommandRows {
  wall: Map<string, Row>;
  cpu: Map<string, Row>;
  rss: Map<string, Row>;
  /** An empty program: tsrun's compiled like it, runc's and crun's `--version`. */
  floor: Row;
  floorCpu: Row;
  floorRss: Row;
  pss: Row;
  initCpu: Row;
  chargedAfterCreate: Row;
  peakChargeExec: Row;
}

function resetPeak(dir: string): void {
  try {
    writeFileSync(join(dir, 'memory.max_usage_in_bytes'), '0');
  } catch {
    // not v1, or not allowed: the peak then covers the cgroup's whole life
  }
}

async function cycle(ctx: Ctx, rt: Runtime, floor: Runtime | undefined, bundle: string, i: number, r: CommandRows): Promise<void> {
  const id = `${rt.name}-cmd-${i}`;
  const fail = (s: Sample) => {
    ctx.problems.push(describeFailure(s));
    measure(rt, ['delete', '--force', id]);
  };
  const record = (cmd: string, s: Sample) => {
    add(r.wall.get(cmd)!, rt.name, s.wallMs);
    add(r.cpu.get(cmd)!, rt.name, s.userMs + s.sysMs);
    add(r.rss.get(cmd)!, rt.name, s.maxRssKb);
  };
  const c = measure(rt, ['create', '--bundle', bundle, id]);
  if (!ok(c)) return fail(c);
  record('create', c);
  const stateOut = join(workDir(), 'tmp', `state-${rt.name}`);
  const st = measure(rt, ['state', id], { stdout: stateOut });
  if (!ok(st)) return fail(st);
  record('state', st);
  const fl = rt.name === 'tsrun' && floor ? measure(floor, []) : measure(rt, ['--version']);
  if (ok(fl)) {
    add(r.floor, rt.name, fl.wallMs);
    add(r.floorCpu, rt.name, fl.userMs + fl.sysMs);
    add(r.floorRss, rt.name, fl.maxRssKb);
  } else ctx.problems.push(describeFailure(fl));
  const ls = measure(rt, ['list']);
  if (!ok(ls)) return fail(ls);
  record('list', ls);
  let pid = 0;
  try {
    pid = JSON.parse(readFileSync(stateOut, 'utf8')).pid;
  } catch {
    // reported below
  }
  rmSync(stateOut, { force: true });
  if (!pid) {
    ctx.problems.push(`${rt.name} state ${id}: no pid`);
    measure(rt, ['delete', '--force', id]);
    return;
  }
  add(r.pss, rt.name, pssKb(pid));
  add(r.initCpu, rt.name, cpuMsOf(pid));
  const cg = memoryCgroupOf(pid);
  if (cg) {
    add(r.chargedAfterCreate, rt.name, chargedKb(cg));
  }
  const s = measure(rt, ['start', id]);
  if (!ok(s)) return fail(s);
  record('start', s);
  const pa = measure(rt, ['pause', id]);
  if (!ok(pa)) return fail(pa);
  record('pause', pa);
  const re = measure(rt, ['resume', id]);
  if (!ok(re)) return fail(re);
  record('resume', re);
  let before = NaN;
  if (cg) {
    resetPeak(cg);
    before = cgroupBytes(cg, 'memory.usage_in_bytes');
  }
  const e = measure(rt, ['exec', id, '/bin/true']);
  if (!ok(e)) return fail(e);
  record('exec', e);
  if (cg) add(r.peakChargeExec, rt.name, (cgroupBytes(cg, 'memory.max_usage_in_bytes') - before) / 1024);
  const k = measure(rt, ['kill', id, 'KILL']);
  if (!ok(k)) return fail(k);
  record('kill', k);
  if (!(await waitGone([pid]))) ctx.problems.push(`${rt.name}: ${id} still running 10 s after kill KILL`);
  const d = measure(rt, ['delete', id]);
  if (!ok(d)) return fail(d);
  record('delete', d);
}

export async function commands(ctx: Ctx): Promise<CommandRows> {
  const bundle = makeBundle('sleep', ['sleep', '3600']);
  const r: CommandRows = {
    wall: new Map(COMMANDS.map((c) => [c, row('Latency', c === 'exec' ? 'exec /bin/true (running container)' : c, 'ms', true)])),
    cpu: new Map(COMMANDS.map((c) => [c, row('CPU time of the runtime process (user + sys)', c, 'ms')])),
    rss: new Map(COMMANDS.map((c) => [c, row('Peak RSS of the runtime process', c, 'kB')])),
    floor: row('Latency', 'start-up floor: tsrun = an empty program compiled like tsrun; runc, crun = `--version`', 'ms', true),
    floorCpu: row('CPU time of the runtime process (user + sys)', 'start-up floor (as above)', 'ms'),
    floorRss: row('Peak RSS of the runtime process', 'start-up floor (as above)', 'kB'),
    pss: row('Memory', 'PSS of the process waiting between create and start', 'kB', true),
    initCpu: row('CPU time of the runtime process (user + sys)', "create: the container's waiting process, until it waits (schedstat)", 'ms'),
    chargedAfterCreate: row('Memory', "charged to the container's memory cgroup after create (user + kernel pages)", 'kB', true),
    peakChargeExec: row('Memory', "peak charge added to a running container's cgroup by exec /bin/true (in 256 KiB batches)", 'kB', true),
  };
  // Warm-up cycles, unmeasured.
  const scratch: CommandRows = {
    wall: new Map(COMMANDS.map((c) => [c, row('', c, 'ms')])),
    cpu: new Map(COMMANDS.map((c) => [c, row('', c, 'ms')])),
    rss: new Map(COMMANDS.map((c) => [c, row('', c, 'kB')])),
    floor: row('', '', 'ms'), floorCpu: row('', '', 'ms'), floorRss: row('', '', 'kB'), pss: row('', '', 'kB'), initCpu: row('', '', 'ms'), chargedAfterCreate: row('', '', 'kB'), peakChargeExec: row('', '', 'kB'),
  };
  const tsrun = ctx.runtimes.find((rt) => rt.name === 'tsrun');
  const floor = tsrun && floorRuntime(tsrun);
  for (const rt of ctx.runtimes) await cycle(ctx, rt, floor, bundle, -1, scratch);
  for (let i = 0; i < ctx.counts.cycles; i++) {
    for (const rt of rotate(ctx.runtimes, i)) await cycle(ctx, rt, floor, bundle, i, r);
  }
  ctx.log(`commands: ${ctx.counts.cycles} cycles × ${ctx.runtimes.length} done`);
  return r;
}
