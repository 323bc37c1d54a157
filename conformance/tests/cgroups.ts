// config-linux.md Control groups: cgroupsPath, resources, allowed device list,
// cgroup ownership, unified, intelRdt.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, statSync, mkdirSync, readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, memo, type T } from '../lib/suite.js';
import { addUserns, setNamespace, type Config } from '../lib/bundle.js';
import { readText } from '../lib/util.js';

const S = 'cgroups';

/** where a controller's file for `pid` lives on the host, from /proc/<pid>/cgroup */
function cgDir(t: T, pid: number, ctrl: string): string | undefined {
  const lines = (readText(`/proc/${pid}/cgroup`) ?? '').trim().split('\n');
  if (t.host.cgroup === 'v2') {
    const l = lines.find((x) => x.startsWith('0::'));
    return l ? join('/sys/fs/cgroup', l.slice(3)) : undefined;
  }
  for (const l of lines) {
    const [, ctrls, path] = l.split(':');
    if (ctrls && path !== undefined && ctrls.split(',').includes(ctrl)) return join('/sys/fs/cgroup', ctrl, path);
  }
  return undefined;
}

function cgPathName(): string {
  return `cf-cg-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
}

test(S, 'an absolute cgroupsPath is relative to the cgroup mount point', ['cl.cgroupsPath.absolute'], (t) => {
  const name = cgPathName();
  const b = t.bundle((c) => { c.linux.cgroupsPath = `/${name}`; });
  const { id, res } = t.create(b);
  t.must(res, 'create');
  const pid = t.rt.state(id).state?.pid as number;
  const ctrls = t.host.cgroup === 'v2' ? [''] : ['memory', 'pids'].filter((c) => t.host.v1.has(c));
  for (const ctrl of ctrls) {
    const dir = cgDir(t, pid, ctrl || 'memory');
    t.equal(dir, join('/sys/fs/cgroup', ctrl, name), `${ctrl || 'unified'} cgroup of the container process`);
    t.ok(dir && (readText(join(dir, 'cgroup.procs')) ?? '').split('\n').includes(String(pid)), `the process is listed in ${dir}/cgroup.procs`);
  }
});

test(S, 'the same cgroupsPath attaches to the same place', ['cl.cgroupsPath.consistent'], (t) => {
  const name = cgPathName();
  const seen: string[] = [];
  for (let i = 0; i < 2; i++) {
    const b = t.bundle((c) => { c.linux.cgroupsPath = `/${name}/inner`; });
    const { id, res } = t.create(b);
    t.must(res, `create #${i + 1}`);
    const pid = t.rt.state(id).state?.pid as number;
    seen.push(readText(`/proc/${pid}/cgroup`) ?? '');
    t.rt.cleanup(id);
  }
  t.equal(seen[1], seen[0], 'both containers were placed in the same cgroups');
  t.defer(() => {
    for (const c of t.host.cgroup === 'v2' ? [''] : [...t.host.v1]) {
      try { execFileSync('rmdir', [join('/sys/fs/cgroup', c, name, 'inner'), join('/sys/fs/cgroup', c, name)], { stdio: 'ignore' }); } catch { /* gone */ }
    }
  });
});

// ---- resources ------------------------------------------------------------------

interface Res {
  name: string;
  covers: string[];
  ctrl: string; // v1 controller
  v1: string; // v1 file
  v2?: string; // v2 file
  set: (r: Record<string, any>) => void;
  want: string | RegExp;
  want2?: string | RegExp;
  /** why the host cannot check it (undefined: supported) */
  unsupported?: (t: T) => string | undefined;
  /** checked in a container of its own (it changes how the kernel takes other settings) */
  alone?: boolean;
}

/** the files a new (non-root) cgroup of `ctrl` has on this host */
function childFiles(ctrl: string): Set<string> {
  return memo(`cgfiles-${ctrl}`, () => {
    const d = join('/sys/fs/cgroup', ctrl, `cf-files-${process.pid}`);
    try {
      mkdirSync(d);
      return new Set(readdirSync(d));
    } catch {
      return new Set<string>();
    } finally {
      try { rmdirSync(d); } catch { /* not created */ }
    }
  });
}

