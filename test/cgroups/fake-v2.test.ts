// The cgroup v2 code paths end to end against a test double tree (TSRUN_CGROUP_ROOT): plain files
// standing in for cgroupfs, pre-created like the kernel would. This host is hybrid, so the v2
// file writing of a unified host can only be exercised this way here (the real v1 host is in
// v1-host.test.ts).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import * as cg from '../../src/cgroups/index.js';
import { hugePageSizes } from '../../src/cgroups/stats.js';

const CONTROLLERS = 'cpuset cpu io memory hugetlb pids rdma misc';

/** The files a fresh non-root cgroup2 directory has (with every controller enabled). */
function kernelFiles(): Record<string, string> {
  const f: Record<string, string> = {
    'cgroup.controllers': `${CONTROLLERS}\n`, 'cgroup.subtree_control': '\n', 'cgroup.procs': '', 'cgroup.kill': '',
    'cgroup.freeze': '0\n', 'cgroup.events': 'populated 0\nfrozen 0\n', 'cgroup.type': 'domain\n',
    'memory.max': 'max\n', 'memory.low': '0\n', 'memory.high': 'max\n', 'memory.swap.max': 'max\n',
    'memory.current': '2105344\n', 'memory.swap.current': '4096\n', 'memory.peak': '3000000\n',
    'memory.events': 'low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\noom_group_kill 0\n',
    'memory.stat': 'anon 1000\nfile 20480\nkernel 8192\nshmem 0\n',
    'cpu.weight': '100\n', 'cpu.max': 'max 100000\n', 'cpu.max.burst': '0\n', 'cpu.idle': '0\n',
    'cpu.stat': 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 10\nnr_throttled 3\nthrottled_usec 250\n',
    'cpuset.cpus': '\n', 'cpuset.mems': '\n', 'pids.max': 'max\n', 'pids.current': '3\n',
    'io.max': '', 'io.weight': 'default 100\n', 'io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n',
    'rdma.max': '',
  };
  for (const size of hugePageSizes()) {
    f[`hugetlb.${size}.max`] = 'max\n';
    f[`hugetlb.${size}.rsvd.max`] = 'max\n';
    f[`hugetlb.${size}.current`] = '0\n';
    f[`hugetlb.${size}.events`] = 'max 1\n';
  }
  return f;
}

function fakeTree(t: Test): { root: string; dir: (p: string) => string; read: (p: string, f: string) => string } {
  const root = mkdtempSync(join(tmpdir(), 'tsrun-cg-v2-'));
  writeFileSync(join(root, 'cgroup.controllers'), `${CONTROLLERS}\n`);
  writeFileSync(join(root, 'cgroup.subtree_control'), '\n');
  process.env.TSRUN_CGROUP_ROOT = root;
  t.teardown(() => {
    delete process.env.TSRUN_CGROUP_ROOT;
    rmSync(root, { recursive: true, force: true });
  });
  const dir = (p: string): string => {
    const d = join(root, p);
    mkdirSync(d, { recursive: true });
    for (const [f, v] of Object.entries(kernelFiles())) writeFileSync(join(d, f), v);
    return d;
  };
  return { root, dir, read: (p, f) => readFileSync(join(root, p, f), 'utf8') };
}

t.test('a unified tree is detected from its files and resources land in v2 files', async (t) => {
  const fk = fakeTree(t);
  fk.dir('pod');
  fk.dir('pod/c1');
  t.equal(cg.detectMode(), 'unified');
  const h = cg.resolveCgroup('/pod/c1', 'c1', { systemd: false });
  t.same(h, { path: '/pod/c1', systemd: false, mode: 'unified' });
  const sizes = hugePageSizes();
  cg.createCgroup(h, {
    memory: { limit: 256 << 20, swap: 512 << 20, reservation: 128 << 20 },
    cpu: { shares: 1024, quota: 50000, period: 100000, burst: 1000, idle: 0, cpus: '0', mems: '0' },
    pids: { limit: 64 },
    blockIO: { weight: 1000, throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 300 }] },
    hugepageLimits: sizes.slice(0, 1).map((pageSize) => ({ pageSize, limit: 0 })),
    rdma: { mlx5_0: { hcaHandles: 2 } },
    unified: { 'memory.high': '200000000' },
  });
  const rd = (f: string): string => fk.read('pod/c1', f);
  t.equal(rd('memory.max'), String(256 << 20));
  t.equal(rd('memory.swap.max'), String(256 << 20), 'swap.max is memory+swap minus memory');
  t.equal(rd('memory.low'), String(128 << 20));
  t.equal(rd('cpu.weight'), '39', '1024 shares: weight 39 (runc 1.1)');
  t.equal(rd('cpu.max'), '50000 100000');
  t.equal(rd('cpu.max.burst'), '1000');
  t.equal(rd('cpu.idle'), '0');
  t.equal(rd('cpuset.cpus'), '0');
  t.equal(rd('cpuset.mems'), '0');
  t.equal(rd('pids.max'), '64');
  t.equal(rd('io.weight'), '10000');
  t.equal(rd('io.max'), '8:0 wiops=300');
  t.equal(rd('rdma.max'), 'mlx5_0 hca_handle=2');
  t.equal(rd('memory.high'), '200000000', 'unified keys are written verbatim, last');
  if (sizes[0]) t.equal(rd(`hugetlb.${sizes[0]}.max`), '0');

  cg.addProcess(h, 4242);
  t.equal(rd('cgroup.procs'), '4242');
});

