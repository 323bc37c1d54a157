// linux.resources -> cgroup files, against a recording double of one cgroup directory (pure mapping
// logic: the same setters write the real files in v1-host.test.ts and fake-v2.test.ts).
import t from 'tap';
import { CgroupError, type CgDir } from '../../src/cgroups/fs.js';
import * as v1 from '../../src/cgroups/v1.js';
import * as v2 from '../../src/cgroups/v2.js';
import { parseCpuList } from '../../src/cgroups/stats.js';

/** A directory whose files are `files`; writing a file that is absent is ENOENT, like cgroupfs. */
function recorder(files: Record<string, string>, fail?: (file: string, value: string) => string | undefined) {
  const writes: string[] = [];
  const d: CgDir = {
    path: '/cg',
    write(file, value) {
      const code = fail?.(file, value) ?? (file in files ? undefined : 'ENOENT');
      if (code) throw new CgroupError(`write ${value} to /cg/${file}: ${code}`, code);
      writes.push(`${file}=${value}`);
      files[file] = value;
    },
    read: (file) => files[file],
  };
  return { d, writes, files };
}

t.test('swap conversion (runc ConvertMemorySwapToCgroupV2Value)', async (t) => {
  t.equal(v2.convertMemorySwapToV2(0, -1), -1, 'unlimited memory, swap unset: unlimited swap');
  t.equal(v2.convertMemorySwapToV2(-1, 100), -1);
  t.equal(v2.convertMemorySwapToV2(0, 100), 0);
  t.equal(v2.convertMemorySwapToV2(300, -1), 300);
  t.equal(v2.convertMemorySwapToV2(300, 100), 200);
  t.equal(v2.convertMemorySwapToV2(100, 100), 0);
  t.throws(() => v2.convertMemorySwapToV2(300, 0), /unable to set swap limit without memory limit/);
  t.throws(() => v2.convertMemorySwapToV2(50, 100), /memory\+swap limit should be >= memory limit/);
  t.throws(() => v2.convertMemorySwapToV2(50, -5), /invalid memory value: -5/);
});

t.test('cpu.shares -> cpu.weight (runc 1.1: linear)', async (t) => {
  t.equal(v2.convertCPUSharesToV2(0), 0);
  t.equal(v2.convertCPUSharesToV2(2), 1);
  t.equal(v2.convertCPUSharesToV2(100), 4, 'runc 1.1 and its suite (update.bats: check_cpu_shares 100)');
  t.equal(v2.convertCPUSharesToV2(1024), 39, 'runc 1.1: linear');
  t.equal(v2.convertCPUSharesToV2(262144), 10000);
  t.equal(v2.convertCPUSharesToV2(512), 20);
  t.equal(v2.convertCPUSharesToV2(2048), 79);
});

t.test('blkio weight -> io.weight', async (t) => {
  t.equal(v2.convertBlkIOToIOWeight(10), 1);
  t.equal(v2.convertBlkIOToIOWeight(1000), 10000);
  t.equal(v2.convertBlkIOToIOWeight(500), 4950);
});

t.test('v2 memory: swap.max before memory.max, low, max/0 spelling', async (t) => {
  const r = recorder({ 'memory.max': 'max', 'memory.swap.max': 'max', 'memory.low': '0' });
  v2.setMemoryV2(r.d, { memory: { limit: 100 << 20, swap: 300 << 20, reservation: 50 << 20 } });
  t.same(r.writes, [`memory.swap.max=${200 << 20}`, `memory.max=${100 << 20}`, `memory.low=${50 << 20}`]);

  const same = recorder({ 'memory.max': 'max', 'memory.swap.max': 'max' });
  v2.setMemoryV2(same.d, { memory: { limit: 100, swap: 100 } });
  t.same(same.writes, ['memory.swap.max=0', 'memory.max=100'], 'memory == memory+swap: no swap');

  const unl = recorder({ 'memory.max': '5', 'memory.swap.max': '5' });
  v2.setMemoryV2(unl.d, { memory: { limit: -1 } });
  t.same(unl.writes, ['memory.swap.max=max', 'memory.max=max']);

  const noSwapAcct = recorder({ 'memory.max': '5' });
  v2.setMemoryV2(noSwapAcct.d, { memory: { limit: -1 } });
  t.same(noSwapAcct.writes, ['memory.max=max'], 'no memory.swap.max: "max" is skipped');
  const noSwapAcct2 = recorder({ 'memory.max': '5' });
  t.throws(() => v2.setMemoryV2(noSwapAcct2.d, { memory: { limit: 100, swap: 200 } }), { code: 'ENOENT' }, 'a real swap limit is not');
});

