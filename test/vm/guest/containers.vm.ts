// Real containers through build/tsrun on a pure cgroup v2 kernel (run inside the test VM by
// test/vm/vm.test.ts). Each test reads the container's cgroup files (found through
// /proc/<pid>/cgroup) and what the processes inside see.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { convertCPUSharesToV2 } from '../../../src/cgroups/v2.js';
import {
  type Bundle, type Config, type RtResult, context, describe, makeBundle, readErr, readOut, rootFor, rt, runtimeUnderTest,
  stateOf, uniqueId, waitUntil,
} from '../../helpers/index.js';

const CG = '/sys/fs/cgroup';
const LONG = ['sh', '-c', 'echo started; exec sleep 1000'];

function ok(t: Test, r: RtResult, what: string): boolean {
  return t.equal(r.status, 0, `${what} succeeds`, { detail: describe(r) });
}

/** create + start; returns the create call (its stdout file gets the container's output). */
async function running(t: Test, id: string, b: Bundle, marker = 'started'): Promise<RtResult> {
  const c = rt(t, ['create', '--bundle', b.dir, id]);
  if (!ok(t, c, 'create')) throw new Error(`create ${id} failed: ${c.stderr.trim().slice(0, 300)}`);
  if (!ok(t, rt(t, ['start', id]), 'start')) throw new Error(`start ${id} failed`);
  t.ok(await waitUntil(() => readOut(c).includes(marker), { timeoutMs: 30_000 }), 'the process runs', { out: readOut(c), err: readErr(c) });
  return c;
}

function pidOf(t: Test, id: string): number {
  const pid = stateOf(t, id)?.pid;
  if (!pid) throw new Error(`${id}: no pid in its state`);
  return pid;
}

/** The container's cgroup directory, from its init's /proc/<pid>/cgroup ("0::/path"). */
function cgroupDir(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim();
  const m = /^0::(\/.*)$/.exec(line);
  if (!m) throw new Error(`/proc/${pid}/cgroup is not a cgroup v2 membership: ${line}`);
  return join(CG, m[1]!);
}

const read = (dir: string, file: string): string => readFileSync(join(dir, file), 'utf8').trim();
const keyValues = (text: string): Map<string, number> =>
  new Map(text.split('\n').filter(Boolean).map((l) => { const [k, v] = l.split(' '); return [k!, Number(v)]; }));

