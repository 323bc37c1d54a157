// Every semantic check of src/spec/semantics.ts, with a config that passes it and one that
// does not. Namespace-path checks use real namespace files of this host (root is required
// for the bind-mounted one, as on the machines tsrun runs on).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { bundle, clone, type Loose, specModules, tempDir } from './fixtures/support.js';

const m = await specModules();
const { checkSemantics, defaultSpec } = m;

function base(): Loose {
  return clone(defaultSpec());
}

function issuesOf(t: Test, spec: Loose, opts: { requireProcess?: boolean; dir?: string } = {}) {
  return checkSemantics(spec, { bundleDir: opts.dir ?? bundle(t), requireProcess: opts.requireProcess });
}

function errorsOf(t: Test, spec: Loose, opts?: { requireProcess?: boolean; dir?: string }): string[] {
  return issuesOf(t, spec, opts)
    .filter((i) => i.severity === 'error')
    .map((i) => `${i.pointer}: ${i.message}`);
}

function warningsOf(t: Test, spec: Loose): string[] {
  return issuesOf(t, spec)
    .filter((i) => i.severity === 'warning')
    .map((i) => `${i.pointer}: ${i.message}`);
}

/** `spec` has exactly one error, at `pointer`, whose message matches `message`. */
function bad(t: Test, spec: Loose, pointer: string, message: RegExp | string, opts?: { dir?: string }): void {
  const errs = errorsOf(t, spec, opts);
  t.equal(errs.length, 1, `one error: ${JSON.stringify(errs)}`);
  const [p, ...rest] = (errs[0] ?? '').split(': ');
  t.equal(p, pointer, 'pointer');
  const msg = rest.join(': ');
  if (typeof message === 'string') t.equal(msg, message);
  else t.match(msg, message);
}

function good(t: Test, spec: Loose, what = 'no errors', opts?: { dir?: string }): void {
  t.strictSame(errorsOf(t, spec, opts), [], what);
}

t.test('the base config passes', async (t) => {
  good(t, base());
  t.strictSame(warningsOf(t, base()), [], 'no warnings');
});

t.test('ociVersion: SemVer, 1.0.0 up to 1.3.x', async (t) => {
  for (const v of ['1.0.0', '1.0.2-dev', '1.0.0-rc1', '1.1.0-rc.1', '1.2.1', '1.3.0', '1.3.7+build.5']) {
    const s = base();
    s.ociVersion = v;
    good(t, s, v);
  }
  for (const v of ['0.5.0-dev', '1.4.0', '2.0.0']) {
    const s = base();
    s.ociVersion = v;
    bad(t, s, '/ociVersion', `version ${v} is not supported: tsrun supports 1.0.0 up to 1.3.x`);
  }
  for (const v of ['1.0', 'v1.0.0', '1.0.0.0', '01.0.0', '']) {
    const s = base();
    s.ociVersion = v;
    bad(t, s, '/ociVersion', `${JSON.stringify(v)} is not a SemVer 2.0.0 version`);
  }
});

t.test('root.path: an existing directory, relative to the bundle', async (t) => {
  const dir = bundle(t);
  const s = base();
  good(t, s, 'rootfs/ in the bundle', { dir });
  s.root.path = join(dir, 'rootfs');
  good(t, s, 'absolute path', { dir });
  s.root.path = 'nope';
  bad(t, s, '/root/path', `rootfs ${join(dir, 'nope')} does not exist`, { dir });
  writeFileSync(join(dir, 'file'), '');
  s.root.path = 'file';
  bad(t, s, '/root/path', `rootfs ${join(dir, 'file')} is not a directory`, { dir });
  s.root.path = 'file/sub';
  bad(t, s, '/root/path', `rootfs ${join(dir, 'file/sub')} does not exist`, { dir });
  s.root.path = '';
  bad(t, s, '/root/path', 'must not be empty', { dir });
});

t.test('process: required for create, with args, absolute cwd', async (t) => {
  const s = base();
  delete s.process;
  bad(t, s, '/process', 'is required: the container needs a process to start');
  t.strictSame(errorsOf(t, s, { requireProcess: false }), [], 'accepted when not required');

  const a = base();
  delete a.process.args;
  bad(t, a, '/process/args', 'is required: it names the program to run');
  a.process.args = [''];
  bad(t, a, '/process/args/0', 'must name the program to run, not be empty');
  a.process.args = ['sh', 'a\0b'];
  bad(t, a, '/process/args/1', 'must not contain a NUL byte');

  const c = base();
  c.process.cwd = 'root';
  bad(t, c, '/process/cwd', 'must be an absolute path; got "root"');
  c.process.cwd = '/ro\0ot';
  bad(t, c, '/process/cwd', 'must not contain a NUL byte');
});