t.test('v2 memory: checkBeforeUpdate refuses limits at or below current usage', async (t) => {
  const r = recorder({ 'memory.max': 'max', 'memory.current': '5000\n', 'memory.swap.max': 'max' });
  t.throws(() => v2.setMemoryV2(r.d, { memory: { limit: 4096, checkBeforeUpdate: true } }), /^cgroup: memory: rejecting memory limit 4096 <= usage 5000$/);
  t.throws(() => v2.setMemoryV2(r.d, { memory: { limit: 8000, swap: 5000, checkBeforeUpdate: true } }), /rejecting memory\+swap limit 5000 <= usage 5000/);
  t.same(r.writes, []);
  v2.setMemoryV2(r.d, { memory: { limit: 4096 } });
  t.same(r.writes, ['memory.max=4096'], 'without the flag the kernel decides');
});

t.test('v2 cpu: idle, weight, cpu.max keeping the other half, burst retried after quota', async (t) => {
  const r = recorder({ 'cpu.idle': '0', 'cpu.weight': '100', 'cpu.max': 'max 100000', 'cpu.max.burst': '0' });
  v2.setCpuV2(r.d, { cpu: { shares: 1024, quota: 50000, period: 200000, idle: 0 } });
  t.same(r.writes, ['cpu.idle=0', 'cpu.weight=39', 'cpu.max=50000 200000']);
  r.writes.length = 0;
  v2.setCpuV2(r.d, { cpu: { period: 100000 } });
  t.same(r.writes, ['cpu.max=50000 100000'], 'period alone keeps the quota');
  r.writes.length = 0;
  v2.setCpuV2(r.d, { cpu: { quota: -1 } });
  t.same(r.writes, ['cpu.max=max 100000'], 'negative quota is max, period kept');

  let refused = false;
  const b = recorder({ 'cpu.max': 'max 100000', 'cpu.max.burst': '0' }, (f) => {
    if (f === 'cpu.max.burst' && !refused) {
      refused = true;
      return 'EINVAL';
    }
    return undefined;
  });
  v2.setCpuV2(b.d, { cpu: { quota: 20000, burst: 10000 } });
  t.same(b.writes, ['cpu.max=20000 100000', 'cpu.max.burst=10000']);
  t.throws(() => v2.setCpuV2(recorder({}).d, { cpu: { realtimeRuntime: 1000 } }), /real-time group scheduling is not supported on cgroup v2/);
});

t.test('v2 io: bfq weight or converted io.weight, io.max per device, 0 rate is max', async (t) => {
  const r = recorder({ 'io.weight': 'default 100', 'io.max': '' });
  v2.setIoV2(r.d, {
    blockIO: {
      weight: 500,
      weightDevice: [{ major: 8, minor: 0, weight: 1000 }],
      throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
      throttleWriteBpsDevice: [{ major: 8, minor: 16, rate: 0 }],
      throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 100 }],
      throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 200 }],
    },
  });
  t.same(r.writes, [
    'io.weight=4950', 'io.weight=8:0 10000',
    'io.max=8:0 rbps=1048576', 'io.max=8:16 wbps=max', 'io.max=8:0 riops=100', 'io.max=8:0 wiops=200',
  ]);
  const bfq = recorder({ 'io.bfq.weight': 'default 100' });
  v2.setIoV2(bfq.d, { blockIO: { weight: 500, weightDevice: [{ major: 8, minor: 0, weight: 300 }] } });
  t.same(bfq.writes, ['io.bfq.weight=500', 'io.bfq.weight=8:0 300']);
});