/** pids of every process whose cgroup is dir (scanning /proc, independent of tsrun). */
function pidsInCgroup(dir: string): number[] {
  const want = `0::${dir.slice(CG.length)}`;
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/cgroup`, 'utf8').trim() === want) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out.sort((a, b) => a - b);
}

/** A long-running runtime command (events) with its output collected. */
function background(t: Test, args: string[]): { child: ChildProcess; out: () => string; err: () => string } {
  const child = spawn(runtimeUnderTest(), ['--root', rootFor(t), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b) => (out += b));
  child.stderr!.on('data', (b) => (err += b));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return { child, out: () => out, err: () => err };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function withResources(r: NonNullable<Config['linux']>['resources'], args = LONG): (c: Config) => void {
  return (c) => {
    c.process.args = args;
    c.linux.resources = { ...c.linux.resources, ...r };
  };
}

t.test('a process allocating past memory.max is OOM-killed and events reports it', async (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, withResources({ memory: { limit: 48 << 20, swap: 48 << 20 } }));
  await running(t, id, b);
  const dir = cgroupDir(pidOf(t, id));
  t.equal(read(dir, 'memory.max'), String(48 << 20));
  t.equal(read(dir, 'memory.swap.max'), '0', 'memory == memory+swap: no swap');
  t.match(read(dir, 'memory.events'), /^oom_kill 0$/m);

  const ev = background(t, ['events', id]);
  // events prints a stats line at once: it is watching before the OOM happens.
  t.ok(await waitUntil(() => ev.out().includes('"type":"stats"'), { timeoutMs: 30_000 }), 'events is running', { err: ev.err() });
  // dd fills a 96 MiB buffer from /dev/zero: every page of it is touched.
  const x = rt(t, ['exec', id, 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=96M', 'count=1']);
  t.not(x.status, 0, 'the allocating process does not finish', { detail: describe(x) });
  t.match(read(dir, 'memory.events'), /^oom_kill [1-9]\d*$/m, 'memory.events counts the OOM kill');
  t.ok(await waitUntil(() => ev.out().includes('"type":"oom"'), { timeoutMs: 30_000 }), 'events reports an oom event', { out: ev.out().slice(-2000) });
  const oom = ev.out().split('\n').filter((l) => l.includes('"type":"oom"')).map((l) => JSON.parse(l));
  t.same(oom[0], { type: 'oom', id }, 'the oom event names the container');
  t.equal(stateOf(t, id)?.status, 'running', 'the container itself survives (only the hog was killed)');
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
});

// memory.max is written before the init enters its cgroup: written after the init's set-up, a
// limit below what it had charged made the kernel OOM-kill the init while create went on.
t.test('memory.max is set before the init enters its cgroup', async (t) => {
  const limit = 2 << 20;
  const id = uniqueId(t);
  const path = `/tsrun-vm-mem-${id}`;
  const seen = join(context(t).dir, 'max-at-createRuntime');
  const b = makeBundle(t, (c) => {
    withResources({ memory: { limit, swap: limit } }, ['echo', 'it works'])(c);
    c.linux.cgroupsPath = path;
    // createRuntime: the init is in its cgroup and has built the rootfs; nothing has run yet.
    c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `cat ${CG}${path}/memory.max > ${seen}`] }] };
  });
  const r = rt(t, ['run', '--bundle', b.dir, id]);
  ok(t, r, 'run');
  t.equal(readOut(r).trim(), 'it works', 'the process ran under the limit');
  t.equal(readFileSync(seen, 'utf8').trim(), String(limit), 'memory.max was already set when createRuntime ran');
  t.notOk(existsSync(join(CG, path)), 'the cgroup is gone');
});

t.test("an init that outgrows memory.max fails create with runc's OOM message, and its cgroup is gone", async (t) => {
  const id = uniqueId(t);
  const path = `/tsrun-vm-mem-${id}`;
  const b = makeBundle(t, (c) => {
    withResources({ memory: { limit: 32 << 10, swap: 32 << 10 } }, ['true'])(c);
    c.linux.cgroupsPath = path;
  });
  const r = rt(t, ['create', '--bundle', b.dir, id]);
  t.not(r.status, 0, 'create fails', { detail: describe(r) });
  t.match(r.stderr, new RegExp(`^tsrun: create ${id}: container init was OOM-killed \\(memory limit too low\\?\\)`), 'one line naming the cause', { err: r.stderr });
  t.notOk(existsSync(join(CG, path)), 'no cgroup left');
  t.equal(stateOf(t, id), undefined, 'no state left');
});

t.test('a fork loop stops at pids.max', async (t) => {
  const id = uniqueId(t);
  // busybox ash reports a failed fork and exits; the container stops, its cgroup stays until delete.
  const b = makeBundle(t, withResources({ pids: { limit: 10 } },
    ['sh', '-c', 'echo started; i=0; while [ $i -lt 40 ]; do sleep 1000 & echo forked; i=$((i+1)); done; echo survived']));
  const c = rt(t, ['create', '--bundle', b.dir, id]);
  ok(t, c, 'create');
  const dir = cgroupDir(pidOf(t, id));
  t.equal(read(dir, 'pids.max'), '10');
  ok(t, rt(t, ['start', id]), 'start');
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped', { timeoutMs: 30_000 }), 'the shell gives up');
  const forked = readOut(c).split('\n').filter((l) => l === 'forked').length;
  t.equal(forked, 9, 'the shell and 9 children fill pids.max=10', { out: readOut(c) });
  t.notMatch(readOut(c), /survived/);
  t.match(readErr(c), /can't fork/, 'the 10th fork is refused', { err: readErr(c) });
  t.match(read(dir, 'pids.events'), /^max [1-9]\d*$/m, 'pids.events counts the refusals');
  if (existsSync(join(dir, 'pids.peak'))) t.equal(read(dir, 'pids.peak'), '10', 'pids.peak reached pids.max, not beyond');
  ok(t, rt(t, ['delete', id]), 'delete');
  t.notOk(existsSync(dir), 'delete removes the cgroup');
});

// tsrun clones the init straight into the container's cgroup (CLONE_INTO_CGROUP). A cgroup at
// its pids.max refuses that fork but not a migration, so exec then clones outside, forks into
// the pid namespace there, and only the final process moves itself in, as with runc's exec.
t.test('the init is born in the container cgroup; exec into a cgroup at pids.max still works', async (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, withResources({ pids: { limit: 1 } }));
  const c = rt(t, ['create', '--bundle', b.dir, id]);
  ok(t, c, 'create');
  const init = pidOf(t, id);
  const dir = cgroupDir(init);
  t.same(pidsInCgroup(dir), [init], 'the waiting init is the only process of the cgroup');
  ok(t, rt(t, ['start', id]), 'start');
  t.ok(await waitUntil(() => readOut(c).includes('started'), { timeoutMs: 30_000 }), 'the process runs');
  t.equal(read(dir, 'pids.current'), '1', 'the cgroup is full');
  // No fork inside (echo is a builtin, then exec): the cgroup holds 2 processes, past pids.max.
  const e = rt(t, ['exec', id, 'sh', '-c', 'echo in; exec cat /proc/self/cgroup']);
  ok(t, e, 'exec');
  // "/" when the container has its own cgroup namespace (rooted at its cgroup).
  t.match(e.stdout, new RegExp(`^in\n0::(${dir.slice(CG.length)}|/)\n$`), "the exec'd process ran in the container cgroup", { out: e.stdout });
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
});

t.test('cpu.max and cpu.weight hold the configured values; update changes one half of cpu.max', async (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, withResources({ cpu: { quota: 25000, period: 50000, shares: 2048 } }));
  await running(t, id, b);
  const dir = cgroupDir(pidOf(t, id));
  t.equal(read(dir, 'cpu.max'), '25000 50000');
  t.equal(read(dir, 'cpu.weight'), String(convertCPUSharesToV2(2048)));
  ok(t, rt(t, ['update', '--cpu-period', '100000', id]), 'update --cpu-period');
  t.equal(read(dir, 'cpu.max'), '25000 100000', 'the quota is kept');
  ok(t, rt(t, ['update', '--cpu-quota', '30000', id]), 'update --cpu-quota');
  t.equal(read(dir, 'cpu.max'), '30000 100000', 'the period is kept');
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
});

t.test('cpuset restricts the CPUs seen in /proc/self/status', async (t) => {
  for (const cpu of ['0', '1']) {
    const id = uniqueId(t);
    const b = makeBundle(t, withResources({ cpu: { cpus: cpu, mems: '0' } },
      ['sh', '-c', 'grep -E "^(Cpus|Mems)_allowed_list" /proc/self/status; echo started; exec sleep 1000']));
    const c = await running(t, id, b);
    t.match(readOut(c), new RegExp(`^Cpus_allowed_list:\\s+${cpu}$`, 'm'), `cpus "${cpu}": the process sees only CPU ${cpu}`, { out: readOut(c) });
    t.match(readOut(c), /^Mems_allowed_list:\s+0$/m);
    const dir = cgroupDir(pidOf(t, id));
    t.equal(read(dir, 'cpuset.cpus'), cpu);
    t.equal(read(dir, 'cpuset.cpus.effective'), cpu);
    ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
  }
});

t.test("update changes a running container's memory and pids limits", async (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, withResources({ memory: { limit: 64 << 20 }, pids: { limit: 20 } }));
  await running(t, id, b);
  const dir = cgroupDir(pidOf(t, id));
  t.equal(read(dir, 'memory.max'), String(64 << 20));
  t.equal(read(dir, 'pids.max'), '20');
  ok(t, rt(t, ['update', '--memory', '96M', '--pids-limit', '30', id]), 'update --memory 96M --pids-limit 30');
  t.equal(read(dir, 'memory.max'), String(96 << 20));
  t.equal(read(dir, 'pids.max'), '30');
  const file = join(context(t).dir, 'resources.json');
  writeFileSync(file, JSON.stringify({ memory: { limit: 80 << 20, swap: 80 << 20 }, pids: { limit: 25 } }));
  ok(t, rt(t, ['update', '--resources', file, id]), 'update --resources');
  t.equal(read(dir, 'memory.max'), String(80 << 20));
  t.equal(read(dir, 'memory.swap.max'), '0');
  t.equal(read(dir, 'pids.max'), '25');
  ok(t, rt(t, ['update', '--memory', '-1', '--pids-limit', '-1', id]), 'update to unlimited');
  t.equal(read(dir, 'memory.max'), 'max');
  t.equal(read(dir, 'pids.max'), 'max');
  // The limit is live: 3 more processes than allowed cannot start.
  ok(t, rt(t, ['update', '--pids-limit', '2', id]), 'update --pids-limit 2');
  const x = rt(t, ['exec', id, 'sh', '-c', 'sleep 1 & sleep 1 & sleep 1 & wait']);
  t.not(x.status, 0, 'an exec needing more than pids.max processes fails', { detail: describe(x) });
  t.match(read(dir, 'pids.events'), /^max [1-9]\d*$/m);
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
});

t.test('pause freezes the container (a counter stops) and resume continues it', async (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, withResources({}, ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i; usleep 50000; done']));
  const c = await running(t, id, b, '\n3\n');
  const dir = cgroupDir(pidOf(t, id));
  const counter = (): number => Number(readOut(c).trim().split('\n').pop());
  ok(t, rt(t, ['pause', id]), 'pause');
  t.equal(stateOf(t, id)?.status, 'paused');
  t.equal(read(dir, 'cgroup.freeze'), '1');
  t.match(read(dir, 'cgroup.events'), /^frozen 1$/m, 'the kernel reports the cgroup frozen');
  const before = counter();
  await sleep(1500); // 30 periods of the loop
  t.equal(counter(), before, 'the counter does not advance while paused');
  ok(t, rt(t, ['resume', id]), 'resume');
  t.equal(stateOf(t, id)?.status, 'running');
  t.match(read(dir, 'cgroup.events'), /^frozen 0$/m);
  t.ok(await waitUntil(() => counter() > before + 2, { timeoutMs: 30_000 }), 'the counter advances again after resume', { before, now: counter() });
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
});

t.test("ps lists exactly the container's processes", async (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, withResources({}, ['sh', '-c', 'sleep 1001 & sleep 1002 & echo started; wait']));
  await running(t, id, b);
  const dir = cgroupDir(pidOf(t, id));
  // A process outside the container with the same command line must not show up.
  const decoy = spawn('sleep', ['1001'], { stdio: 'ignore' });
  t.teardown(() => decoy.kill('SIGKILL'));
  t.ok(await waitUntil(() => pidsInCgroup(dir).length === 3), 'sh and two sleeps are in the cgroup', { pids: pidsInCgroup(dir) });
  const want = pidsInCgroup(dir);
  const j = rt(t, ['ps', '--format', 'json', id]);
  ok(t, j, 'ps --format json');
  t.same(JSON.parse(j.stdout), want, 'ps --format json: the cgroup members, from /proc');
  t.same(read(dir, 'cgroup.procs').split('\n').map(Number).sort((a, b) => a - b), want, 'and cgroup.procs agrees');
  const table = rt(t, ['ps', id]);
  ok(t, table, 'ps');
  const [header, ...rows] = table.stdout.trim().split('\n');
  const col = header!.trim().split(/\s+/).indexOf('PID');
  t.ok(col >= 0, 'the table has a PID column', { header });
  t.same(rows.map((r) => Number(r.trim().split(/\s+/)[col])).sort((a, b) => a - b), want, 'ps: one row per container process, nothing else');
  t.notOk(rows.some((r) => r.includes(String(decoy.pid))), 'the host sleep is not listed');
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
});

t.test('events --stats numbers match the cgroup files', async (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, withResources({ memory: { limit: 64 << 20 }, pids: { limit: 20 }, cpu: { quota: 50000, period: 100000 } },
    ['sh', '-c', 'i=0; while [ $i -lt 5000 ]; do i=$((i+1)); done; sleep 1001 & echo started; wait']));
  await running(t, id, b);
  const dir = cgroupDir(pidOf(t, id));
  // Paused, nothing in the cgroup moves while the two sides are read.
  ok(t, rt(t, ['pause', id]), 'pause');
  // Except the CFS period counters: the period timer runs on (a period that began before the
  // freeze still ends), so those are bracketed by reads before and after.
  const cpuBefore = keyValues(read(dir, 'cpu.stat'));
  const r = rt(t, ['events', '--stats', id]);
  ok(t, r, 'events --stats');
  const ev = JSON.parse(r.stdout) as { type: string; id: string; data: any };
  t.equal(ev.type, 'stats');
  t.equal(ev.id, id);
  const d = ev.data;
  const cpu = keyValues(read(dir, 'cpu.stat'));
  const mem = keyValues(read(dir, 'memory.stat'));
  const events = keyValues(read(dir, 'memory.events'));
  t.ok((cpu.get('usage_usec') ?? 0) > 0, 'the busy loop used CPU');
  t.equal(d.cpu.usage.total, (cpu.get('usage_usec') ?? 0) * 1000, 'cpu.usage.total = cpu.stat usage_usec in ns');
  t.equal(d.cpu.usage.user, (cpu.get('user_usec') ?? 0) * 1000, 'cpu.usage.user');
  t.equal(d.cpu.usage.kernel, (cpu.get('system_usec') ?? 0) * 1000, 'cpu.usage.kernel');
  const between = (v: number, k: string) => v >= (cpuBefore.get(k) ?? 0) && v <= (cpu.get(k) ?? 0);
  t.ok(between(d.cpu.throttling.periods ?? 0, 'nr_periods'), 'cpu.throttling.periods = nr_periods', { got: d.cpu.throttling.periods, before: cpuBefore.get('nr_periods'), after: cpu.get('nr_periods') });
  t.ok(between(d.cpu.throttling.throttledPeriods ?? 0, 'nr_throttled'), 'cpu.throttling.throttledPeriods = nr_throttled', { got: d.cpu.throttling.throttledPeriods, before: cpuBefore.get('nr_throttled'), after: cpu.get('nr_throttled') });
  t.equal(d.memory.usage.limit, 64 << 20, 'memory.usage.limit = memory.max');
  t.equal(d.memory.usage.usage, Number(read(dir, 'memory.current')), 'memory.usage.usage = memory.current');
  t.equal(d.memory.usage.max, Number(read(dir, 'memory.peak')), 'memory.usage.max = memory.peak');
  t.equal(d.memory.usage.failcnt, events.get('max'), 'memory.usage.failcnt = memory.events max');
  t.equal(d.memory.raw.anon, mem.get('anon'), 'memory.raw = memory.stat');
  t.equal(d.memory.raw.file, mem.get('file'));
  t.equal(d.pids.current, Number(read(dir, 'pids.current')), 'pids.current');
  t.equal(d.pids.current, 2, 'sh and sleep');
  t.equal(d.pids.limit, 20, 'pids.limit = pids.max');
  ok(t, rt(t, ['resume', id]), 'resume');
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
});

/** A bundle with its own rootfs holding /kmsg (c 1:11, not in the default device list), made from outside. */
function kmsgBundle(t: Test, patch: (c: Config) => void): Bundle {
  const b = makeBundle(t, patch, { copyRootfs: true });
  const r = spawnSync('mknod', ['-m', '0666', join(b.rootfs, 'kmsg'), 'c', '1', '11'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mknod ${b.rootfs}/kmsg: ${r.stderr || r.error}`);
  return b;
}

