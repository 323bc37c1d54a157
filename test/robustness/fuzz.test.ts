// Property-based fuzzing of config.json (fast-check): valid configs mutated structurally and by
// value (fuzz-gen.ts). Every case must either run or fail with exactly one line `tsrun: …`, and
// leave nothing behind: --root empty, no process, no mount, no cgroup (checked after every case).
//   FUZZ_CASES  number of cases (default 2000; `make soak`: 20000)
//   FUZZ_SEED   seed (default: a fixed one; "random" for a fresh one); printed, to replay a run
//   FUZZ_ONLY   run only case N of that seed (replay one failure)
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { cgroupDirsNamed, context, sampleRootfs, testingTsrun } from '../helpers/index.js';
import { caseArb, render, type CaseEnv, type FuzzCase } from './fuzz-gen.js';
import { call, describeLeaks, errorLines, leakCount, mountPoints, oneLineProblem, procSnapshot, scopedProcesses, settledLeaks, show, stateCall, type Call, type Scope } from './lib.js';

const CASES = Number(process.env.FUZZ_CASES ?? '2000');
const DEFAULT_SEED = 0x75a1_2024;
const SEED = process.env.FUZZ_SEED === 'random' ? (Date.now() ^ (process.pid << 8)) >>> 0
  : process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : DEFAULT_SEED;
const ONLY = process.env.FUZZ_ONLY !== undefined ? Number(process.env.FUZZ_ONLY) : undefined;
/** A case that runs a container takes ~0.1-0.5 s; a hang is a failure, not a wait. */
const CASE_TIMEOUT_MS = 20_000;
/** A fresh rootfs copy every so many cases (containers with a writable root change theirs). */
const ROOTFS_EVERY = 250;
/** Cases run at once (each worker has its own dirs, so the leak checks stay per case). */
const JOBS = Number(process.env.FUZZ_JOBS ?? '2');

/**
 * Known findings, not yet fixed (outside src/container): reported as TODO with their count, so
 * that they stay visible without failing every run. A case is excused only if it passes once the
 * finding's symptom is set aside.
 */

/** Sets aside tsrun-init's own stderr lines (there must be none: tsrun words every error); says whether there were any. */
function withoutInitLines(r: Call): [Call, boolean] {
  const lines = r.stderr.split('\n');
  const kept = lines.filter((l) => !l.startsWith('tsrun-init: '));
  return [{ ...r, stderr: kept.join('\n') }, kept.length !== lines.length];
}

t.setTimeout(120_000 + CASES * 1_000);

interface Tally {
  cases: number;
  run: number;
  lifecycle: number;
  ranOk: number;
  ranNonZero: number;
  refused: number;
  badOutput: number;
  hangs: number;
  leakyCases: number;
  leaks: number;
  errors: Map<string, number>;
}

/** "config.json /process/args: ..." -> "config.json /process/args" (what kind of refusal). */
function errorKind(line: string): string {
  const m = /^tsrun: \S+ \S+: (.*)$/.exec(line);
  const msg = m ? m[1]! : line;
  const cfg = /^config\.json (\/[^:\s]*)/.exec(msg);
  if (cfg) return `config.json ${cfg[1]!.split('/').slice(0, 3).join('/')}`;
  return msg.replace(/"[^"]*"/g, '""').replace(/\d+/g, 'N').split(':').slice(0, 2).join(':').slice(0, 60);
}

