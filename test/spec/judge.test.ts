// The checks that a fact of the host decides (src/spec/judge.ts and its modules), against a
// HostFacts test double: /proc, bind sources, idmapped mounts, memory nodes, LSM labels. The
// lines are the ones create, run, restore and exec print. No root, no kernel.
import t from 'tap';
import { baseConfig, type Config } from '../helpers/bundle.js';
import { fakeHost } from '../helpers/fake-host.js';
import { bundle, clone, ensureValidatorsLoaded } from './fixtures/judge-support.js';
import type { Spec } from '../../src/spec/types.js';

const { judgeBundle, hostProblem, judgeProcess } = await ensureValidatorsLoaded();
const BUNDLE = '/bundles/b';
const HOST_PATHS = { '/data': 'dir', '/etc/hosts': 'file' } as const;

function problem(patch: (c: Config) => void, hostOpts?: Parameters<typeof fakeHost>[0]): string | undefined {
  const c = baseConfig();
  patch(c);
  return hostProblem(c as Spec, BUNDLE, fakeHost(hostOpts));
}

t.test('a config the plan can be built from has no problem', async (t) => {
  t.equal(problem(() => {}), undefined);
  t.equal(problem((c) => c.mounts.push({ destination: '/data', type: 'bind', source: '/data', options: ['rbind'] }), { paths: HOST_PATHS }), undefined);
});

t.test('/proc: a procfs is required there', async (t) => {
  const noProc = (c: Config) => void (c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/proc'));
  t.equal(problem(noProc), 'config.json /mounts: a mount of type "proc" at /proc is required');
  const bindAt = (source: string) => (c: Config) =>
    void (c.mounts = c.mounts.map((m: { destination: string }) => (m.destination === '/proc' ? { destination: '/proc/', type: 'bind', source, options: ['rbind'] } : m)));
  const i = baseConfig().mounts.findIndex((m: { destination: string }) => m.destination === '/proc');
  t.equal(problem(bindAt('/data'), { paths: HOST_PATHS }),
    `config.json /mounts/${i}: /proc must be a procfs (type "proc", or a bind mount of one), not a bind mount of /data, which is not a procfs`);
  t.equal(problem(bindAt('/host-proc'), { procfs: ['/host-proc'], paths: { '/host-proc': 'dir' } }), undefined, 'a bind of a procfs is one');
  t.equal(problem(bindAt('hp'), { procfs: [`${BUNDLE}/hp`], paths: { [`${BUNDLE}/hp`]: 'dir' } }), undefined, 'a relative source is relative to the bundle');
  t.equal(problem((c) => void (c.mounts = c.mounts.map((m: { destination: string }) => (m.destination === '/proc' ? { destination: '/proc', type: 'tmpfs', source: 'tmpfs' } : m)))),
    `config.json /mounts/${i}: /proc must be a procfs (type "proc", or a bind mount of one), not a mount of type "tmpfs"`);
});

t.test('bind mounts: the source exists; idmapped ones carry their own mappings', async (t) => {
  t.equal(problem((c) => c.mounts.push({ destination: '/data', type: 'bind', source: '/missing', options: ['rbind'] })), 'mount /data: source /missing: no such file or directory');
  t.equal(problem((c) => c.mounts.push({ destination: '/x//y/', options: ['bind'], source: 'rel' })), `mount /x/y/: source ${BUNDLE}/rel: no such file or directory`, 'a bind option alone makes a bind mount');
  t.equal(problem((c) => c.mounts.push({ destination: '/data', type: 'bind', source: '/data', options: ['rbind', 'ridmap'] }), { paths: HOST_PATHS }),
    'mount /data: ridmap needs uidMappings and gidMappings on the mount');
  const maps = [{ containerID: 0, hostID: 1000, size: 1 }];
  t.equal(problem((c) => c.mounts.push({ destination: '/data', type: 'bind', source: '/data', options: ['rbind', 'idmap'], uidMappings: maps, gidMappings: maps }), { paths: HOST_PATHS }), undefined);
  t.equal(problem((c) => c.mounts.push({ destination: '/t', type: 'tmpfs', source: '/missing' })), undefined, 'not a bind mount: its source is no path');
});

t.test('memory policy nodes: up to node 4095', async (t) => {
  const nodes = (n: string) => (c: Config) => void (c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: n });
  t.equal(problem(nodes('0-3,4095')), undefined);
  t.equal(problem(nodes('4096')), 'linux.memoryPolicy.nodes: invalid node list "4096"');
});

t.test('LSM labels need the LSM on the host, naming the field', async (t) => {
  t.equal(problem((c) => void (c.linux.mountLabel = 'system_u:object_r:x:s0')), 'linux.mountLabel: SELinux is not enabled on this host');
  t.equal(problem((c) => void (c.process.apparmorProfile = 'p')), 'process.apparmorProfile: AppArmor is not enabled on this host');
  t.equal(problem((c) => void (c.process.selinuxLabel = 'l')), 'process.selinuxLabel: SELinux is not enabled on this host');
  t.equal(problem((c) => void ((c.process.apparmorProfile = 'p'), (c.linux.mountLabel = 'l')), { lsm: { apparmor: true, selinux: true } }), undefined);
  const proc = baseConfig().process;
  t.throws(() => judgeProcess({ ...proc, apparmorProfile: 'p' }, fakeHost()), { message: 'process.apparmorProfile: AppArmor is not enabled on this host' }, 'exec: the same check');
  t.doesNotThrow(() => judgeProcess({ ...proc, selinuxLabel: 'l' }, fakeHost({ lsm: { selinux: true } })));
});

t.test('problems come in the order the plan met them: /proc, mountLabel, mounts, nodes, process labels', async (t) => {
  const all = (c: Config) => {
    c.process.apparmorProfile = 'p';
    c.linux.memoryPolicy = { mode: 'MPOL_BIND', nodes: '5000' };
    c.mounts.push({ destination: '/data', type: 'bind', source: '/missing', options: ['rbind'] });
    c.linux.mountLabel = 'l';
  };
  t.match(problem(all), /^linux\.mountLabel/);
  t.match(problem((c) => ((c.linux.mountLabel = undefined), all(c), delete c.linux.mountLabel)), /^mount \/data/);
  t.match(problem((c) => { all(c); delete c.linux.mountLabel; c.mounts.pop(); }), /^linux\.memoryPolicy/);
  t.match(problem((c) => { all(c); c.mounts = c.mounts.filter((m: { destination: string }) => m.destination !== '/proc'); }), /a mount of type "proc" at \/proc is required/);
});

t.test('judgeBundle: schema and semantics first, then the host', async (t) => {
  const c = clone(baseConfig());
  c.root = { path: 'rootfs' };
  c.mounts.push({ destination: '/data', type: 'bind', source: '/nonexistent-judge-source', options: ['rbind'] });
  const dir = bundle(t, c);
  t.throws(() => judgeBundle(dir, fakeHost()), { message: 'mount /data: source /nonexistent-judge-source: no such file or directory' });
  t.equal(judgeBundle(dir, fakeHost({ paths: { '/nonexistent-judge-source': 'dir' } })).mounts?.length, c.mounts.length, 'accepted where the host has the source');
  delete c.process;
  t.throws(() => judgeBundle(bundle(t, c), fakeHost()), { message: 'config.json /process: is required: the container needs a process to start' }, 'semantics first');
});
