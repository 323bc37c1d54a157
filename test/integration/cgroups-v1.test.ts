// cgroup v1 limits end to end, through tsrun's command line, on this hybrid host (v1 controllers
// under /sys/fs/cgroup/<controller>, cgroup2 at /sys/fs/cgroup/unified). Every container gets
// cgroupsPath /tsrun-it-<id>; the limits are read back from the kernel's files and their effect is
// observed inside the container (OOM kill, failing fork, CPU affinity, throttling, freezing).
// The cgroup v2 side runs in a VM (test/vm/).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import {
  context, describe, findLeaks, makeBundle, readOut, rootFor, rt, runtimeUnderTest, snapshotHost, stateOf, testingTsrun,
  uniqueId, waitUntil, type Bundle, type Config, type HostSnapshot, type RtResult,
} from '../helpers/index.js';

const CG = '/sys/fs/cgroup';
const MiB = 1024 * 1024;

function hostSkip(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync(join(CG, 'memory', 'memory.limit_in_bytes'))) return 'needs the cgroup v1 memory hierarchy';
  for (const c of ['pids', 'cpu', 'cpuacct', 'cpuset', 'freezer', 'devices']) {
    if (!existsSync(join(CG, c, 'cgroup.procs'))) return `needs the cgroup v1 ${c} hierarchy`;
  }
  return false;
}
const skip = hostSkip();

/** Mount points of every cgroup hierarchy (v1 and cgroup2) under /sys/fs/cgroup. */
function hierarchies(): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const fstype = f[f.indexOf('-') + 1];
    const mp = f[4];
    if (mp && mp.startsWith(CG + '/') && (fstype === 'cgroup' || fstype === 'cgroup2')) out.push(mp);
  }
  return out.sort();
}

const cgPath = (id: string): string => `/tsrun-it-${id}`;
const dirOf = (ctrl: string, id: string): string => join(CG, ctrl, cgPath(id));
const allDirs = (id: string): string[] => hierarchies().map((h) => join(h, cgPath(id)));

function readCg(ctrl: string, id: string, file: string): string {
  return readFileSync(join(dirOf(ctrl, id), file), 'utf8').trim();
}

function procsIn(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number).sort((a, b) => a - b);
  } catch {
    return [];
  }
}

function keyValues(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) m.set(k, Number(v));
  }
  return m;
}

/** A process that exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

// assertNoLeaks() also counts any tsrun-init / runc init started anywhere meanwhile, and other
// suites on this shared host start those. A process of this file's containers is still found:
// each container has its own cgroup named after its id (and the bundles carry the test's mark).
const HOST_WIDE_ONLY = /\((?:(?:a tsrun-init|a runc init|root or cwd in the shared rootfs)(?:, |\)$))+$/;

/** assertNoLeaks(), leaving out processes that only the host-wide heuristics name. */
async function noLeaks(t: Test, before: HostSnapshot): Promise<void> {
  const c = context(t);
  const find = () => {
    const l = findLeaks(c, before);
    return { ...l, processes: l.processes.filter((p) => !HOST_WIDE_ONLY.test(p)) };
  };
  let leaks = find();
  // Processes killed by the runtime take a moment to exit (as in assertNoLeaks).
  for (let i = 0; i < 100 && leaks.processes.length > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
    leaks = find();
  }
  t.same(leaks.rootEntries, [], 'nothing left under --root');
  t.same(leaks.processes, [], 'no process left');
  t.same(leaks.mounts, [], 'no mount left');
  t.same(leaks.cgroups, [], 'no cgroup left');
}

function ok(t: Test, r: RtResult, what: string): boolean {
  return t.equal(r.status, 0, `${what} succeeds`, { detail: describe(r) });
}

/** A refused operation: non-zero exit; with tsrun, exactly one line on stderr in tsrun's wording (runc logs more). */
function failsWithOneLine(t: Test, r: RtResult, what: string, where: string, cause?: RegExp): void {
  t.ok(r.status !== null && r.status !== 0, `${what}: non-zero exit`, { detail: describe(r) });
  if (testingTsrun()) {
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    t.equal(lines.length, 1, `${what}: one error line`, { stderr: r.stderr });
    t.ok(r.stderr.endsWith('\n'), `${what}: the line ends with a newline`);
    t.ok(lines[0]?.startsWith(`tsrun: ${where}: `), `${what}: the line names the command and container`, { line: lines[0] });
    if (cause) t.match(lines[0] ?? '', cause, `${what}: the line says what the kernel refused`);
  }
}

/** A busybox bundle in cgroup /tsrun-it-<id> with these resources (the base config's device rules kept). */
function cgBundle(t: Test, id: string, args: string[], resources: Config = {}, patch?: (cfg: Config) => void): Bundle {
  return makeBundle(t, (cfg) => {
    cfg.linux.cgroupsPath = cgPath(id);
    cfg.linux.resources = { ...cfg.linux.resources, ...resources };
    patch?.(cfg);
  }, { args });
}

/** create + start; waits for the process to print "started". Returns the create result (its stdout file gets the output). */
async function running(t: Test, id: string, b: Bundle): Promise<RtResult> {
  const c = rt(t, ['create', '--bundle', b.dir, id]);
  ok(t, c, 'create');
  ok(t, rt(t, ['start', id]), 'start');
  t.ok(await waitUntil(() => readOut(c).includes('started')), 'the process runs', { out: readOut(c), err: readFileSync(c.stderrPath, 'utf8') });
  return c;
}

/** Kill, wait for stopped, delete; then every cgroup dir of the container must be gone. */
async function finish(t: Test, id: string): Promise<void> {
  ok(t, rt(t, ['kill', id, 'KILL']), 'kill KILL');
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'the container stops');
  ok(t, rt(t, ['delete', id]), 'delete');
  t.same(allDirs(id).filter((d) => existsSync(d)), [], 'delete removed the cgroup in every hierarchy');
}

/** `tsrun exec` a shell command in the container. */
function execSh(t: Test, id: string, script: string, input?: string): RtResult {
  return rt(t, ['exec', id, 'sh', '-c', script], { input });
}