t.test('process.env: NAME=value', async (t) => {
  const s = base();
  s.process.env = ['A=', 'B=c=d', 'PATH=/bin'];
  good(t, s);
  s.process.env = ['A=1', 'NOEQUALS'];
  bad(t, s, '/process/env/1', '"NOEQUALS" is not of the form NAME=value');
  s.process.env = ['=x'];
  bad(t, s, '/process/env/0', '"=x" has an empty variable name');
  s.process.env = ['A=b\0c'];
  bad(t, s, '/process/env/0', 'must not contain a NUL byte');
});

t.test('process.consoleSize: only with a terminal, 16-bit', async (t) => {
  const s = base();
  s.process.consoleSize = { height: 25, width: 80 };
  good(t, s);
  s.process.consoleSize.width = 70000;
  bad(t, s, '/process/consoleSize/width', "must be at most 65535 (a terminal's size is 16-bit); got 70000");
  s.process.terminal = false;
  good(t, s, 'ignored without a terminal');
  t.strictSame(warningsOf(t, s), ['/process/consoleSize: is ignored because process.terminal is not true']);
});

t.test('process.rlimits: known, unique, soft <= hard', async (t) => {
  const s = base();
  s.process.rlimits = [
    { type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 },
    { type: 'RLIMIT_CORE', soft: 0, hard: 0 },
    { type: 'RLIMIT_RTTIME', soft: 18446744073709551615, hard: 18446744073709551615 },
  ];
  good(t, s);
  s.process.rlimits.push({ type: 'RLIMIT_FOO', soft: 1, hard: 1 });
  bad(t, s, '/process/rlimits/3/type', 'unknown rlimit type "RLIMIT_FOO"');
  s.process.rlimits[3] = { type: 'RLIMIT_NOFILE', soft: 1, hard: 1 };
  bad(t, s, '/process/rlimits/3/type', 'duplicate rlimit type RLIMIT_NOFILE (also at /process/rlimits/0)');
  s.process.rlimits.pop();
  s.process.rlimits[0].soft = 8192;
  bad(t, s, '/process/rlimits/0/soft', 'soft limit 8192 is greater than hard limit 4096');
});

t.test('process.capabilities: unknown names are a warning, not an error (config.md SHOULD NOT fail)', async (t) => {
  const s = base();
  s.process.capabilities.inheritable = ['CAP_CHECKPOINT_RESTORE', 'CAP_CHOWN'];
  good(t, s);
  t.strictSame(warningsOf(t, s), [], 'known names: no warning');
  for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient']) {
    const b = base();
    b.process.capabilities[set] = ['CAP_KILL', 'CAP_FOO'];
    good(t, b, `${set}: no error`);
    t.strictSame(warningsOf(t, b), [`/process/capabilities/${set}/1: unknown capability "CAP_FOO" is ignored`]);
  }
  const lower = base();
  lower.process.capabilities.bounding = ['cap_kill'];
  good(t, lower);
  t.strictSame(warningsOf(t, lower), ['/process/capabilities/bounding/0: unknown capability "cap_kill" is ignored']);
});

t.test('process.oomScoreAdj: -1000..1000', async (t) => {
  for (const v of [-1000, 0, 1000]) {
    const s = base();
    s.process.oomScoreAdj = v;
    good(t, s, String(v));
  }
  for (const v of [-1001, 1001]) {
    const s = base();
    s.process.oomScoreAdj = v;
    bad(t, s, '/process/oomScoreAdj', `must be between -1000 and 1000; got ${v}`);
  }
});

t.test('process.scheduler: runc rules', async (t) => {
  const s = base();
  s.process.scheduler = { policy: 'SCHED_OTHER', nice: -20 };
  good(t, s);
  s.process.scheduler = { policy: 'SCHED_BATCH', nice: 20 };
  bad(t, s, '/process/scheduler/nice', 'must be between -20 and 19 for SCHED_BATCH; got 20');
  s.process.scheduler = { policy: 'SCHED_OTHER', priority: 5 };
  bad(t, s, '/process/scheduler/priority', 'can only be set for SCHED_FIFO or SCHED_RR, not SCHED_OTHER');
  s.process.scheduler = { policy: 'SCHED_FIFO', priority: 5 };
  good(t, s, 'priority with SCHED_FIFO');
  s.process.scheduler = { policy: 'SCHED_RR', runtime: 100 };
  bad(t, s, '/process/scheduler/runtime', 'can only be set for SCHED_DEADLINE, not SCHED_RR');
  s.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 100, deadline: 200, period: 300 };
  good(t, s, 'deadline parameters with SCHED_DEADLINE');
});

