// config.json generators for the fuzz campaign (fast-check): valid base configs, structural and
// value mutations, and a sanitizer that keeps every case harmless to the host whatever tsrun does
// with it (no host namespace joined, no host path bound or used as rootfs, no host sysctl
// changed, no host binary run as hook or process, no existing cgroup reused, no host network
// device moved). The sanitizer only narrows *where* a case points; every kind of value still
// reaches the runtime.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, resolve } from 'node:path';
import fc from 'fast-check';
import { defaultSpec } from '../../src/spec/default-config.js';
import { baseConfig, type Config } from '../helpers/index.js';

export interface CaseEnv {
  id: string;
  /** Absolute rootfs (a private copy of the busybox rootfs). */
  rootfs: string;
  /** The bundle dir (relative paths in the config are relative to it). */
  bundle: string;
  /** The test's own dir: paths under it are harmless. */
  testDir: string;
  /** A dir and a file under testDir that bind mounts may use. */
  scratchDir: string;
  scratchFile: string;
  /** Parent of the cgroups that cgroupsPath may name (under it, named after the id). */
  cgroupParent: string;
}

// --- value pools ---------------------------------------------------------------------------------

const EDGE_NUMBERS = [0, -1, 1, 2, 7, 255, 256, 1023, 1024, 4096, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), 2 ** 32 - 1, 2 ** 32,
  2 ** 53 - 1, -(2 ** 53), 2 ** 63, 2 ** 64, 1.5, -0.5, 1e308, -1e308, 1e-300];

const ODD_STRINGS = ['', ' ', '\t', '\n', 'a\nb', '\r\n', 'x'.repeat(300), 'y'.repeat(70_000), '\u0000', 'nul\u0000inside', 'é', '😀', '\u202e',
  '\ud800', '%s%n%x', '$(id)', '`id`', '"', "'", '\\', '{}', '[]', 'null', '-1', '0x10', '1e3', ' 1 ', 'A=B', '=', '==', ':', '::::', ',', ';',
  '../', '*', '?', '~', '\u00a0', 'a b'];

const ODD_PATHS = ['', '/', '.', '..', '/..', '../..', '../../../../etc', '/proc/self/..', 'relative', 'rel/sub', './x', '/a/../b', '//double//slash',
  '/trailing/', '/with space', '/tab\there', '/new\nline', '/nul\u0000x', '/é/😀', '/' + 'p'.repeat(255), '/' + 'q'.repeat(256), '/x/'.repeat(1400),
  '/nonexistent/deep/path', '/dev/null', '/dev', '/proc', '/sys', '/proc/self/fd/0', '/tmp', '/etc/passwd'];

const CAPS = ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_RAW', 'CAP_SYS_ADMIN', 'CAP_SYS_PTRACE', 'CAP_MKNOD', 'CAP_SETFCAP', 'CAP_BPF', 'CAP_PERFMON',
  'CAP_CHECKPOINT_RESTORE', 'CAP_LAST_CAP', 'CAP_BOGUS', 'cap_kill', 'KILL', '', 'CAP_', 'CAP_KILL ', 'CAP_NET_BIND_SERVICE'];

const RLIMIT_TYPES = ['RLIMIT_NOFILE', 'RLIMIT_NPROC', 'RLIMIT_CORE', 'RLIMIT_STACK', 'RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_MEMLOCK',
  'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME', 'RLIMIT_SIGPENDING', 'RLIMIT_LOCKS', 'RLIMIT_DATA', 'RLIMIT_RSS',
  'RLIMIT_BOGUS', 'nofile', ''];

const NS_TYPES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time', 'bogus', '', 'PID', 'net', 'mnt'];
const NS_PATHS = [undefined, '', '/nonexistent/ns', '/dev/null', 'relative/ns', '/proc/self/ns/nosuch', '/tmp'];

const MOUNT_TYPES = ['tmpfs', 'proc', 'sysfs', 'devpts', 'mqueue', 'cgroup', 'cgroup2', 'bind', 'none', '', 'nosuchfs', undefined];
const MOUNT_OPTIONS = ['ro', 'rw', 'nosuid', 'nodev', 'noexec', 'bind', 'rbind', 'rprivate', 'private', 'shared', 'rshared', 'slave', 'rslave',
  'unbindable', 'size=1k', 'size=0', 'size=-1', 'size=99999999999999999999', 'mode=7777', 'mode=abc', 'mode=0755', 'uid=4294967295', 'gid=-1',
  'strictatime', 'relatime', 'noatime', 'nosymfollow', 'idmap', 'ridmap', 'recursive', 'rro', 'rnosuid', 'zzz', '', 'x=y=z', 'newinstance',
  'ptmxmode=0666', 'nr_inodes=1', 'sync', 'dirsync', 'loud', 'mand', 'tmpcopyup'];