/** A long-running `tsrun events` whose stdout lines are collected; killed at teardown if still running. */
function eventsStream(t: Test, id: string, extra: string[] = []): { lines: () => unknown[]; exit: Promise<number | null>; child: ChildProcess } {
  const runtime = runtimeUnderTest();
  const child = spawn(runtime, ['--root', rootFor(t, runtime), 'events', ...extra, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', () => undefined);
  const exit = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const lines = () => out.split('\n').filter(Boolean).map((l) => {
    try {
      return JSON.parse(l) as unknown;
    } catch {
      return { unparsable: l };
    }
  });
  return { lines, exit, child };
}

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> =>
  Promise.race([p, new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), ms))]);

// busybox dd allocates its bs-sized buffer and fills it from /dev/zero: a memory hog in one command.
const HOG = (mib: number) => `dd if=/dev/zero of=/dev/null bs=${mib}M count=1 2>/dev/null`;

/** /proc/<pid>/cgroup as hierarchy -> path ("" is the cgroup2 one). */
function cgroupsOf(pid: number): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter(Boolean)) {
    const [, ctrls, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (ctrls !== undefined && path !== undefined) m.set(ctrls, path);
  }
  return m;
}

// tsrun clones the init into the cgroup2 cgroup and lets it join the v1 ones itself (no
// cgroup.procs write): it must still be in the container's cgroup everywhere, before start,
// and so must a process `exec` adds.
t.test("the init and an exec'd process are in the container's cgroup in every hierarchy", { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = cgBundle(t, id, ['sh', '-c', 'echo started; exec sleep 1000']);
  const inEvery = (pid: number, what: string): void => {
    const cg = cgroupsOf(pid);
    t.equal(cg.size, hierarchies().length, `${what}: one line per mounted hierarchy`, { cg: [...cg] });
    t.same([...cg].filter(([, p]) => p !== cgPath(id)), [], `${what}: in ${cgPath(id)} in every hierarchy`);
  };
  ok(t, rt(t, ['create', '--bundle', b.dir, id]), 'create');
  const initPid = stateOf(t, id)?.pid ?? 0;
  inEvery(initPid, 'the waiting init');
  t.same(procsIn(dirOf('pids', id)), [initPid], 'pids cgroup.procs lists the init');
  ok(t, rt(t, ['start', id]), 'start');
  const pidFile = join(b.dir, 'exec.pid');
  ok(t, rt(t, ['exec', '-d', '--pid-file', pidFile, id, 'sleep', '1000']), 'exec -d');
  const execPid = Number(readFileSync(pidFile, 'utf8'));
  inEvery(execPid, "the exec'd process");
  t.same(procsIn(dirOf('devices', id)), [initPid, execPid].sort((a, b) => a - b), 'devices cgroup.procs lists both');
  await finish(t, id);
  await noLeaks(t, before);
});

// Like runc's exec, only the final process of exec joins the cgroup (a migration, which
// pids.max does not refuse); the forks into the pid namespace happen before, outside.
t.test('exec into a container at its pids.max works', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  await running(t, id, cgBundle(t, id, ['sh', '-c', 'echo started; exec sleep 1000'], { pids: { limit: 1 } }));
  t.equal(readCg('pids', id, 'pids.current'), '1', 'the cgroup is full');
  const e = execSh(t, id, 'echo in; exec cat /proc/self/cgroup');
  ok(t, e, 'exec');
  t.match(e.stdout, new RegExp(`^in\\n(?:.*\\n)*\\d+:pids:(${cgPath(id)}|/)\\n`), "the exec'd process ran in the container's pids cgroup", { out: e.stdout });
  await finish(t, id);
  await noLeaks(t, before);
});

t.test('memory: a process allocating past memory.limit_in_bytes is OOM-killed and `events` reports it', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const limit = 32 * MiB;
  const b = cgBundle(t, id, ['sh', '-c', `echo started; ${HOG(96)}; echo "hog-exit=$?"; exec sleep 1000`],
    { memory: { limit, swap: limit } });
  const c = rt(t, ['create', '--bundle', b.dir, id]);
  ok(t, c, 'create');
  t.equal(readCg('memory', id, 'memory.limit_in_bytes'), String(limit), 'memory.limit_in_bytes holds the limit');
  t.equal(readCg('memory', id, 'memory.memsw.limit_in_bytes'), String(limit), 'memory.memsw.limit_in_bytes holds memory+swap');

  const ev = eventsStream(t, id, ['--interval', '100ms']);
  // The first stats line means events has taken its OOM baseline: an OOM from now on is new.
  t.ok(await waitUntil(() => ev.lines().length > 0), 'events prints a first stats line');
  ok(t, rt(t, ['start', id]), 'start');
  t.ok(await waitUntil(() => readOut(c).includes('hog-exit=')), 'the hog ends', { out: readOut(c) });
  t.match(readOut(c), /hog-exit=137/, 'the hog was killed by SIGKILL');
  t.ok(await waitUntil(() => ev.lines().some((l) => (l as { type?: string }).type === 'oom')), 'events reports an oom event');
  const oom = ev.lines().filter((l) => (l as { type?: string }).type === 'oom');
  t.same(oom[0], { type: 'oom', id }, 'the oom event is {"type":"oom","id":...} like runc');
  t.ok((keyValues(readCg('memory', id, 'memory.oom_control')).get('oom_kill') ?? 0) >= 1, 'memory.oom_control counts the OOM kill');
  t.ok(await waitUntil(() => ev.lines().filter((l) => (l as { type?: string }).type === 'stats').length >= 2),
    'events keeps printing stats at the interval');
  t.same(ev.lines().filter((l) => !['stats', 'oom'].includes((l as { type?: string }).type ?? '')), [], 'every line is a stats or oom event');
  t.equal(stateOf(t, id)?.status, 'running', 'the container itself survives (only the hog was killed)');

  ok(t, rt(t, ['kill', id, 'KILL']), 'kill KILL');
  // runc 1.1 keeps `events` running after the container stopped; tsrun ends the stream.
  if (testingTsrun()) t.equal(await withTimeout(ev.exit, 10_000), 0, 'events exits 0 once the container stopped');
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'stopped');
  ok(t, rt(t, ['delete', id]), 'delete');
  t.same(allDirs(id).filter((d) => existsSync(d)), [], 'delete removed the cgroup in every hierarchy');
  await noLeaks(t, before);
});

