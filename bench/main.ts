// tsrun's benchmark against runc and crun, same run, runtimes alternating.
//   bun bench/main.ts [--quick] [--only=run,commands,parallel,density,burst,engines,memlimit] [--engine-reps=N]
//                     [--runtimes=tsrun,runc,crun] [--out=FILE]
// Prints the table and writes it with the machine description to FILE
// (default bench/RESULTS.md for a full run, build/bench/RESULTS-quick.md for --quick).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { FULL, QUICK, type Ctx } from './lib/context.js';
import { machine } from './lib/host.js';
import { deleteAll } from './lib/measure.js';
import { repoRoot, workDir } from './lib/paths.js';
import { makeRuntimes, RUNTIME_NAMES, versionOf } from './lib/runtimes.js';
import { add, median, row, table, type Row } from './lib/stats.js';
import { batches } from './scenarios/batch.js';
import { COMMANDS, commands } from './scenarios/commands.js';
import { memLimit } from './scenarios/memlimit.js';
import { runTrue } from './scenarios/run-true.js';
import { bursts } from './scenarios/burst.js';
import { engines } from './scenarios/engines.js';

const SCENARIOS = ['run', 'commands', 'parallel', 'density', 'burst', 'engines', 'memlimit'] as const;
const LATENCY_ORDER = ['create', 'start', 'state', 'list', 'kill', 'pause', 'resume', 'delete', 'exec'] as const;

function opt(name: string): string | undefined {
  const a = process.argv.slice(2).find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  if (a === undefined) return undefined;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : '';
}

function targets(rows: Row[]): string[] {
  const m = (r: Row | undefined, rt: string) => median(r?.samples.get(rt) ?? []);
  // A row counts only when the runtimes it compares were measured.
  const find = (label: string, section?: string, ...rts: string[]) => {
    const r = rows.find((x) => x.label.startsWith(label) && (section === undefined || x.section.startsWith(section)));
    return r && ['tsrun', ...rts].every((rt) => Number.isFinite(m(r, rt))) ? r : undefined;
  };
  const out: string[] = [];
  const check = (what: string, okay: boolean, detail: string) => out.push(`- ${okay ? 'met' : '**missed**'}: ${what} (${detail})`);
  const ms = (x: number) => x.toFixed(2);
  const vs = (r: Row) => ['runc', 'crun'].filter((rt) => Number.isFinite(m(r, rt))).map((rt) => `${rt} ${ms(m(r, rt))}`).join(', ');
  // Latency above the start-up floor of the same run (an empty program compiled like tsrun).
  const floor = find('start-up floor', 'Latency');
  if (floor) {
    const f = m(floor, 'tsrun');
    for (const [cmds, limit] of [[['state', 'kill', 'list'], 0.4], [['start', 'delete', 'pause', 'resume'], 1.0]] as const) {
      for (const c of cmds) {
        const r = rows.find((x) => x.section === 'Latency' && x.label === c);
        if (!r || !Number.isFinite(m(r, 'tsrun'))) continue;
        const above = m(r, 'tsrun') - f;
        check(`\`${c}\` at most ${limit} ms above the floor`, above <= limit, `${ms(m(r, 'tsrun'))} ms, ${ms(above)} above the floor's ${ms(f)} ms; ${vs(r)} ms`);
      }
    }
  }
  for (const [label, name] of [['run /bin/true', 'run'], ['create', 'create'], ['exec /bin/true', 'exec']] as const) {
    const r = find(label, 'Latency', 'runc');
    if (!r) continue;
    const ratio = m(r, 'tsrun') / m(r, 'runc');
    const crun = Number.isFinite(m(r, 'crun')) ? `; ${(m(r, 'tsrun') / m(r, 'crun')).toFixed(2)}× crun (${ms(m(r, 'crun'))} ms)` : '';
    check(`\`${name}\` at most 0.85 × runc`, ratio <= 0.85, `${ratio.toFixed(2)}×: ${ms(m(r, 'tsrun'))} vs ${ms(m(r, 'runc'))} ms${crun}`);
  }
  // Peak RSS of every command at most 4 MB above the floor's own (same run).
  const floorRss = find('start-up floor', 'Peak RSS');
  if (floorRss) {
    const f = m(floorRss, 'tsrun');
    for (const r of rows.filter((x) => x.section === 'Peak RSS of the runtime process' && !x.label.startsWith('start-up floor'))) {
      if (!Number.isFinite(m(r, 'tsrun'))) continue;
      const above = (m(r, 'tsrun') - f) / 1024;
      check(`peak RSS of \`${r.label}\` at most 4 MB above the floor's`, above <= 4, `${(m(r, 'tsrun') / 1024).toFixed(1)} MB, ${above.toFixed(1)} MB above the floor's ${(f / 1024).toFixed(1)} MB; runc ${(m(r, 'runc') / 1024).toFixed(1)}, crun ${(m(r, 'crun') / 1024).toFixed(1)} MB`);
    }
  }
  const peak = find('peak memory during the batch', 'Density', 'runc');
  if (peak) check(`peak memory of the ${peak.section.replace(/^Density: /, '')} batch no higher than runc's`, m(peak, 'tsrun') <= m(peak, 'runc'), `${m(peak, 'tsrun').toFixed(0)} vs ${m(peak, 'runc').toFixed(0)} MiB; crun ${m(peak, 'crun').toFixed(0)} MiB`);
  const lim = find('smallest memory limit');
  if (lim) {
    const v = m(lim, 'tsrun');
    check('smallest working memory limit ≤ 512 KiB (stretch 256 KiB)', v <= 512, `${v} KiB${v <= 256 ? ', stretch met' : ''}`);
  }
  const pss = find('PSS of the process waiting');
  if (pss) check('the waiting init holds ≤ 1 MB (PSS)', m(pss, 'tsrun') <= 1024, `${m(pss, 'tsrun')} kB`);
  return out;
}