const MOUNT_DESTS = ['/data', '/data/sub', '/proc', '/dev', '/dev/shm', '/sys', '/sys/fs/cgroup', '/tmp', '/', '', 'relative', '/..', '/../../x',
  '/proc/sys', '/proc/self', '/dev/null', '/etc/passwd', '/bin', '/a b', '/é', '/' + 'd'.repeat(300), '/dev/pts', '/run/x/y/z'];

const HOOK_KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop', 'bogus'];
/** The only programs a hook may name: harmless ones, or ones that cannot run. */
const HOOK_PATHS = ['/bin/true', '/bin/false', '/nonexistent/hook', 'true', '', '/dev/null', '/tmp'];

const DEVICE_PATHS = ['/dev/fuzz0', '/dev/fuzz/sub/node', '/dev/null', '/dev/zero', '/dev/../fuzz1', 'relative', '', '/dev/' + 'z'.repeat(300),
  '/proc/fuzz', '/dev/pts/fuzz', '/dev/'];
const DEVICE_TYPES = ['c', 'b', 'u', 'p', 'x', '', 'C'];

/** sysctl names: namespaced ones, host-global ones (must be refused), bogus ones. Values: see sanitize. */
const SYSCTL_KEYS = ['net.ipv4.ip_forward', 'net/ipv4/ip_forward', 'net.ipv4.ping_group_range', 'net.core.somaxconn', 'kernel.shmmax', 'kernel.msgmax',
  'fs.mqueue.msg_max', 'kernel.domainname', 'kernel.hostname', 'fs.file-max', 'vm.swappiness', 'kernel.pid_max', 'net.nosuch.key', 'kernel.nosuch',
  '', '.', '..', 'a..b', 'net', 'net.ipv4', 'x'.repeat(300)];

const SECCOMP_ACTIONS = ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_TRAP', 'SCMP_ACT_LOG',
  'SCMP_ACT_TRACE', 'SCMP_ACT_NOTIFY', 'SCMP_ACT_BOGUS', ''];
const SYSCALLS = ['mkdir', 'getpid', 'write', 'execve', 'exit_group', 'clone', 'nosuchsyscall', '', 'socket', 'personality'];
const UNIFIED_KEYS = ['pids.max', 'memory.max', 'memory.high', 'cpu.weight', 'cpu.max', 'io.weight', 'hugetlb.2MB.max', 'bogus.key', 'nodot',
  'memory.oom.group'];

const pick = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const num = fc.oneof(pick(EDGE_NUMBERS), fc.integer({ min: -5, max: 5000 }));
const str = fc.oneof({ weight: 3, arbitrary: pick(ODD_STRINGS) }, { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) });
const pathv = fc.oneof({ weight: 4, arbitrary: pick(ODD_PATHS) }, { weight: 1, arbitrary: fc.string({ maxLength: 16 }).map((s) => '/' + s) });
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });

