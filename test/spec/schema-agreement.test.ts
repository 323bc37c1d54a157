// The project's schemas (schema/*.json, as compiled into src/spec/generated/validators.js)
// give the same verdict as the upstream runtime-spec v1.3.0 schemas (a test oracle, compiled
// here with ajv) on every upstream fixture and on thousands of generated variants of valid
// configs. Where they differ on purpose, the difference is one of EXCEPTIONS below, each with
// its reason; any other difference fails the test.
import type { ErrorObject } from 'ajv';
import t from 'tap';
import { clone, type Loose, specModules, UPSTREAM, upstreamFixtures, upstreamValidators } from './fixtures/support.js';

const up = await upstreamValidators();
const m = await specModules();
const gen = await import('../../src/spec/generated/validators.js');

type Kind = 'config' | 'state' | 'features';
const OURS = { config: gen.validateConfig, state: gen.validateState, features: gen.validateFeatures };

interface Exception {
  id: string;
  kinds: Kind[];
  /** stricter: ours rejects what upstream accepts; looser: ours accepts what upstream rejects. */
  direction: 'stricter' | 'looser';
  reason: string;
  /** stricter: our (first) error; looser: one of upstream's errors. */
  matches: (e: ErrorObject, doc: unknown) => boolean;
}

const required = (at: string | RegExp, prop: string) => (e: ErrorObject) =>
  e.keyword === 'required' &&
  (typeof at === 'string' ? e.instancePath === at : at.test(e.instancePath)) &&
  (e.params as { missingProperty: string }).missingProperty === prop;