// The kernel charges a cgroup in per-CPU batches of 256 KiB: a limit written after the init has
// charged its first pages would be refused (EBUSY) below that, although the container needs less.
t.test('memory: the limit is on before the init enters its cgroup: echo runs under 240 KiB', { skip: skip || (!testingTsrun() && "runc's init needs megabytes") }, async (t) => {
  const before = snapshotHost(t);
  const limit = 240 * 1024;
  for (let i = 0; i < 3; i++) {
    const id = uniqueId(t);
    const seen = join(context(t).dir, `limit-at-createRuntime-${id}`);
    // createRuntime: the init is in its cgroup and has built the rootfs; nothing has run yet.
    const b = cgBundle(t, id, ['echo', 'it works'], { memory: { limit, swap: limit } }, (cfg) => {
      cfg.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `cat ${join(dirOf('memory', id), 'memory.limit_in_bytes')} > ${seen}`] }] };
    });
    const r = rt(t, ['run', '--bundle', b.dir, id]);
    ok(t, r, `run ${i + 1}`);
    t.equal(readOut(r).trim(), 'it works', `run ${i + 1}: the process ran under the limit`);
    t.equal(readFileSync(seen, 'utf8').trim(), String(limit), `run ${i + 1}: the limit was already set when createRuntime ran`);
    t.same(allDirs(id).filter((d) => existsSync(d)), [], `run ${i + 1}: the cgroup is gone`);
  }
  await noLeaks(t, before);
});

t.test('memory: an init that outgrows the limit fails create with one line, like runc\'s, and nothing is left', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const limit = 32 * 1024;
  const b = cgBundle(t, id, ['true'], { memory: { limit, swap: limit } });
  const c = rt(t, ['create', '--bundle', b.dir, id]);
  failsWithOneLine(t, c, 'create under a 32 KiB limit', `create ${id}`, /container init was OOM-killed \(memory limit too low\?\)/);
  t.same(allDirs(id).filter((d) => existsSync(d)), [], 'no cgroup left');
  await noLeaks(t, before);
});

t.test('pids: a fork loop stops at pids.max', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const limit = 12;
  // The inner shell dies when fork fails; the outer one (pid 1) then only uses builtins and exec.
  const loop = 'i=0; while [ $i -lt 100 ]; do sleep 1000 & i=$((i+1)); echo "forked=$i"; done';
  const b = cgBundle(t, id, ['sh', '-c', `echo started; sh -c '${loop}'; echo "loop-exit=$?"; exec sleep 1000`],
    { pids: { limit } });
  const c = await running(t, id, b);
  t.equal(readCg('pids', id, 'pids.max'), String(limit), 'pids.max holds the limit');
  t.ok(await waitUntil(() => readOut(c).includes('loop-exit=')), 'the fork loop ends', { out: readOut(c) });
  const out = readOut(c);
  const forked = Math.max(...[...out.matchAll(/forked=(\d+)/g)].map((m) => Number(m[1])));
  // pid 1 + the looping shell + its children reached the limit.
  t.equal(forked + 2, limit, 'the loop forked until the cgroup held pids.max processes', { out });
  t.notMatch(out, /loop-exit=0/, 'the loop failed instead of finishing');
  t.ok((keyValues(readCg('pids', id, 'pids.events')).get('max') ?? 0) >= 1, 'pids.events counts the refused fork');
  const current = Number(readCg('pids', id, 'pids.current'));
  t.equal(current, limit - 1, 'pids.current: everything but the exited looping shell');
  const ps = rt(t, ['ps', '--format', 'json', id]);
  ok(t, ps, 'ps --format json');
  t.equal((JSON.parse(ps.stdout || '[]') as number[]).length, current, 'ps lists as many processes as pids.current');
  await finish(t, id);
  await noLeaks(t, before);
});

t.test('cpu: cfs quota, period and shares hold the configured values and the quota throttles', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = cgBundle(t, id, ['sh', '-c', 'echo started; while :; do :; done'],
    { cpu: { quota: 20000, period: 50000, shares: 512 } });
  await running(t, id, b);
  t.equal(readCg('cpu', id, 'cpu.cfs_quota_us'), '20000', 'cpu.cfs_quota_us');
  t.equal(readCg('cpu', id, 'cpu.cfs_period_us'), '50000', 'cpu.cfs_period_us');
  t.equal(readCg('cpu', id, 'cpu.shares'), '512', 'cpu.shares');
  const inside = execSh(t, id, 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us');
  ok(t, inside, 'exec cat of the cpu files');
  t.equal(inside.stdout, '20000\n50000\n', 'the container sees the same quota and period');
  t.ok(await waitUntil(() => (keyValues(readCg('cpu', id, 'cpu.stat')).get('nr_throttled') ?? 0) > 0),
    'the busy loop gets throttled (cpu.stat nr_throttled > 0)', { stat: readCg('cpu', id, 'cpu.stat') });
  await finish(t, id);
  await noLeaks(t, before);
});

t.test('cpuset: the container sees only the configured CPUs; update moves it', { skip: skip || (cpuCount() < 2 ? 'needs 2 CPUs' : false) }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = cgBundle(t, id, ['sh', '-c', 'echo started; exec sleep 1000'], { cpu: { cpus: '1', mems: '0' } });
  await running(t, id, b);
  t.equal(readCg('cpuset', id, 'cpuset.cpus'), '1', 'cpuset.cpus');
  t.equal(readCg('cpuset', id, 'cpuset.mems'), '0', 'cpuset.mems');
  const r1 = execSh(t, id, 'grep Cpus_allowed_list /proc/self/status; grep Cpus_allowed_list /proc/1/status');
  ok(t, r1, 'exec grep');
  t.equal(r1.stdout, 'Cpus_allowed_list:\t1\nCpus_allowed_list:\t1\n', 'init and an exec see only CPU 1');
  ok(t, rt(t, ['update', '--cpuset-cpus', '0', id]), 'update --cpuset-cpus 0');
  t.equal(readCg('cpuset', id, 'cpuset.cpus'), '0', 'cpuset.cpus after update');
  const r2 = execSh(t, id, 'grep Cpus_allowed_list /proc/1/status');
  t.equal(r2.stdout, 'Cpus_allowed_list:\t0\n', 'the running init moved to CPU 0', { detail: describe(r2) });
  await finish(t, id);
  await noLeaks(t, before);
});

function cpuCount(): number {
  try {
    const list = readFileSync(join(CG, 'cpuset', 'cpuset.cpus'), 'utf8').trim();
    let n = 0;
    for (const part of list.split(',')) {
      const [a, z] = part.split('-').map(Number);
      n += z === undefined ? 1 : z - a! + 1;
    }
    return n;
  } catch {
    return 0;
  }
}