/** Drops undefined fields (so "absent" stays absent in the JSON). */
function compact(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

// --- entries that "insert" mutations add ---------------------------------------------------------

const namespaceArb = fc.record({ type: pick(NS_TYPES), path: pick(NS_PATHS) }).map(compact);
const mountArb = fc.record({
  destination: maybe(fc.oneof(pick(MOUNT_DESTS), pathv)),
  type: pick(MOUNT_TYPES),
  source: maybe(fc.oneof(pick(['tmpfs', 'proc', 'sysfs', 'none', 'SCRATCH', 'SCRATCH_FILE', 'relative-src', '/nonexistent/src']), pathv)),
  options: maybe(fc.array(pick(MOUNT_OPTIONS), { maxLength: 6 })),
  uidMappings: maybe(fc.constant([{ containerID: 0, hostID: 100000, size: 65536 }])),
  gidMappings: maybe(fc.constant([{ containerID: 0, hostID: 100000, size: 65536 }])),
}).map(compact);
const rlimitArb = fc.record({ type: pick(RLIMIT_TYPES), soft: num, hard: num });
const deviceArb = fc.record({
  path: maybe(pick(DEVICE_PATHS)), type: maybe(pick(DEVICE_TYPES)), major: maybe(num), minor: maybe(num),
  fileMode: maybe(fc.oneof(pick([0, 0o666, 0o7777, 0o170000, 0o20666, -1, 2 ** 32]), num)), uid: maybe(num), gid: maybe(num),
}).map(compact);
const hookArb = fc.record({
  path: pick(HOOK_PATHS),
  args: maybe(fc.oneof(fc.constant([]), fc.array(str, { maxLength: 3 }))),
  env: maybe(fc.array(fc.oneof(pick(['A=B', 'PATH=/bin', 'bad', '=x']), str), { maxLength: 3 })),
  timeout: maybe(pick([0, 1, -1, 2 ** 31, 1.5, 100000, 2 ** 53])),
}).map(compact);
const resourcesArb = fc.record({
  pids: maybe(fc.record({ limit: fc.oneof(pick([0, -1, 1, 2, 10, 64, 2 ** 31, 2 ** 63]), num) })),
  memory: maybe(fc.record({ limit: maybe(fc.oneof(pick([0, -1, 1, 4096, 8 << 20, 64 << 20, 2 ** 63 - 1]), num)), reservation: maybe(num), swap: maybe(num),
    kernel: maybe(num), swappiness: maybe(num), disableOOMKiller: maybe(fc.boolean()), useHierarchy: maybe(fc.boolean()), checkBeforeUpdate: maybe(fc.boolean()) }).map(compact)),
  cpu: maybe(fc.record({ shares: maybe(num), quota: maybe(num), period: maybe(num), realtimeRuntime: maybe(num), realtimePeriod: maybe(num),
    cpus: maybe(fc.oneof(pick(['0', '0-1', '0-100', '1,0', 'abc', '', '99999']), str)), mems: maybe(pick(['0', '1', '0-3', 'x', ''])),
    idle: maybe(num), burst: maybe(num) }).map(compact)),
  blockIO: maybe(fc.record({ weight: maybe(num), leafWeight: maybe(num),
    throttleReadBpsDevice: maybe(fc.array(fc.record({ major: num, minor: num, rate: num }), { maxLength: 2 })) }).map(compact)),
  hugepageLimits: maybe(fc.array(fc.record({ pageSize: pick(['2MB', '1GB', '4KB', 'bogus', '']), limit: num }), { maxLength: 2 })),
  devices: maybe(fc.array(fc.record({ allow: fc.boolean(), type: maybe(pick(['a', 'c', 'b', 'x'])), major: maybe(num), minor: maybe(num),
    access: maybe(pick(['rwm', 'r', 'w', 'm', '', 'rwmx', 'q'])) }).map(compact), { maxLength: 3 })),
  network: maybe(fc.record({ classID: maybe(num), priorities: maybe(fc.array(fc.record({ name: pick(['eth0', 'lo', '', 'x']), priority: num }), { maxLength: 2 })) }).map(compact)),
  unified: maybe(fc.dictionary(pick(UNIFIED_KEYS), fc.oneof(pick(['max', '0', '1', '-1', '', '100 100000', 'abc']), str), { maxKeys: 3 })),
  rdma: maybe(fc.dictionary(pick(['mlx5_0', '']), fc.record({ hcaHandles: maybe(num), hcaObjects: maybe(num) }).map(compact), { maxKeys: 1 })),
}).map(compact);
const seccompArb = fc.record({
  defaultAction: pick(SECCOMP_ACTIONS),
  defaultErrnoRet: maybe(num),
  architectures: maybe(fc.array(pick(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_BOGUS', '']), { maxLength: 3 })),
  flags: maybe(fc.array(pick(['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC', 'BOGUS']), { maxLength: 2 })),
  listenerPath: maybe(pick(['/nonexistent/listener.sock', '', 'relative.sock'])),
  syscalls: maybe(fc.array(fc.record({
    names: fc.array(pick(SYSCALLS), { maxLength: 3 }),
    action: pick(SECCOMP_ACTIONS),
    errnoRet: maybe(num),
    args: maybe(fc.array(fc.record({ index: num, value: num, valueTwo: maybe(num), op: pick(['SCMP_CMP_EQ', 'SCMP_CMP_MASKED_EQ', 'SCMP_CMP_BOGUS']) }).map(compact), { maxLength: 2 })),
  }).map(compact), { maxLength: 3 })),
}).map(compact);
const mappingArb = fc.array(fc.record({ containerID: num, hostID: fc.oneof(pick([100000, 0, 1]), num), size: fc.oneof(pick([1, 65536]), num) }), { maxLength: 3 });

/** An "insert" mutation: a section and a new entry for it. */
const insertArb = fc.oneof(
  fc.record({ at: fc.constant('namespace'), v: namespaceArb }),
  fc.record({ at: fc.constant('mount'), v: mountArb }),
  fc.record({ at: fc.constant('rlimit'), v: rlimitArb }),
  fc.record({ at: fc.constant('cap'), v: fc.record({ set: pick(['bounding', 'effective', 'permitted', 'ambient', 'inheritable', 'bogus']), cap: pick(CAPS) }) }),
  fc.record({ at: fc.constant('device'), v: deviceArb }),
  fc.record({ at: fc.constant('sysctl'), v: fc.record({ key: pick(SYSCTL_KEYS), value: str }) }),
  fc.record({ at: fc.constant('hook'), v: fc.record({ kind: pick(HOOK_KINDS), hook: hookArb }) }),
  fc.record({ at: fc.constant('resources'), v: resourcesArb }),
  fc.record({ at: fc.constant('seccomp'), v: seccompArb }),
  fc.record({ at: fc.constant('env'), v: fc.oneof(pick(['A=B', 'bad', '=x', 'PATH=', 'LD_PRELOAD=/nonexistent.so', 'X=' + 'v'.repeat(5000)]), str) }),
  fc.record({ at: fc.constant('userns'), v: fc.record({ uid: mappingArb, gid: mappingArb }) }),
  fc.record({ at: fc.constant('masked'), v: fc.record({ readonly: fc.boolean(), path: pathv }) }),
  fc.record({ at: fc.constant('annotation'), v: fc.record({ key: str, value: str }) }),
  fc.record({ at: fc.constant('process'), v: fc.record({
    uid: maybe(num), gid: maybe(num), umask: maybe(num), cwd: maybe(pathv), terminal: maybe(fc.boolean()), noNewPrivileges: maybe(fc.boolean()),
    oomScoreAdj: maybe(pick([-1000, 1000, -1001, 1001, 0, 1.5])), additionalGids: maybe(fc.array(num, { maxLength: 40 })),
    apparmorProfile: maybe(str), selinuxLabel: maybe(str),
    ioPriority: maybe(fc.record({ class: pick(['IOPRIO_CLASS_RT', 'IOPRIO_CLASS_BE', 'IOPRIO_CLASS_IDLE', 'BOGUS']), priority: num })),
    scheduler: maybe(fc.record({ policy: pick(['SCHED_OTHER', 'SCHED_BATCH', 'SCHED_IDLE', 'SCHED_FIFO', 'SCHED_RR', 'SCHED_DEADLINE', 'BOGUS']),
      nice: maybe(num), priority: maybe(num), runtime: maybe(num), deadline: maybe(num), period: maybe(num) }).map(compact)),
    execCPUAffinity: maybe(fc.record({ initial: maybe(pick(['0', '0-1', '7', 'x', ''])), final: maybe(pick(['0', '1', '0-99', ''])) }).map(compact)),
    args: maybe(fc.oneof(
      pick([['true'], ['/bin/true'], ['sh', '-c', 'exit 3'], ['sleep', '0'], ['nope'], ['/nonexistent/bin'], [''], ['/etc'], ['/dev/null'], []]),
      fc.array(str, { minLength: 1, maxLength: 3 }).map((a) => ['echo', ...a]),
      str.map((s) => [s]),
    )),
  }).map(compact) }),
  fc.record({ at: fc.constant('top'), v: fc.record({
    hostname: maybe(str), domainname: maybe(str), ociVersion: maybe(pick(['1.0.0', '1.0.2', '1.2.0', '1.3.0', '1.3.1', '2.0.0', '', '1.3.0-rc.1', 'x'])),
    rootReadonly: maybe(fc.boolean()), rootPath: maybe(fc.oneof(pick(['ROOTFS', 'nope', '/nonexistent', '/dev/null', '', '.']), pathv)),
    cgroupsPath: maybe(pick(['ID_ABS', 'ID_REL', 'ID_NESTED', 'ID_LONG', 'ID_COLON', '', '/', '.', '..', '/..'])),
    rootfsPropagation: maybe(pick(['shared', 'rshared', 'private', 'rprivate', 'slave', 'rslave', 'unbindable', 'bogus', ''])),
    mountLabel: maybe(str), timeOffsets: maybe(fc.record({ monotonic: fc.record({ secs: num, nanosecs: num }) })),
    personality: maybe(fc.record({ domain: pick(['LINUX', 'LINUX32', 'BOGUS']), flags: maybe(fc.array(str, { maxLength: 1 })) }).map(compact)),
    intelRdt: maybe(fc.record({ closID: maybe(str), l3CacheSchema: maybe(str) }).map(compact)),
    netDevices: maybe(fc.dictionary(pick(['tsfuzz0', '', 'a/b', 'lo', 'x'.repeat(20)]), fc.record({ name: maybe(str) }).map(compact), { maxKeys: 2 })),
    memoryPolicy: maybe(fc.record({ mode: pick(['MPOL_DEFAULT', 'MPOL_BIND', 'MPOL_BOGUS']), nodes: maybe(pick(['0', '1-3', 'x'])) }).map(compact)),
    unknown: maybe(fc.record({ key: pick(['xFuzz', 'ociversion', 'Process', '']), value: fc.jsonValue({ maxDepth: 2 }) })),
  }).map(compact) }),
);

export type Mutation =
  | { kind: 'insert'; at: string; v: any }
  | { kind: 'delete'; focus: string; sel: number }
  | { kind: 'duplicate'; focus: string; sel: number }
  | { kind: 'dupkey'; focus: string; sel: number; v: unknown }
  | { kind: 'wrongType'; focus: string; sel: number; v: unknown }
  | { kind: 'value'; focus: string; sel: number; n: number; s: string; p: string }
  | { kind: 'raw'; how: string; n: number };

const FOCI = ['', '/process', '/linux', '/mounts', '/hooks', '/linux/resources', '/root', '/linux/namespaces', '/process/capabilities', '/process/rlimits'];
const focusArb = pick(FOCI);
const otherType = fc.oneof(pick([null, true, false, 0, -1, '', 'x', [], {}, [1, 'a'], { a: 1 }, [[]], 2 ** 64]), fc.jsonValue({ maxDepth: 2 }));

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 6, arbitrary: insertArb.map((i) => ({ kind: 'insert' as const, at: i.at, v: i.v })) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), focus: focusArb, sel: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), focus: focusArb, sel: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dupkey' as const), focus: focusArb, sel: fc.nat(), v: otherType }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('wrongType' as const), focus: focusArb, sel: fc.nat(), v: otherType }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('value' as const), focus: focusArb, sel: fc.nat(), n: num, s: str, p: pathv }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('raw' as const), how: pick(['truncate', 'garbage', 'empty', 'null', 'array', 'bom', 'deep', 'deeper', 'trailing', 'nul', 'latin1', 'huge']), n: fc.nat() }) },
);

export interface FuzzCase {
  base: number;
  /** How the case is driven: `run` (foreground) or create, state, start, delete. */
  mode: 'run' | 'lifecycle';
  mutations: Mutation[];
}

export const caseArb: fc.Arbitrary<FuzzCase> = fc.record({
  base: fc.nat(4),
  mode: fc.oneof({ weight: 4, arbitrary: fc.constant('run' as const) }, { weight: 1, arbitrary: fc.constant('lifecycle' as const) }),
  mutations: fc.array(mutationArb, { minLength: 0, maxLength: 4 }),
});

// --- applying a case -----------------------------------------------------------------------------

function bases(env: CaseEnv): Config[] {
  const busybox = baseConfig();
  busybox.process.args = ['true'];
  const spec: Config = defaultSpec();
  spec.process.terminal = false;
  spec.process.args = ['true'];
  const rich: Config = structuredClone(busybox);
  rich.mounts.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'nosuid'] });
  rich.process.rlimits.push({ type: 'RLIMIT_NPROC', soft: 512, hard: 512 }, { type: 'RLIMIT_CORE', soft: 0, hard: 0 });
  rich.linux.resources = { ...rich.linux.resources, pids: { limit: 64 }, memory: { limit: 64 << 20 }, cpu: { shares: 512 } };
  rich.hooks = { createRuntime: [{ path: '/bin/true' }], poststart: [{ path: '/bin/true', args: ['true'] }], poststop: [{ path: '/bin/true' }] };
  rich.linux.sysctl = { 'net.ipv4.ip_forward': hostSysctl('net.ipv4.ip_forward') ?? '0' };
  rich.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666 }];
  rich.annotations = { 'org.example.fuzz': 'yes' };
  rich.hostname = 'fuzz';
  const userns: Config = structuredClone(busybox);
  userns.linux.namespaces.push({ type: 'user' }, { type: 'cgroup' });
  userns.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  userns.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const seccomp: Config = structuredClone(busybox);
  seccomp.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
  seccomp.process.args = ['sh', '-c', 'exit 3'];
  const all = [busybox, spec, rich, userns, seccomp];
  for (const c of all) c.root = { path: env.rootfs, readonly: true };
  return all;
}