t.test('hugetlb: .max and .rsvd.max (v2), limit_in_bytes and rsvd (v1), rsvd skipped when absent', async (t) => {
  const r = recorder({ 'hugetlb.2MB.max': 'max', 'hugetlb.2MB.rsvd.max': 'max', 'hugetlb.1GB.max': 'max', 'hugetlb.1GB.rsvd.max': 'max' });
  v2.setHugetlbV2(r.d, { hugepageLimits: [{ pageSize: '2MB', limit: 4194304 }, { pageSize: '1GB', limit: 0 }] });
  t.same(r.writes, ['hugetlb.2MB.max=4194304', 'hugetlb.2MB.rsvd.max=4194304', 'hugetlb.1GB.max=0', 'hugetlb.1GB.rsvd.max=0']);
  const old = recorder({ 'hugetlb.2MB.limit_in_bytes': '0', 'hugetlb.1GB.limit_in_bytes': '0' });
  v1.setHugetlbV1(old.d, { hugepageLimits: [{ pageSize: '2MB', limit: 2097152 }, { pageSize: '1GB', limit: 0 }] });
  t.same(old.writes, ['hugetlb.2MB.limit_in_bytes=2097152', 'hugetlb.1GB.limit_in_bytes=0']);
  t.throws(() => v2.setHugetlbV2(recorder({}).d, { hugepageLimits: [{ pageSize: '64KB', limit: 1 }] }), { code: 'ENOENT' });
});

t.test('pids: runtime-spec 1.3 (0 is a limit, negative is max)', async (t) => {
  const r = recorder({ 'pids.max': 'max' });
  v2.setPidsV2(r.d, { pids: { limit: 0 } });
  v2.setPidsV2(r.d, { pids: { limit: -1 } });
  v1.setPids(r.d, { pids: { limit: 42 } });
  t.same(r.writes, ['pids.max=0', 'pids.max=max', 'pids.max=42']);
});

t.test('rdma and unified', async (t) => {
  const r = recorder({ 'rdma.max': '', 'memory.high': 'max', 'cgroup.freeze': '0' });
  v1.setRdma(r.d, { rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, mlx4_0: { hcaObjects: 5 } } });
  v2.setUnified(r.d, { unified: { 'memory.high': '1073741824' } });
  t.same(r.writes, ['rdma.max=mlx5_1 hca_handle=3 hca_object=10000', 'rdma.max=mlx4_0 hca_object=5', 'memory.high=1073741824']);
  t.throws(() => v2.setUnified(r.d, { unified: { 'memory.nonexistent': '1' } }),
    /^cgroup: unified resource memory.nonexistent: no such cgroup file \(\/cg\/memory.nonexistent\)$/);
  t.throws(() => v2.setUnified(r.d, { unified: { '../x': '1' } }), /must be a file name \(no slashes\)/);
});