t.test('v2 devices, default rules: a device that is not allowed cannot be opened (EPERM)', async (t) => {
  const id = uniqueId(t);
  const b = kmsgBundle(t, (c) => {
    c.process.args = ['sh', '-c', 'echo a > /dev/null && echo null-ok; echo b > /kmsg; echo kmsg=$?'];
  });
  const r = rt(t, ['run', '--bundle', b.dir, id]);
  t.equal(r.status, 0, 'run', { detail: describe(r) });
  t.match(r.stdout, /^null-ok$/m, '/dev/null (in the default list) opens');
  t.match(r.stdout, /^kmsg=[1-9]/m, 'c 1:11 does not open', { out: r.stdout, err: r.stderr });
  t.match(r.stderr, /\/kmsg: Operation not permitted/, 'EPERM');
});

t.test('v2 devices, default rules: mknod is allowed (c *:* m) but the new node of a denied device cannot be opened', async (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => {
    for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_MKNOD');
    c.process.args = ['sh', '-c', 'mknod /dev/k c 1 11; echo mknod=$?; echo b > /dev/k; echo open=$?'];
  });
  const r = rt(t, ['run', '--bundle', b.dir, id]);
  t.equal(r.status, 0, 'run', { detail: describe(r) });
  t.match(r.stdout, /^mknod=0$/m, "mknod of any char device is allowed (runc's default rules)", { out: r.stdout, err: r.stderr });
  t.match(r.stdout, /^open=[1-9]/m, 'opening it is not');
  t.match(r.stderr, /\/dev\/k: Operation not permitted/, 'EPERM');
});