/**
 * Runs a fork loop in an exec (the container's init being its only other process) and checks that
 * it stopped at pids.max: pid 1 + the exec's shell + its children make `limit`, give or take one
 * slot that the exec's host-side helper (the parent of the process entering the pid namespace)
 * may still hold while the loop runs, as with runc's intermediate `runc init`.
 */
function checkForkLoopInExec(t: Test, id: string, limit: number): void {
  const refused = () => keyValues(readCg('pids', id, 'pids.events')).get('max') ?? 0;
  const refusedBefore = refused();
  const r = execSh(t, id, 'i=0; while [ $i -lt 100 ]; do sleep 1000 & i=$((i+1)); echo "forked=$i"; done');
  t.not(r.status, 0, 'the exec fork loop fails', { detail: describe(r) });
  t.match(r.stderr, /can't fork/, 'because fork failed', { detail: describe(r) });
  const forked = Math.max(0, ...[...r.stdout.matchAll(/forked=(\d+)/g)].map((m) => Number(m[1])));
  t.ok(forked + 2 <= limit && forked + 3 >= limit, `the fork loop stopped at pids.max ${limit}`, { forked, limit });
  t.ok(refused() > refusedBefore, 'pids.events counts the refused fork');
  t.ok(Number(readCg('pids', id, 'pids.current')) <= limit, 'pids.current never exceeds pids.max');
}

t.test('update with runc flags changes memory, pids and cpu limits of a running container', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = cgBundle(t, id, ['sh', '-c', 'echo started; exec sleep 1000'],
    { memory: { limit: 96 * MiB }, pids: { limit: 40 }, cpu: { quota: 20000, period: 100000 } });
  await running(t, id, b);
  ok(t, execSh(t, id, `${HOG(48)}`), 'a 48 MiB allocation fits under 96 MiB');

  const u = rt(t, ['update', '--memory', '32M', '--pids-limit', '8', '--cpu-quota', '30000', '--cpu-period', '60000', id]);
  ok(t, u, 'update --memory 32M --pids-limit 8 --cpu-quota 30000 --cpu-period 60000');
  t.equal(readCg('memory', id, 'memory.limit_in_bytes'), String(32 * MiB), 'memory.limit_in_bytes');
  t.equal(readCg('pids', id, 'pids.max'), '8', 'pids.max');
  t.equal(readCg('cpu', id, 'cpu.cfs_quota_us'), '30000', 'cpu.cfs_quota_us');
  t.equal(readCg('cpu', id, 'cpu.cfs_period_us'), '60000', 'cpu.cfs_period_us');
  const seen = execSh(t, id, 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max');
  t.equal(seen.stdout, `${32 * MiB}\n8\n`, 'the container sees the new limits', { detail: describe(seen) });

  const hog = execSh(t, id, `${HOG(48)}; echo "hog-exit=$?"`);
  t.match(hog.stdout, /hog-exit=137/, 'the same 48 MiB allocation is now OOM-killed', { detail: describe(hog) });
  checkForkLoopInExec(t, id, 8);
  t.equal(stateOf(t, id)?.status, 'running', 'the container still runs');
  await finish(t, id);
  await noLeaks(t, before);
});

t.test('update with -r - and --resources FILE (runtime-spec JSON)', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = cgBundle(t, id, ['sh', '-c', 'echo started; exec sleep 1000'], { memory: { limit: 96 * MiB }, pids: { limit: 40 } });
  await running(t, id, b);

  const fromStdin = rt(t, ['update', '-r', '-', id], { input: JSON.stringify({ memory: { limit: 40 * MiB }, pids: { limit: 6 } }) });
  ok(t, fromStdin, 'update -r - (stdin)');
  t.equal(readCg('memory', id, 'memory.limit_in_bytes'), String(40 * MiB), 'memory.limit_in_bytes from stdin');
  t.equal(readCg('pids', id, 'pids.max'), '6', 'pids.max from stdin');
  const hog = execSh(t, id, `${HOG(56)}; echo "hog-exit=$?"`);
  t.match(hog.stdout, /hog-exit=137/, 'a 56 MiB allocation is OOM-killed under 40 MiB', { detail: describe(hog) });
  // Last: the loop's children stay, holding the pids.
  checkForkLoopInExec(t, id, 6);

  const file = join(b.dir, 'resources.json');
  writeFileSync(file, JSON.stringify({ memory: { limit: 128 * MiB }, pids: { limit: -1 }, cpu: { quota: 45000, period: 90000 } }));
  ok(t, rt(t, ['update', '--resources', file, id]), 'update --resources FILE');
  t.equal(readCg('memory', id, 'memory.limit_in_bytes'), String(128 * MiB), 'memory.limit_in_bytes from the file');
  t.equal(readCg('pids', id, 'pids.max'), 'max', 'pids.limit -1 means no limit');
  t.equal(readCg('cpu', id, 'cpu.cfs_quota_us'), '45000', 'cpu.cfs_quota_us from the file');
  t.equal(readCg('cpu', id, 'cpu.cfs_period_us'), '90000', 'cpu.cfs_period_us from the file');
  const again = execSh(t, id, `${HOG(56)}; echo "hog-exit=$?"`);
  t.match(again.stdout, /hog-exit=0/, 'the 56 MiB allocation fits again', { detail: describe(again) });
  await finish(t, id);
  await noLeaks(t, before);
});


