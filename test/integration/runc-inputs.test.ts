// Inputs runc (1.1.5) accepts and tsrun refused (issue 14): null members, exec --process files,
// rootfsPropagation's recursive values, a device fileMode holding a whole st_mode, a container
// without a mount namespace, /proc as a bind mount of a procfs, keys that name a field only
// case-insensitively (Go's encoding/json). Real containers, and nothing may be left on the host.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import {
  assertNoLeaks, describe, makeBundle, readOut, rt, snapshotHost, testingTsrun, uniqueId, waitUntil,
  type Bundle, type Config, type RtResult,
} from '../helpers/index.js';

const LONG = ['sh', '-c', 'echo started; exec sleep 1000'];

function ok(t: Test, r: RtResult, what: string): boolean {
  return t.equal(r.status, 0, `${what} succeeds`, { detail: describe(r) });
}

/** `run` of a bundle whose process is `sh -c script`; returns its stdout. */
function runScript(t: Test, script: string, patch?: (c: Config) => void, copyRootfs = false): RtResult {
  const id = uniqueId(t);
  const b = makeBundle(t, patch, { args: ['sh', '-c', script], copyRootfs });
  return rt(t, ['run', '--bundle', b.dir, id]);
}

async function running(t: Test, id: string, b: Bundle): Promise<void> {
  const c = rt(t, ['create', '--bundle', b.dir, id]);
  ok(t, c, 'create');
  ok(t, rt(t, ['start', id]), 'start');
  t.ok(await waitUntil(() => readOut(c).includes('started')), 'the process runs', { detail: readOut(c) });
}

// --- null members (item 5) ---------------------------------------------------------------

t.test('null members are absent, as runc reads them: "args": null in seccomp rules', async (t) => {
  const before = snapshotHost(t);
  const r = runScript(t, 'mkdir /tmp/x 2>&1; echo done', (c) => {
    c.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: null,
      syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', args: null, errnoRet: null, comment: null }],
    };
    c.hooks = null;
    c.annotations = null;
    c.process.capabilities.ambient = null;
    c.linux.resources.memory = null;
  });
  ok(t, r, 'run');
  t.match(r.stdout, /Operation not permitted/, 'the rule with "args": null applies (mkdir gets EPERM)');
  await assertNoLeaks(t, before);
});

const podmanProfile = '/usr/share/containers/seccomp.json';
t.test('podman\'s own seccomp profile (syscalls with "args": null)', { skip: existsSync(podmanProfile) ? false : `${podmanProfile} is not installed` }, async (t) => {
  const before = snapshotHost(t);
  const profile = JSON.parse(readFileSync(podmanProfile, 'utf8'));
  t.ok(JSON.stringify(profile).includes('"args":null'), 'the profile has "args": null');
  const r = runScript(t, 'grep Seccomp: /proc/self/status', (c) => { c.linux.seccomp = profile; });
  ok(t, r, 'run');
  t.match(r.stdout, /Seccomp:\s+2/, 'the filter is on');
  await assertNoLeaks(t, before);
});

t.test('a required member given as null is reported missing, with its pointer', { skip: !testingTsrun() && 'tsrun message' }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => { c.process.cwd = null; }, { args: LONG });
  const r = rt(t, ['create', '--bundle', b.dir, id]);
  t.not(r.status, 0, 'create fails');
  t.equal(r.stderr, `tsrun: create ${id}: config.json /process/cwd: is required but missing\n`);
  await assertNoLeaks(t, before);
});

// --- exec --process (item 6) -----------------------------------------------------------------