/** JSON pointers of every node under `focus` (the focus itself excluded). */
function pointers(v: unknown, at = ''): string[] {
  const out: string[] = [];
  if (v && typeof v === 'object') {
    for (const [k, child] of Object.entries(v)) {
      const p = `${at}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      out.push(p, ...pointers(child, p));
    }
  }
  return out;
}

function split(p: string): string[] {
  return p.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(root: any, p: string): any {
  let v = root;
  for (const k of split(p)) v = v?.[k];
  return v;
}

/** [parent, key] of a pointer. */
function parentOf(root: any, p: string): [any, string] {
  const keys = split(p);
  const last = keys.pop()!;
  let v = root;
  for (const k of keys) v = v?.[k];
  return [v, last];
}

function choose(cfg: Config, focus: string, sel: number): string | undefined {
  let ps = pointers(cfg).filter((p) => p.startsWith(focus + '/'));
  if (ps.length === 0) ps = pointers(cfg);
  return ps.length ? ps[sel % ps.length] : undefined;
}

const obj = (v: any): any => (v && typeof v === 'object' && !Array.isArray(v) ? v : undefined);

function ensure(cfg: any, ...keys: string[]): any {
  let v = cfg;
  for (const k of keys) {
    if (!obj(v[k]) && !Array.isArray(v[k])) v[k] = {};
    v = v[k];
  }
  return v;
}

function pushTo(container: any, key: string, item: unknown): void {
  if (!Array.isArray(container[key])) container[key] = [];
  container[key].push(item);
}

function insert(cfg: any, at: string, v: any, env: CaseEnv): void {
  if (!obj(cfg)) return;
  const proc = () => (obj(cfg.process) ? cfg.process : (cfg.process = { cwd: '/', args: ['true'], user: { uid: 0, gid: 0 } }));
  const linux = () => (obj(cfg.linux) ? cfg.linux : (cfg.linux = {}));
  switch (at) {
    case 'namespace': return pushTo(linux(), 'namespaces', v);
    case 'mount': return pushTo(cfg, 'mounts', v);
    case 'rlimit': return pushTo(proc(), 'rlimits', v);
    case 'cap': {
      const caps = ensure(proc(), 'capabilities');
      if (obj(caps)) pushTo(caps, v.set, v.cap);
      return;
    }
    case 'device': return pushTo(linux(), 'devices', v);
    case 'sysctl': {
      const s = ensure(linux(), 'sysctl');
      if (obj(s)) s[v.key] = v.value;
      return;
    }
    case 'hook': {
      const h = ensure(cfg, 'hooks');
      if (obj(h)) pushTo(h, v.kind, v.hook);
      return;
    }
    case 'resources': linux().resources = { ...(obj(linux().resources) ?? {}), ...v }; return;
    case 'seccomp': linux().seccomp = v; return;
    case 'env': return pushTo(proc(), 'env', v);
    case 'userns': {
      pushTo(linux(), 'namespaces', { type: 'user' });
      linux().uidMappings = v.uid;
      linux().gidMappings = v.gid;
      return;
    }
    case 'masked': return pushTo(linux(), v.readonly ? 'readonlyPaths' : 'maskedPaths', v.path);
    case 'annotation': {
      const a = ensure(cfg, 'annotations');
      if (obj(a)) a[v.key] = v.value;
      return;
    }
    case 'process': {
      const p = proc();
      const user = obj(p.user) ?? (p.user = { uid: 0, gid: 0 });
      for (const [k, val] of Object.entries(v)) {
        if (k === 'uid' || k === 'gid' || k === 'umask' || k === 'additionalGids') user[k] = val;
        else p[k] = val;
      }
      return;
    }
    case 'top': {
      for (const [k, val] of Object.entries(v as Record<string, any>)) {
        if (k === 'hostname' || k === 'domainname' || k === 'ociVersion') cfg[k] = val;
        else if (k === 'rootReadonly') ensure(cfg, 'root').readonly = val;
        else if (k === 'rootPath') ensure(cfg, 'root').path = val === 'ROOTFS' ? env.rootfs : val;
        else if (k === 'cgroupsPath') linux().cgroupsPath = cgroupsPathFor(val, env);
        else if (k === 'unknown') cfg[val.key] = val.value;
        else linux()[k] = val;
      }
      return;
    }
  }
}

function cgroupsPathFor(kind: string, env: CaseEnv): string {
  switch (kind) {
    case 'ID_ABS': return `${env.cgroupParent}/${env.id}`;
    case 'ID_REL': return `${env.cgroupParent.slice(1)}/${env.id}`;
    case 'ID_NESTED': return `${env.cgroupParent}/${env.id}/a/b/../c`;
    case 'ID_LONG': return `${env.cgroupParent}/${env.id}-${'l'.repeat(300)}`;
    case 'ID_COLON': return `system.slice:fuzz:${env.id}`;
    default: return kind;
  }
}

function valueLike(old: unknown, m: Extract<Mutation, { kind: 'value' }>, key: string): unknown {
  if (typeof old === 'number') return m.n;
  if (typeof old === 'boolean') return !old;
  if (typeof old === 'string') return /path|destination|source|cwd|root/i.test(key) || old.startsWith('/') ? m.p : m.s;
  if (Array.isArray(old)) return m.sel % 2 ? [] : [...old, typeof old[0] === 'number' ? m.n : m.s];
  if (obj(old)) return {};
  return m.s;
}

/** Applies the mutations; the result is the config text (raw mutations may break the JSON). */
export function render(c: FuzzCase, env: CaseEnv): string {
  const cfg: any = bases(env)[c.base % 5];
  const dups: Array<[string, unknown]> = [];
  let raw: Extract<Mutation, { kind: 'raw' }> | undefined;
  for (const m of c.mutations) {
    if (m.kind === 'insert') insert(cfg, m.at, structuredClone(m.v), env);
    else if (m.kind === 'raw') raw = m;
    else {
      const p = choose(cfg, m.focus, m.sel);
      if (p === undefined) continue;
      const [parent, key] = parentOf(cfg, p);
      if (parent === undefined || parent === null) continue;
      if (m.kind === 'delete') {
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else delete parent[key];
      } else if (m.kind === 'duplicate') {
        if (Array.isArray(parent)) parent.push(structuredClone(parent[Number(key)]));
        else parent[`${key}Copy`] = structuredClone(parent[key]);
      } else if (m.kind === 'dupkey') {
        if (!Array.isArray(parent)) {
          // A duplicate key in the text (JSON.parse keeps the last): put a marker, replace it below.
          const marker = `__dup${dups.length}__`;
          parent[marker] = m.v;
          dups.push([marker, key]);
        }
      } else if (m.kind === 'wrongType') {
        parent[key] = structuredClone(m.v);
      } else {
        parent[key] = valueLike(getAt(cfg, p), m, key);
      }
    }
  }
  sanitize(cfg, env);
  let text = JSON.stringify(cfg, null, 1);
  if (dups.length) {
    for (const [marker, key] of dups) text = text.replace(JSON.stringify(marker), JSON.stringify(key));
    // What the runtime sees (the last of duplicate keys) must be harmless too; else no duplicates.
    const seen = JSON.parse(text);
    const safe = structuredClone(seen);
    sanitize(safe, env);
    if (JSON.stringify(safe) !== JSON.stringify(seen)) {
      const strip = (v: any): void => {
        if (v && typeof v === 'object') for (const k of Object.keys(v)) (k.startsWith('__dup') ? delete v[k] : strip(v[k]));
      };
      strip(cfg);
      text = JSON.stringify(cfg, null, 1);
    }
  }
  return raw ? rawMutate(text, raw) : text;
}

function rawMutate(text: string, m: Extract<Mutation, { kind: 'raw' }>): string {
  const at = text.length ? m.n % text.length : 0;
  switch (m.how) {
    case 'truncate': return text.slice(0, at);
    case 'garbage': return text.slice(0, at) + '\u0001}{,' + text.slice(at);
    case 'empty': return '';
    case 'null': return 'null';
    case 'array': return `[${text}]`;
    case 'bom': return '\ufeff' + text;
    case 'deep': return text.replace(/^\{/, '{"annotations0": ' + '['.repeat(5000) + ']'.repeat(5000) + ',');
    case 'deeper': return text.replace(/^\{/, '{"annotations0": ' + '['.repeat(200_000) + ']'.repeat(200_000) + ',');
    case 'trailing': return text + '\n{}';
    case 'nul': return text.slice(0, at) + '\u0000' + text.slice(at);
    case 'latin1': return text.slice(0, at) + '\udcff\xff' + text.slice(at);
    case 'huge': return text.replace(/^\{/, `{"annotations0": "${'h'.repeat(4 << 20)}",`);
    default: return text;
  }
}

// --- safety --------------------------------------------------------------------------------------

const sysctlCache = new Map<string, string | undefined>();
export function hostSysctl(key: string): string | undefined {
  if (!sysctlCache.has(key)) {
    let v: string | undefined;
    try {
      v = readFileSync('/proc/sys/' + key.replace(/\./g, '/'), 'utf8').replace(/\n$/, '');
    } catch {
      v = undefined;
    }
    sysctlCache.set(key, v);
  }
  return sysctlCache.get(key);
}

const hostNetDevices = new Set(readdirSync('/sys/class/net'));

function isUnder(p: string, dir: string): boolean {
  const n = normalize(p);
  return n === dir || n.startsWith(dir + '/');
}

/** A path that names nothing on the host (or something of the test's own). */
function harmless(p: string, env: CaseEnv): boolean {
  if (p.includes('\0')) return true;
  const abs = isAbsolute(p) ? p : resolve(env.bundle, p);
  if (isUnder(abs, env.testDir)) return true;
  try {
    return !existsSync(abs);
  } catch {
    return true;
  }
}

/** Would this argv run something other than a harmless program in the container? */
function safeArgs(args: unknown[], env: CaseEnv): boolean {
  if (!args.every((a) => typeof a === 'string')) return true; // refused by validation
  const [argv0, ...rest] = args as string[];
  if (argv0 === undefined) return true;
  if (['true', '/bin/true', 'echo', '/bin/echo'].includes(argv0)) return true;
  if (argv0 === 'sh' || argv0 === '/bin/sh') return ['-c exit 3', '-c exit 0'].includes(rest.join(' '));
  if (argv0 === 'sleep' || argv0 === '/bin/sleep') return rest.length === 1 && rest[0] === '0';
  if (argv0.includes('\0')) return true;
  if (!argv0.includes('/')) return !rootfsNames(env.rootfs).has(argv0); // found nowhere, whatever PATH says
  // A path: it must stay in the rootfs and name nothing, a directory or a file that cannot run.
  const c = join(env.rootfs, argv0);
  if (!isUnder(c, env.rootfs)) return false;
  try {
    const st = statSync(c);
    return st.isDirectory() || (st.isFile() && (st.mode & 0o111) === 0) || st.isCharacterDevice();
  } catch {
    return true;
  }
}

const namesCache = new Map<string, Set<string>>();
/** Every file name in the rootfs (a program name found in none of its dirs cannot run). */
function rootfsNames(rootfs: string): Set<string> {
  let names = namesCache.get(rootfs);
  if (!names) {
    names = new Set();
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        names!.add(e.name);
        if (e.isDirectory()) walk(join(d, e.name));
      }
    };
    walk(rootfs);
    namesCache.set(rootfs, names);
  }
  return names;
}

/** Pseudo file systems: their source is only a name. Any other mount may bind its source. */
const PSEUDO_FS = new Set(['tmpfs', 'proc', 'sysfs', 'devpts', 'mqueue', 'cgroup', 'cgroup2', 'nosuchfs']);
function mayBind(m: any): boolean {
  const binds = Array.isArray(m.options) && m.options.some((o: unknown) => o === 'bind' || o === 'rbind');
  return binds || !(typeof m.type === 'string' && PSEUDO_FS.has(m.type));
}

const MOUNT_TYPE_OK = new Set(MOUNT_TYPES.filter((x) => x !== undefined));

/** Keeps a case harmless to the host (see the header). Works on any shape. */
export function sanitize(cfg: any, env: CaseEnv): void {
  if (!obj(cfg)) return;
  const root = obj(cfg.root);
  if (root && typeof root.path === 'string' && !harmless(root.path, env) && root.path !== '/dev/null') root.path = env.rootfs;
  const proc = obj(cfg.process);
  if (proc && Array.isArray(proc.args) && !safeArgs(proc.args, env)) proc.args = ['true'];
  if (Array.isArray(cfg.mounts)) {
    for (const m of cfg.mounts) {
      if (!obj(m)) continue;
      if (Array.isArray(m.options)) m.options = m.options.filter((o: unknown) => typeof o !== 'string' || !/remount/i.test(o));
      if (typeof m.type === 'string' && !MOUNT_TYPE_OK.has(m.type)) m.type = 'tmpfs';
      if (m.source === 'SCRATCH') m.source = env.scratchDir;
      if (m.source === 'SCRATCH_FILE') m.source = env.scratchFile;
      if (mayBind(m) && typeof m.source === 'string' && !harmless(m.source, env) && m.source !== '/dev/null') m.source = env.scratchDir;
    }
  }
  const hooks = obj(cfg.hooks);
  if (hooks) {
    for (const list of Object.values(hooks)) {
      if (!Array.isArray(list)) continue;
      for (const h of list) {
        if (!obj(h) || typeof h.path !== 'string') continue;
        if (!HOOK_PATHS.includes(h.path)) h.path = '/bin/true';
        // busybox picks the applet by argv[0]: any other name makes it complain on stderr itself.
        const applet = /^\/bin\/(true|false)$/.exec(h.path)?.[1];
        if (applet && Array.isArray(h.args) && h.args.length > 0) h.args[0] = applet;
      }
    }
  }
  const linux = obj(cfg.linux);
  if (!linux) return;
  if (Array.isArray(linux.namespaces)) {
    for (const n of linux.namespaces) {
      if (obj(n) && typeof n.path === 'string' && !harmless(n.path, env) && n.path !== '/dev/null' && n.path !== '/tmp') n.path = '/nonexistent/ns';
    }
  }
  const sysctl = obj(linux.sysctl);
  if (sysctl) {
    for (const key of Object.keys(sysctl)) {
      // An existing sysctl only ever gets the host's own value: even applied to the host, it changes nothing.
      const host = hostSysctl(key);
      if (host !== undefined) sysctl[key] = host;
      else if (key.includes('/') && hostSysctl(key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'))) !== undefined) delete sysctl[key];
    }
  }
  if (typeof linux.cgroupsPath === 'string' && !['', '/', '.', '..', '/..'].includes(linux.cgroupsPath) && !linux.cgroupsPath.includes(env.id)) {
    linux.cgroupsPath = `${env.cgroupParent}/${env.id}`;
  }
  const res = obj(linux.resources);
  const unified = res && obj(res.unified);
  if (unified) {
    for (const k of Object.keys(unified)) if (k.startsWith('cgroup.') || k.includes('/') || !UNIFIED_KEYS.includes(k)) delete unified[k];
  }
  const seccomp = obj(linux.seccomp);
  if (seccomp && typeof seccomp.listenerPath === 'string' && !harmless(seccomp.listenerPath, env)) seccomp.listenerPath = '/nonexistent/listener.sock';
  const net = obj(linux.netDevices);
  if (net) for (const k of Object.keys(net)) if (hostNetDevices.has(k) && k !== 'lo') delete net[k];
}