t.test('pause freezes the container and resume continues it', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const data = join(context(t).dir, `data-${id}`);
  mkdirSync(data);
  const b = cgBundle(t, id, ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /mnt/count; sleep 0.02; done'], {}, (cfg) => {
    cfg.mounts.push({ destination: '/mnt', type: 'bind', source: data, options: ['rbind', 'rw'] });
  });
  // The file is empty for a moment while the loop rewrites it.
  const count = (): number | undefined => {
    try {
      const n = Number(readFileSync(join(data, 'count'), 'utf8').trim());
      return n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  };
  ok(t, rt(t, ['create', '--bundle', b.dir, id]), 'create');
  ok(t, rt(t, ['start', id]), 'start');
  t.ok(await waitUntil(() => (count() ?? 0) >= 3), 'the counter advances', { count: count() });

  ok(t, rt(t, ['pause', id]), 'pause');
  t.equal(stateOf(t, id)?.status, 'paused', 'state says paused');
  t.equal(readCg('freezer', id, 'freezer.state'), 'FROZEN', 'freezer.state is FROZEN');
  const frozenAt = count();
  const seen = new Set<number | undefined>();
  // A running loop would write several times in this window (it writes every 20 ms or so).
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 25));
    seen.add(count());
  }
  t.same([...seen], [frozenAt], 'the counter does not move while paused');
  const again = rt(t, ['resume', id]);
  ok(t, again, 'resume');
  t.equal(stateOf(t, id)?.status, 'running', 'state says running');
  t.equal(readCg('freezer', id, 'freezer.state'), 'THAWED', 'freezer.state is THAWED');
  const last = Math.max(0, ...[...seen].filter((n): n is number => n !== undefined));
  t.ok(await waitUntil(() => (count() ?? 0) > last + 2), 'the counter advances again', { last, now: count() });
  failsWithOneLine(t, rt(t, ['resume', id]), 'resume of a running container', `resume ${id}`, /not paused/);

  // A paused container can be force-deleted: its frozen processes die and its cgroups go.
  ok(t, rt(t, ['pause', id]), 'pause again');
  const procs = procsIn(dirOf('freezer', id));
  t.ok(procs.length >= 1, 'the paused container has processes', { procs });
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force of the paused container');
  t.ok(await waitUntil(() => procs.every((p) => !alive(p))), 'its processes are gone');
  t.same(allDirs(id).filter((d) => existsSync(d)), [], 'delete removed the cgroup in every hierarchy');
  await noLeaks(t, before);
});

/** `ps` table rows: PID column -> the rest of the row (by header). */
function psRows(text: string): Array<Record<string, string>> {
  const [header = '', ...rows] = text.split('\n').filter((l) => l.trim() !== '');
  const cols = header.trim().split(/\s+/);
  return rows.map((row) => {
    const f = row.trim().split(/\s+/);
    const rec: Record<string, string> = {};
    // The last column (CMD/COMMAND) may hold blanks.
    cols.forEach((c, i) => { rec[c] = i === cols.length - 1 ? f.slice(i).join(' ') : f[i] ?? ''; });
    return rec;
  });
}

t.test('ps lists exactly the processes in the cgroup (table and json)', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = cgBundle(t, id, ['sh', '-c', 'sleep 1000 & sleep 1001 & echo started; wait']);
  await running(t, id, b);
  t.ok(await waitUntil(() => procsIn(dirOf('pids', id)).length === 3), 'three processes in the cgroup');
  const procs = procsIn(dirOf('devices', id));
  for (const d of allDirs(id)) t.same(procsIn(d), procs, `${d}/cgroup.procs lists the same processes`);

  const json = rt(t, ['ps', '--format', 'json', id]);
  ok(t, json, 'ps --format json');
  t.same(JSON.parse(json.stdout || 'null'), procs, 'ps --format json: the pids in cgroup.procs');

  const table = rt(t, ['ps', id]);
  ok(t, table, 'ps (table)');
  t.match(table.stdout.split('\n')[0] ?? '', /\bPID\b/, 'the table starts with ps\'s header');
  const rows = psRows(table.stdout);
  t.same(rows.map((r) => Number(r.PID)).sort((a, b) => a - b), procs, 'the table rows are exactly the cgroup\'s processes');
  t.same(rows.map((r) => r.CMD).sort(), ['sh -c sleep 1000 & sleep 1001 & echo started; wait', 'sleep 1000', 'sleep 1001'],
    'with their command lines');

  const custom = rt(t, ['ps', id, '-o', 'pid,comm']);
  ok(t, custom, 'ps ID -o pid,comm');
  const crow = psRows(custom.stdout);
  t.same(crow.map((r) => Number(r.PID)).sort((a, b) => a - b), procs, 'ps options: still only the cgroup\'s processes');
  t.same(crow.map((r) => r.COMMAND).sort(), ['sh', 'sleep', 'sleep'], 'ps options: the asked columns');

  ok(t, rt(t, ['exec', '-d', id, 'sleep', '999']), 'exec -d sleep 999');
  t.ok(await waitUntil(() => procsIn(dirOf('devices', id)).length === 4), 'the exec joined the cgroup');
  const json2 = rt(t, ['ps', '--format', 'json', id]);
  t.same(JSON.parse(json2.stdout || 'null'), procsIn(dirOf('devices', id)), 'ps --format json includes the exec\'d process');
  await finish(t, id);
  await noLeaks(t, before);
});

interface Stats {
  cpu: { usage: { total?: number } };
  cpuset: { cpus?: number[] };
  memory: { usage: { limit: number; usage?: number; max?: number }; swap: { limit: number } };
  pids: { current?: number; limit?: number };
}

/** `events --stats` with the cgroup files read just before and just after it. */
function statsBracketed(t: Test, id: string) {
  const files = () => ({
    usage: Number(readCg('memory', id, 'memory.usage_in_bytes')),
    maxUsage: Number(readCg('memory', id, 'memory.max_usage_in_bytes')),
    limit: Number(readCg('memory', id, 'memory.limit_in_bytes')),
    memswLimit: Number(readCg('memory', id, 'memory.memsw.limit_in_bytes')),
    pidsCurrent: Number(readCg('pids', id, 'pids.current')),
    pidsMax: readCg('pids', id, 'pids.max'),
    cpu: Number(readCg('cpuacct', id, 'cpuacct.usage')),
    cpus: readCg('cpuset', id, 'cpuset.cpus'),
  });
  const before = files();
  const r = rt(t, ['events', '--stats', id]);
  const after = files();
  ok(t, r, 'events --stats');
  const lines = r.stdout.split('\n').filter(Boolean);
  t.equal(lines.length, 1, 'events --stats prints one line');
  const ev = JSON.parse(lines[0] ?? '{}') as { type: string; id: string; data: Stats };
  t.equal(ev.type, 'stats', 'type is stats');
  t.equal(ev.id, id, 'id is the container');
  return { before, after, data: ev.data };
}