const EXCEPTIONS: Exception[] = [
  {
    id: 'root-required',
    kinds: ['config'],
    direction: 'stricter',
    reason: 'config.md: root is REQUIRED on all platforms but Windows; upstream leaves it optional for Windows/Hyper-V.',
    matches: required('', 'root'),
  },
  {
    id: 'posix-user-ids-required',
    kinds: ['config'],
    direction: 'stricter',
    reason: 'config.md, POSIX-platform User: uid and gid are REQUIRED; upstream requires nothing because a Windows user has only username.',
    matches: (e) => required('/process/user', 'uid')(e) || required('/process/user', 'gid')(e),
  },
  {
    id: 'args-not-empty',
    kinds: ['config'],
    direction: 'stricter',
    reason: 'config.md: at least one entry of process.args is REQUIRED (non-Windows); upstream allows [] for Windows, which may use commandLine.',
    matches: (e) => e.keyword === 'minItems' && e.instancePath === '/process/args',
  },
  {
    id: 'ioPriority-priority-required',
    kinds: ['config'],
    direction: 'stricter',
    reason: 'config.md: ioPriority.priority is REQUIRED; upstream only requires class.',
    matches: required('/process/ioPriority', 'priority'),
  },
  {
    id: 'memoryPolicy-mode-required',
    kinds: ['config'],
    direction: 'stricter',
    reason: 'config-linux.md: memoryPolicy.mode is REQUIRED; upstream has no required list for memoryPolicy.',
    matches: required('/linux/memoryPolicy', 'mode'),
  },
  {
    id: 'personality-domain-required',
    kinds: ['config'],
    direction: 'stricter',
    reason: 'config-linux.md: personality.domain is REQUIRED; upstream has no required list for Personality.',
    matches: required('/linux/personality', 'domain'),
  },
  {
    id: 'throttle-rate-required',
    kinds: ['config'],
    direction: 'stricter',
    reason: 'config-linux.md, Block IO: rate is REQUIRED in throttle entries; upstream only requires major and minor.',
    matches: required(/^\/linux\/resources\/blockIO\/throttle(Read|Write)(Bps|IOPS)Device\/\d+$/, 'rate'),
  },
  {
    id: 'device-rule-type',
    kinds: ['config'],
    direction: 'stricter',
    reason: 'config-linux.md, Allowed Device list: type is a (all), c or b; upstream accepts any string.',
    matches: (e) => e.keyword === 'enum' && /^\/linux\/resources\/devices\/\d+\/type$/.test(e.instancePath),
  },
  {
    id: 'map-empty-key',
    kinds: ['config', 'state', 'features'],
    direction: 'stricter',
    reason:
      'annotations (of configs, states, features), sysctl and unified values must be strings: ours checks every key; upstream checks them through patternProperties ".{1,}", which skips the empty key (itself invalid: config.md says annotation keys MUST NOT be empty).',
    matches: (e) => e.keyword === 'type' && /^\/(annotations|linux\/sysctl|linux\/resources\/unified)\/$/.test(e.instancePath),
  },
  {
    id: 'device-fileMode-uint32',
    kinds: ['config'],
    direction: 'looser',
    reason:
      'config-linux.md, Devices: fileMode is a uint32; upstream caps it at 511 (0o777), which also refuses setuid/setgid/sticky bits that mknod(2) takes, and a full st_mode with the file-type bits, which podman passes and runc accepts (it uses fileMode &^ S_IFMT).',
    matches: (e) => e.keyword === 'maximum' && /^\/linux\/devices\/\d+\/fileMode$/.test(e.instancePath),
  },
  {
    id: 'rootfsPropagation-recursive',
    kinds: ['config'],
    direction: 'looser',
    reason:
      'linux.rootfsPropagation: upstream lists private, shared, slave and unbindable only; runc and crun also take rprivate, rshared, rslave, runbindable (containerd\'s CRI sets rshared and rslave) and "" (the default).',
    matches: (e, doc) =>
      e.keyword === 'enum' && e.instancePath === '/linux/rootfsPropagation' &&
      ['', 'rprivate', 'rshared', 'rslave', 'runbindable'].includes(String((doc as Loose)?.linux?.rootfsPropagation)),
  },
  {
    id: 'other-platform-sections',
    kinds: ['config'],
    direction: 'looser',
    reason:
      'tsrun runs Linux containers: the windows, solaris, vm, zos and freebsd sections are only checked to be objects (and then ignored with a warning), not validated field by field.',
    matches: (e) => /^\/(windows|solaris|vm|zos|freebsd)\//.test(e.instancePath),
  },
  {
    id: 'state-paused',
    kinds: ['state'],
    direction: 'looser',
    reason: 'runtime.md lets a runtime add states of its own; like runc, tsrun reports "paused" for a frozen container.',
    matches: (e, doc) => e.keyword === 'enum' && e.instancePath === '/status' && (doc as Loose)?.status === 'paused',
  },
  {
    id: 'state-pid-required',
    kinds: ['state'],
    direction: 'stricter',
    reason: 'runtime.md: pid is REQUIRED when status is created or running (on Linux); upstream never requires it.',
    matches: required('', 'pid'),
  },
  {
    id: 'state-bundle-absolute',
    kinds: ['state'],
    direction: 'stricter',
    reason: 'runtime.md: bundle is the absolute path to the bundle; upstream accepts any string.',
    matches: (e) => e.keyword === 'pattern' && e.instancePath === '/bundle',
  },
];

type Verdict = { agree: true } | { agree: false; exception: string } | { agree: false; problem: string };

const STRUCTURAL = new Set(['anyOf', 'allOf', 'oneOf', 'if', 'not']);

