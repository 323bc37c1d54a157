// Real cgroups on this host (hybrid: v1 controllers + cgroup2 at /sys/fs/cgroup/unified): limits read
// back from the kernel's files, real processes frozen, fork-bombed, OOM-killed and killed on destroy.
// Every cgroup is /tsrun-test-<pid>-<n>, removed in teardown.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import * as cg from '../../src/cgroups/index.js';
import { layout } from '../../src/cgroups/paths.js';
import { removeCgroupTree, run } from './fixtures/host.js';

const ROOT = '/sys/fs/cgroup';
const skip =
  process.getuid?.() !== 0 ? 'needs root' :
    !existsSync(join(ROOT, 'memory/memory.limit_in_bytes')) ? 'needs the cgroup v1 memory hierarchy' :
      cg.detectMode() === 'unified' ? 'the host is cgroup v2 only' : false;
const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p)) ?? 'busybox';

let counter = 0;
const uniqueName = (): string => `tsrun-test-${process.pid}-${++counter}`;

function dirsOf(h: cg.CgroupHandle): string[] {
  const l = layout(h);
  return [...[...l.v1.values()].map((e) => e.dir), ...(l.v2 ? [l.v2.dir] : [])];
}

/** A handle for a fresh top-level test cgroup, cleaned up at the end of the test. */
function testCgroup(t: Test, sub = ''): cg.CgroupHandle {
  const name = uniqueName();
  const h = cg.resolveCgroup(`/${name}${sub}`, name, { systemd: false });
  t.teardown(() => {
    try {
      cg.destroyCgroup(h, { kill: true });
    } catch {
      // checked by the tests that care; the sweep below still cleans up
    }
    for (const d of dirsOf(cg.resolveCgroup(`/${name}`, name, { systemd: false }))) removeCgroupTree(d);
  });
  return h;
}

const read = (h: cg.CgroupHandle, ctrl: string, file: string): string =>
  readFileSync(join(layout(h).v1.get(ctrl)!.dir, file), 'utf8').trim();

const procState = (pid: number): string => /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '?';

t.test('create writes the limits into every v1 hierarchy; destroy removes every directory', { skip }, async (t) => {
  const h = testCgroup(t);
  t.equal(h.mode, 'hybrid');
  cg.createCgroup(h, {
    memory: { limit: 64 << 20, reservation: 32 << 20, swap: 96 << 20, swappiness: 10 },
    cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
    pids: { limit: 50 },
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rw' },
    ],
  });
  const dirs = dirsOf(h);
  for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd', 'unified']) {
    t.ok(dirs.includes(join(ROOT, c, h.path)) && existsSync(join(ROOT, c, h.path)), `created in ${c}`);
  }
  t.equal(read(h, 'memory', 'memory.limit_in_bytes'), String(64 << 20));
  t.equal(read(h, 'memory', 'memory.memsw.limit_in_bytes'), String(96 << 20));
  t.equal(read(h, 'memory', 'memory.soft_limit_in_bytes'), String(32 << 20));
  t.equal(read(h, 'memory', 'memory.swappiness'), '10');
  t.equal(read(h, 'cpu', 'cpu.shares'), '512');
  t.equal(read(h, 'cpu', 'cpu.cfs_quota_us'), '50000');
  t.equal(read(h, 'cpu', 'cpu.cfs_period_us'), '100000');
  t.equal(read(h, 'cpuset', 'cpuset.cpus'), '0');
  t.equal(read(h, 'cpuset', 'cpuset.mems'), '0');
  t.equal(read(h, 'pids', 'pids.max'), '50');
  t.equal(read(h, 'devices', 'devices.list'), 'c 1:3 rwm\nc 1:5 rw');

  cg.destroyCgroup(h);
  for (const d of dirs) t.notOk(existsSync(d), `removed ${d}`);
});

t.test('a cpuset cgroup without cpus/mems asked gets the parent ones (tasks can join)', { skip }, async (t) => {
  const h = testCgroup(t, '/nested/leaf');
  cg.createCgroup(h, undefined);
  const parentCpus = readFileSync(join(ROOT, 'cpuset/cpuset.cpus'), 'utf8').trim();
  t.equal(read(h, 'cpuset', 'cpuset.cpus'), parentCpus);
  t.equal(readFileSync(join(ROOT, 'cpuset', h.path, '..', 'cpuset.mems'), 'utf8').trim(), readFileSync(join(ROOT, 'cpuset/cpuset.mems'), 'utf8').trim());
  const p = run(t, 'sleep', ['1000']);
  cg.addProcess(h, p.pid);
  t.same(cg.pids(h), [p.pid]);
});