function v1File(t: T, ctrl: string, file: string): string | undefined {
  if (t.host.cgroup === 'v2') return undefined;
  if (!t.host.v1.has(ctrl)) return `no ${ctrl} cgroup v1 controller on this host`;
  return childFiles(ctrl).has(file) ? undefined : `${ctrl}/${file} does not exist on this host`;
}

function vda(): [number, number] | undefined {
  const t = readText('/sys/block/vda/dev') ?? readText('/sys/block/sda/dev') ?? readText('/sys/block/nvme0n1/dev');
  if (!t) return undefined;
  const [a, b] = t.trim().split(':').map(Number);
  return [a!, b!];
}
const dev = vda();

const resources: Res[] = [
  { name: 'memory.limit', covers: [], ctrl: 'memory', v1: 'memory.limit_in_bytes', v2: 'memory.max', set: (r) => { (r.memory ??= {}).limit = 64 << 20; }, want: String(64 << 20) },
  { name: 'memory.reservation', covers: [], ctrl: 'memory', v1: 'memory.soft_limit_in_bytes', v2: 'memory.low', set: (r) => { (r.memory ??= {}).reservation = 32 << 20; }, want: String(32 << 20) },
  { name: 'memory.swap', covers: [], ctrl: 'memory', v1: 'memory.memsw.limit_in_bytes', v2: 'memory.swap.max', set: (r) => { (r.memory ??= {}).swap = 128 << 20; }, want: String(128 << 20), want2: String(64 << 20) },
  { name: 'memory.swappiness', covers: [], ctrl: 'memory', v1: 'memory.swappiness', set: (r) => { (r.memory ??= {}).swappiness = 10; }, want: '10' },
  { name: 'memory.disableOOMKiller', covers: [], ctrl: 'memory', v1: 'memory.oom_control', set: (r) => { (r.memory ??= {}).disableOOMKiller = true; }, want: /oom_kill_disable 1/ },
  { name: 'memory.kernelTCP', covers: [], ctrl: 'memory', v1: 'memory.kmem.tcp.limit_in_bytes', set: (r) => { (r.memory ??= {}).kernelTCP = 16 << 20; }, want: String(16 << 20) },
  { name: 'cpu.shares', covers: [], ctrl: 'cpu', v1: 'cpu.shares', v2: 'cpu.weight', set: (r) => { (r.cpu ??= {}).shares = 512; }, want: '512', want2: /^\d+$/ },
  { name: 'cpu.quota', covers: [], ctrl: 'cpu', v1: 'cpu.cfs_quota_us', v2: 'cpu.max', set: (r) => { (r.cpu ??= {}).quota = 50000; }, want: '50000', want2: /^50000 100000$/ },
  { name: 'cpu.period', covers: [], ctrl: 'cpu', v1: 'cpu.cfs_period_us', v2: 'cpu.max', set: (r) => { (r.cpu ??= {}).period = 100000; }, want: '100000', want2: /^50000 100000$/ },
  { name: 'cpu.burst', covers: [], ctrl: 'cpu', v1: 'cpu.cfs_burst_us', v2: 'cpu.max.burst', set: (r) => { (r.cpu ??= {}).burst = 10000; }, want: '10000' },
  { name: 'cpu.realtimePeriod', covers: [], ctrl: 'cpu', v1: 'cpu.rt_period_us', set: (r) => { (r.cpu ??= {}).realtimePeriod = 1000000; }, want: '1000000' },
  { name: 'cpu.realtimeRuntime', covers: [], ctrl: 'cpu', v1: 'cpu.rt_runtime_us', set: (r) => { (r.cpu ??= {}).realtimeRuntime = 0; }, want: '0' },
  // cpu.idle=1 makes the kernel pin the shares (to 3) and refuse other writes: its own container.
  { name: 'cpu.idle', covers: [], ctrl: 'cpu', v1: 'cpu.idle', v2: 'cpu.idle', set: (r) => { (r.cpu ??= {}).idle = 1; }, want: '1', alone: true },
  { name: 'cpu.cpus', covers: [], ctrl: 'cpuset', v1: 'cpuset.cpus', v2: 'cpuset.cpus', set: (r) => { (r.cpu ??= {}).cpus = '0'; }, want: '0' },
  { name: 'cpu.mems', covers: [], ctrl: 'cpuset', v1: 'cpuset.mems', v2: 'cpuset.mems', set: (r) => { (r.cpu ??= {}).mems = '0'; }, want: '0' },
  { name: 'pids.limit', covers: ['cl.pids.limit'], ctrl: 'pids', v1: 'pids.max', v2: 'pids.max', set: (r) => { r.pids = { limit: 123 }; }, want: '123' },
  { name: 'blockIO.weight', covers: [], ctrl: 'blkio', v1: 'blkio.weight', v2: 'io.bfq.weight', set: (r) => { (r.blockIO ??= {}).weight = 300; }, want: /300/ },
  { name: 'blockIO.weightDevice', covers: [], ctrl: 'blkio', v1: 'blkio.weight_device', set: (r) => { (r.blockIO ??= {}).weightDevice = dev ? [{ major: dev[0], minor: dev[1], weight: 200 }] : []; }, want: dev ? `${dev[0]}:${dev[1]} 200` : 'x' },
  ...(['Read', 'Write'] as const).flatMap((rw): Res[] => [
    { name: `blockIO.throttle${rw}BpsDevice`, covers: ['cl.blockio.throttle'], ctrl: 'blkio', v1: `blkio.throttle.${rw.toLowerCase()}_bps_device`, v2: 'io.max', set: (r) => { (r.blockIO ??= {})[`throttle${rw}BpsDevice`] = dev ? [{ major: dev[0], minor: dev[1], rate: 1048576 }] : []; }, want: dev ? `${dev[0]}:${dev[1]} 1048576` : 'x', want2: new RegExp(`${rw === 'Read' ? 'rbps' : 'wbps'}=1048576`), unsupported: () => (dev ? undefined : 'no block device found') },
    { name: `blockIO.throttle${rw}IOPSDevice`, covers: ['cl.blockio.throttle'], ctrl: 'blkio', v1: `blkio.throttle.${rw.toLowerCase()}_iops_device`, v2: 'io.max', set: (r) => { (r.blockIO ??= {})[`throttle${rw}IOPSDevice`] = dev ? [{ major: dev[0], minor: dev[1], rate: 500 }] : []; }, want: dev ? `${dev[0]}:${dev[1]} 500` : 'x', want2: new RegExp(`${rw === 'Read' ? 'riops' : 'wiops'}=500`), unsupported: () => (dev ? undefined : 'no block device found') },
  ]),
  {
    name: 'hugepageLimits', covers: ['cl.hugepage.pageSize'], ctrl: 'hugetlb', v1: 'hugetlb.2MB.limit_in_bytes', v2: 'hugetlb.2MB.max',
    set: (r) => { r.hugepageLimits = [{ pageSize: '2MB', limit: 4 << 21 }]; }, want: String(4 << 21),
    unsupported: (t) => (t.host.cgroup === 'hybrid' && !t.host.v1.has('hugetlb') ? 'hugetlb is only in the cgroup2 hierarchy of this hybrid host; a v1 runtime cannot limit it' : undefined),
  },
  { name: 'network.classID', covers: [], ctrl: 'net_cls', v1: 'net_cls.classid', set: (r) => { (r.network ??= {}).classID = 1048577; }, want: '1048577', unsupported: (t) => (t.host.cgroup === 'v2' ? 'net_cls does not exist in cgroup v2' : undefined) },
  { name: 'network.priorities', covers: ['cl.network.priorities'], ctrl: 'net_prio', v1: 'net_prio.ifpriomap', set: (r) => { (r.network ??= {}).priorities = [{ name: 'lo', priority: 7 }]; }, want: /lo 7/, unsupported: (t) => (t.host.cgroup === 'v2' ? 'net_prio does not exist in cgroup v2' : undefined) },
];