t.test('v2 devices: a device allowed in linux.resources.devices opens', async (t) => {
  const id = uniqueId(t);
  const b = kmsgBundle(t, (c) => {
    c.linux.resources.devices = [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'w' }];
    c.process.args = ['sh', '-c', 'echo tsrun-vm-test > /kmsg && echo kmsg-ok; echo b > /dev/full; echo full=$?'];
  });
  const r = rt(t, ['run', '--bundle', b.dir, id]);
  t.equal(r.status, 0, 'run', { detail: describe(r) });
  t.match(r.stdout, /^kmsg-ok$/m, 'c 1:11 w opens for writing', { out: r.stdout, err: r.stderr });
  t.match(r.stdout, /^full=[1-9]/m, '/dev/full: writing it fails (ENOSPC), but it opens', { out: r.stdout });
  t.notMatch(r.stderr, /Operation not permitted/, 'no EPERM');
});

t.test('delete removes the cgroup, also after the processes were SIGKILLed from outside', async (t) => {
  await t.test('after kill through the runtime', async (t) => {
    const id = uniqueId(t);
    const b = makeBundle(t, withResources({ pids: { limit: 50 } }));
    await running(t, id, b);
    const dir = cgroupDir(pidOf(t, id));
    ok(t, rt(t, ['kill', id, 'KILL']), 'kill KILL');
    t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'stopped');
    t.ok(existsSync(dir), 'the cgroup is there until delete');
    ok(t, rt(t, ['delete', id]), 'delete');
    t.notOk(existsSync(dir), 'delete removed the cgroup');
  });
  await t.test('after SIGKILL of every process from outside', async (t) => {
    const id = uniqueId(t);
    const b = makeBundle(t, withResources({ pids: { limit: 50 } }, ['sh', '-c', 'sleep 1001 & sleep 1002 & echo started; wait']));
    await running(t, id, b);
    const dir = cgroupDir(pidOf(t, id));
    t.ok(await waitUntil(() => pidsInCgroup(dir).length === 3), 'three processes');
    for (const pid of pidsInCgroup(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch (e) {
        // Killing the container's pid 1 first takes the rest of its pid namespace with it.
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    }
    t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'the runtime sees it stopped');
    ok(t, rt(t, ['delete', id]), 'delete');
    t.notOk(existsSync(dir), 'delete removed the cgroup');
    t.equal(stateOf(t, id), undefined, 'and the container');
  });
  await t.test('delete --force of a running container', async (t) => {
    const id = uniqueId(t);
    const b = makeBundle(t, withResources({}, ['sh', '-c', 'sleep 1001 & echo started; wait']));
    await running(t, id, b);
    const dir = cgroupDir(pidOf(t, id));
    const pids = pidsInCgroup(dir);
    ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
    t.notOk(existsSync(dir), 'the cgroup is gone');
    t.same(pids.filter((p) => existsSync(`/proc/${p}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${p}/status`, 'utf8'))), [], 'its processes are gone');
  });
});