t.test(`config.json fuzzing: ${ONLY !== undefined ? `case ${ONLY} of` : CASES} cases, seed ${SEED}`, { skip: !testingTsrun() && 'the one-line rule is tsrun\'s' }, async (t) => {
  const c = context(t);
  chmodSync(c.dir, 0o755); // a user namespace's root (host uid 100000) must reach the rootfs
  const tag = c.mark.replace(/[^a-z0-9]/gi, '').slice(-8);
  const cgroupParent = `/tsrun-fuzz-${tag}`;
  const mountsBefore = new Set(mountPoints());
  t.teardown(() => {
    for (const d of cgroupDirsNamed([`tsrun-fuzz-${tag}`]).sort((a, b) => b.length - a.length)) {
      try {
        rmdirSync(d);
      } catch {
        // has children (a leak, reported) or gone
      }
    }
  });

  const tally: Tally = { cases: 0, run: 0, lifecycle: 0, ranOk: 0, ranNonZero: 0, refused: 0, badOutput: 0, hangs: 0, leakyCases: 0, leaks: 0, errors: new Map() };
  const failures: string[] = [];
  const samples = fc.sample(caseArb, { seed: SEED, numRuns: ONLY !== undefined ? ONLY + 1 : CASES });
  t.comment(`fuzz: seed ${SEED} (replay: FUZZ_SEED=${SEED} FUZZ_CASES=${CASES}; one case: FUZZ_ONLY=<n>); ${JOBS} worker(s)`);
  let next = ONLY ?? 0;

  /** A worker: its own dir, --root, bundle, rootfs copies and mark, so its leak checks see only its cases. */
  const worker = async (w: number) => {
    const dir = join(c.dir, `w${w}`);
    const root = join(dir, 'root');
    const mark = `${c.mark}-w${w}`;
    const scratchDir = join(dir, 'scratch');
    mkdirSync(join(scratchDir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'scratch-file'), 'scratch\n');
    const bundle = join(dir, 'bundle');
    mkdirSync(bundle);
    let rootfs = '';
    let copied = -1;
    let procs = procSnapshot();
    for (;;) {
      const i = next++;
      if (i >= samples.length) return;
      if (Math.floor(i / ROOTFS_EVERY) !== copied) {
        copied = Math.floor(i / ROOTFS_EVERY);
        rootfs = join(dir, `rootfs-${i}`);
        const cp = spawnSync('cp', ['-a', sampleRootfs, rootfs]);
        if (cp.status !== 0) throw new Error(`cp rootfs: ${cp.stderr}`);
      }
      const fcase: FuzzCase = samples[i]!;
      const id = `fz-${tag}-${i}-z`;
      c.ids.add(id);
      const env: CaseEnv = { id, rootfs, bundle, testDir: dir, scratchDir, scratchFile: join(dir, 'scratch-file'), cgroupParent };
      const text = render(fcase, env);
      writeFileSync(join(bundle, 'config.json'), text);
      tally.cases++;
      // Processes as the previous check saw them: only newer ones can be this case's.
      const procsBefore = procs;
      const problems: string[] = [];
      /** Applies the one-line rule to a call's result. */
      const judge = (what: string, raw: Call, okStatuses: readonly number[] = [0]) => {
        const [r, initLines] = withoutInitLines(raw);
        const p = oneLineProblem(r, okStatuses);
        if (p === undefined) {
          if (initLines) problems.push(`${what}: tsrun-init wrote a line of its own next to tsrun's (${show(raw)})`);
          return;
        }
        if (/timed out/.test(p)) tally.hangs++;
        problems.push(`${what}: ${p} (${show(raw)})`);
      };
      const opts = { root, timeoutMs: CASE_TIMEOUT_MS, mark, cwd: dir };
      if (fcase.mode === 'run') {
        tally.run++;
        const r = await call(t, ['run', '--bundle', bundle, id], opts);
        // run's status is the container's own when it ran: anything but 1 (tsrun's failure).
        const ran = r.status !== null && r.status !== 1 && !r.timedOut;
        judge('run', r, ran ? [r.status!] : [0]);
        if (ran) (r.status === 0 ? tally.ranOk++ : tally.ranNonZero++);
        else if (r.status === 1) tally.refused++;
        if (r.status === 1) count(tally, r);
      } else {
        tally.lifecycle++;
        const cr = await call(t, ['create', '--bundle', bundle, id], opts);
        judge('create', cr);
        if (cr.status === 1) {
          tally.refused++;
          count(tally, cr);
        } else if (cr.status === 0) {
          const s = await stateCall(t, id, opts);
          // 'stopped': the init died after READY (then start fails with one line).
          if (s.status !== 'created' && s.status !== 'stopped') problems.push(`state after create: ${s.status ?? s.error}`);
          const st = await call(t, ['start', id], opts);
          judge('start', st);
          if (st.status === 0) tally.ranOk++;
          else {
            tally.refused++;
            count(tally, st);
          }
          const del = await call(t, ['delete', '--force', id], opts);
          judge('delete --force', del);
        }
      }
      const scope: Scope = { roots: [root], ids: [id], dirs: [dir], mark };
      procs = new Map();
      const leaks = await settledLeaks(scope, mountsBefore, 3000, procsBefore, procs);
      if (leakCount(leaks) > 0) {
        tally.leakyCases++;
        tally.leaks += leakCount(leaks);
        problems.push(`left behind: ${describeLeaks(leaks)}`);
        await cleanUp(t, scope);
      }
      if (problems.length) {
        tally.badOutput += problems.some((p) => !p.startsWith('left behind')) ? 1 : 0;
        failures.push(`case ${i} (${fcase.mode}): ${problems.join(' | ')}\n    config: ${text.length > 1500 ? text.slice(0, 1500) + '…' : text}`);
      }
      c.ids.delete(id);
    }
  };
  await Promise.all(Array.from({ length: ONLY !== undefined ? 1 : JOBS }, (_, w) => worker(w)));

  const top = [...tally.errors.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, n]) => `${n}× ${k}`);
  t.comment(`fuzz: seed ${SEED}: ${tally.cases} cases (run: ${tally.run}, create/start/delete: ${tally.lifecycle}); ` +
    `ran: ${tally.ranOk} exit 0 + ${tally.ranNonZero} with the container's own status; refused with one line: ${tally.refused}; ` +
    `bad output: ${tally.badOutput}; hangs: ${tally.hangs}; cases that left something: ${tally.leakyCases}; leaks: ${tally.leaks}`);
  t.comment(`fuzz: most frequent refusals: ${top.join('; ')}`);
  for (const f of failures.slice(0, 25)) t.fail(f);
  if (failures.length > 25) t.fail(`... and ${failures.length - 25} more failing cases`);
  t.equal(failures.length, 0, 'every case ran or failed with one line, and left nothing');
  t.equal(tally.leaks, 0, 'zero leaks');
  t.ok(tally.ranOk > 0 && tally.refused > 0, 'the campaign both ran containers and had configs refused');
});

function count(tally: Tally, r: Call): void {
  const line = errorLines(r.stderr).find((l) => l.startsWith('tsrun: '));
  if (!line) return;
  const k = errorKind(line);
  tally.errors.set(k, (tally.errors.get(k) ?? 0) + 1);
}

/** After a leak: remove what is left so the next cases start clean. */
async function cleanUp(t: Parameters<typeof call>[0], scope: Scope): Promise<void> {
  const [root] = scope.roots;
  const [id] = scope.ids;
  const [dir] = scope.dirs;
  await call(t, ['delete', '--force', id!], { root, timeoutMs: 30_000, mark: scope.mark });
  for (const p of scopedProcesses(scope)) {
    try {
      process.kill(Number(/^pid (\d+)/.exec(p)![1]), 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const mp of mountPoints().filter((m) => m.startsWith(dir + '/')).sort((a, b) => b.length - a.length)) {
    spawnSync('umount', ['-l', mp]);
  }
  for (const d of cgroupDirsNamed([id!]).sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(d);
    } catch {
      // still busy
    }
  }
  spawnSync('rm', ['-rf', join(root!, id!)]);
}