function compare(kind: Kind, doc: unknown): Verdict {
  const ours = OURS[kind](doc);
  const theirs = up![kind](doc);
  if (ours === theirs) return { agree: true };
  if (!ours) {
    const e = OURS[kind].errors![0]!;
    const ex = EXCEPTIONS.find((x) => x.kinds.includes(kind) && x.direction === 'stricter' && x.matches(e, doc));
    return ex ? { agree: false, exception: ex.id } : { agree: false, problem: `only ours rejects: ${JSON.stringify(e)}` };
  }
  const errs = (up![kind].errors ?? []).filter((e) => !STRUCTURAL.has(e.keyword));
  const ids = new Set<string>();
  for (const e of errs) {
    const ex = EXCEPTIONS.find((x) => x.kinds.includes(kind) && x.direction === 'looser' && x.matches(e, doc));
    if (!ex) return { agree: false, problem: `only upstream rejects: ${JSON.stringify(e)}` };
    ids.add(ex.id);
  }
  if (ids.size === 0) return { agree: false, problem: 'only upstream rejects, with no error reported' };
  return { agree: false, exception: [...ids].sort().join('+') };
}

// --- a seeded PRNG and the mutations --------------------------------------------------------

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

type Path = Array<string | number>;

function paths(doc: unknown, at: Path = [], out: Array<{ path: Path; value: unknown }> = []) {
  out.push({ path: at, value: doc });
  if (Array.isArray(doc)) doc.forEach((v, i) => paths(v, [...at, i], out));
  else if (doc && typeof doc === 'object') for (const [k, v] of Object.entries(doc)) paths(v, [...at, k], out);
  return out;
}

function setAt(doc: Loose, path: Path, value: unknown): Loose {
  if (path.length === 0) return value;
  let cur = doc;
  for (const k of path.slice(0, -1)) cur = cur[k];
  cur[path[path.length - 1]!] = value;
  return doc;
}

function deleteAt(doc: Loose, path: Path): void {
  let cur = doc;
  for (const k of path.slice(0, -1)) cur = cur[k];
  const last = path[path.length - 1]!;
  if (Array.isArray(cur)) cur.splice(Number(last), 1);
  else delete cur[last];
}

function getAt(doc: Loose, path: Path): Loose {
  let cur = doc;
  for (const k of path) cur = cur?.[k];
  return cur;
}

const NUMBERS = [
  -1, 0, 1, 7, 8, 100, 101, 511, 512, 4095, 4096, 65535, 65536, 2147483647, 2147483648, -2147483648, -2147483649,
  4294967295, 4294967296, 9007199254740992, 1e19, 2e19, -1e19, 0.5, -0.5, 1e300,
];
const STRINGS = [
  '', 'BOGUS', 'x', '/abs/path', 'rel/path', '0-3,7', '0 - 3', 'a-b', 'MB:0=20', 'MB:1\n2', 'L3:0=f', '2MB', '64kB', '1GB',
  'rwm', 'rx', 'a', 'c', 'b', 'u', 'p', 'RLIMIT_NOFILE', 'RLIMIT_nofile', 'CAP_KILL', '1.0.0', 'x\ny', 'é',
];
const ENUM_VALUES = [
  'pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time', 'net', 'SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_NOTIFY',
  'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_BOGUS', 'SCMP_CMP_EQ', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_XX', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_RISCV64',
  'SCMP_ARCH_SHEB', 'SCMP_ARCH_IA64', 'SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', 'SECCOMP_FILTER_FLAG_NEW_LISTENER',
  'private', 'shared', 'slave', 'unbindable', 'rslave', 'LINUX', 'LINUX32', 'LINUX64', 'SCHED_OTHER', 'SCHED_DEADLINE', 'SCHED_NORMAL',
  'SCHED_FLAG_RECLAIM', 'SCHED_FLAG_UTIL_CLAMP_MAX', 'SCHED_FLAG_NONE', 'IOPRIO_CLASS_RT', 'IOPRIO_CLASS_IDLE', 'IOPRIO_CLASS_NONE',
  'MPOL_BIND', 'MPOL_WEIGHTED_INTERLEAVE', 'MPOL_LOCAL', 'MPOL_BOGUS', 'MPOL_F_STATIC_NODES', 'MPOL_F_NUMA_BALANCING', 'MPOL_F_NONE',
  'creating', 'created', 'running', 'stopped', 'paused', 'frozen',
];
const ANY_VALUES: unknown[] = ['s', 3, 2.5, -4, true, false, null, [], {}, ['a'], [1], { a: 1 }];
const MAP_PATHS: Path[] = [['annotations'], ['linux', 'sysctl'], ['linux', 'resources', 'unified'], ['linux', 'netDevices'], ['linux', 'resources', 'rdma'], ['linux', 'timeOffsets']];
const MAP_KEYS = ['k', 'com.example/x', '', 'eth9', 'realtime', 'boottime'];
const MAP_VALUES: unknown[] = ['v', '', 5, true, null, {}, { name: 'x' }, { name: 3 }, { hcaHandles: 1 }, { hcaObjects: 'x' }, { secs: 1 }, { nanosecs: -1 }];

function jsonTypeOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)]!;
}

/** One random mutation of `doc` (in place, or a replacement returned); its description. */
function mutate(rnd: () => number, doc: Loose): { doc: Loose; what: string } {
  const all = paths(doc);
  const where = pick(rnd, all);
  const p = where.path;
  const show = `/${p.join('/')}`;
  const kind = pick(rnd, ['delete', 'delete', 'type', 'type', 'number', 'string', 'enum', 'extra', 'map', 'array', 'null', 'deep-delete']);
  switch (kind) {
    case 'delete':
    case 'deep-delete': {
      const candidates = kind === 'delete' ? all.filter((x) => x.path.length > 0) : all.filter((x) => x.path.length > 2);
      if (candidates.length === 0) return { doc, what: 'nothing to delete' };
      const c = pick(rnd, candidates);
      deleteAt(doc, c.path);
      return { doc, what: `delete /${c.path.join('/')}` };
    }
    case 'type': {
      const options = ANY_VALUES.filter((v) => jsonTypeOf(v) !== jsonTypeOf(where.value));
      const v = clone(pick(rnd, options));
      return { doc: setAt(doc, p, v), what: `${show} = ${JSON.stringify(v)}` };
    }
    case 'number': {
      const nums = all.filter((x) => typeof x.value === 'number');
      if (nums.length === 0) return { doc, what: 'no number' };
      const c = pick(rnd, nums);
      const v = pick(rnd, NUMBERS);
      return { doc: setAt(doc, c.path, v), what: `/${c.path.join('/')} = ${v}` };
    }
    case 'string':
    case 'enum': {
      const strs = all.filter((x) => typeof x.value === 'string');
      if (strs.length === 0) return { doc, what: 'no string' };
      const c = pick(rnd, strs);
      const v = kind === 'string' ? pick(rnd, [...STRINGS, String(c.value).toLowerCase(), `${String(c.value)}X`]) : pick(rnd, ENUM_VALUES);
      return { doc: setAt(doc, c.path, v), what: `/${c.path.join('/')} = ${JSON.stringify(v)}` };
    }
    case 'extra': {
      const objs = all.filter((x) => jsonTypeOf(x.value) === 'object');
      if (objs.length === 0) return { doc, what: 'no object' };
      const c = pick(rnd, objs);
      const v = clone(pick(rnd, ANY_VALUES));
      (c.value as Loose)['x-tsrun-extra'] = v;
      return { doc, what: `/${c.path.join('/')}/x-tsrun-extra = ${JSON.stringify(v)}` };
    }
    case 'map': {
      const mp = pick(rnd, MAP_PATHS);
      if (jsonTypeOf(doc) !== 'object') return { doc, what: 'not an object' };
      let cur = doc;
      for (const k of mp) {
        if (jsonTypeOf(cur[k]) !== 'object') cur[k] = {};
        cur = cur[k];
      }
      const key = pick(rnd, MAP_KEYS);
      const v = clone(pick(rnd, MAP_VALUES));
      cur[key] = v;
      return { doc, what: `/${mp.join('/')}/${key} = ${JSON.stringify(v)}` };
    }
    case 'array': {
      const arrs = all.filter((x) => Array.isArray(x.value));
      if (arrs.length === 0) return { doc, what: 'no array' };
      const c = pick(rnd, arrs);
      const arr = c.value as unknown[];
      const how = pick(rnd, ['empty', 'dup', 'push']);
      if (how === 'empty') arr.length = 0;
      else if (how === 'dup' && arr.length > 0) arr.push(clone(arr[0]));
      else arr.push(clone(pick(rnd, ANY_VALUES)));
      return { doc, what: `/${c.path.join('/')} ${how}` };
    }
    default:
      return { doc: setAt(doc, p, null), what: `${show} = null` };
  }
}