function checkStats(t: Test, s: ReturnType<typeof statsBracketed>, pidsLimit: number): void {
  const { before, after, data } = s;
  const slack = MiB;
  const lo = Math.min(before.usage, after.usage) - slack;
  const hi = Math.max(before.usage, after.usage) + slack;
  t.equal(data.memory.usage.limit, before.limit, 'memory.usage.limit is memory.limit_in_bytes');
  t.equal(data.memory.swap.limit, before.memswLimit, 'memory.swap.limit is memory.memsw.limit_in_bytes');
  t.ok((data.memory.usage.usage ?? 0) >= lo && (data.memory.usage.usage ?? 0) <= hi,
    'memory.usage.usage is memory.usage_in_bytes (within 1 MiB of the reads around it)', { got: data.memory.usage.usage, before: before.usage, after: after.usage });
  t.ok((data.memory.usage.max ?? 0) >= before.maxUsage && (data.memory.usage.max ?? 0) <= after.maxUsage,
    'memory.usage.max is memory.max_usage_in_bytes', { got: data.memory.usage.max, before: before.maxUsage, after: after.maxUsage });
  t.equal(data.pids.current, before.pidsCurrent, 'pids.current');
  t.equal(before.pidsCurrent, after.pidsCurrent, '(pids.current did not change meanwhile)');
  t.equal(data.pids.limit, pidsLimit, 'pids.limit');
  t.equal(before.pidsMax, String(pidsLimit), '(pids.max file)');
  t.ok((data.cpu.usage.total ?? 0) > 0, 'cpu.usage.total > 0 (the container burnt some CPU)');
  t.ok((data.cpu.usage.total ?? 0) >= before.cpu && (data.cpu.usage.total ?? 0) <= after.cpu,
    'cpu.usage.total is cpuacct.usage (between the reads around it)', { got: data.cpu.usage.total, before: before.cpu, after: after.cpu });
  t.same(data.cpuset.cpus, cpuListOf(before.cpus), 'cpuset.cpus');
}

function cpuListOf(s: string): number[] {
  const out: number[] = [];
  for (const part of s.split(',').filter(Boolean)) {
    const [a, z] = part.split('-').map(Number);
    for (let i = a!; i <= (z ?? a!); i++) out.push(i);
  }
  return out;
}

t.test('events --stats matches the cgroup files, also after they change', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = cgBundle(t, id, ['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 1000 & echo started; exec sleep 1000'],
    { memory: { limit: 64 * MiB }, pids: { limit: 20 } });
  await running(t, id, b);
  t.ok(await waitUntil(() => procsIn(dirOf('pids', id)).length === 2), 'two processes');
  const s1 = statsBracketed(t, id);
  checkStats(t, s1, 20);
  t.equal(s1.data.pids.current, 2, 'pids.current counts the two processes');

  // tmpfs pages stay charged to the cgroup: usage grows by 16 MiB and stays there.
  ok(t, execSh(t, id, 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=16 2>/dev/null'), 'exec: 16 MiB into /dev/shm');
  ok(t, rt(t, ['update', '--memory', '80M', '--pids-limit', '30', id]), 'update --memory 80M --pids-limit 30');
  ok(t, rt(t, ['exec', '-d', id, 'sleep', '999']), 'exec -d sleep 999');
  t.ok(await waitUntil(() => procsIn(dirOf('pids', id)).length === 3), 'three processes');
  const s2 = statsBracketed(t, id);
  checkStats(t, s2, 30);
  t.equal(s2.data.memory.usage.limit, 80 * MiB, 'the new memory limit');
  t.equal(s2.data.pids.current, 3, 'pids.current counts the exec\'d process');
  t.ok((s2.data.memory.usage.usage ?? 0) >= (s1.data.memory.usage.usage ?? 0) + 15 * MiB, 'memory usage grew by the 16 MiB file',
    { first: s1.data.memory.usage.usage, second: s2.data.memory.usage.usage });
  t.ok((s2.data.cpu.usage.total ?? 0) >= (s1.data.cpu.usage.total ?? 0), 'cpu usage does not go back');
  await finish(t, id);
  await noLeaks(t, before);
});

const noPidNs = (cfg: Config): void => {
  cfg.linux.namespaces = cfg.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
};

t.test('kill --all kills every process of the container, also those its init does not own', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  // No pid namespace: the double-forked sleeps outlive the init and are not its children.
  const b = cgBundle(t, id, ['sh', '-c', '(sleep 1000 &); (sleep 1001 &); echo started; exec sleep 1002'], {}, noPidNs);
  await running(t, id, b);
  t.ok(await waitUntil(() => procsIn(dirOf('pids', id)).length === 3), 'three processes in the cgroup');
  const procs = procsIn(dirOf('pids', id));
  const init = stateOf(t, id)?.pid ?? 0;
  t.ok(procs.includes(init), 'the init is one of them');
  ok(t, rt(t, ['kill', '--all', id, 'KILL']), 'kill --all KILL');
  t.ok(await waitUntil(() => procs.every((p) => !alive(p))), 'every process of the container is gone', { left: procs.filter(alive) });
  for (const d of allDirs(id)) t.same(procsIn(d), [], `${d}/cgroup.procs is empty`);
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'the container is stopped');
  ok(t, rt(t, ['delete', id]), 'delete');
  t.same(allDirs(id).filter((d) => existsSync(d)), [], 'delete removed the cgroup in every hierarchy');
  await noLeaks(t, before);
});

for (const variant of ['pid namespace', 'no pid namespace, a process left behind'] as const) {
  t.test(`delete removes the cgroup in every hierarchy after the init was SIGKILLed from outside (${variant})`, { skip }, async (t) => {
    const before = snapshotHost(t);
    const id = uniqueId(t);
    const shared = variant !== 'pid namespace';
    const b = cgBundle(t, id, ['sh', '-c', '(sleep 1000 &); echo started; exec sleep 1001'], { pids: { limit: 10 } }, shared ? noPidNs : undefined);
    await running(t, id, b);
    t.ok(await waitUntil(() => procsIn(dirOf('pids', id)).length === 2), 'two processes in the cgroup');
    const init = stateOf(t, id)?.pid ?? 0;
    const other = procsIn(dirOf('pids', id)).find((p) => p !== init) ?? 0;
    const dirs = allDirs(id);
    t.ok(dirs.length >= 9, 'the host has the v1 hierarchies and cgroup2', { dirs });
    t.same(dirs.filter((d) => !existsSync(d)), [], 'the container has a cgroup in every hierarchy');

    process.kill(init, 'SIGKILL');
    t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'the container is stopped');
    if (shared) {
      t.ok(alive(other), 'the other process outlived the init');
      t.same(procsIn(dirOf('pids', id)), [other], 'and is still in the cgroup');
    } else {
      t.ok(await waitUntil(() => !alive(other)), 'the pid namespace took the other process with it');
    }
    t.same(dirs.filter((d) => !existsSync(d)), [], 'the cgroups are still there before delete');
    ok(t, rt(t, ['delete', id]), 'delete');
    t.notOk(alive(other), 'no process of the container is left');
    t.same(dirs.filter((d) => existsSync(d)), [], 'delete removed the cgroup in every hierarchy');
    await noLeaks(t, before);
  });
}