t.test('exec --process: checked like config.json\'s process; runc\'s defaults for what is missing', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  await running(t, id, b);
  const file = (name: string, doc: unknown) => {
    const p = join(b.dir, name);
    writeFileSync(p, typeof doc === 'string' ? doc : JSON.stringify(doc));
    return p;
  };

  // No user (runc: uid 0, gid 0), no terminal: -t is ignored with a process file, as in runc's tty.bats.
  const minimal = file('minimal.json', { args: ['sh', '-c', 'echo "ids $(id -u) $(id -g)"'], cwd: '/' });
  let r = rt(t, ['exec', '-t', '--process', minimal, id]);
  ok(t, r, 'exec of a process file without user');
  t.match(r.stdout, /ids 0 0/);
  r = rt(t, ['exec', '--process', file('nulls.json', { args: ['true'], cwd: '/', user: null, env: null, capabilities: null }), id]);
  ok(t, r, 'exec of a process file with null members');

  const cases: Array<[string, unknown, RegExp]> = [
    ['uid.json', { args: ['true'], cwd: '/', user: { uid: '0', gid: 0 } }, /uid\.json \/user\/uid: must be an integer, not a string$/],
    ['rlimit.json', { args: ['true'], cwd: '/', rlimits: [{ type: 'RLIMIT_NOFILE', soft: '1024', hard: 1024 }] }, /rlimit\.json \/rlimits\/0\/soft: must be an integer, not a string$/],
    ['nocwd.json', { args: ['true'] }, /nocwd\.json \/cwd: is required but missing$/],
    ['relcwd.json', { args: ['true'], cwd: 'tmp' }, /relcwd\.json \/cwd: must be an absolute path; got "tmp"$/],
    ['noargs.json', { cwd: '/' }, /noargs\.json \/args: is required/],
    ['syntax.json', '{"args": ["true"],', /syntax\.json: invalid JSON/],
  ];
  for (const [name, doc, message] of cases) {
    r = rt(t, ['exec', '--process', file(name, doc), id]);
    t.not(r.status, 0, `${name}: exec fails`, { detail: describe(r) });
    if (testingTsrun()) {
      t.equal(r.stderr.split('\n').filter(Boolean).length, 1, `${name}: one line`, { stderr: r.stderr });
      t.match(r.stderr.trim(), new RegExp(`^tsrun: exec ${id}: `), `${name}: names the container`);
      t.match(r.stderr.trim(), message, `${name}: names the file and the pointer`);
    }
  }
  ok(t, rt(t, ['delete', '--force', id]), 'delete');
  await assertNoLeaks(t, before);
});

// --- keys matched case-insensitively, as Go's encoding/json does (runc's update.bats) ----------

const CPUSET = '/sys/fs/cgroup/cpuset';
function cpusetSkip(): string | false {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync(join(CPUSET, 'cgroup.procs'))) return 'needs the cgroup v1 cpuset hierarchy';
  if (readFileSync(join(CPUSET, 'cpuset.cpus'), 'utf8').trim() === '0') return 'needs 2 CPUs';
  return false;
}

t.test('"CPU": {"Cpus": "0"} is linux.resources.cpu.cpus (runc: Go matches keys case-insensitively); update -r and exec --process too', { skip: cpusetSkip() }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const path = `/tsrun-it-${id}`;
  const b = makeBundle(t, (c) => {
    c.linux.cgroupsPath = path;
    c.linux.resources = { ...c.linux.resources, CPU: { Cpus: '0', Mems: '0' } };
    c.annotations = { CPU: 'kept' };
  }, { args: LONG });
  await running(t, id, b);
  const cg = (f: string) => readFileSync(join(CPUSET, path, f), 'utf8').trim();
  t.equal(cg('cpuset.cpus'), '0', 'cpuset.cpus from "CPU": {"Cpus": "0"}');
  t.equal(cg('cpuset.mems'), '0', 'cpuset.mems');
  const inside = rt(t, ['exec', id, 'grep', 'Cpus_allowed_list', '/proc/1/status']);
  t.equal(inside.stdout, 'Cpus_allowed_list:\t0\n', 'the container runs on CPU 0 only', { detail: describe(inside) });
  const state = JSON.parse(rt(t, ['state', id]).stdout);
  t.same(state.annotations, { CPU: 'kept' }, 'an annotation key is data: not renamed');

  const res = join(b.dir, 'resources.json');
  writeFileSync(res, JSON.stringify({ CPU: { cpus: '0', Cpus: '1' } }));
  ok(t, rt(t, ['update', '-r', res, id]), 'update -r with "CPU": {"Cpus": "1"}');
  t.equal(cg('cpuset.cpus'), '1', 'cpuset.cpus after update: the later key wins, as in Go');

  const proc = join(b.dir, 'process.json');
  writeFileSync(proc, JSON.stringify({ Args: ['/bin/sh', '-c', 'echo "$(id -u) $X"'], CWD: '/', User: { UID: 1000, GID: 1000 }, Env: ['PATH=/bin:/usr/bin', 'X=folded'] }));
  const e = rt(t, ['exec', '--process', proc, id]);
  ok(t, e, 'exec --process with capitalised keys');
  t.equal(e.stdout, '1000 folded\n', 'User.UID and Env are the user and env');
  ok(t, rt(t, ['delete', '--force', id]), 'delete');
  await assertNoLeaks(t, before);
});

// --- rootfsPropagation (item 11) ---------------------------------------------------------------