// --- seeds -----------------------------------------------------------------------------------

/** A config with every common and Linux field of v1.3.0 set, valid for both schemas. */
function kitchenSink(): Loose {
  const ids = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const hook = [{ path: '/usr/bin/hook', args: ['hook', 'a'], env: ['A=1'], timeout: 5 }];
  return {
    ociVersion: '1.3.0',
    root: { path: 'rootfs', readonly: true },
    process: {
      terminal: true,
      consoleSize: { height: 25, width: 80 },
      user: { uid: 1, gid: 1, umask: 18, additionalGids: [5, 6], username: 'u' },
      args: ['sh', '-c', 'true'],
      commandLine: 'sh -c true',
      env: ['PATH=/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_KILL'],
        inheritable: ['CAP_KILL'],
        permitted: ['CAP_KILL'],
        ambient: ['CAP_KILL'],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', soft: 1024, hard: 4096 }, { type: 'RLIMIT_CORE', soft: 0, hard: 18446744073709551615 }],
      apparmorProfile: 'acme',
      selinuxLabel: 'system_u:system_r:container_t:s0',
      noNewPrivileges: true,
      oomScoreAdj: 100,
      scheduler: { policy: 'SCHED_DEADLINE', nice: 0, priority: 0, flags: ['SCHED_FLAG_RESET_ON_FORK'], runtime: 1000, deadline: 2000, period: 3000 },
      ioPriority: { class: 'IOPRIO_CLASS_IDLE', priority: 4 },
      execCPUAffinity: { initial: '7', final: '0-3,7' },
    },
    hostname: 'box',
    domainname: 'example.test',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/data', type: 'none', source: '/srv/data', options: ['rbind', 'ridmap'], uidMappings: ids, gidMappings: ids },
    ],
    hooks: { prestart: hook, createRuntime: hook, createContainer: hook, startContainer: hook, poststart: hook, poststop: hook },
    annotations: { 'com.example.key': 'value', 'org.opencontainers.image.os': 'linux' },
    linux: {
      namespaces: [
        { type: 'pid' },
        { type: 'network', path: '/var/run/netns/x' },
        { type: 'mount' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'user' },
        { type: 'cgroup' },
        { type: 'time' },
      ],
      uidMappings: ids,
      gidMappings: ids,
      timeOffsets: { monotonic: { secs: 172800, nanosecs: 0 }, boottime: { secs: -604800, nanosecs: 5 } },
      devices: [
        { type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 438, uid: 0, gid: 0 },
        { type: 'p', path: '/dev/pipe' },
      ],
      netDevices: { eth0: { name: 'ctr0' }, ens4: {} },
      cgroupsPath: '/tsrun/box',
      resources: {
        devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' }],
        memory: { limit: 536870912, reservation: 1, swap: -1, kernel: -1, kernelTCP: -1, swappiness: 10, disableOOMKiller: false, useHierarchy: true, checkBeforeUpdate: true },
        cpu: { shares: 1024, quota: 100000, burst: 1000, period: 100000, realtimeRuntime: 950000, realtimePeriod: 1000000, cpus: '0-1', mems: '0', idle: 0 },
        pids: { limit: 32771 },
        blockIO: {
          weight: 10,
          leafWeight: 10,
          weightDevice: [{ major: 8, minor: 0, weight: 500, leafWeight: 300 }],
          throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
          throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 600 }],
          throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 300 }],
          throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 300 }],
        },
        hugepageLimits: [{ pageSize: '2MB', limit: 209715200 }, { pageSize: '1GB', limit: 0 }],
        network: { classID: 1048577, priorities: [{ name: 'eth0', priority: 500 }] },
        rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 }, rxe3: { hcaObjects: 1 } },
        unified: { 'memory.high': 'max', 'io.max': '259:0 rbps=2097152' },
      },
      sysctl: { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '1' },
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 1,
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
        flags: ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
        listenerPath: '/run/agent.sock',
        listenerMetadata: 'meta',
        syscalls: [
          { names: ['mount'], action: 'SCMP_ACT_NOTIFY' },
          { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
          { names: ['ptrace'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
        ],
      },
      rootfsPropagation: 'slave',
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
      mountLabel: 'system_u:object_r:container_file_t:s0',
      intelRdt: { closID: 'guaranteed_group', l3CacheSchema: 'L3:0=7f0;1=1f', memBwSchema: 'MB:0=20;1=70', schemata: ['L2:0=f'], enableMonitoring: true },
      memoryPolicy: { mode: 'MPOL_BIND', nodes: '0-1', flags: ['MPOL_F_STATIC_NODES'] },
      personality: { domain: 'LINUX', flags: [] },
    },
  };
}