function unsupportedReason(t: T, r: Res): string | undefined {
  const u = r.unsupported?.(t);
  if (u) return u;
  if (t.host.cgroup === 'v2') {
    if (!r.v2) return `${r.name} has no cgroup v2 file`;
    const ctrl = r.v2.split('.')[0]!;
    return t.host.v2.has(ctrl) || ['cpu', 'memory'].includes(ctrl) ? undefined : `no ${ctrl} controller in cgroup v2 on this host`;
  }
  return v1File(t, r.ctrl, r.v1);
}

interface ResRun { values: Map<string, { file: string; value: string }>; error?: string }
function resourcesRun(t: T, alone?: Res): ResRun {
  return memo(alone ? `resources-${alone.name}` : 'resources', () => {
    const usable = alone ? [alone] : resources.filter((r) => !r.alone && !unsupportedReason(t, r));
    const b = t.bundle((c: Config) => {
      c.linux.cgroupsPath = `/${cgPathName()}`;
      for (const r of usable) r.set(c.linux.resources);
    });
    const values = new Map<string, { file: string; value: string }>();
    const { id, res } = t.create(b);
    if (res.code !== 0) return { values, error: res.stderr.trim().slice(0, 500) };
    const pid = t.rt.state(id).state?.pid as number;
    for (const r of usable) {
      const dir = cgDir(t, pid, r.ctrl);
      if (!dir) continue;
      const file = join(dir, t.host.cgroup === 'v2' ? r.v2! : r.v1);
      values.set(r.name, { file, value: (readText(file) ?? '').trim() });
    }
    return { values };
  });
}