t.test('process.ioPriority: 0..7', async (t) => {
  const s = base();
  s.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 7 };
  good(t, s);
  s.process.ioPriority.priority = 8;
  bad(t, s, '/process/ioPriority/priority', 'must be between 0 (highest) and 7 (lowest); got 8');
  s.process.ioPriority.priority = -1;
  bad(t, s, '/process/ioPriority/priority', 'must be between 0 (highest) and 7 (lowest); got -1');
});

t.test('process.execCPUAffinity: CPU lists', async (t) => {
  const s = base();
  s.process.execCPUAffinity = { initial: '7', final: '0-3,7' };
  good(t, s);
  s.process.execCPUAffinity = { initial: ' 0 - 1 , 3 ', final: '' };
  good(t, s, 'spaces and the empty list');
  for (const list of ['3-1', '1,,2', '-1', ',']) {
    s.process.execCPUAffinity = { final: list };
    bad(t, s, '/process/execCPUAffinity/final', `${JSON.stringify(list)} is not a CPU list such as 0-3,7`);
  }
});

t.test('hostname and domainname need a UTS namespace, 64 characters at most', async (t) => {
  for (const key of ['hostname', 'domainname']) {
    const s = base();
    delete s.hostname;
    s[key] = 'box';
    good(t, s, `${key} with uts`);
    s.linux.namespaces = s.linux.namespaces.filter((n: Loose) => n.type !== 'uts');
    bad(t, s, `/${key}`, `cannot set the ${key} without a UTS namespace: add {"type": "uts"} to linux.namespaces`);
    s[key] = '';
    good(t, s, `empty ${key} without uts`);
    s.linux.namespaces.push({ type: 'uts', path: '/proc/self/ns/uts' });
    s[key] = 'x'.repeat(64);
    good(t, s, `${key} in a joined uts namespace`);
    s[key] = 'x'.repeat(65);
    bad(t, s, `/${key}`, 'must be at most 64 characters long; got 65');
  }
});

t.test('mounts: destinations, idmapped mounts', async (t) => {
  const rel = base();
  rel.mounts.push({ destination: 'data', type: 'tmpfs', source: 'tmpfs' });
  good(t, rel, 'relative destination is deprecated, not an error');
  t.strictSame(warningsOf(t, rel), ['/mounts/7/destination: relative destination "data" is deprecated; it is taken as relative to /']);
  rel.mounts[7].destination = '';
  bad(t, rel, '/mounts/7/destination', 'must not be empty');

  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const id = base();
  id.mounts.push({ destination: '/data', source: '/srv', options: ['rbind', 'idmap'], uidMappings: map, gidMappings: map });
  good(t, id, 'idmapped bind mount with its own mappings');
  delete id.mounts[7].gidMappings;
  bad(t, id, '/mounts/7/gidMappings', 'is required: uidMappings and gidMappings of a mount go together');
  id.mounts[7].gidMappings = [{ containerID: 0, hostID: 1, size: 0 }];
  bad(t, id, '/mounts/7/gidMappings/0/size', 'must be at least 1');
  id.mounts[7] = { destination: '/data', type: 'tmpfs', source: 'tmpfs', uidMappings: map, gidMappings: map };
  bad(t, id, '/mounts/7', 'id-mapped mounts are only supported for bind mounts (add "bind" or "rbind" to options)');

  const opt = base();
  opt.mounts.push({ destination: '/data', source: '/srv', options: ['bind', 'ridmap'] });
  bad(t, opt, '/mounts/7/options', 'option "ridmap" needs uidMappings and gidMappings, or a user namespace whose mappings it can use');
  opt.linux.namespaces.push({ type: 'user' });
  opt.linux.uidMappings = map;
  opt.linux.gidMappings = map;
  good(t, opt, 'ridmap with the user namespace mappings');
});

t.test('hooks: absolute paths', async (t) => {
  for (const phase of ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']) {
    const s = base();
    s.hooks = { [phase]: [{ path: '/bin/true' }, { path: 'bin/true' }] };
    bad(t, s, `/hooks/${phase}/1/path`, 'must be an absolute path; got "bin/true"');
    s.hooks[phase].pop();
    good(t, s, phase);
  }
});