/** The optional fields (shared:N, master:N, unbindable) of the mounts at / and /proc, as the container sees them. */
const PROPAGATION = `awk '$5 == "/" || $5 == "/proc" { o = ""; for (i = 7; $i != "-"; i++) o = o " " $i; print $5 ":" o }' /proc/self/mountinfo`;

for (const [value, root, proc] of [
  ['', /^$/, /^$/],
  ['private', /^$/, /^$/],
  ['rprivate', /^$/, /^$/],
  ['slave', /^$/, /^$/],
  ['rslave', /^$/, /^$/],
  ['shared', /^ shared:\d+$/, /^$/],
  ['rshared', /^ shared:\d+$/, /^ shared:\d+$/],
  ['unbindable', /^ unbindable$/, /^$/],
  ['runbindable', /^ unbindable$/, /^ unbindable$/],
] as const) {
  t.test(`rootfsPropagation ${JSON.stringify(value)} is accepted and applied`, async (t) => {
    const before = snapshotHost(t);
    const r = runScript(t, PROPAGATION, (c) => { c.linux.rootfsPropagation = value; });
    ok(t, r, 'run');
    const lines = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]));
    t.match(lines['/'], root, 'propagation of /', { stdout: r.stdout });
    t.match(lines['/proc'], proc, 'propagation of /proc', { stdout: r.stdout });
    await assertNoLeaks(t, before);
  });
}