t.test('a process joins, freezes, thaws, shows in stats and dies on destroy with kill', { skip }, async (t) => {
  const h = testCgroup(t);
  cg.createCgroup(h, { memory: { limit: 128 << 20 }, pids: { limit: 20 }, cpu: { cpus: '0' } });
  const p = run(t, 'sleep', ['1000']);
  cg.addProcess(h, p.pid);
  const own = readFileSync(`/proc/${p.pid}/cgroup`, 'utf8');
  for (const c of ['memory', 'pids', 'cpuset', 'devices', 'freezer', 'cpu', 'cpuacct', 'blkio', 'name=systemd']) {
    t.match(own, new RegExp(`^\\d+:${c}:${h.path}$`, 'm'), `in ${c}`);
  }
  t.match(own, new RegExp(`^0::${h.path}$`, 'm'), 'in the unified hierarchy too');
  t.same(cg.pids(h), [p.pid]);

  t.equal(cg.isFrozen(h), false);
  cg.freeze(h);
  t.equal(cg.isFrozen(h), true);
  t.equal(read(h, 'freezer', 'freezer.state'), 'FROZEN');
  t.equal(procState(p.pid), 'D', 'a frozen task sleeps uninterruptibly');

  // Frozen, nothing moves: the stats must be the files.
  const s = cg.stats(h);
  const num = (ctrl: string, f: string): number => Number(read(h, ctrl, f));
  t.equal(s.pids.current, 1);
  t.equal(s.pids.limit, 20);
  t.equal(s.memory.usage.limit, num('memory', 'memory.limit_in_bytes'));
  // usage and max are omitted when 0 (Go omitempty); the sleep's pages were charged before it moved.
  t.equal(s.memory.usage.usage ?? 0, num('memory', 'memory.usage_in_bytes'));
  t.equal(s.memory.usage.max ?? 0, num('memory', 'memory.max_usage_in_bytes'));
  t.equal(s.memory.usage.failcnt, num('memory', 'memory.failcnt'));
  t.equal(s.memory.swap.limit, num('memory', 'memory.memsw.limit_in_bytes'));
  const stat = new Map(read(h, 'memory', 'memory.stat').split('\n').map((l) => l.split(' ') as [string, string]));
  t.equal(s.memory.raw?.total_rss, Number(stat.get('total_rss')));
  t.equal(s.memory.raw?.hierarchical_memory_limit, Number(stat.get('hierarchical_memory_limit')));
  t.equal(s.memory.cache ?? 0, Number(stat.get('cache')));
  t.equal(s.cpu.usage.total ?? 0, num('cpuacct', 'cpuacct.usage'));
  t.same(s.cpu.usage.percpu, read(h, 'cpuacct', 'cpuacct.usage_percpu').split(/\s+/).map(Number));
  const ticks = new Map(read(h, 'cpuacct', 'cpuacct.stat').split('\n').map((l) => l.split(' ') as [string, string]));
  t.equal(s.cpu.usage.user, (Number(ticks.get('user')) * 1e9) / 100);
  t.equal(s.cpu.usage.kernel, (Number(ticks.get('system')) * 1e9) / 100);
  t.same(s.cpuset.cpus, [0]);
  t.match(cg.statsToJSON(s), /"limit":134217728/);

  cg.thaw(h);
  t.equal(cg.isFrozen(h), false);
  // Thawed, the task runs (R) for a moment on its way back to sleep.
  for (let i = 0; i < 200 && procState(p.pid) !== 'S'; i++) await new Promise((r) => setTimeout(r, 10));
  t.equal(procState(p.pid), 'S', 'sleeping normally again once thawed');

  cg.destroyCgroup(h, { kill: true });
  const end = await p.exited;
  t.equal(end.signal, 'SIGKILL');
  for (const d of dirsOf(h)) t.notOk(existsSync(d), `removed ${d}`);
});