t.test('annotations: no empty key', async (t) => {
  const s = base();
  s.annotations = { 'com.example.a': '', b: 'x' };
  good(t, s);
  s.annotations[''] = 'x';
  bad(t, s, '/annotations/', 'annotation keys must not be empty');
});

t.test('sections of other platforms are ignored with a warning', async (t) => {
  const s = base();
  s.windows = { layerFolders: [] };
  good(t, s);
  t.strictSame(warningsOf(t, s), ['/windows: is ignored: tsrun runs Linux containers']);
});

t.test('namespaces: unique types', async (t) => {
  const s = base();
  s.linux.namespaces.push({ type: 'pid' });
  bad(t, s, '/linux/namespaces/5/type', 'duplicate namespace type "pid" (also at /linux/namespaces/0)');
});

t.test('namespaces: paths must name a namespace of the right type', async (t) => {
  const dir = tempDir(t);
  const withPath = (type: string, path: string): Loose => {
    const s = base();
    s.linux.namespaces = s.linux.namespaces.filter((n: Loose) => n.type !== type);
    s.linux.namespaces.push({ type, path });
    return s;
  };
  good(t, withPath('network', '/proc/self/ns/net'), '/proc/self/ns/net');
  good(t, withPath('pid', '/proc/self/ns/pid_for_children'), 'pid_for_children is a pid namespace');
  good(t, withPath('cgroup', `/proc/${process.pid}/ns/cgroup`), '/proc/<pid>/ns/cgroup');
  good(t, withPath('network', ''), 'an empty path means a new namespace');
  symlinkSync('/proc/self/ns/uts', join(dir, 'uts-link'));
  good(t, withPath('uts', join(dir, 'uts-link')), 'a symlink to a namespace link');

  bad(t, withPath('network', '/proc/self/ns/mnt'), '/linux/namespaces/4/path', '/proc/self/ns/mnt is a mnt namespace, not a net namespace (type "network")');
  bad(t, withPath('ipc', 'proc/self/ns/ipc'), '/linux/namespaces/4/path', 'must be an absolute path; got "proc/self/ns/ipc"');
  bad(t, withPath('ipc', join(dir, 'missing')), '/linux/namespaces/4/path', `namespace path ${join(dir, 'missing')} does not exist`);
  writeFileSync(join(dir, 'plain'), '');
  bad(t, withPath('ipc', join(dir, 'plain')), '/linux/namespaces/4/path', `${join(dir, 'plain')} is not a namespace file (not an nsfs file nor a /proc/<pid>/ns link)`);
  bad(t, withPath('ipc', dir), '/linux/namespaces/4/path', `${dir} is not a namespace file (not an nsfs file nor a /proc/<pid>/ns link)`);
});

/** Tests that make a network namespace (unshare --net) need root; the rest of this file does not. */
const asRoot = process.getuid?.() !== 0 ? 'makes a network namespace: needs root' : false;