/** Sections of the previous results file that come from elsewhere (the Kubernetes burst of test/cri/burst.test.ts, added by hand): kept. */
function keptSections(file: string): string[] {
  let old = '';
  try {
    old = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const at = old.indexOf('\n## Kubernetes');
  return at < 0 ? [] : [old.slice(at + 1).trimEnd(), ''];
}

async function main(): Promise<void> {
  const quick = opt('quick') !== undefined;
  const counts = { ...(quick ? QUICK : FULL) };
  // --engine-reps=N: rounds of the engine scenarios (a --quick run skips them).
  if (opt('engine-reps') !== undefined) counts.engineReps = Number(opt('engine-reps'));
  const only = opt('only')?.split(',').filter(Boolean) ?? [...SCENARIOS];
  for (const s of only) if (!(SCENARIOS as readonly string[]).includes(s)) throw new Error(`unknown scenario ${s} (one of ${SCENARIOS.join(', ')})`);
  const names = opt('runtimes')?.split(',').filter(Boolean) ?? [...RUNTIME_NAMES];
  const runtimes = makeRuntimes(names);
  const out = opt('out') ?? (quick ? join(repoRoot, 'build', 'bench', 'RESULTS-quick.md') : join(repoRoot, 'bench', 'RESULTS.md'));
  const host = machine();
  const versions = new Map(runtimes.map((r) => [r.name, versionOf(r)]));
  const t0 = Date.now();
  const ctx: Ctx = {
    runtimes,
    counts,
    rows: [],
    problems: [],
    log: (msg) => process.stderr.write(`[bench ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`),
  };
  ctx.log(`${quick ? 'quick' : 'full'} run: ${only.join(', ')}; runtimes ${names.join(', ')}; scratch ${workDir()}`);

  const latency: Row[] = [];
  const rss: Row[] = [];
  const cpu: Row[] = [];
  const memory: Row[] = [];
  const throughput: Row[] = [];
  const density: Row[] = [];
  const burst: Row[] = [];
  const engine: Row[] = [];
  try {
    if (only.includes('run')) {
      const r = runTrue(ctx);
      latency.push(r.wall);
      rss.push(r.rss);
      cpu.push(r.cpu);
    }
    if (only.includes('commands')) {
      const r = await commands(ctx);
      for (const c of LATENCY_ORDER) latency.push(r.wall.get(c)!);
      latency.push(r.floor);
      for (const c of COMMANDS) rss.push(r.rss.get(c)!);
      rss.push(r.floorRss);
      for (const c of LATENCY_ORDER) cpu.push(r.cpu.get(c)!);
      cpu.push(r.floorCpu);
      cpu.splice(cpu.indexOf(r.cpu.get('create')!) + 1, 0, r.initCpu);
      memory.push(r.pss, r.chargedAfterCreate, r.peakChargeExec);
    }
    if (only.includes('parallel')) {
      const { results: res } = await batches(ctx, 20, counts.parallelReps, 'par');
      const sec = 'Throughput: 20 containers at once';
      const rows = {
        create: row(sec, '20 × create in parallel', 'ms', true),
        start: row(sec, '20 × start in parallel', 'ms', true),
        del: row(sec, '20 × delete in parallel', 'ms', true),
        total: row(sec, 'all three phases', 'ms', true),
      };
      for (const [name, list] of res) {
        for (const b of list) {
          add(rows.create, name, b.createS * 1000);
          add(rows.start, name, b.startS * 1000);
          add(rows.del, name, b.deleteS * 1000);
          add(rows.total, name, b.totalS * 1000);
        }
      }
      throughput.push(rows.create, rows.start, rows.del, rows.total);
    }
    if (only.includes('density')) {
      const n = counts.densityN;
      const { results: res, inCgroup } = await batches(ctx, n, counts.densityReps, 'den');
      const sec = `Density: ${n} containers at once`;
      const where = inCgroup ? 'charged to the batch\'s memory cgroup' : 'host MemAvailable drop';
      const rows = {
        create: row(sec, `${n} × create in parallel`, 's'),
        start: row(sec, `${n} × start in parallel`, 's'),
        del: row(sec, `${n} × delete in parallel`, 's'),
        peak: row(sec, `peak memory during the batch (${where})`, 'MiB'),
        held: row(sec, `memory held while the ${n} containers wait for start (${where})`, 'MiB'),
        pss: row(sec, `PSS of the ${n} waiting processes, summed`, 'MiB'),
        failed: row(sec, `failed commands (of ${3 * n})`, 'count'),
        left: row(sec, 'things left behind after delete', 'count'),
      };
      for (const [name, list] of res) {
        for (const b of list) {
          add(rows.create, name, b.createS);
          add(rows.start, name, b.startS);
          add(rows.del, name, b.deleteS);
          add(rows.peak, name, b.peakKb / 1024);
          add(rows.held, name, b.heldKb / 1024);
          add(rows.pss, name, b.pssSumKb / 1024);
          add(rows.failed, name, b.failures);
          add(rows.left, name, b.leftovers.length);
        }
      }
      density.push(...Object.values(rows));
    }
    if (only.includes('burst')) {
      const b = await bursts(ctx, counts.burstN, counts.burstReps);
      burst.push(b.wall, b.peak, b.failed, b.left);
    }
    if (only.includes('engines') && counts.engineReps > 0) engine.push(...(await engines(ctx, counts.engineReps)));
    if (only.includes('memlimit')) memory.unshift(memLimit(ctx));
  } finally {
    for (const rt of runtimes) deleteAll(rt);
  }

  ctx.rows = [...latency, ...cpu, ...throughput, ...density, ...burst, ...engine, ...memory, ...rss];
  const names2 = runtimes.map((r) => r.name);
  const tbl = table(ctx.rows, names2);
  const elapsed = (Date.now() - t0) / 1000;
  const md = [
    '# Benchmark results',
    '',
    `${quick ? 'A `--quick` smoke run' : 'The latest full run'} of \`make bench\` (\`bash bench/run.sh${quick ? ' --quick' : ''}\`), ${host.date}, ${elapsed.toFixed(0)} s.`,
    'Times are medians with p90 in brackets; ratios are of medians (below 1.00× tsrun is faster / smaller).',
    '',
    '| machine | |',
    '|---|---|',
    `| CPU | ${host.cpu}, ${host.nproc} cores (nproc) |`,
    `| memory | ${host.memTotalMiB} MiB |`,
    `| kernel | ${host.kernel} (${host.os}) |`,
    `| cgroups | ${host.cgroups} |`,
    ...runtimes.map((r) => `| ${r.name} | ${versions.get(r.name)}${r.hideCgroup2 ? ' — run in a mount namespace without /sys/fs/cgroup/unified (hybrid-host workaround, set up outside the timed part)' : ''} |`),
    `| load average | ${host.loadStart} at the start, ${loadavg().map((x) => x.toFixed(2)).join(' ')} at the end |`,
    '',
    tbl,
    '',
    '## Targets',
    '',
    ...targets(ctx.rows),
    '',
    ...(ctx.problems.length ? ['## Problems seen during the run', '', ...[...new Set(ctx.problems)].slice(0, 30).map((p) => `- ${p}`), ''] : []),
    '## Method',
    '',
    `Repetitions: ${counts.runs} sequential runs; ${counts.cycles} create→state→list→start→pause→resume→exec→kill→delete cycles; ${counts.parallelReps} batches of 20; ${counts.densityReps} batch(es) of ${counts.densityN}; ${counts.burstReps} burst(s) of ${counts.burstN} runs; ${counts.engineReps} round(s) of each engine scenario; memory limit bisected in 4 KiB steps (two successes needed per step), then raised in 2 % steps until ${counts.limitConfirm} runs in a row work.`,
    'Each command runs under `build/bench/bench-exec` (bench/exec.c), which times vfork+execve+wait4 and reports ru_maxrss and user+sys CPU; it runs the command at nice -20 (`BENCH_NICE`), so that other work on a shared machine delays it less. The runtimes take turns (the order rotates every iteration) on the same bundle (bundles/busybox, read-only rootfs, `ociVersion` 1.0.2 because crun 1.8.1 rejects 1.3.0).',
    'Every runtime runs from a fresh copy of its executable in the scratch dir (bench/lib/runtimes.ts, `stage`): a large executable whose pages were reclaimed and faulted back in starts slower than a freshly written one (up to 1 ms for tsrun\'s 100 MB bun executable on this machine, whose DAMON pages out idle page cache), and copying all three gives them the same start. The start-up floor row runs, right after each `state`, an empty program compiled with tsrun\'s bun flags (build/bench/bun-floor), and `runc --version`, `crun --version`.',
    'PSS from /proc/PID/smaps_rollup of the pid `state` reports. Charges to a container\'s memory cgroup: total_rss + total_cache (memory.stat) + memory.kmem.usage_in_bytes of the v1 cgroup of that pid; exec\'s peak from memory.max_usage_in_bytes. Density batch memory: the runtime processes run in a memory cgroup of the bench\'s own and every container\'s cgroupsPath is under it, so its peak (memory.max_usage_in_bytes) is what the batch took — runtime processes, waiting processes, kernel memory — and nothing else the machine runs.',
    'Engine rows: each runtime is handed to the engine as a copy of build/bench/rt-timer (bench/rt-timer.c), which runs the real runtime and logs the wall time of each call; "of which in the runtime" is the sum of those calls during the engine command. The engine commands are timed by bench-exec like the runtime commands.',
    'See bench/README.md for what each row means and bench/PROFILE.md for where tsrun spends its time.',
    '',
    ...keptSections(out),
  ].join('\n');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, md);
  process.stdout.write(`\n${tbl}\n\n${targets(ctx.rows).join('\n')}\n`);
  if (ctx.problems.length) process.stdout.write(`\nproblems:\n${[...new Set(ctx.problems)].map((p) => `  ${p}`).join('\n')}\n`);
  process.stdout.write(`\nwritten to ${relative(process.cwd(), out)}\n`);
  rmSync(workDir(), { recursive: true, force: true });
}

try {
  await main();
} catch (e) {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
}