t.test('pids.max stops a fork bomb', { skip }, async (t) => {
  const h = testCgroup(t);
  cg.createCgroup(h, { pids: { limit: 8 } });
  // busybox ash does not retry a failed fork: it reports it and stops.
  const p = run(t, BUSYBOX, ['sh', '-c', 'read x; i=0; while [ $i -lt 40 ]; do sleep 300 & echo started; i=$((i+1)); done']);
  cg.addProcess(h, p.pid);
  p.go();
  const end = await p.exited;
  const started = p.out().split('\n').filter((l) => l === 'started').length;
  t.equal(started, 7, 'the shell and 7 children fill pids.max=8');
  t.match(p.err(), /can't fork: Resource temporarily unavailable/);
  t.not(end.code, 0);
  t.equal(cg.pids(h).length, 7, 'the sleeps are still there');
  t.match(read(h, 'pids', 'pids.events'), /^max [1-9]\d*$/m);
  t.equal(cg.stats(h).pids.current, 7);
  cg.destroyCgroup(h, { kill: true });
  t.same(dirsOf(h).filter((d) => existsSync(d)), []);
});

t.test('a memory hog is OOM-killed under memory.limit_in_bytes and counted', { skip }, async (t) => {
  const h = testCgroup(t);
  cg.createCgroup(h, { memory: { limit: 48 << 20 } });
  t.equal(cg.oomEvents(h), 0);
  const p = run(t, 'python3', ['-c', 'import sys; sys.stdin.readline(); x = b"x" * (300 << 20); print("survived")']);
  cg.addProcess(h, p.pid);
  p.go();
  const end = await p.exited;
  t.equal(end.signal, 'SIGKILL', 'killed by the OOM killer');
  t.notMatch(p.out(), /survived/);
  t.ok(cg.oomEvents(h) >= 1, `oomEvents() = ${cg.oomEvents(h)}`);
  const s = cg.stats(h);
  t.ok(s.memory.usage.failcnt > 0, 'memory.failcnt counted the hits');
  t.ok((s.memory.usage.max ?? 0) <= 48 << 20, 'peak stayed within the limit');
});

t.test('update: memory and memsw raised and lowered in the order the kernel accepts', { skip }, async (t) => {
  const h = testCgroup(t);
  cg.createCgroup(h, { memory: { limit: 64 << 20, swap: 64 << 20 }, cpu: { quota: 20000, period: 100000 }, pids: { limit: 10 } });
  cg.applyResources(h, { memory: { limit: 128 << 20, swap: 256 << 20 } });
  t.equal(read(h, 'memory', 'memory.limit_in_bytes'), String(128 << 20));
  t.equal(read(h, 'memory', 'memory.memsw.limit_in_bytes'), String(256 << 20));
  cg.applyResources(h, { memory: { limit: 32 << 20, swap: 32 << 20 } });
  t.equal(read(h, 'memory', 'memory.limit_in_bytes'), String(32 << 20));
  t.equal(read(h, 'memory', 'memory.memsw.limit_in_bytes'), String(32 << 20));
  cg.applyResources(h, { memory: { limit: -1 } });
  t.equal(read(h, 'memory', 'memory.limit_in_bytes'), '9223372036854771712', 'unlimited');
  t.equal(read(h, 'memory', 'memory.memsw.limit_in_bytes'), '9223372036854771712', 'memsw follows');
  cg.applyResources(h, { cpu: { quota: 150000, period: 50000 }, pids: { limit: -1 } });
  t.equal(read(h, 'cpu', 'cpu.cfs_quota_us'), '150000');
  t.equal(read(h, 'cpu', 'cpu.cfs_period_us'), '50000');
  t.equal(read(h, 'pids', 'pids.max'), 'max');
});

t.test('a limit below what is in use fails with one line naming the file, the cause and the usage', { skip }, async (t) => {
  const h = testCgroup(t);
  cg.createCgroup(h, { memory: { limit: 256 << 20 } });
  const p = run(t, 'python3', ['-c', 'import sys; sys.stdin.readline(); x = b"x" * (40 << 20); print("ready", flush=True); sys.stdin.readline()']);
  cg.addProcess(h, p.pid);
  p.go();
  await new Promise<void>((resolve) => p.child.stdout!.on('data', () => p.out().includes('ready') && resolve()));
  const file = join(ROOT, 'memory', h.path, 'memory.limit_in_bytes');
  t.throws(() => cg.applyResources(h, { memory: { limit: 8 << 20 } }), {
    message: new RegExp(`^cgroup: write 8388608 to ${file}: device or resource busy \\(current usage: \\d+, peak usage: \\d+\\)$`),
    code: 'EBUSY',
  });
  t.equal(read(h, 'memory', 'memory.limit_in_bytes'), String(256 << 20), 'the old limit is kept');
});

t.test('a failed create removes every directory it made, parents included', { skip }, async (t) => {
  const h = testCgroup(t, '/mid/leaf');
  const cpus = readFileSync(join(ROOT, 'cpuset/cpuset.effective_cpus'), 'utf8').trim();
  t.throws(() => cg.createCgroup(h, { pids: { limit: 5 }, cpu: { cpus: '63' } }), {
    message: `cgroup: write 63 to ${join(ROOT, 'cpuset', h.path, 'cpuset.cpus')}: numerical result out of range`,
  }, `cpu 63 is not in ${cpus}`);
  const top = h.path.split('/')[1]!;
  for (const c of ['memory', 'cpuset', 'pids', 'devices', 'systemd', 'unified']) t.notOk(existsSync(join(ROOT, c, top)), `nothing left in ${c}`);
});

t.test('resources the host cannot honour: a clear error, nothing left behind', { skip }, async (t) => {
  const h = testCgroup(t);
  t.throws(() => cg.createCgroup(h, { network: { classID: 0x100001 } }),
    { message: 'cgroup: linux.resources.network.classID: the net_cls controller is not available on this host' });
  t.throws(() => cg.createCgroup(h, { unified: { 'memory.max': '100' } }),
    { message: `cgroup: unified resource memory.max: no such cgroup file (${join(ROOT, 'unified', h.path, 'memory.max')})` });
  for (const d of dirsOf(h)) t.notOk(existsSync(d), `nothing left: ${d}`);
  // Weight knobs: only BFQ's exist here (in child cgroups); a knob the kernel lacks fails only when asked for.
  t.throws(() => cg.createCgroup(h, { blockIO: { leafWeight: 300 } }),
    { message: `cgroup: write 300 to ${join(ROOT, 'blkio', h.path, 'blkio.leaf_weight')}: no such file or directory`, code: 'ENOENT' });
  for (const d of dirsOf(h)) t.notOk(existsSync(d), `nothing left: ${d}`);
  cg.createCgroup(h, { blockIO: { weight: 500 } });
  t.match(read(h, 'blkio', 'blkio.bfq.weight'), /^(default )?500$/, 'the weight goes to blkio.bfq.weight');
});

const uni = join(ROOT, 'unified');
const hugetlbSkip = skip || (!existsSync(join(ROOT, 'hugetlb')) &&
  (existsSync(join(uni, 'cgroup.controllers')) ? readFileSync(join(uni, 'cgroup.controllers'), 'utf8') : '').split(/\s+/).includes('hugetlb')
  ? false : 'no hugetlb on the unified hierarchy of this host');

t.test('hugetlb goes to the unified hierarchy on this hybrid host', { skip: hugetlbSkip }, async (t) => {
  const enabledBefore = readFileSync(join(uni, 'cgroup.subtree_control'), 'utf8').includes('hugetlb');
  const h = testCgroup(t);
  t.teardown(() => {
    if (!enabledBefore) {
      try {
        writeFileSync(join(uni, 'cgroup.subtree_control'), '-hugetlb');
      } catch {
        // another cgroup uses it now: leave it enabled
      }
    }
  });
  cg.createCgroup(h, { hugepageLimits: [{ pageSize: '2MB', limit: 4 << 21 }] });
  t.equal(readFileSync(join(uni, h.path, 'hugetlb.2MB.max'), 'utf8').trim(), String(4 << 21));
  t.equal(readFileSync(join(uni, h.path, 'hugetlb.2MB.rsvd.max'), 'utf8').trim(), String(4 << 21));
  t.same(cg.stats(h).hugetlb['2MB'], { failcnt: 0 });
});

t.test('joining a cgroup that already has processes works; pids() sees sub-cgroups', { skip }, async (t) => {
  const h = testCgroup(t);
  cg.createCgroup(h, { pids: { limit: 100 } });
  const a = run(t, 'sleep', ['1000']);
  cg.addProcess(h, a.pid);
  const again = cg.resolveCgroup(h.path, 'other', { systemd: false });
  cg.createCgroup(again, { pids: { limit: 50 } });
  const b = run(t, 'sleep', ['1000']);
  cg.addProcess(again, b.pid);
  t.equal(read(h, 'pids', 'pids.max'), '50');
  const sub = join(layout(h).v1.get('devices')!.dir, 'inner');
  mkdirSync(sub);
  const c = run(t, 'sleep', ['1000']);
  writeFileSync(join(sub, 'cgroup.procs'), String(c.pid));
  t.same(cg.pids(h), [a.pid, b.pid, c.pid].sort((x, y) => x - y));
  t.throws(() => cg.destroyCgroup(h), { message: /^cgroup: remove \/sys\/fs\/cgroup\/\S+: device or resource busy \(\d+ process(es)? still in it\)$/ },
    'without kill a busy cgroup is an error');
  cg.destroyCgroup(h, { kill: true });
  await Promise.all([a.exited, b.exited, c.exited]);
  for (const d of [...dirsOf(h), sub]) t.notOk(existsSync(d), `removed ${d}`);
});

t.test('device rules are enforced (v1 devices controller)', { skip }, async (t) => {
  const h = testCgroup(t);
  cg.createCgroup(h, {
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
    ],
  });
  const p = run(t, BUSYBOX, ['sh', '-c', 'read x; echo a > /dev/null && echo null-ok; echo b > /dev/full; echo full=$?']);
  cg.addProcess(h, p.pid);
  p.go();
  await p.closed;
  t.match(p.out(), /^null-ok$/m);
  t.match(p.out(), /^full=[1-9]/m);
  t.match(p.err(), /Operation not permitted/);
});