/** A network namespace kept by a bind mount on a file (as `ip netns add` does); unmounted at teardown. */
function persistentNetns(t: Test): string {
  const dir = tempDir(t);
  const file = join(dir, 'netns');
  writeFileSync(file, '');
  const r = spawnSync('unshare', [`--net=${file}`, 'true'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`unshare --net=${file}: ${r.stderr} (these tests need root)`);
  t.teardown(() => {
    spawnSync('umount', [file]);
  });
  return file;
}

t.test('namespaces: a bind-mounted nsfs file (like /run/netns/x)', { skip: asRoot }, async (t) => {
  const file = persistentNetns(t);
  const s = base();
  s.linux.namespaces[1] = { type: 'network', path: file };
  good(t, s, 'network namespace file');
  s.linux.namespaces[1] = { type: 'network' };
  s.linux.namespaces[2] = { type: 'ipc', path: file };
  bad(t, s, '/linux/namespaces/2/path', `${file} is a net namespace, not a ipc namespace (type "ipc")`);
  const info = m.inspectNamespaceFile(file);
  t.match(info, { ok: true, type: 'net' });
});

t.test('user namespace and uid/gid mappings', async (t) => {
  const map = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const s = base();
  s.linux.uidMappings = map;
  s.linux.gidMappings = map;
  bad(t, s, '/linux/uidMappings', 'user namespace mappings need a user namespace: add {"type": "user"} to linux.namespaces');
  s.linux.namespaces.push({ type: 'user' });
  good(t, s, 'user namespace with mappings');
  s.linux.uidMappings = [{ containerID: 0, hostID: 1, size: 0 }];
  bad(t, s, '/linux/uidMappings/0/size', 'must be at least 1');
  delete s.linux.uidMappings;
  delete s.linux.gidMappings;
  bad(t, s, '/linux/namespaces/5', 'a new user namespace needs linux.uidMappings and linux.gidMappings');
  s.linux.namespaces[5].path = '/proc/self/ns/user';
  good(t, s, 'joining a user namespace by path');
  s.linux.gidMappings = map;
  bad(t, s, '/linux/gidMappings', 'does not match the mappings of the joined user namespace /proc/self/ns/user');
  // runc 1.2: mappings next to a joined user namespace are accepted when they are its own.
  const own = readFileSync('/proc/self/gid_map', 'utf8').trim().split(/\s+/).map(Number);
  s.linux.gidMappings = [{ containerID: own[0], hostID: own[1], size: own[2] }];
  good(t, s, 'joining a user namespace with its own mappings');
  const g = base();
  g.linux.gidMappings = map;
  bad(t, g, '/linux/gidMappings', 'user namespace mappings need a user namespace: add {"type": "user"} to linux.namespaces');
});

t.test('timeOffsets need a new time namespace', async (t) => {
  const s = base();
  s.linux.timeOffsets = { monotonic: { secs: 10, nanosecs: 999999999 }, boottime: { secs: -5 } };
  bad(t, s, '/linux/timeOffsets', 'needs a time namespace: add {"type": "time"} to linux.namespaces');
  s.linux.namespaces.push({ type: 'time' });
  good(t, s);
  s.linux.timeOffsets.monotonic.nanosecs = 1000000000;
  bad(t, s, '/linux/timeOffsets/monotonic/nanosecs', 'must be less than 1000000000; got 1000000000');
  s.linux.timeOffsets.monotonic.nanosecs = 0;
  s.linux.timeOffsets.realtime = { secs: 1 };
  bad(t, s, '/linux/timeOffsets/realtime', 'unknown clock "realtime": a time namespace offsets only boottime and monotonic');
  delete s.linux.timeOffsets.realtime;
  s.linux.namespaces[5].path = '/proc/self/ns/time';
  bad(t, s, '/linux/timeOffsets', 'cannot be set when joining an existing time namespace by path');
});

t.test('devices: absolute path, major/minor unless a fifo', async (t) => {
  const s = base();
  s.linux.devices = [
    { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o4666 },
    { path: '/dev/pipe', type: 'p' },
  ];
  good(t, s);
  s.linux.devices[1].path = 'dev/pipe';
  bad(t, s, '/linux/devices/1/path', 'must be an absolute path; got "dev/pipe"');
  s.linux.devices[1] = { path: '/dev/sda', type: 'b', major: 8 };
  bad(t, s, '/linux/devices/1/minor', 'is required for a device of type "b"');
  s.linux.devices[1] = { path: '/dev/x', type: 'u', minor: 1 };
  bad(t, s, '/linux/devices/1/major', 'is required for a device of type "u"');
});

t.test('devices: fileMode may carry file-type bits, as podman passes a whole st_mode (runc: &^ S_IFMT)', async (t) => {
  const s = base();
  s.linux.devices = [
    { path: '/dev/null2', type: 'c', major: 1, minor: 3, fileMode: 0o20600 },
    { path: '/dev/loopx', type: 'b', major: 7, minor: 0, fileMode: 0o60660 },
    { path: '/dev/x', type: 'c', major: 1, minor: 3, fileMode: 0xffffffff },
  ];
  good(t, s);
});

t.test('resources: cross-field rules', async (t) => {
  const s = base();
  s.linux.resources.blockIO = { weightDevice: [{ major: 8, minor: 0, leafWeight: 10 }] };
  s.linux.resources.rdma = { mlx5_1: { hcaHandles: 3 } };
  s.linux.resources.memory = { swappiness: 100 };
  s.linux.resources.cpu = { quota: 100000, burst: 100000, cpus: '0-1', mems: '0' };
  good(t, s);
  s.linux.resources.blockIO.weightDevice.push({ major: 8, minor: 16 });
  bad(t, s, '/linux/resources/blockIO/weightDevice/1', 'must set weight, leafWeight or both');
  s.linux.resources.blockIO.weightDevice.pop();
  s.linux.resources.rdma['mlx/4'] = {};
  bad(t, s, '/linux/resources/rdma/mlx~14', 'must set hcaHandles, hcaObjects or both');
  delete s.linux.resources.rdma['mlx/4'];
  s.linux.resources.memory.swappiness = 101;
  bad(t, s, '/linux/resources/memory/swappiness', 'must be between 0 and 100; got 101');
  s.linux.resources.memory.swappiness = 0;
  s.linux.resources.cpu.burst = 100001;
  bad(t, s, '/linux/resources/cpu/burst', 'must not be larger than quota (100000); got 100001');
  s.linux.resources.cpu.quota = -1;
  good(t, s, 'burst with an unlimited quota');
  s.linux.resources.cpu.cpus = 'all';
  bad(t, s, '/linux/resources/cpu/cpus', '"all" is not a list such as 0-3,7');
});

t.test('sysctl: only namespaced keys, with their namespace (runc rules)', { skip: asRoot }, async (t) => {
  const ok = base();
  ok.linux.sysctl = {
    'kernel.shmmax': '1',
    'kernel.msgmnb': '1',
    'kernel.sem': '1 2 3 4',
    'fs.mqueue.msg_max': '10',
    'net.ipv4.ip_forward': '1',
    'net/ipv4/conf/eth0.100/rp_filter': '0',
    'kernel.domainname': 'example',
  };
  good(t, ok);
  const one = (key: string, drop?: string, path?: string): Loose => {
    const s = base();
    s.linux.sysctl = { [key]: '1' };
    if (drop) s.linux.namespaces = s.linux.namespaces.filter((n: Loose) => n.type !== drop);
    if (drop === 'uts') delete s.hostname;
    if (path) s.linux.namespaces.find((n: Loose) => n.type === 'network').path = path;
    return s;
  };
  bad(t, one('kernel.shmall', 'ipc'), '/linux/sysctl/kernel.shmall', 'sysctl kernel.shmall needs an IPC namespace: add {"type": "ipc"} to linux.namespaces');
  bad(t, one('fs.mqueue.queues_max', 'ipc'), '/linux/sysctl/fs.mqueue.queues_max', /needs an IPC namespace/);
  bad(t, one('net.core.somaxconn', 'network'), '/linux/sysctl/net.core.somaxconn', 'sysctl net.core.somaxconn needs a network namespace: add {"type": "network"} to linux.namespaces');
  bad(t, one('net/ipv4/ip_forward', 'network'), '/linux/sysctl/net~1ipv4~1ip_forward', /^sysctl net\.ipv4\.ip_forward needs a network namespace/);
  bad(t, one('net.ipv4.ip_forward', undefined, '/proc/self/ns/net'), '/linux/sysctl/net.ipv4.ip_forward', "sysctl net.ipv4.ip_forward is not allowed in the host's network namespace (/proc/self/ns/net)");
  good(t, one('net.ipv4.ip_forward', undefined, persistentNetns(t)), 'net.* in a joined network namespace that is not ours');
  bad(t, one('kernel.hostname'), '/linux/sysctl/kernel.hostname', 'sysctl kernel.hostname is not allowed: set the hostname field instead');
  bad(t, one('kernel.domainname', 'uts'), '/linux/sysctl/kernel.domainname', /needs a UTS namespace/);
  bad(t, one('kernel.panic'), '/linux/sysctl/kernel.panic', 'sysctl kernel.panic is not in a namespace of the container: setting it would change the host');
  bad(t, one('vm.swappiness'), '/linux/sysctl/vm.swappiness', /is not in a namespace of the container/);
  bad(t, one(''), '/linux/sysctl/', 'sysctl names must not be empty');
});

t.test('seccomp: errno actions, the notify listener, argument indexes', async (t) => {
  const s = base();
  s.linux.seccomp = {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    listenerPath: '/run/agent.sock',
    listenerMetadata: 'x',
    syscalls: [
      { names: ['mount'], action: 'SCMP_ACT_NOTIFY' },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 5, value: 8, op: 'SCMP_CMP_EQ' }] },
      { names: ['ptrace'], action: 'SCMP_ACT_TRACE', errnoRet: 38 },
    ],
  };
  good(t, s);
  const v = (f: (x: Loose) => void): Loose => {
    const c = clone(s);
    f(c.linux.seccomp);
    return c;
  };
  bad(t, v((x) => (x.defaultAction = 'SCMP_ACT_ALLOW')), '/linux/seccomp/defaultErrnoRet', 'only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an errno, not defaultAction SCMP_ACT_ALLOW');
  bad(t, v((x) => (x.syscalls[2].action = 'SCMP_ACT_KILL')), '/linux/seccomp/syscalls/2/errnoRet', 'only SCMP_ACT_ERRNO and SCMP_ACT_TRACE return an errno, not SCMP_ACT_KILL');
  bad(t, v((x) => (x.syscalls[1].args[0].index = 6)), '/linux/seccomp/syscalls/1/args/0/index', 'must be between 0 and 5 (a syscall has at most 6 arguments); got 6');
  bad(t, v((x) => (x.syscalls[1].names = ['personality', ''])), '/linux/seccomp/syscalls/1/names/1', 'a syscall name must not be empty');
  bad(t, v((x) => { delete x.listenerPath; x.syscalls.shift(); }), '/linux/seccomp/listenerMetadata', 'must not be set without listenerPath');
  bad(t, v((x) => { delete x.listenerPath; delete x.listenerMetadata; }), '/linux/seccomp/listenerPath', 'is required when a rule uses SCMP_ACT_NOTIFY');
  bad(
    t,
    v((x) => { x.defaultAction = 'SCMP_ACT_NOTIFY'; delete x.defaultErrnoRet; }),
    '/linux/seccomp/defaultAction',
    'SCMP_ACT_NOTIFY cannot be used as default action (the container init itself would wait on the agent)',
  );
  bad(t, v((x) => (x.syscalls[0].names = ['mount', 'write'])), '/linux/seccomp/syscalls/0/names/1', 'SCMP_ACT_NOTIFY cannot be used for the write syscall');
  good(t, v((x) => (x.syscalls[1].names = ['personality', 'write'])), 'write under another action is fine');
  good(t, v((x) => { x.syscalls.shift(); }), 'listenerPath without a notify rule is ignored');
});

