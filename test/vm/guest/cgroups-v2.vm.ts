// src/cgroups on a real pure cgroup v2 kernel (run inside the test VM by test/vm/vm.test.ts; the
// host is hybrid, so there this code only meets a fake tree). Limits are read back from the kernel's
// files, real processes are frozen, fork-bombed, OOM-killed and killed on destroy.
// Every cgroup is /tsrun-vm-<pid>-<n>, removed in teardown.
import { existsSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import * as cg from '../../../src/cgroups/index.js';
import { layout } from '../../../src/cgroups/paths.js';
import { convertBlkIOToIOWeight, convertCPUSharesToV2 } from '../../../src/cgroups/v2.js';
import { type Proc, removeCgroupTree, run } from '../../cgroups/fixtures/host.js';

const ROOT = '/sys/fs/cgroup';
const CGROUP2_SUPER_MAGIC = 0x63677270;
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p)) ?? 'busybox';

let counter = 0;

/** A handle for a fresh top-level test cgroup (sub: a path below it), removed at the end of the test. */
function testCgroup(t: Test, sub = ''): cg.CgroupHandle {
  const top = `tsrun-vm-${process.pid}-${++counter}`;
  const h = cg.resolveCgroup(`/${top}${sub}`, top, { systemd: false });
  t.teardown(() => {
    try {
      cg.destroyCgroup(h, { kill: true });
    } catch {
      // the sweep below still cleans up
    }
    removeCgroupTree(join(ROOT, top));
  });
  return h;
}

const dirOf = (h: cg.CgroupHandle): string => layout(h).v2!.dir;
const read = (h: cg.CgroupHandle, file: string): string => readFileSync(join(dirOf(h), file), 'utf8').trim();
const keyValues = (text: string): Map<string, number> =>
  new Map(text.split('\n').filter(Boolean).map((l) => { const [k, v] = l.split(' '); return [k!, Number(v)]; }));

/** A shell in the cgroup, gated until go(): it runs script there. */
function shIn(t: Test, h: cg.CgroupHandle, script: string): Proc {
  const p = run(t, BUSYBOX, ['sh', '-c', `read x; ${script}`]);
  cg.addProcess(h, p.pid);
  return p;
}