for (const r of resources) {
  test(S, `resources: ${r.name}`, ['rt.create.apply-all-but-process', ...r.covers], (t) => {
    const why = unsupportedReason(t, r);
    if (why) t.skip(why);
    const run = resourcesRun(t, r.alone ? r : undefined);
    if (run.error) return t.abort('create with the supported resources failed', run.error);
    const v = run.values.get(r.name);
    if (!v) return t.abort(`the container process is in no ${r.ctrl} cgroup`);
    const want = t.host.cgroup === 'v2' ? r.want2 ?? r.want : r.want;
    t.ok(typeof want === 'string' ? v.value === want : want.test(v.value), `${v.file} reflects ${r.name} (read after create)`, { value: v.value, want: String(want) });
  });
}

// ---- allowed device list ---------------------------------------------------------

function loopNode(t: T): string {
  return memo('loop-node', () => {
    const p = join(t.env.rootfs, 'cf-dev-loop0');
    if (!existsSync(p)) execFileSync('mknod', ['-m', '0666', p, 'b', '7', '0']);
    return '/cf-dev-loop0';
  });
}

test(S, 'device cgroup rules apply in the listed order', ['cl.devcgroup.order', 'cl.devcgroup.allow'], (t) => {
  if (t.host.cgroup !== 'v2' && !t.host.v1.has('devices')) t.skip('no devices cgroup controller');
  const node = loopNode(t);
  t.defer(() => rmSync(join(t.env.rootfs, node), { force: true }));
  const allowLast = t.probe((c) => { c.linux.resources.devices = [{ allow: false, access: 'rwm' }, { allow: true, type: 'b', major: 7, minor: 0, access: 'r' }]; }, ['--stat', node]).probe;
  const denyLast = t.probe((c) => { c.linux.resources.devices = [{ allow: true, type: 'b', major: 7, minor: 0, access: 'r' }, { allow: false, access: 'rwm' }]; }, ['--stat', node]).probe;
  t.ok(allowLast.stat[0]?.read !== 'EPERM', 'deny all, then allow b 7:0 r: the device can be opened', allowLast.stat[0]);
  t.equal(denyLast.stat[0]?.read, 'EPERM', 'allow b 7:0 r, then deny all: the device cannot be opened');
});

// ---- ownership ----------------------------------------------------------------------