t.test('v1 memory: memsw and limit written in the order the kernel accepts', async (t) => {
  // Raising: current limit 64M < new memsw 256M -> memsw first.
  const up = recorder({ 'memory.limit_in_bytes': String(64 << 20), 'memory.memsw.limit_in_bytes': String(64 << 20) });
  v1.setMemoryV1(up.d, { memory: { limit: 128 << 20, swap: 256 << 20 } });
  t.same(up.writes, [`memory.memsw.limit_in_bytes=${256 << 20}`, `memory.limit_in_bytes=${128 << 20}`]);
  // Lowering: current limit 128M >= new memsw 32M -> limit first.
  const down = recorder({ 'memory.limit_in_bytes': String(128 << 20), 'memory.memsw.limit_in_bytes': String(256 << 20) });
  v1.setMemoryV1(down.d, { memory: { limit: 32 << 20, swap: 32 << 20 } });
  t.same(down.writes, [`memory.limit_in_bytes=${32 << 20}`, `memory.memsw.limit_in_bytes=${32 << 20}`]);
  // Unlimited memory with swap unset: memsw unlimited too, first.
  const unl = recorder({ 'memory.limit_in_bytes': '4096', 'memory.memsw.limit_in_bytes': '4096' });
  v1.setMemoryV1(unl.d, { memory: { limit: -1 } });
  t.same(unl.writes, ['memory.memsw.limit_in_bytes=-1', 'memory.limit_in_bytes=-1']);
});

t.test('v1 memory: reservation, OOM killer, swappiness; kernel memory only warns', async (t) => {
  const r = recorder({ 'memory.soft_limit_in_bytes': '0', 'memory.oom_control': '0', 'memory.swappiness': '60' });
  const { setWarningHandler } = await import('../../src/cgroups/fs.js');
  const warnings: string[] = [];
  setWarningHandler((m) => warnings.push(m));
  t.teardown(() => setWarningHandler((m) => process.stderr.write(`tsrun: warning: ${m}\n`)));
  v1.setMemoryV1(r.d, { memory: { reservation: 1 << 20, disableOOMKiller: true, swappiness: 0, kernel: 1 << 20 } });
  t.same(r.writes, [`memory.soft_limit_in_bytes=${1 << 20}`, 'memory.oom_control=1', 'memory.swappiness=0']);
  t.match(warnings, [/memory\.kernel is ignored/]);
  t.throws(() => v1.setMemoryV1(r.d, { memory: { swappiness: 101 } }), /valid range is 0-100/);
});

t.test('v1 memory: kernelTCP is written where the knob exists, else it warns', async (t) => {
  const { setWarningHandler } = await import('../../src/cgroups/fs.js');
  const warnings: string[] = [];
  setWarningHandler((m) => warnings.push(m));
  t.teardown(() => setWarningHandler((m) => process.stderr.write(`tsrun: warning: ${m}\n`)));
  const r = recorder({ 'memory.kmem.tcp.limit_in_bytes': '9223372036854771712' });
  v1.setMemoryV1(r.d, { memory: { kernelTCP: 16 << 20 } });
  t.same(r.writes, [`memory.kmem.tcp.limit_in_bytes=${16 << 20}`]);
  t.same(warnings, []);
  const none = recorder({});
  v1.setMemoryV1(none.d, { memory: { kernelTCP: 16 << 20 } });
  t.same(none.writes, []);
  t.match(warnings, [/kernelTCP is ignored/]);
});

t.test('v1 memory: EBUSY on the limit says how much is in use', async (t) => {
  const r = recorder({ 'memory.limit_in_bytes': '0', 'memory.usage_in_bytes': '9000\n', 'memory.max_usage_in_bytes': '12000\n' },
    (f) => (f === 'memory.limit_in_bytes' ? 'EBUSY' : undefined));
  t.throws(() => v1.setMemoryV1(r.d, { memory: { limit: 4096 } }),
    { message: 'cgroup: write 4096 to /cg/memory.limit_in_bytes: EBUSY (current usage: 9000, peak usage: 12000)', code: 'EBUSY' });
});