t.test('the VM is a pure cgroup v2 host with the controllers enabled', async (t) => {
  t.equal(Number(statfsSync(ROOT).type), CGROUP2_SUPER_MAGIC, `${ROOT} is cgroup2`);
  t.equal(cg.detectMode(), 'unified');
  const enabled = readFileSync(join(ROOT, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/);
  for (const c of ['cpuset', 'cpu', 'io', 'memory', 'pids', 'hugetlb']) t.ok(enabled.includes(c), `${c} is enabled below the root`);
});

t.test('create writes linux.resources into the v2 files; destroy removes the directory', async (t) => {
  const h = testCgroup(t);
  t.equal(h.mode, 'unified');
  cg.createCgroup(h, {
    memory: { limit: 64 << 20, reservation: 32 << 20, swap: 96 << 20 },
    cpu: { shares: 512, quota: 50000, period: 100000, burst: 1000, cpus: '1', mems: '0' },
    pids: { limit: 50 },
    blockIO: { weight: 500 },
    hugepageLimits: [{ pageSize: '2MB', limit: 4 << 21 }],
    unified: { 'memory.high': String(60 << 20) },
  });
  t.equal(read(h, 'memory.max'), String(64 << 20));
  t.equal(read(h, 'memory.low'), String(32 << 20));
  t.equal(read(h, 'memory.swap.max'), String(32 << 20), 'swap.max is memory+swap minus memory');
  t.equal(read(h, 'memory.high'), String(60 << 20), 'unified keys are written verbatim');
  t.equal(read(h, 'cpu.weight'), String(convertCPUSharesToV2(512)));
  t.equal(read(h, 'cpu.max'), '50000 100000');
  t.equal(read(h, 'cpu.max.burst'), '1000');
  t.equal(read(h, 'cpuset.cpus'), '1');
  t.equal(read(h, 'cpuset.mems'), '0');
  t.equal(read(h, 'pids.max'), '50');
  t.equal(read(h, 'io.weight'), `default ${convertBlkIOToIOWeight(500)}`);
  t.equal(read(h, 'hugetlb.2MB.max'), String(4 << 21));
  t.equal(read(h, 'hugetlb.2MB.rsvd.max'), String(4 << 21));
  cg.destroyCgroup(h);
  t.notOk(existsSync(dirOf(h)), 'removed');
});

t.test('controllers are enabled in every ancestor of a nested cgroup', async (t) => {
  const h = testCgroup(t, '/mid/leaf');
  cg.createCgroup(h, { pids: { limit: 7 }, memory: { limit: 32 << 20 } });
  const top = dirOf(h).split('/').slice(0, 5).join('/');
  for (const d of [top, join(top, 'mid')]) {
    const sc = readFileSync(join(d, 'cgroup.subtree_control'), 'utf8').trim().split(/\s+/);
    t.ok(sc.includes('pids') && sc.includes('memory'), `${d}/cgroup.subtree_control has pids and memory`, { sc });
  }
  t.equal(read(h, 'pids.max'), '7');
  t.equal(read(h, 'memory.max'), String(32 << 20));
  const p = run(t, 'sleep', ['1000']);
  cg.addProcess(h, p.pid);
  t.equal(readFileSync(`/proc/${p.pid}/cgroup`, 'utf8').trim(), `0::${h.path}`);
  cg.destroyCgroup(h, { kill: true });
  t.equal((await p.exited).signal, 'SIGKILL');
  t.notOk(existsSync(dirOf(h)), 'the leaf is removed');
  t.ok(existsSync(join(top, 'mid')), 'created parents stay (like runc)');
});

t.test('a process joins, freezes, thaws, shows in stats and dies on destroy with kill', async (t) => {
  const h = testCgroup(t);
  cg.createCgroup(h, { memory: { limit: 128 << 20 }, pids: { limit: 20 }, cpu: { cpus: '0', quota: 80000, period: 100000 } });
  const p = run(t, 'sleep', ['1000']);
  cg.addProcess(h, p.pid);
  t.same(cg.pids(h), [p.pid]);
  t.match(readFileSync(`/proc/${p.pid}/status`, 'utf8'), /^Cpus_allowed_list:\s+0$/m, 'cpuset applies to the process');

  t.equal(cg.isFrozen(h), false);
  cg.freeze(h);
  t.equal(cg.isFrozen(h), true);
  t.equal(read(h, 'cgroup.freeze'), '1');
  t.match(read(h, 'cgroup.events'), /^frozen 1$/m, 'the kernel reports the cgroup frozen');

  // Frozen, nothing moves: the stats must be the files. Except the bandwidth period count, which the
  // period timer may still bump for the last period the task ran in: between a read before and after.
  const periodsBefore = keyValues(read(h, 'cpu.stat')).get('nr_periods') ?? 0;
  const s = cg.stats(h);
  const cpu = keyValues(read(h, 'cpu.stat'));
  const events = keyValues(read(h, 'memory.events'));
  const stat = keyValues(read(h, 'memory.stat'));
  t.equal(s.pids.current, 1);
  t.equal(s.pids.limit, 20);
  t.equal(s.memory.usage.limit, Number(read(h, 'memory.max')));
  t.equal(s.memory.usage.usage ?? 0, Number(read(h, 'memory.current')));
  t.equal(s.memory.usage.max ?? 0, Number(read(h, 'memory.peak')));
  t.equal(s.memory.usage.failcnt, events.get('max'));
  t.equal(s.memory.cache ?? 0, stat.get('file'));
  t.equal(s.memory.raw?.anon, stat.get('anon'));
  t.equal(s.memory.swap.usage ?? 0, Number(read(h, 'memory.swap.current')) + Number(read(h, 'memory.current')));
  t.equal(s.cpu.usage.total ?? 0, (cpu.get('usage_usec') ?? 0) * 1000);
  t.equal(s.cpu.usage.user, (cpu.get('user_usec') ?? 0) * 1000);
  t.equal(s.cpu.usage.kernel, (cpu.get('system_usec') ?? 0) * 1000);
  const periods = s.cpu.throttling.periods ?? 0;
  t.ok(periods >= periodsBefore && periods <= (cpu.get('nr_periods') ?? 0), 'cpu.throttling.periods is cpu.stat nr_periods', { periods, periodsBefore, after: cpu.get('nr_periods') });
  t.match(cg.statsToJSON(s), /"limit":134217728/);

  cg.thaw(h);
  t.equal(cg.isFrozen(h), false);
  t.match(read(h, 'cgroup.events'), /^frozen 0$/m);

  cg.destroyCgroup(h, { kill: true });
  t.equal((await p.exited).signal, 'SIGKILL');
  t.notOk(existsSync(dirOf(h)), 'removed');
});

t.test('pids.max stops a fork bomb', async (t) => {
  const h = testCgroup(t);
  cg.createCgroup(h, { pids: { limit: 8 } });
  // busybox ash does not retry a failed fork: it reports it and stops.
  const p = shIn(t, h, 'i=0; while [ $i -lt 40 ]; do sleep 300 & echo started; i=$((i+1)); done');
  p.go();
  const end = await p.exited;
  const started = p.out().split('\n').filter((l) => l === 'started').length;
  t.equal(started, 7, 'the shell and 7 children fill pids.max=8');
  t.match(p.err(), /can't fork/);
  t.not(end.code, 0);
  t.equal(cg.pids(h).length, 7, 'the sleeps are still there');
  t.match(read(h, 'pids.events'), /^max [1-9]\d*$/m, 'pids.events counts the refused forks');
  t.equal(cg.stats(h).pids.current, 7);
  cg.destroyCgroup(h, { kill: true });
  t.notOk(existsSync(dirOf(h)), 'destroy with kill removes it');
});

t.test('a memory hog is OOM-killed under memory.max; memory.events counts it', async (t) => {
  const h = testCgroup(t);
  cg.createCgroup(h, { memory: { limit: 32 << 20, swap: 32 << 20 } });
  t.equal(read(h, 'memory.swap.max'), '0', 'memory+swap == memory: no swap');
  t.equal(cg.oomEvents(h), 0);
  // dd fills a 96 MiB buffer from /dev/zero: every page of it is touched.
  const p = shIn(t, h, `exec ${BUSYBOX} dd if=/dev/zero of=/dev/null bs=96M count=1`);
  p.go();
  const end = await p.exited;
  t.equal(end.signal, 'SIGKILL', 'killed by the OOM killer', { stderr: p.err() });
  t.ok(cg.oomEvents(h) >= 1, `oomEvents() = ${cg.oomEvents(h)}`);
  t.match(read(h, 'memory.events'), /^oom_kill [1-9]\d*$/m);
  const s = cg.stats(h);
  t.ok(s.memory.usage.failcnt > 0, 'failcnt (memory.events max) counted the hits');
  t.ok((s.memory.usage.max ?? 0) <= 32 << 20, 'peak stayed within the limit');
});

t.test('update: memory, swap, cpu.max (one half kept), pids', async (t) => {
  const h = testCgroup(t);
  cg.createCgroup(h, { memory: { limit: 64 << 20, swap: 64 << 20 }, cpu: { quota: 20000, period: 100000 }, pids: { limit: 10 } });
  cg.applyResources(h, { memory: { limit: 128 << 20, swap: 256 << 20 } });
  t.equal(read(h, 'memory.max'), String(128 << 20));
  t.equal(read(h, 'memory.swap.max'), String(128 << 20));
  cg.applyResources(h, { memory: { limit: 32 << 20, swap: 32 << 20 } });
  t.equal(read(h, 'memory.max'), String(32 << 20));
  t.equal(read(h, 'memory.swap.max'), '0');
  cg.applyResources(h, { memory: { limit: -1 } });
  t.equal(read(h, 'memory.max'), 'max', 'unlimited');
  cg.applyResources(h, { cpu: { period: 50000 } });
  t.equal(read(h, 'cpu.max'), '20000 50000', 'the quota is kept when only the period changes');
  cg.applyResources(h, { cpu: { quota: -1 } });
  t.equal(read(h, 'cpu.max'), 'max 50000', 'quota -1 is max; the period is kept');
  cg.applyResources(h, { pids: { limit: -1 } });
  t.equal(read(h, 'pids.max'), 'max');
});

t.test('checkBeforeUpdate refuses a memory limit below the usage', async (t) => {
  const h = testCgroup(t);
  cg.createCgroup(h, { memory: { limit: 256 << 20 } });
  const p = shIn(t, h, 'echo ready; read y');
  p.go();
  await new Promise<void>((resolve) => p.child.stdout!.on('data', () => p.out().includes('ready') && resolve()));
  t.throws(() => cg.applyResources(h, { memory: { limit: 4096, checkBeforeUpdate: true } }), /rejecting memory limit 4096 <= usage \d+/);
  t.equal(read(h, 'memory.max'), String(256 << 20), 'the old limit is kept');
});

t.test('a failed create removes every directory it made, parents included', async (t) => {
  const h = testCgroup(t, '/mid/leaf');
  const file = join(dirOf(h), 'cpuset.cpus');
  t.throws(() => cg.createCgroup(h, { pids: { limit: 5 }, cpu: { cpus: '63' } }), {
    message: new RegExp(`^cgroup: write 63 to ${file}: `),
  }, 'cpu 63 does not exist in a 2-CPU VM');
  const top = h.path.split('/')[1]!;
  t.notOk(existsSync(join(ROOT, top)), 'nothing left');
});

t.test('pids() is recursive; destroy with kill empties and removes sub-cgroups', async (t) => {
  const h = testCgroup(t);
  cg.createCgroup(h, { pids: { limit: 100 } });
  // v2: processes live in leaves only once controllers are enabled below a cgroup ("no internal processes").
  const procs: Proc[] = [];
  for (const name of ['one', 'two/deeper']) {
    const sub = cg.resolveCgroup(`${h.path}/${name}`, 'sub', { systemd: false });
    cg.createCgroup(sub, undefined);
    const p = run(t, 'sleep', ['1000']);
    cg.addProcess(sub, p.pid);
    procs.push(p);
  }
  t.same(cg.pids(h), procs.map((p) => p.pid).sort((x, y) => x - y), 'both, from the sub-cgroups');
  t.equal(read(h, 'pids.current'), '2', 'counted in the parent too');
  t.throws(() => cg.destroyCgroup(h), /device or resource busy/, 'without kill a busy cgroup is an error');
  cg.destroyCgroup(h, { kill: true });
  for (const p of procs) t.equal((await p.exited).signal, 'SIGKILL');
  t.notOk(existsSync(dirOf(h)), 'removed with its sub-cgroups');
});

t.test('device rules are enforced on v2 (the eBPF device filter)', async (t) => {
  const h = testCgroup(t);
  cg.createCgroup(h, {
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    ],
  });
  const node = join('/tmp', `tsrun-vm-kmsg-${process.pid}`);
  const p = shIn(t, h, [
    'echo a > /dev/null && echo null-ok',
    'echo b > /dev/full; echo full=$?',
    `${BUSYBOX} mknod ${node} c 1 11; echo mknod=$?`,
  ].join('; '));
  p.go();
  await p.closed;
  t.teardown(() => rmSync(node, { force: true }));
  t.match(p.out(), /^null-ok$/m, 'c 1:3 is allowed');
  t.match(p.out(), /^full=[1-9]/m, 'c 1:7 (/dev/full) cannot be opened');
  t.match(p.out(), /^mknod=[1-9]/m, 'mknod of a denied device fails');
  t.match(p.err(), /Operation not permitted/, 'with EPERM');
});

// The init is cloned into its cgroup (CLONE_INTO_CGROUP). A cgroup at its pids.max refuses that
// fork but not a migration: launchInit then clones outside and writes cgroup.procs.
t.test('launchInit: into the cgroup at clone time, or moved in when pids.max refuses the clone', async (t) => {
  const { launchInit } = await import('../../../src/native/init-protocol.js');
  const { Op } = await import('../../../src/native/ops.js');
  const { loadNative } = await import('../../../src/native/native.js');
  const native = await loadNative();
  const plan = [{ op: Op.SYNC, ints: ['C'.charCodeAt(0)], what: 'sync' }, { op: Op.READY, what: 'ready' }];
  for (const limit of [undefined, 0]) {
    const h = testCgroup(t);
    cg.createCgroup(h, limit === undefined ? undefined : { pids: { limit } });
    const seen: string[] = [];
    const r = await launchInit({ plan, cloneFlags: 0, native, cgroup: cg.openEntry(h), onSync: (_c, pid) => void seen.push(readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim()) });
    t.same(seen, [`0::${dirOf(h).slice(ROOT.length)}`], `pids.max ${limit ?? 'max'}: the init is in the cgroup at its first op`);
    t.equal(native.waitpid(r.pid, 0)?.code, 0, 'and ends after its plan');
  }
});
