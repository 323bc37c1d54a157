// Where tsrun's time goes, per command. Run by bench/profile.sh (which builds
// build/bench/tsrun-prof: tsrun from the same sources without --minify, so the
// profiles name functions, and build/bench/hello: an empty program compiled the
// same way, the floor for any compiled bun executable).
//   bun bench/profile.ts [--n=15] [--out=build/bench/profile/REPORT.md]
// 1. wall time and CPU (user+sys) medians: hello, --version, each command, for
//    tsrun, tsrun-prof and runc, taking turns;
// 2. bun's sampling CPU profiler (BUN_OPTIONS=--cpu-prof) on tsrun-prof for each
//    command: inclusive and self time per function, averaged over the runs;
// 3. perf trace of each command: the slow syscalls and a timeline of create.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeBundle } from './lib/bundles.js';
import { cpuMsOf, pssKb, waitGone } from './lib/host.js';
import { measure, ok, statePid, type RunOptions, type Sample } from './lib/measure.js';
import { repoRoot, workDir } from './lib/paths.js';
import { rotate, type Runtime } from './lib/runtimes.js';
import { median } from './lib/stats.js';

function opt(name: string, dflt: string): string {
  const a = process.argv.slice(2).find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
}

const N = Number(opt('n', '15'));
const OUT = opt('out', join(repoRoot, 'build', 'bench', 'profile', 'REPORT.md'));
const LIBDIR = join(repoRoot, 'build', 'lib', 'tsrun');

function rt(name: string, bin: string): Runtime {
  const root = join(workDir(), `root-${name}`);
  mkdirSync(root, { recursive: true });
  return { name, bin, hideCgroup2: false, root };
}

const tsrun = rt('tsrun', join(repoRoot, 'build', 'tsrun'));
const prof = rt('tsrun-prof', join(repoRoot, 'build', 'bench', 'tsrun-prof'));
const runc = rt('runc', 'runc');
const hello = rt('hello', join(repoRoot, 'build', 'bench', 'hello'));
const envFor = (r: Runtime, extra: Record<string, string> = {}): RunOptions => ({ env: r === prof ? { TSRUN_LIBDIR: LIBDIR, ...extra } : extra });

const sleepBundle = makeBundle('sleep', ['sleep', '3600']);
const trueBundle = makeBundle('true', ['/bin/true']);
const STEPS = ['create', 'state', 'start', 'exec', 'kill', 'delete', 'run'] as const;
type Step = (typeof STEPS)[number];

/** One lifecycle; `hook(step)` gives extra options for a step (the profiler's env). */
async function lifecycle(r: Runtime, i: number, hook: (s: Step) => RunOptions = () => ({}), onWaiting?: (pid: number) => void): Promise<Map<Step, Sample>> {
  const out = new Map<Step, Sample>();
  const id = `p-${i}`;
  const o = (s: Step): RunOptions => {
    const h = hook(s);
    return { ...envFor(r, h.env), ...h, env: { ...(envFor(r).env ?? {}), ...(h.env ?? {}) } };
  };
  const step = (s: Step, args: string[]) => {
    const x = measure(r, args, o(s));
    out.set(s, x);
    return ok(x);
  };
  if (!step('create', ['create', '--bundle', sleepBundle, id])) throw new Error(`${r.name} create failed: ${out.get('create')!.stderr}`);
  step('state', ['state', id]);
  const pid = statePid(r, id);
  if (pid && onWaiting) onWaiting(pid);
  step('start', ['start', id]);
  step('exec', ['exec', id, '/bin/true']);
  step('kill', ['kill', id, 'KILL']);
  if (pid) await waitGone([pid]);
  step('delete', ['delete', id]);
  step('run', ['run', '--bundle', trueBundle, `r-${i}`]);
  return out;
}

// ---- 1. wall and CPU medians ------------------------------------------------
async function timings(): Promise<string[]> {
  const rts = [tsrun, prof, runc];
  const wall = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  const rss = new Map<string, number[]>();
  const put = (k: string, s: Sample) => {
    (wall.get(k) ?? wall.set(k, []).get(k)!).push(s.wallMs);
    (cpu.get(k) ?? cpu.set(k, []).get(k)!).push(s.userMs + s.sysMs);
    (rss.get(k) ?? rss.set(k, []).get(k)!).push(s.maxRssKb);
  };
  for (let i = 0; i < 3; i++) for (const r of rts) await lifecycle(r, -1 - i);
  for (let i = 0; i < N; i++) {
    put('hello|compiled bun program doing nothing', measure(hello, []));
    for (const r of rotate(rts, i)) {
      put(`${r.name}|--version`, measure(r, ['--version'], envFor(r)));
      let initMs = NaN;
      const l = await lifecycle(r, i, undefined, (pid) => (initMs = cpuMsOf(pid)));
      for (const [s, x] of l) put(`${r.name}|${s}`, x);
      const k = `${r.name}|(the waiting init's own CPU until it waits, schedstat)`;
      (cpu.get(k) ?? cpu.set(k, []).get(k)!).push(initMs);
    }
  }
  const keys = [...new Set([...wall.keys(), ...cpu.keys()])];
  const f = (xs: number[] | undefined) => (xs ? median(xs).toFixed(1) : '–');
  return [
    `Medians of ${N} runs each (bench-exec: wall from vfork to wait4; CPU = user + sys of the process and the children it waited for; peak RSS = ru_maxrss).`,
    '',
    '| runtime | command | wall (ms) | CPU (ms) | peak RSS (kB) |',
    '|---|---|---:|---:|---:|',
    ...keys.map((k) => {
      const [r, c] = k.split('|');
      return `| ${r} | ${c} | ${f(wall.get(k))} | ${f(cpu.get(k))} | ${f(rss.get(k))} |`;
    }),
  ];
}