// containerd's bidirectional volume: rootfsPropagation rshared and a bind mount of a shared host
// mount must stay peers, so what the container mounts under the volume appears on the host.
t.test('rootfsPropagation rshared: a bind of a shared host mount stays its peer (bidirectional volume)', async (t) => {
  const before = snapshotHost(t);
  const shared = mkdtempSync(join(tmpdir(), 'tsrun-bidi-'));
  const mnt = (...a: string[]) => spawnSync('mount', a, { encoding: 'utf8' });
  t.teardown(() => {
    spawnSync('umount', ['-R', shared]);
    rmSync(shared, { recursive: true, force: true });
  });
  t.equal(mnt('--bind', shared, shared).status, 0, 'the host dir is a mount');
  t.equal(mnt('--make-rshared', shared).status, 0, 'a shared one');
  const r = runScript(t, 'mkdir -p /bidi/from-ctr && mount -t tmpfs tsrun-bidi /bidi/from-ctr && echo mounted', (c) => {
    c.linux.rootfsPropagation = 'rshared';
    for (const set of ['bounding', 'effective', 'permitted'] as const) c.process.capabilities[set] = [...new Set([...c.process.capabilities[set], 'CAP_SYS_ADMIN'])];
    c.mounts.push({ destination: '/bidi', type: 'bind', source: shared, options: ['rbind', 'rshared'] });
  });
  ok(t, r, 'run');
  t.match(r.stdout, /mounted/, 'the container mounts under the volume');
  t.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${join(shared, 'from-ctr')} `), "the container's mount appears on the host");
  spawnSync('umount', ['-R', shared]);
  await assertNoLeaks(t, before);
});

// --- device fileMode (item 14) --------------------------------------------------------------

t.test('a device fileMode holding the file-type bits (podman --privileged) uses the permission bits', async (t) => {
  const before = snapshotHost(t);
  const r = runScript(t, 'stat -c "%F %a %t:%T" /dev/null2 /dev/zero2', (c) => {
    c.linux.devices = [
      { path: '/dev/null2', type: 'c', major: 1, minor: 3, fileMode: 0o20600, uid: 0, gid: 0 }, // 8576, as podman passes it
      { path: '/dev/zero2', type: 'c', major: 1, minor: 5, fileMode: 0o20640, uid: 0, gid: 0 },
    ];
    c.linux.resources.devices = [{ allow: true, access: 'rwm' }];
  });
  ok(t, r, 'run');
  t.equal(r.stdout, 'character special file 600 1:3\ncharacter special file 640 1:5\n');
  await assertNoLeaks(t, before);
});

// --- no mount namespace (item 10) -----------------------------------------------------------

const noMountNs = (c: Config) => {
  c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'mount');
  delete c.linux.maskedPaths;
  delete c.linux.readonlyPaths;
};

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(dir));
}

t.test('no mount namespace: runs in the caller\'s, and delete leaves no mount behind', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, noMountNs, { args: ['sh', '-c', 'head -n 1 /proc/self/mountinfo; echo started; exec sleep 1000'], copyRootfs: true });
  const hostNs = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')[0];
  const c = rt(t, ['create', '--bundle', b.dir, id]);
  ok(t, c, 'create');
  t.ok(mountsUnder(b.rootfs).length >= 3, 'the rootfs and its mounts are in the caller\'s mount namespace (as with runc)');
  ok(t, rt(t, ['start', id]), 'start');
  t.ok(await waitUntil(() => readOut(c).includes('started')), 'the process runs', { detail: readOut(c) });
  t.match(readOut(c), new RegExp(`^\\d+ \\d+ \\S+ ${b.rootfs.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} / `), 'its / is the rootfs');
  t.equal(readFileSync('/proc/self/mountinfo', 'utf8').split('\n')[0], hostNs, 'the host\'s / is untouched');
  const e = rt(t, ['exec', id, 'sh', '-c', 'test -e /linuxrc && ls /proc/1/cmdline && pwd']);
  ok(t, e, 'exec');
  t.equal(e.stdout, '/proc/1/cmdline\n/\n', 'an exec\'d process is in the container\'s root, not the host\'s');
  ok(t, rt(t, ['delete', '--force', id]), 'delete');
  t.strictSame(mountsUnder(b.rootfs), [], 'no mount left under the rootfs');
  await assertNoLeaks(t, before);
});

t.test('no mount namespace: run, and a failed create, leave no mount behind', async (t) => {
  const before = snapshotHost(t);
  const r = runScript(t, 'echo hello', noMountNs, true);
  ok(t, r, 'run');
  t.equal(r.stdout, 'hello\n');
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => {
    noMountNs(c);
    c.hooks = { createRuntime: [{ path: '/bin/false' }] };
  }, { args: LONG, copyRootfs: true });
  const f = rt(t, ['create', '--bundle', b.dir, id]);
  t.not(f.status, 0, 'create with a failing hook fails', { detail: describe(f) });
  t.strictSame(mountsUnder(b.rootfs), [], 'no mount left under the rootfs');
  await assertNoLeaks(t, before);
});

t.test('no mount namespace: masked or read-only paths are refused (runc too)', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => {
    noMountNs(c);
    c.linux.maskedPaths = ['/proc/kcore'];
  }, { args: LONG });
  const r = rt(t, ['create', '--bundle', b.dir, id]);
  t.not(r.status, 0, 'create fails');
  if (testingTsrun()) t.match(r.stderr, new RegExp(`^tsrun: create ${id}: config.json /linux/maskedPaths: needs a mount namespace`));
  await assertNoLeaks(t, before);
});

// --- /proc as a bind mount of a procfs -------------------------------------------------------

t.test('/proc may be a bind mount ("type": "none") of the host\'s /proc', async (t) => {
  const before = snapshotHost(t);
  const r = runScript(t, 'test -e /proc/self/status && echo procfs', (c) => {
    c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
    const proc = c.mounts.find((m: { destination: string }) => m.destination === '/proc');
    Object.assign(proc, { type: 'none', source: '/proc', options: ['rbind', 'nosuid', 'nodev', 'noexec'] });
  });
  ok(t, r, 'run');
  t.equal(r.stdout, 'procfs\n');
  await assertNoLeaks(t, before);
});

t.test('/proc as a bind mount of something that is not a procfs is refused', { skip: !testingTsrun() && 'tsrun message' }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => {
    const proc = c.mounts.find((m: { destination: string }) => m.destination === '/proc');
    Object.assign(proc, { type: 'none', source: '/tmp', options: ['rbind'] });
  }, { args: LONG });
  const r = rt(t, ['create', '--bundle', b.dir, id]);
  t.not(r.status, 0, 'create fails');
  t.match(r.stderr, new RegExp(`^tsrun: create ${id}: config.json /mounts/0: /proc must be a procfs`));
  await assertNoLeaks(t, before);
});

// A bundle is judged whole before anything is made: a plan check (here a bind source that does
// not exist) fails create before the state dir, the cgroup or the init exist.
t.test('a config the plan refuses fails create before anything is made', { skip: !testingTsrun() && 'tsrun --debug records' }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => { c.mounts.push({ destination: '/data', type: 'bind', source: '/nonexistent-tsrun-source', options: ['rbind'] }); });
  const r = rt(t, ['--debug', 'create', '--bundle', b.dir, id]);
  t.not(r.status, 0, 'create fails', { detail: describe(r) });
  t.match(r.stderr, /mount \/data: source \/nonexistent-tsrun-source: no such file or directory/, 'the line names the mount and the cause');
  t.notMatch(r.stderr, /level=debug msg="create [^"]*: cgroup /, 'no cgroup was made');
  t.notMatch(r.stderr, /nsexec container setup/, 'no init was started');
  await assertNoLeaks(t, before);
});