t.test('update below the current memory usage: one error line, non-zero exit, nothing changed', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  // tmpfs pages cannot be reclaimed without swap: usage stays above 24 MiB.
  const b = cgBundle(t, id, ['sh', '-c', 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=24 2>/dev/null; echo started; exec sleep 1000'],
    { memory: { limit: 96 * MiB }, pids: { limit: 50 } });
  await running(t, id, b);
  t.ok(Number(readCg('memory', id, 'memory.usage_in_bytes')) > 24 * MiB, 'usage is above 24 MiB');
  failsWithOneLine(t, rt(t, ['update', '--memory', '8M', id]), 'update --memory 8M', `update ${id}`,
    /memory\.limit_in_bytes: device or resource busy/);
  failsWithOneLine(t, rt(t, ['update', '-r', '-', id], { input: JSON.stringify({ memory: { limit: 8 * MiB } }) }),
    'update -r - with memory.limit 8 MiB', `update ${id}`, /memory\.limit_in_bytes: device or resource busy/);
  t.equal(readCg('memory', id, 'memory.limit_in_bytes'), String(96 * MiB), 'the memory limit is unchanged');
  t.equal(stateOf(t, id)?.status, 'running', 'the container keeps running');

  failsWithOneLine(t, rt(t, ['update', '--cpuset-cpus', '1000', id]), 'update --cpuset-cpus 1000', `update ${id}`, /cpuset\.cpus/);
  t.equal(readCg('cpuset', id, 'cpuset.cpus'), readFileSync(join(CG, 'cpuset', 'cpuset.cpus'), 'utf8').trim(), 'cpuset.cpus is unchanged');
  failsWithOneLine(t, rt(t, ['update', '--memory', '12x', id]), 'update --memory 12x', `update ${id}`, /invalid value for memory/);
  failsWithOneLine(t, rt(t, ['update', '-r', '-', id], { input: '{"memory": ' }), 'update -r - with broken JSON', `update ${id}`);
  t.equal(readCg('pids', id, 'pids.max'), '50', 'pids.max is unchanged');
  t.equal(stateOf(t, id)?.status, 'running', 'the container still runs');
  await finish(t, id);
  await noLeaks(t, before);
});

for (const [what, cpu] of [['cpus', { cpus: '1000' }], ['mems', { mems: '63' }]] as const) {
  t.test(`an invalid cpuset (${what}) at create: one error line, non-zero exit, no cgroup left`, { skip }, async (t) => {
    const before = snapshotHost(t);
    const id = uniqueId(t);
    const b = cgBundle(t, id, ['sh', '-c', 'echo started; exec sleep 1000'], { cpu, memory: { limit: 64 * MiB } });
    failsWithOneLine(t, rt(t, ['create', '--bundle', b.dir, id]), `create with cpuset.${what} ${Object.values(cpu)[0]}`,
      `create ${id}`, new RegExp(`cpuset\\.${what}`));
    t.equal(stateOf(t, id), undefined, 'there is no container');
    t.same(allDirs(id).filter((d) => existsSync(d)), [], 'no cgroup directory in any hierarchy');
    await noLeaks(t, before);
  });
}

// runc: linux.devices only creates the node; whether it may be used is what linux.resources.devices says.
t.test('a device listed in linux.devices but denied by resources.devices cannot be used, by the init or an exec', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const kmsg = statSync('/dev/kmsg');
  const probe = 'if echo tsrun-devdeny >/dev/kmsg 2>/dev/null; then echo WROTE; else echo DENIED; fi';
  const b = cgBundle(t, id, ['sh', '-c', `${probe}; echo started; sleep 60`], {
    devices: [{ allow: false, access: 'rwm' }],
  }, (cfg) => {
    cfg.linux.devices = [{ path: '/dev/kmsg', type: 'c', major: Math.floor(kmsg.rdev / 256), minor: kmsg.rdev % 256, fileMode: 0o666 }];
  });
  const c = await running(t, id, b);
  t.match(readOut(c), /DENIED/, 'the init cannot write the device');
  t.notMatch(readOut(c), /WROTE/, 'the init did not write the device');
  t.equal(execSh(t, id, 'test -c /dev/kmsg && echo NODE').stdout.trim(), 'NODE', 'the node exists in the container');
  t.equal(execSh(t, id, probe).stdout.trim(), 'DENIED', "an exec'd process cannot write the device");
  t.equal(execSh(t, id, 'echo x >/dev/null && echo NULL-OK').stdout.trim(), 'NULL-OK', 'the default devices stay usable');
  if (testingTsrun()) t.notMatch(readCg('devices', id, 'devices.list'), /^c 1:11 /m, 'no allow rule for the listed device');
  await finish(t, id);
  await noLeaks(t, before);
});

