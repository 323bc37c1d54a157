// Golden plans: a config and a HostFacts test double in, the exact list of init operations out
// (test/linux/golden/<case>.txt, one op per line). No root, no kernel, no built executable.
// After a deliberate change of a plan: GOLDEN_UPDATE=1 bash test/run.sh test/linux/plans.test.ts,
// then read the diff of the golden files before committing it.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { Test } from 'tap';
import { buildCreatePlan, type CreatePlanInput } from '../../src/linux/create-plan.js';
import { buildExecPlan } from '../../src/linux/exec-plan.js';
import type { HostFacts } from '../../src/linux/host-facts.js';
import { OPS } from '../../src/native/op-table.js';
import type { PlanOp } from '../../src/native/plan.js';
import type { Spec } from '../../src/spec/types.js';
import { baseConfig, type Config } from '../helpers/bundle.js';
import { fakeHost } from '../helpers/fake-host.js';

const goldenDir = join(dirname(fileURLToPath(import.meta.url)), 'golden');
const NAMES = new Map(OPS.map((o) => [o.code, o.name]));
const ROOTFS = '/bundles/b/rootfs';
const BUNDLE = '/bundles/b';

/** One line per op: name, flags, ints, strs (JSON), and its wording. */
function render(ops: readonly PlanOp[]): string {
  return ops.map((o) => {
    const strs = (o.strs ?? []).map((s) => (typeof s === 'string' ? s : `<${s.length} bytes>`));
    return `${NAMES.get(o.op) ?? o.op}${o.flags ? ` flags=${o.flags}` : ''} ints=${JSON.stringify((o.ints ?? []).map(String))} strs=${JSON.stringify(strs)}  # ${o.what}`;
  }).join('\n') + '\n';
}

function golden(t: Test, name: string, text: string): void {
  const file = join(goldenDir, `${name}.txt`);
  if (process.env.GOLDEN_UPDATE === '1' || !existsSync(file)) {
    mkdirSync(goldenDir, { recursive: true });
    writeFileSync(file, text);
    if (process.env.GOLDEN_UPDATE !== '1') t.fail(`${file} was missing; written now: review and commit it`);
    return;
  }
  t.equal(text, readFileSync(file, 'utf8'), `the plan is ${file}`);
}

function input(spec: Config, host: HostFacts, more: Partial<CreatePlanInput> = {}): CreatePlanInput {
  return {
    spec: spec as Spec,
    rootfs: ROOTFS,
    bundle: BUNDLE,
    noPivot: false,
    cgroupDir: (m) => `${m.mountPoint}/tsrun-golden`,
    fifoFd: 9,
    firstClosedFd: 3,
    startState: '{"id":"golden"}',
    host,
    ...more,
  };
}

const HOST_PATHS = { '/data': 'dir', '/etc/hosts': 'file', '/sys/fs/cgroup/memory/tsrun-golden': 'dir', '/sys/fs/cgroup/pids/tsrun-golden': 'dir' } as const;

const CASES: Array<[string, (c: Config) => void, Partial<CreatePlanInput>?, Parameters<typeof fakeHost>[0]?]> = [
  ['default', () => {}],
  ['terminal-and-hooks', (c) => {
    c.process.terminal = true;
    c.hooks = { createContainer: [{ path: '/bin/hook', args: ['hook', 'cc'] }], startContainer: [{ path: '/bin/hook' }] };
  }, { consoleFd: 7 }],
  ['bind-mounts-rshared', (c) => {
    c.linux.rootfsPropagation = 'rshared';
    c.mounts.push({ destination: '/data', type: 'bind', source: '/data', options: ['rbind', 'rshared'] });
    c.mounts.push({ destination: '/etc/hosts', type: 'bind', source: '/etc/hosts', options: ['bind', 'ro'] });
  }, {}, { paths: HOST_PATHS, mountPoints: ['/', '/bundles'] }],
  ['user-namespace', (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.mounts.push({ destination: '/data', type: 'bind', source: '/data', options: ['rbind'] });
  }, {}, { paths: HOST_PATHS }],
  ['no-pivot-readonly-devices', (c) => {
    c.root.readonly = true;
    c.linux.devices = [{ path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o20600 }];
    c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
  }, { noPivot: true }, { procSysMounts: ['/proc', '/sys', '/run/host-proc'] }],
  ['no-mount-namespace', (c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'mount');
    c.linux.maskedPaths = [];
    c.linux.readonlyPaths = [];
  }],
  ['cgroup-namespace', (c) => {
    c.linux.namespaces.push({ type: 'cgroup' });
    c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid'] });
  }, {}, { paths: HOST_PATHS }],
  // runc spec --rootless on pure v2: /sys is the host's, rbound; cgroup2 cannot be mounted over its
  // cgroup2 submount (EBUSY), so the container's cgroup is bound there, as runc's fallback does.
  ['rootless-v2-host-sys', (c) => {
    c.linux.namespaces.push({ type: 'cgroup' }, { type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 1000, size: 1 }];
    c.mounts.push({ destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] });
    c.mounts.push({ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid'] });
  }, {}, { paths: { ...HOST_PATHS, '/sys': 'dir' }, cgroupMounts: [{ name: 'unified', mountPoint: '/sys/fs/cgroup', version: 2, options: '' }] }],
];

for (const [name, patch, more, hostOpts] of CASES) {
  t.test(`create plan: ${name}`, async (t) => {
    const c = baseConfig();
    patch(c);
    const plan = buildCreatePlan(input(c, fakeHost(hostOpts), more));
    golden(t, `create-${name}`, `cloneFlags=0x${plan.cloneFlags.toString(16)} userMaps=${plan.userMaps} forks=${plan.forks} syncsHooks=${plan.syncsHooks}\n${render(plan.ops)}`);
  });
}

// The config is judged before a plan is built (test/spec/judge.test.ts); what the builders still
// assert is what a host fact decides: a label that no LSM of the host takes.
t.test('create plan: a label the host cannot apply is refused, naming the field', async (t) => {
  const build = (patch: (c: Config) => void, hostOpts?: Parameters<typeof fakeHost>[0]) => () => {
    const c = baseConfig();
    patch(c);
    buildCreatePlan(input(c, fakeHost(hostOpts)));
  };
  t.throws(build((c) => { c.linux.mountLabel = 'system_u:object_r:x:s0'; }), /linux\.mountLabel: SELinux is not enabled on this host/);
  t.throws(build((c) => { c.process.apparmorProfile = 'p'; }), /process\.apparmorProfile: AppArmor is not enabled on this host/);
});

t.test('exec plan: joins the namespaces the container does not share with the host', async (t) => {
  const links: Record<string, string> = {};
  for (const ns of ['user', 'ipc', 'uts', 'net', 'pid', 'cgroup', 'time', 'mnt']) {
    links[`/proc/self/ns/${ns}`] = `${ns}:[1]`;
    links[`/proc/42/ns/${ns}`] = ['ipc', 'uts', 'pid', 'mnt'].includes(ns) ? `${ns}:[2]` : `${ns}:[1]`;
  }
  const proc = { user: { uid: 1000, gid: 1000, additionalGids: [10] }, cwd: '/tmp', args: ['sh', '-c', 'id'], env: ['PATH=/bin'], noNewPrivileges: true };
  golden(t, 'exec-shared-net', render(buildExecPlan({ host: fakeHost({ links }), pid: 42, process: proc, firstClosedFd: 3 })));
  t.throws(() => buildExecPlan({ host: fakeHost({ links: {} }), pid: 42, process: proc, firstClosedFd: 3 }), /container init 42 is gone/);
});