t.test('controllers are enabled in the ancestors, like runc does on a unified host', async (t) => {
  const fk = fakeTree(t);
  fk.dir('a');
  const leaf = fk.dir('a/b');
  writeFileSync(join(leaf, 'cgroup.controllers'), 'memory\n'); // pids not enabled above the leaf yet
  writeFileSync(join(fk.root, 'a', 'cgroup.subtree_control'), 'memory\n');
  const h = cg.resolveCgroup('/a/b', 'b', { systemd: false });
  cg.applyResources(h, { pids: { limit: 5 } });
  t.equal(readFileSync(join(fk.root, 'cgroup.subtree_control'), 'utf8'), '+pids');
  t.equal(fk.read('a', 'cgroup.subtree_control'), '+pids');
  t.equal(fk.read('a/b', 'pids.max'), '5');
  const bare = fk.dir('x');
  writeFileSync(join(bare, 'cgroup.controllers'), '\n');
  writeFileSync(join(fk.root, 'cgroup.controllers'), 'memory\n');
  t.throws(() => cg.applyResources(cg.resolveCgroup('/x', 'x', { systemd: false }), { pids: { limit: 5 } }),
    /^cgroup: linux.resources.pids: the pids controller is not available on this host$/);
});

t.test('v2 refusals: realtime, missing unified file, checkBeforeUpdate; devices are not written yet', async (t) => {
  const fk = fakeTree(t);
  fk.dir('c');
  const h = cg.resolveCgroup('/c', 'c', { systemd: false });
  t.throws(() => cg.applyResources(h, { cpu: { realtimeRuntime: 1000 } }), /real-time group scheduling is not supported on cgroup v2/);
  t.throws(() => cg.applyResources(h, { unified: { 'memory.oom.group': '1' } }), /^cgroup: unified resource memory.oom.group: no such cgroup file/);
  t.throws(() => cg.applyResources(h, { memory: { limit: 4096, checkBeforeUpdate: true } }), /rejecting memory limit 4096 <= usage 2105344/);
  t.doesNotThrow(() => cg.applyResources(h, { devices: [{ allow: false, access: 'rwm' }] }),
    'device rules on v2 are a no-op until the eBPF filter exists');
});

t.test('v2 freezer, pids, oom events and stats read the v2 files', async (t) => {
  const fk = fakeTree(t);
  const d = fk.dir('s');
  fk.dir('s/sub');
  writeFileSync(join(d, 'cgroup.procs'), '10\n11\n');
  writeFileSync(join(d, 'sub', 'cgroup.procs'), '12\n');
  const h = cg.resolveCgroup('/s', 's', { systemd: false });
  t.same(cg.pids(h), [10, 11, 12], 'recursive');
  t.equal(cg.isFrozen(h), false);
  writeFileSync(join(d, 'cgroup.events'), 'populated 1\nfrozen 1\n'); // what the kernel reports once frozen
  cg.freeze(h);
  t.equal(fk.read('s', 'cgroup.freeze'), '1');
  t.equal(cg.isFrozen(h), true);
  cg.thaw(h);
  t.equal(fk.read('s', 'cgroup.freeze'), '0');
  t.equal(cg.oomEvents(h), 2);

  const s = cg.stats(h);
  t.same(s.cpu, { usage: { total: 1500000, user: 1000000, kernel: 500000 }, throttling: { periods: 10, throttledPeriods: 3, throttledTime: 250000 } });
  t.same(s.memory.usage, { limit: 18446744073709551615, usage: 2105344, max: 3000000, failcnt: 7 });
  t.same(s.memory.swap, { limit: 18446744073709551615, usage: 2105344 + 4096, failcnt: 0 });
  t.equal(s.memory.cache, 20480);
  t.same(s.memory.raw, { anon: 1000, file: 20480, kernel: 8192, shmem: 0 });
  t.same(s.pids, { current: 3 });
  t.same(s.blkio, {
    ioServiceBytesRecursive: [{ major: 8, op: 'Read', value: 4096 }, { major: 8, op: 'Write', value: 8192 }],
    ioServicedRecursive: [{ major: 8, op: 'Read', value: 1 }, { major: 8, op: 'Write', value: 2 }],
  }, 'minor 0 is omitted like Go omitempty');
  for (const size of hugePageSizes()) t.same(s.hugetlb[size], { failcnt: 1 });
  t.match(cg.statsToJSON(s), /"limit":18446744073709551615,/);
});