t.test('v1 cpu: shares read back, period retried after quota on EINVAL, rt last', async (t) => {
  let first = true;
  const r = recorder({
    'cpu.shares': '1024', 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '-1', 'cpu.cfs_burst_us': '0',
    'cpu.idle': '0', 'cpu.rt_period_us': '1000000', 'cpu.rt_runtime_us': '0',
  }, (f) => {
    if (f === 'cpu.cfs_period_us' && first) {
      first = false;
      return 'EINVAL';
    }
    return undefined;
  });
  v1.setCpuV1(r.d, { cpu: { shares: 512, period: 50000, quota: 25000, burst: 1000, idle: 1, realtimePeriod: 1000000, realtimeRuntime: 950000 } });
  t.same(r.writes, [
    'cpu.shares=512', 'cpu.cfs_burst_us=1000', 'cpu.cfs_quota_us=25000', 'cpu.cfs_period_us=50000', 'cpu.idle=1',
    'cpu.rt_period_us=1000000', 'cpu.rt_runtime_us=950000',
  ]);
  const clamp = recorder({ 'cpu.shares': '1024' });
  clamp.d.write = (f, v) => {
    clamp.files[f] = v === '1' ? '2' : v; // the kernel clamps shares to [2, 262144]
  };
  t.throws(() => v1.setCpuV1(clamp.d, { cpu: { shares: 1 } }), /the minimum allowed cpu-shares is 2/);
});

t.test('v1 devices: deny all, then the rules in order', async (t) => {
  const r = recorder({ 'devices.allow': '', 'devices.deny': '' });
  v1.setDevicesV1(r.d, {
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 136, access: 'rw' },
      { allow: false, type: 'b', major: -1, minor: -1, access: 'm' },
    ],
  });
  t.same(r.writes, ['devices.deny=a', 'devices.deny=a *:* rwm', 'devices.allow=c 1:3 rwm', 'devices.allow=c 136:* rw', 'devices.deny=b *:* m']);
});

t.test('v1 blkio: cfq knobs when present, else bfq', async (t) => {
  const cfq = recorder({ 'blkio.weight': '500', 'blkio.weight_device': '', 'blkio.leaf_weight': '', 'blkio.leaf_weight_device': '', 'blkio.throttle.read_bps_device': '' });
  v1.setBlkioV1(cfq.d, { blockIO: { weight: 300, leafWeight: 200, weightDevice: [{ major: 8, minor: 0, weight: 100, leafWeight: 50 }], throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }] } });
  t.same(cfq.writes, ['blkio.weight=300', 'blkio.leaf_weight=200', 'blkio.weight_device=8:0 100', 'blkio.leaf_weight_device=8:0 50', 'blkio.throttle.read_bps_device=8:0 1000']);
  const none = recorder({});
  t.throws(() => v1.setBlkioV1(none.d, { blockIO: { weight: 300 } }), { code: 'ENOENT', message: /blkio\.bfq\.weight/ },
    'a host without weight knobs fails only when weight is asked for');
});

t.test('v1 network and cpuset', async (t) => {
  const r = recorder({ 'net_cls.classid': '0', 'net_prio.ifpriomap': '', 'cpuset.cpus': '', 'cpuset.mems': '' });
  v1.setNetClsV1(r.d, { network: { classID: 0x100001 } });
  v1.setNetPrioV1(r.d, { network: { priorities: [{ name: 'eth0', priority: 5 }, { name: 'lo', priority: 1 }] } });
  v1.setCpusetV1(r.d, { cpu: { cpus: '0-1', mems: '0' } });
  t.same(r.writes, ['net_cls.classid=1048577', 'net_prio.ifpriomap=eth0 5', 'net_prio.ifpriomap=lo 1', 'cpuset.cpus=0-1', 'cpuset.mems=0']);
  const child = recorder({ 'cpuset.cpus': '\n', 'cpuset.mems': '1\n' });
  v1.cpusetCopyIfEmpty(child.d, recorder({ 'cpuset.cpus': '0-3\n', 'cpuset.mems': '0-1\n' }).d);
  t.same(child.writes, ['cpuset.cpus=0-3'], 'only the empty one is copied');
});

t.test('cpu list parsing for stats', async (t) => {
  t.same(parseCpuList('0-2,5,7-8\n'), [0, 1, 2, 5, 7, 8]);
  t.same(parseCpuList(''), []);
});