function state(): Loose {
  return { ociVersion: '1.3.0', id: 'web1', status: 'running', pid: 4422, bundle: '/containers/web1', annotations: { k: 'v' } };
}

/** Variants each showing one exception, so that every documented exception is shown to be real. */
function targeted(): Array<{ kind: Kind; doc: Loose; expect: string }> {
  const v = (f: (d: Loose) => void, base = kitchenSink()): Loose => {
    f(base);
    return base;
  };
  return [
    { kind: 'config', expect: 'root-required', doc: v((d) => delete d.root) },
    { kind: 'config', expect: 'posix-user-ids-required', doc: v((d) => delete d.process.user.uid) },
    { kind: 'config', expect: 'posix-user-ids-required', doc: v((d) => (d.process.user = { username: 'x' })) },
    { kind: 'config', expect: 'args-not-empty', doc: v((d) => (d.process.args = [])) },
    { kind: 'config', expect: 'ioPriority-priority-required', doc: v((d) => delete d.process.ioPriority.priority) },
    { kind: 'config', expect: 'memoryPolicy-mode-required', doc: v((d) => delete d.linux.memoryPolicy.mode) },
    { kind: 'config', expect: 'personality-domain-required', doc: v((d) => delete d.linux.personality.domain) },
    { kind: 'config', expect: 'throttle-rate-required', doc: v((d) => delete d.linux.resources.blockIO.throttleWriteIOPSDevice[0].rate) },
    { kind: 'config', expect: 'device-rule-type', doc: v((d) => (d.linux.resources.devices[1].type = 'p')) },
    { kind: 'config', expect: 'map-empty-key', doc: v((d) => (d.annotations[''] = 1)) },
    { kind: 'config', expect: 'map-empty-key', doc: v((d) => (d.linux.sysctl[''] = null)) },
    { kind: 'config', expect: 'device-fileMode-uint32', doc: v((d) => (d.linux.devices[0].fileMode = 0o4755)) },
    { kind: 'config', expect: 'device-fileMode-uint32', doc: v((d) => (d.linux.devices[0].fileMode = 0o20666)) },
    { kind: 'config', expect: 'rootfsPropagation-recursive', doc: v((d) => (d.linux.rootfsPropagation = 'rshared')) },
    { kind: 'config', expect: 'rootfsPropagation-recursive', doc: v((d) => (d.linux.rootfsPropagation = 'rprivate')) },
    { kind: 'config', expect: 'rootfsPropagation-recursive', doc: v((d) => (d.linux.rootfsPropagation = '')) },
    { kind: 'config', expect: 'other-platform-sections', doc: v((d) => (d.freebsd = { jail: { vnet: 'disable' } })) },
    { kind: 'config', expect: 'other-platform-sections', doc: v((d) => (d.windows = { layerFolders: 'C:\\' })) },
    { kind: 'state', expect: 'state-paused', doc: v((d) => (d.status = 'paused'), state()) },
    { kind: 'state', expect: 'state-pid-required', doc: v((d) => delete d.pid, state()) },
    { kind: 'state', expect: 'state-bundle-absolute', doc: v((d) => (d.bundle = 'containers/web1'), state()) },
  ];
}