function ownershipRun(t: T, withCgroupns: boolean, rwMount: boolean | 'none') {
  const name = cgPathName();
  const b = t.bundle((c) => {
    addUserns(c);
    if (withCgroupns) setNamespace(c, 'cgroup');
    c.linux.cgroupsPath = `/${name}`;
    if (rwMount !== 'none') c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: rwMount ? ['nosuid', 'noexec', 'nodev'] : ['ro', 'nosuid', 'noexec', 'nodev'] });
  });
  const { id, res } = t.create(b);
  t.must(res, 'create');
  const pid = t.rt.state(id).state?.pid as number;
  const dir = cgDir(t, pid, 'memory');
  if (!dir) return t.abort('no cgroup for the container');
  return { dir, uid: statSync(dir).uid, procsUid: statSync(join(dir, 'cgroup.procs')).uid };
}

test(S, 'cgroup ownership is not changed on cgroup v1', ['cl.cgroup-owner.v1'], (t) => {
  if (t.host.cgroup === 'v2') t.skip('the statement is about cgroup v1 hosts');
  const r = ownershipRun(t, true, 'none');
  t.equal([r.uid, r.procsUid], [0, 0], 'the container cgroup and its cgroup.procs stay owned by host root');
});

const v2only = (t: T) => { if (t.host.cgroup !== 'v2') t.skip('cgroup delegation rules apply to cgroup v2; this host is ' + t.host.cgroup); };

test(S, 'cgroup ownership is kept without a new cgroup namespace (v2)', ['cl.cgroup-owner.needs-cgroupns'], (t) => {
  v2only(t);
  const r = ownershipRun(t, false, true);
  t.equal(r.uid, 0, 'cgroup owner unchanged');
});

test(S, 'cgroup ownership follows a read-write cgroup mount (v2)', ['cl.cgroup-owner.rw-mount', 'cl.cgroup-owner.missing-files', 'cl.cgroup-owner.delegate-files', 'cl.cgroup-owner.other-files'], (t) => {
  v2only(t);
  const r = ownershipRun(t, true, true);
  t.equal(r.uid, 100000, 'cgroup directory owned by the host uid of the container user');
  t.equal(r.procsUid, 100000, 'cgroup.procs (a delegated file) owned by the container user');
  const other = join(r.dir, 'memory.max');
  if (existsSync(other)) t.equal(statSync(other).uid, 0, 'memory.max (not delegated) stays owned by root');
  const ro = ownershipRun(t, true, false);
  t.equal(ro.uid, 0, 'with a read-only cgroup mount the owner is unchanged');
});

test(S, 'cgroup ownership is kept without a cgroup mount (v2)', ['cl.cgroup-owner.no-mount'], (t) => {
  v2only(t);
  const r = ownershipRun(t, true, 'none');
  t.equal(r.uid, 0, 'cgroup owner unchanged');
});

// ---- unified, intelRdt ------------------------------------------------------------

test(S, 'unified configuration naming a missing controller is an error', ['cl.unified.missing-controller'], (t) => {
  const b = t.bundle((c) => { c.linux.resources.unified = { 'cfnosuchcontroller.max': '1' }; });
  t.mustFail(t.create(b).res, 'create with linux.resources.unified {"cfnosuchcontroller.max": "1"}');
});

test(S, 'intelRdt without a resctrl filesystem is an error', ['cl.intelRdt.no-resctrl-error'], (t) => {
  if (t.host.resctrl) t.skip('this host has resctrl mounted');
  const b = t.bundle((c) => { c.linux.intelRdt = { closID: 'cf-clos' }; });
  t.mustFail(t.create(b).res, 'create with linux.intelRdt but no resctrl mounted');
});

test(S, 'unified values are written, their controllers enabled (v2)', ['cl.unified.enable-controllers', 'cl.unified.write-unknown'], (t) => {
  v2only(t);
  if (!t.host.v2.has('pids')) t.skip('no pids controller in cgroup v2');
  const b = t.bundle((c) => { c.linux.resources.unified = { 'pids.max': '77', 'memory.oom.group': '1' }; });
  const { id, res } = t.create(b);
  t.must(res, 'create with linux.resources.unified');
  const dir = cgDir(t, t.rt.state(id).state?.pid as number, '');
  t.equal((readText(join(dir ?? '', 'pids.max')) ?? '').trim(), '77', 'pids.max written (pids controller enabled)');
  t.equal((readText(join(dir ?? '', 'memory.oom.group')) ?? '').trim(), '1', 'memory.oom.group written');
});