// ---- 2. CPU profiles -----------------------------------------------------------
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function frameName(n: Node): string {
  const fn = n.callFrame.functionName || '(anonymous)';
  const url = n.callFrame.url.replace(/^file:\/\/\/\$bunfs\/root\//, '').replace(/^file:\/\//, '');
  if (!url) return fn;
  return `${fn} · ${url}${n.callFrame.lineNumber >= 0 ? `:${n.callFrame.lineNumber + 1}` : ''}`;
}

function analyse(files: string[]): { durationMs: number; inclusive: Map<string, number>; self: Map<string, number> } {
  const inclusive = new Map<string, number>();
  const self = new Map<string, number>();
  let duration = 0;
  for (const file of files) {
    const p: Profile = JSON.parse(readFileSync(file, 'utf8'));
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    duration += (p.endTime - p.startTime) / 1000;
    let t = p.startTime;
    const times = p.timeDeltas.map((d) => (t += d));
    for (let i = 0; i < p.samples.length; i++) {
      const w = ((i + 1 < times.length ? times[i + 1]! : p.endTime) - times[i]!) / 1000;
      let id: number | undefined = p.samples[i]!;
      const seen = new Set<string>();
      const leaf = byId.get(id)!;
      self.set(frameName(leaf), (self.get(frameName(leaf)) ?? 0) + w);
      while (id !== undefined) {
        const n = byId.get(id)!;
        const k = frameName(n);
        if (!seen.has(k) && k !== '(root)') {
          seen.add(k);
          inclusive.set(k, (inclusive.get(k) ?? 0) + w);
        }
        id = parent.get(id);
      }
    }
  }
  const avg = (m: Map<string, number>) => new Map([...m].map(([k, v]) => [k, v / files.length]));
  return { durationMs: duration / files.length, inclusive: avg(inclusive), self: avg(self) };
}

async function profiles(): Promise<string[]> {
  const dir = join(workDir(), 'cpuprof');
  const lines: string[] = [];
  const per = new Map<Step, string[]>();
  for (let i = 0; i < N; i++) {
    for (const s of STEPS) {
      const d = join(dir, `${s}-${i}`);
      mkdirSync(d, { recursive: true });
      per.set(s, [...(per.get(s) ?? []), d]);
    }
    await lifecycle(prof, 1000 + i, (s) => ({ env: { BUN_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(dir, `${s}-${i}`)} --cpu-prof-interval=100` } }));
  }
  for (const s of STEPS) {
    const files = (per.get(s) ?? []).flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(d, f)));
    if (files.length === 0) {
      lines.push(`### ${s}`, '', 'no profile written', '');
      continue;
    }
    const a = analyse(files);
    const top = (m: Map<string, number>, k: number) => [...m].sort((x, y) => y[1] - x[1]).slice(0, k);
    lines.push(
      `### ${s}`,
      '',
      `${files.length} profiles, ${a.durationMs.toFixed(1)} ms of JavaScript per run on average (from the VM's start to exit; sampling every 100 µs, which slows it down somewhat).`,
      '',
      '| inclusive ms | self ms | function · chunk:line |',
      '|---:|---:|---|',
      ...top(a.inclusive, 45).map(([k, v]) => `| ${v.toFixed(2)} | ${(a.self.get(k) ?? 0).toFixed(2)} | \`${k}\` |`),
      '',
      'Highest self time:',
      '',
      '| self ms | function · chunk:line |',
      '|---:|---|',
      ...top(a.self, 20).map(([k, v]) => `| ${v.toFixed(2)} | \`${k}\` |`),
      '',
    );
  }
  return lines;
}

// ---- 3. syscalls (perf trace: no ptrace, every thread and the init) -----------------
interface Call {
  at: number;
  ms: number;
  comm: string;
  tid: number;
  name: string;
  what: string;
}

function perfTrace(args: string[], out: string): Call[] {
  const nice = process.env.BENCH_NICE ?? '-20';
  const cmd = ['perf', 'trace', '-o', out, '--', tsrun.bin, '--root', tsrun.root, ...args];
  const r = nice === '' ? spawnSync(cmd[0]!, cmd.slice(1), { stdio: 'ignore' }) : spawnSync('nice', ['-n', nice, ...cmd], { stdio: 'ignore' });
  if (r.error || r.status !== 0) return [];
  const calls: Call[] = [];
  // A syscall that blocks is printed twice: its start with the arguments, then "... [continued]".
  const pending = new Map<number, string>();
  const target = (args: string) => (/<([^>]*)>/.exec(args)?.[1] ?? /(?:filename|pathname|name): "?([^,")]*)/.exec(args)?.[1] ?? '').slice(0, 100);
  for (const line of readFileSync(out, 'utf8').split('\n')) {
    const started = /^\s*[\d.]+ \(\s*\): (.+?)\/(\d+) (\w+)\((.*)\.\.\.\s*$/.exec(line);
    if (started) {
      pending.set(Number(started[2]), target(started[4]!));
      continue;
    }
    const m = /^\s*([\d.]+) \(\s*([\d.]+) ms\): (.+?)\/(\d+)\s+(\.\.\. \[continued\]: )?(\w+)\((.*)$/.exec(line);
    if (!m) continue;
    const tid = Number(m[4]);
    let what = target(m[7]!);
    if (m[5]) {
      what = pending.get(tid) ?? what;
      pending.delete(tid);
    }
    calls.push({ at: Number(m[1]), ms: Number(m[2]), comm: m[3]!, tid, name: m[6]!, what });
  }
  return calls;
}

function norm(s: string, id: string): string {
  return s.split(id).join('ID').replace(/\.\d+(\.\d+)?\.tmp/g, '.PID.tmp').replace(/\.tmp\.\d+\.\d+/g, '.tmp.PID.N').replace(/pipe:\[\d+\]/g, 'pipe').replace(workDir(), 'SCRATCH');
}

async function traces(): Promise<string[]> {
  if (spawnSync('perf', ['--version'], { stdio: 'ignore' }).status !== 0) return ['perf is not installed (Debian linux-perf): no syscall timeline.', ''];
  const runs = Math.max(3, Math.min(N, 9));
  const lines: string[] = [];
  const cmds = ['create', 'start', 'state', 'kill', 'delete'] as const;
  const perCmd = new Map<string, { wall: number[]; main: number[]; big: Map<string, number[]>; timelines: { wall: number; text: string[] }[] }>();
  const phases = new Map<string, number[]>();
  const phase = (k: string, v: number) => phases.set(k, [...(phases.get(k) ?? []), v]);
  for (let i = 0; i < runs; i++) {
    const id = `pt-${i}`;
    let pid: number | undefined;
    for (const c of cmds) {
      const args = c === 'create' ? ['create', '--bundle', sleepBundle, id] : c === 'kill' ? ['kill', id, 'KILL'] : [c, id];
      if (c === 'delete' && pid) await waitGone([pid]);
      const file = join(workDir(), 'tmp', `perf-${c}-${i}`);
      const calls = perfTrace(args, file);
      rmSync(file, { force: true });
      if (c === 'create') pid = statePid(tsrun, id);
      if (calls.length === 0) continue;
      const mainTid = calls.find((x) => x.comm === 'tsrun')?.tid;
      const main = calls.filter((x) => x.tid === mainTid);
      const init = calls.filter((x) => x.comm.startsWith('tsrun-init'));
      const t0 = main[0]?.at ?? 0;
      const end = Math.max(...main.map((x) => x.at + x.ms));
      if (c === 'create') {
        // Phases of create: before the init is cloned; clone (returns once the init has exec'd,
        // CLONE_VFORK); placing it in its cgroups (cgroup.procs writes); waiting for the init to
        // carry out the plan (reads of the pipe until READY); the rest (final state save, exit).
        const clone = main.find((x) => x.name === 'clone' || (x.name === 'clone3' && x.ms > 0.5 && /NEW/.test(x.what)));
        if (clone) {
          const procs = main.filter((x) => x.at >= clone.at && x.name === 'write' && x.what.endsWith('/cgroup.procs'));
          const reads = main.filter((x) => x.at >= clone.at && x.name === 'read' && x.what.startsWith('pipe'));
          const lastRead = reads[reads.length - 1];
          phase('1. from exec of tsrun to clone() of the init', clone.at - t0);
          phase('2. clone() until the init has exec\'d (CLONE_VFORK)', clone.ms);
          phase('3. writing the init\'s pid to cgroup.procs (all hierarchies)', procs.reduce((a, x) => a + x.ms, 0));
          phase('4. waiting for the init to carry out the plan (pipe reads)', reads.reduce((a, x) => a + x.ms, 0));
          if (lastRead) phase('5. from READY to the last syscall (state save, exit)', end - (lastRead.at + lastRead.ms));
          const fsyncs = main.filter((x) => x.name === 'fsync');
          phase(`   fsync() calls (${fsyncs.length} in this run), total`, fsyncs.reduce((a, x) => a + x.ms, 0));
        }
      }
      const e = perCmd.get(c) ?? perCmd.set(c, { wall: [], main: [], big: new Map(), timelines: [] }).get(c)!;
      e.wall.push(end - t0);
      e.main.push(main.reduce((a, x) => a + x.ms, 0));
      const big = [...main, ...init].filter((x) => x.ms >= 0.2 && !(x.name === 'execve' && x.at === t0)).sort((a, b) => a.at - b.at);
      for (const x of big) {
        const k = `${x.tid === mainTid ? 'tsrun' : 'init'} ${x.name}(${norm(x.what, id)})`;
        e.big.set(k, [...(e.big.get(k) ?? []), x.ms]);
      }
      e.timelines.push({
        wall: end - t0,
        text: big.map((x) => `${(x.at - t0).toFixed(1).padStart(7)} ms  +${x.ms.toFixed(2).padStart(6)} ms  ${x.tid === mainTid ? 'tsrun     ' : 'tsrun-init'}  ${x.name}(${norm(x.what, id)})`),
      });
    }
  }
  lines.push(
    `\`perf trace\` of ${runs} runs per command (every thread and the container's init; little overhead, unlike strace).`,
    'wall: first to last syscall of the main thread; in syscalls: time the main thread spent inside syscalls (the rest is user space: JavaScript, the loader, page faults).',
    '',
    '| command | wall (ms) | main thread in syscalls (ms) | user space (ms) |',
    '|---|---:|---:|---:|',
    ...[...perCmd].map(([c, e]) => `| ${c} | ${median(e.wall).toFixed(1)} | ${median(e.main).toFixed(1)} | ${(median(e.wall) - median(e.main)).toFixed(1)} |`),
    '',
    'Syscalls that took 0.2 ms or more (median over the runs where they did; n = in how many of the runs):',
    '',
    '| command | who | syscall (file) | median ms | n |',
    '|---|---|---|---:|---:|',
  );
  for (const [c, e] of perCmd) {
    for (const [k, v] of [...e.big].sort((a, b) => median(b[1]) * b[1].length - median(a[1]) * a[1].length).slice(0, 14)) {
      const [who, ...call] = k.split(' ');
      lines.push(`| ${c} | ${who} | \`${call.join(' ').replace(/\|/g, '\\|')}\` | ${median(v).toFixed(2)} | ${v.length} |`);
    }
  }
  if (phases.size) {
    lines.push('', 'Phases of create (medians over the runs):', '', '| phase | ms |', '|---|---:|', ...[...phases].sort((a, b) => a[0].trim().localeCompare(b[0].trim())).map(([k, v]) => `| ${k} | ${median(v).toFixed(2)} |`));
  }
  const cr = perCmd.get('create');
  if (cr && cr.timelines.length) {
    const mid = [...cr.timelines].sort((a, b) => a.wall - b.wall)[cr.timelines.length >> 1]!;
    lines.push('', `Timeline of the median create (${mid.wall.toFixed(1)} ms), syscalls of 0.2 ms or more:`, '', '```', ...mid.text, '```');
  }
  lines.push('');
  return lines;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const log = (m: string) => process.stderr.write(`[profile ${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${m}\n`);
  log(`N=${N}; scratch ${workDir()}`);
  const a = await timings();
  log('timings done');
  const b = await profiles();
  log('cpu profiles done');
  const c = await traces();
  log('perf trace done');
  // The waiting init's footprint, for the record.
  const id = 'pss-probe';
  measure(tsrun, ['create', '--bundle', sleepBundle, id]);
  const pid = statePid(tsrun, id);
  const pss = pid ? pssKb(pid) : NaN;
  measure(tsrun, ['delete', '--force', id]);
  const md = [
    '# tsrun profile data',
    '',
    `Generated by \`bash bench/profile.sh\` on ${new Date().toISOString()} (load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}). Analysis: bench/PROFILE.md.`,
    '',
    '## Wall time, CPU and peak RSS per command',
    '',
    ...a,
    '',
    `PSS of tsrun's waiting init: ${pss} kB.`,
    '',
    '## JavaScript CPU profiles (tsrun-prof)',
    '',
    ...b,
    '## Syscalls',
    '',
    ...c,
  ].join('\n');
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, md);
  process.stdout.write(`written to ${OUT}\n`);
  rmSync(workDir(), { recursive: true, force: true });
}

await main();