// Other software (runc's own tests, containerd's CRI plugin) may mkdir controller names on the
// cgroup tmpfs without mounting anything there: such a directory is no hierarchy.
t.test('plain directories under /sys/fs/cgroup for controllers that are not mounted are not taken for hierarchies', { skip }, async (t) => {
  const mounted = new Set(hierarchies().map((h) => h.slice(CG.length + 1)));
  const made = ['hugetlb', 'net_cls', 'net_prio', 'perf_event', 'rdma', 'misc']
    .filter((c) => !mounted.has(c) && !existsSync(join(CG, c)))
    .map((c) => join(CG, c));
  if (made.length === 0) {
    t.pass('every candidate controller is mounted or present here: nothing to fake');
    return;
  }
  for (const d of made) mkdirSync(join(d, cgPath('plain')), { recursive: true });
  t.teardown(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = cgBundle(t, id, ['sh', '-c', 'echo started; exec sleep 1000']);
  await running(t, id, b);
  ok(t, execSh(t, id, 'true'), 'exec');
  for (const d of made) t.notOk(existsSync(join(d, cgPath(id))), `nothing made under the plain directory ${d}`);
  await finish(t, id);
  await noLeaks(t, before);
});

/** A v1 freezer cgroup made and frozen here; thawed and removed at teardown (if still there). */
function frozenFreezerCgroup(t: Test, dir: string): string {
  mkdirSync(dir);
  t.teardown(() => {
    try {
      writeFileSync(join(dir, 'freezer.state'), 'THAWED');
      rmdirSync(dir);
    } catch { /* gone */ }
  });
  writeFileSync(join(dir, 'freezer.state'), 'FROZEN');
  return dir;
}

// runc refuses a frozen cgroup at once ("container's cgroup unexpectedly frozen"); an init put
// into a frozen cgroup would stop mid-setup, and create must never wait for it without a bound.
t.test('create into a pre-existing frozen cgroup is refused at once, and the cgroup is left as it was', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const frozenDir = frozenFreezerCgroup(t, dirOf('freezer', id));
  const b = cgBundle(t, id, ['true']);
  for (const cmd of [['run', '-d'], ['create']]) {
    const r = rt(t, [...cmd, '--bundle', b.dir, id], { timeoutMs: 30_000 });
    failsWithOneLine(t, r, cmd[0]!, `${cmd[0]} ${id}`, /container's cgroup unexpectedly frozen/);
    t.equal(readFileSync(join(frozenDir, 'freezer.state'), 'utf8').trim(), 'FROZEN', `${cmd[0]}: the cgroup is still frozen`);
    t.equal(stateOf(t, id), undefined, `${cmd[0]}: no container is left`);
  }
  writeFileSync(join(frozenDir, 'freezer.state'), 'THAWED');
  rmdirSync(frozenDir);
  await noLeaks(t, before);
});

t.test('create under a frozen parent cgroup fails after a bounded wait, naming what it waited for, and leaves nothing', { skip: skip || (!testingTsrun() && 'TSRUN_INIT_TIMEOUT is tsrun\'s') }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const parent = frozenFreezerCgroup(t, join(CG, 'freezer', `tsrun-it-parent-${id}`));
  const b = makeBundle(t, (cfg) => { cfg.linux.cgroupsPath = `/tsrun-it-parent-${id}/${id}`; }, { args: ['true'] });
  const r = rt(t, ['create', '--bundle', b.dir, id], { timeoutMs: 30_000, env: { ...process.env, TSRUN_INIT_TIMEOUT: '2' } });
  failsWithOneLine(t, r, 'create', `create ${id}`, /did not report within 2 s/);
  t.equal(stateOf(t, id), undefined, 'no container is left');
  writeFileSync(join(parent, 'freezer.state'), 'THAWED');
  for (const h of hierarchies()) {
    t.notOk(existsSync(join(h, `tsrun-it-parent-${id}`, id)), `no cgroup left in ${h}`);
    try { rmdirSync(join(h, `tsrun-it-parent-${id}`)); } catch { /* not there */ }
  }
  await noLeaks(t, before);
});

// runc: "invalid configuration: cannot use unified on cgroup v1" (also on a hybrid host).
t.test('linux.resources.unified on a cgroup v1 host is refused at create and by update', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = cgBundle(t, id, ['true'], { unified: { 'memory.min': '131072' } });
  const r = rt(t, ['run', '-d', '--bundle', b.dir, id]);
  failsWithOneLine(t, r, 'run', `run ${id}`, /invalid configuration: cannot use unified on cgroup v1/);
  t.equal(stateOf(t, id), undefined, 'no container is left');
  const id2 = uniqueId(t);
  const b2 = cgBundle(t, id2, ['sh', '-c', 'echo started; exec sleep 1000']);
  await running(t, id2, b2);
  const u = rt(t, ['update', '-r', '-', id2], { input: JSON.stringify({ unified: { 'pids.max': '10' } }) });
  failsWithOneLine(t, u, 'update', `update ${id2}`, /invalid configuration: cannot use unified on cgroup v1/);
  await finish(t, id2);
  await noLeaks(t, before);
});

t.test('exec --cgroup joins existing sub-cgroups of the container, and refuses paths outside it or missing ones', { skip }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = cgBundle(t, id, ['sh', '-c', 'echo started; exec sleep 1000']);
  await running(t, id, b);
  for (const c of ['memory', 'pids']) mkdirSync(join(dirOf(c, id), 'sub'));
  const own = rt(t, ['exec', '--cgroup', 'memory:sub', '--cgroup', 'pids:sub', id, 'cat', '/proc/self/cgroup']);
  ok(t, own, 'exec --cgroup memory:sub --cgroup pids:sub');
  const lines = parseProcCgroupLines(own.stdout);
  t.equal(lines.get('memory'), `${cgPath(id)}/sub`, 'memory: the sub-cgroup');
  t.equal(lines.get('pids'), `${cgPath(id)}/sub`, 'pids: the sub-cgroup');
  t.equal(lines.get('cpu'), cgPath(id), "cpu: the container's cgroup");
  failsWithOneLine(t, rt(t, ['exec', '--cgroup', '..', id, 'true']), 'exec --cgroup ..', `exec ${id}`, /\.\. is not a sub cgroup path/);
  failsWithOneLine(t, rt(t, ['exec', '--cgroup', 'nonexistent', id, 'true']), 'exec --cgroup nonexistent', `exec ${id}`, /adding pid .*\/nonexistent\/cgroup.procs: no such file/);
  failsWithOneLine(t, rt(t, ['exec', '--cgroup', 'whaaat:/', id, 'true']), 'exec --cgroup whaaat:/', `exec ${id}`, /unknown controller whaaat/);
  failsWithOneLine(t, rt(t, ['exec', '--cgroup', 'a', '--cgroup', 'b', id, 'true']), 'two --cgroup without a controller', `exec ${id}`, /missing <controller>: prefix/);
  for (const c of ['memory', 'pids']) rmdirSync(join(dirOf(c, id), 'sub'));
  await finish(t, id);
  await noLeaks(t, before);
});

function parseProcCgroupLines(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [, ctrls, p] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (ctrls !== undefined && p !== undefined) for (const c of ctrls.split(',')) m.set(c, p);
  }
  return m;
}