t.test('masked and read-only paths: absolute, need a mount namespace', async (t) => {
  for (const key of ['maskedPaths', 'readonlyPaths']) {
    const s = base();
    s.linux[key] = ['/proc/kcore', 'proc/x'];
    bad(t, s, `/linux/${key}/1`, 'must be an absolute path; got "proc/x"');
    s.linux[key].pop();
    s.linux.namespaces = s.linux.namespaces.filter((n: Loose) => n.type !== 'mount');
    const other = key === 'maskedPaths' ? 'readonlyPaths' : 'maskedPaths';
    delete s.linux[other];
    bad(t, s, `/linux/${key}`, 'needs a mount namespace: add {"type": "mount"} to linux.namespaces');
    s.linux[key] = [];
    good(t, s, 'an empty list needs no mount namespace');
  }
});

t.test('AppArmor and SELinux labels are valid documents (the host decides: src/linux/lsm.ts)', async (t) => {
  const a = base();
  a.process.apparmorProfile = 'docker-default';
  a.process.selinuxLabel = 'system_u:system_r:container_t:s0';
  a.linux.mountLabel = 'system_u:object_r:container_file_t:s0';
  good(t, a, 'labels pass the semantic checks');
  t.strictSame(warningsOf(t, a), [], 'no warning');
});