// --- the tests -------------------------------------------------------------------------------

const skip = up ? false : `the upstream schemas are not at ${UPSTREAM} (../shared is missing)`;
const used = new Map<string, number>();
const note = (id: string) => used.set(id, (used.get(id) ?? 0) + 1);

t.test('upstream fixtures', { skip }, async (t) => {
  for (const f of upstreamFixtures()) {
    const label = `${f.kind}/${f.expect}/${f.name}`;
    let doc: unknown;
    try {
      doc = JSON.parse(f.text);
    } catch {
      t.equal(f.expect, 'bad', `${label}: not JSON, so a bad fixture`);
      if (f.kind === 'config') t.throws(() => m.parseConfig(f.text, '/nonexistent'), /^config\.json: invalid JSON: .* at line \d+ column \d+$/, `${label}: our loader says invalid JSON`);
      continue;
    }
    t.equal(up![f.kind](doc), f.expect === 'good', `${label}: the oracle gives the fixture's verdict`);
    const v = compare(f.kind, doc);
    if (v.agree) t.pass(`${label}: same verdict`);
    else if ('exception' in v) {
      note(v.exception);
      t.pass(`${label}: differs by documented exception ${v.exception}`);
    } else t.fail(`${label}: ${v.problem}`);
  }
});

t.test('targeted variants show each documented exception', { skip }, async (t) => {
  for (const x of targeted()) {
    const v = compare(x.kind, x.doc);
    t.same(v, { agree: false, exception: x.expect }, x.expect);
    note(x.expect);
  }
  for (const e of EXCEPTIONS) t.ok(used.has(e.id), `exception ${e.id} occurs (${e.reason})`);
});

// Every single-field change of the seeds: each field deleted, set to each JSON type, each
// number field set to each edge number, each string field to each sample string and enum value.
t.test('systematic single-field variants', { skip }, async (t) => {
  const seeds: Array<{ kind: Kind; doc: Loose }> = [
    { kind: 'config', doc: kitchenSink() },
    { kind: 'config', doc: m.defaultSpec({ rootless: true }) },
    { kind: 'state', doc: state() },
    { kind: 'features', doc: m.featuresDocument() },
  ];
  let total = 0;
  let agreed = 0;
  const excepted = new Map<string, number>();
  const problems: string[] = [];
  for (const seed of seeds) {
    for (const { path, value } of paths(seed.doc)) {
      const changes: Array<{ what: string; apply: (d: Loose) => Loose }> = [];
      if (path.length > 0) changes.push({ what: 'delete', apply: (d) => (deleteAt(d, path), d) });
      for (const v of ANY_VALUES) changes.push({ what: `= ${JSON.stringify(v)}`, apply: (d) => setAt(d, path, clone(v)) });
      if (typeof value === 'number') for (const n of NUMBERS) changes.push({ what: `= ${n}`, apply: (d) => setAt(d, path, n) });
      if (typeof value === 'string') {
        for (const str of [...STRINGS, ...ENUM_VALUES]) changes.push({ what: `= ${JSON.stringify(str)}`, apply: (d) => setAt(d, path, str) });
      }
      for (const c of changes) {
        total++;
        const doc = c.apply(clone(seed.doc));
        const v = compare(seed.kind, doc);
        if (v.agree) agreed++;
        else if ('exception' in v) excepted.set(v.exception, (excepted.get(v.exception) ?? 0) + 1);
        else problems.push(`${seed.kind} /${path.join('/')} ${c.what}: ${v.problem}`);
      }
    }
  }
  t.strictSame(problems, [], 'every difference is a documented exception');
  t.comment(`single-field variants: ${total} generated, ${agreed} same verdict, ${total - agreed - problems.length} documented exceptions: ${JSON.stringify(Object.fromEntries(excepted))}`);
});

t.test('generated variants of valid configs', { skip }, async (t) => {
  const seeds: Loose[] = [kitchenSink(), m.defaultSpec(), m.defaultSpec({ rootless: true })];
  for (const f of upstreamFixtures()) {
    if (f.kind !== 'config' || f.expect !== 'good') continue;
    seeds.push(JSON.parse(f.text));
  }
  for (const s of seeds) t.equal(compare('config', s).agree, true, 'seed: same verdict');

  const rnd = mulberry32(0x7a5e2026);
  const TOTAL = 3000;
  let agreed = 0;
  let bothValid = 0;
  let bothInvalid = 0;
  const excepted = new Map<string, number>();
  const problems: string[] = [];
  for (let i = 0; i < TOTAL; i++) {
    let doc = clone(pick(rnd, seeds));
    const steps: string[] = [];
    const n = rnd() < 0.7 ? 1 : 2;
    for (let k = 0; k < n; k++) {
      const r = mutate(rnd, doc);
      doc = r.doc;
      steps.push(r.what);
    }
    const v = compare('config', doc);
    if (v.agree) {
      agreed++;
      if (OURS.config(doc)) bothValid++;
      else bothInvalid++;
    } else if ('exception' in v) {
      excepted.set(v.exception, (excepted.get(v.exception) ?? 0) + 1);
    } else problems.push(`variant ${i} (${steps.join('; ')}): ${v.problem}`);
  }
  t.strictSame(problems, [], 'every difference is a documented exception');
  t.ok(agreed >= 500, `at least 500 variants agree (${agreed})`);
  t.ok(bothValid >= 100 && bothInvalid >= 100, `both verdicts are common (valid ${bothValid}, invalid ${bothInvalid})`);
  t.comment(`config variants: ${TOTAL} generated, ${agreed} same verdict (${bothValid} valid, ${bothInvalid} invalid), ${TOTAL - agreed - problems.length} documented exceptions: ${JSON.stringify(Object.fromEntries(excepted))}`);
});

t.test('generated variants of state and features documents', { skip }, async (t) => {
  const rnd = mulberry32(0x57a7e);
  const seeds: Array<{ kind: Kind; doc: Loose }> = [
    { kind: 'state', doc: state() },
    { kind: 'state', doc: { ociVersion: '1.0.0', id: 'x', status: 'stopped', bundle: '/b' } },
    { kind: 'features', doc: m.featuresDocument() },
  ];
  for (const f of upstreamFixtures()) {
    if (f.expect === 'good' && f.kind !== 'config') seeds.push({ kind: f.kind, doc: JSON.parse(f.text) });
  }
  let agreed = 0;
  const problems: string[] = [];
  const TOTAL = 1000;
  for (let i = 0; i < TOTAL; i++) {
    const s = pick(rnd, seeds);
    const r = mutate(rnd, clone(s.doc));
    const v = compare(s.kind, r.doc);
    if (v.agree) agreed++;
    else if ('problem' in v) problems.push(`${s.kind} variant ${i} (${r.what}): ${v.problem}`);
  }
  t.strictSame(problems, [], 'every difference is a documented exception');
  t.ok(agreed >= 500, `at least 500 variants agree (${agreed})`);
  t.comment(`state/features variants: ${TOTAL} generated, ${agreed} same verdict`);
});