t.test('intelRdt is not supported; a bad closID is named first', async (t) => {
  const s = base();
  s.linux.intelRdt = { closID: 'guaranteed_group' };
  bad(t, s, '/linux/intelRdt', 'tsrun does not support Intel RDT (its features say intelRdt.enabled: false)');
  s.linux.intelRdt.closID = '../x';
  bad(t, s, '/linux/intelRdt/closID', '"../x" cannot name a resctrl group');
  delete s.linux.intelRdt;
  good(t, s, 'no intelRdt');
});

t.test('memoryPolicy: nodes by mode, exclusive flags', async (t) => {
  const mp = (p: Loose): Loose => {
    const s = base();
    s.linux.memoryPolicy = p;
    return s;
  };
  good(t, mp({ mode: 'MPOL_BIND', nodes: '0-1', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_NUMA_BALANCING'] }));
  good(t, mp({ mode: 'MPOL_LOCAL' }));
  good(t, mp({ mode: 'MPOL_PREFERRED' }), 'preferred without nodes means local');
  bad(t, mp({ mode: 'MPOL_INTERLEAVE' }), '/linux/memoryPolicy/nodes', 'is required for MPOL_INTERLEAVE');
  bad(t, mp({ mode: 'MPOL_DEFAULT', nodes: '0' }), '/linux/memoryPolicy/nodes', 'must not be set for MPOL_DEFAULT');
  bad(t, mp({ mode: 'MPOL_BIND', nodes: '0', flags: ['MPOL_F_STATIC_NODES', 'MPOL_F_RELATIVE_NODES'] }), '/linux/memoryPolicy/flags', 'MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other');
  bad(t, mp({ mode: 'MPOL_INTERLEAVE', nodes: '0', flags: ['MPOL_F_NUMA_BALANCING'] }), '/linux/memoryPolicy/flags', 'MPOL_F_NUMA_BALANCING applies to MPOL_BIND and MPOL_PREFERRED_MANY only, not MPOL_INTERLEAVE');
  bad(t, mp({ mode: 'MPOL_BIND', nodes: 'node0' }), '/linux/memoryPolicy/nodes', '"node0" is not a node list such as 0-3,7');
});

t.test('personality: no flags exist', async (t) => {
  const s = base();
  s.linux.personality = { domain: 'LINUX32' };
  good(t, s);
  s.linux.personality.flags = ['ADDR_NO_RANDOMIZE'];
  bad(t, s, '/linux/personality/flags', 'no personality flags are supported (runtime-spec v1.3.0 defines none)');
});

t.test('netDevices: a private network namespace, valid unique names', async (t) => {
  const s = base();
  s.linux.netDevices = { eth0: { name: 'ctr0' }, ens4: {}, 'eth1.100': { name: '' } };
  good(t, s);
  const noNet = clone(s);
  noNet.linux.namespaces = noNet.linux.namespaces.filter((n: Loose) => n.type !== 'network');
  bad(t, noNet, '/linux/netDevices', 'needs a network namespace: add {"type": "network"} to linux.namespaces');
  const own = clone(s);
  own.linux.namespaces[1].path = '/proc/self/ns/net';
  bad(t, own, '/linux/netDevices', "cannot move devices into the host's own network namespace (/proc/self/ns/net)");
  const invalid = 'is not a valid interface name (1-15 characters, no "/", ":" or space, not "." or "..")';
  for (const name of ['a'.repeat(16), 'a/b', 'a:b', 'a b', '.', '..']) {
    const k = clone(s);
    k.linux.netDevices = { [name]: {} };
    bad(t, k, `/linux/netDevices/${name.replace(/\//g, '~1')}`, `${JSON.stringify(name)} ${invalid}`);
    const n = clone(s);
    n.linux.netDevices = { eth0: { name } };
    bad(t, n, '/linux/netDevices/eth0/name', `${JSON.stringify(name)} ${invalid}`);
  }
  const dup = clone(s);
  dup.linux.netDevices = { eth0: { name: 'x0' }, eth1: { name: 'x0' } };
  bad(t, dup, '/linux/netDevices/eth1', 'would be named x0 in the container, like eth0');
  const dup2 = clone(s);
  dup2.linux.netDevices = { eth0: {}, eth1: { name: 'eth0' } };
  bad(t, dup2, '/linux/netDevices/eth1', 'would be named eth0 in the container, like eth0');
});

t.test('helpers', async (t) => {
  t.strictSame(m.parseIdList('0-2,5'), [0, 1, 2, 5]);
  t.strictSame(m.parseIdList(''), []);
  t.equal(m.parseIdList('2-1'), null);
  t.equal(m.parseIdList('1-70000'), null);
  t.equal(m.dottedSysctlName('net/ipv4/conf/eno2.100/rp_filter'), 'net.ipv4.conf.eno2/100.rp_filter');
  t.equal(m.dottedSysctlName('net.ipv4.ip_forward'), 'net.ipv4.ip_forward');
  t.equal(m.isValidInterfaceName('eth0'), true);
  t.equal(m.isValidInterfaceName('a'.repeat(15)), true);
  t.equal(m.isValidInterfaceName('a'.repeat(16)), false);
  t.equal(m.isOwnNetworkNamespace('/proc/self/ns/net'), true);
  t.equal(m.isOwnNetworkNamespace('/proc/self/ns/mnt'), false);
  t.match(m.inspectNamespaceFile('/proc/self/ns/user'), { ok: true, type: 'user' });
  t.match(m.inspectNamespaceFile('/nonexistent/x'), { ok: false, problem: 'missing' });
  t.match(m.inspectNamespaceFile('/etc/hostname'), { ok: false, problem: 'not-namespace' });
  const dir = tempDir(t);
  mkdirSync(join(dir, 'r'));
  t.equal(m.rootfsPath(dir, { ociVersion: '1.0.0', root: { path: 'r' } }), join(dir, 'r'));
  t.equal(m.isBindMount({ destination: '/a', options: ['rbind'] }), true);
  t.equal(m.isBindMount({ destination: '/a', options: ['ro'] }), false);
});
