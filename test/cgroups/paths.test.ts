// Cgroup path rules (runc's), mode detection, per-hierarchy layout.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { cleanPath, detectMode, expandSlice, layout, levels, parseProcCgroup, resolveCgroup } from '../../src/cgroups/paths.js';

const HYBRID_SELF = [
  '9:name=systemd:/',
  '8:pids:/',
  '4:memory:/agent/abc',
  '2:cpu,cpuacct:/cpu-grp',
  '0::/',
  '',
].join('\n');

t.test('cleanPath follows Go filepath.Clean and runc CleanPath', async (t) => {
  t.equal(cleanPath(''), '');
  t.equal(cleanPath('/a/b/../c/'), '/a/c');
  t.equal(cleanPath('/../../x'), '/x');
  t.equal(cleanPath('a//b/./c'), 'a/b/c');
  t.equal(cleanPath('../../etc'), 'etc', 'a relative path cannot climb out');
  t.equal(cleanPath('a/..'), '.');
});

t.test('expandSlice matches systemd/runc', async (t) => {
  t.equal(expandSlice('system.slice'), '/system.slice');
  t.equal(expandSlice('a-b-c.slice'), '/a.slice/a-b.slice/a-b-c.slice');
  t.equal(expandSlice('-.slice'), '/');
  t.throws(() => expandSlice('a--b.slice'), /invalid slice name: a--b.slice/);
  t.throws(() => expandSlice('foo'), /invalid slice name: foo/);
  t.throws(() => expandSlice('a/b.slice'), /invalid slice name/);
});

t.test('parseProcCgroup splits co-mounted controllers and names cgroup2 "unified"', async (t) => {
  const m = parseProcCgroup(HYBRID_SELF);
  t.equal(m.get('memory'), '/agent/abc');
  t.equal(m.get('cpu'), '/cpu-grp');
  t.equal(m.get('cpuacct'), '/cpu-grp');
  t.equal(m.get('name=systemd'), '/');
  t.equal(m.get('unified'), '/');
});

t.test('absolute cgroupsPath is used as is in every hierarchy', async (t) => {
  const h = resolveCgroup('/machine/web1/../web2', 'id1', { systemd: false, mode: 'hybrid', ownCgroup: HYBRID_SELF });
  t.same(h, { path: '/machine/web2', systemd: false, mode: 'hybrid' });
});

t.test('relative and default paths are relative to the caller own cgroup per hierarchy (v1)', async (t) => {
  const h = resolveCgroup('pod/c1', 'id1', { systemd: false, mode: 'hybrid', ownCgroup: HYBRID_SELF });
  t.equal(h.path, '/pod/c1', 'the unified (primary) path');
  t.same(h.paths, { memory: '/agent/abc/pod/c1', cpu: '/cpu-grp/pod/c1', cpuacct: '/cpu-grp/pod/c1' });
  const d = resolveCgroup(undefined, 'web1', { systemd: false, mode: 'legacy', ownCgroup: '1:devices:/\n2:memory:/\n' });
  t.same(d, { path: '/web1', systemd: false, mode: 'legacy' }, 'default is the id, from the root here');
  const e = resolveCgroup('', 'web1', { systemd: false, mode: 'legacy', ownCgroup: '1:devices:/a\n' });
  t.equal(e.path, '/a/web1');
});

t.test('relative path on a unified host is relative to the parent of the caller cgroup (runc fs2)', async (t) => {
  const h = resolveCgroup('c1', 'id', { systemd: false, mode: 'unified', ownCgroup: '0::/user.slice/session-1.scope\n' });
  t.same(h, { path: '/user.slice/c1', systemd: false, mode: 'unified' });
});

t.test('root and own cgroup are refused', async (t) => {
  t.throws(() => resolveCgroup('/', 'id', { systemd: false, mode: 'legacy' }), /^cgroup: cgroupsPath "\/": names the root cgroup$/);
  t.throws(() => resolveCgroup('a/..', 'id', { systemd: false, mode: 'legacy', ownCgroup: '' }), /names the caller's own cgroup/);
});

t.test('systemd form: the unit and slice runc would ask systemd for, and their cgroup path', async (t) => {
  t.equal(resolveCgroup('system.slice:docker:abc', 'id', { systemd: true, mode: 'hybrid' }).path, '/system.slice/docker-abc.scope');
  t.equal(resolveCgroup('machine-pods.slice:libpod:x1', 'id', { systemd: true, mode: 'hybrid' }).path,
    '/machine.slice/machine-pods.slice/libpod-x1.scope');
  t.equal(resolveCgroup(':crio:x', 'id', { systemd: true, mode: 'hybrid' }).path, '/system.slice/crio-x.scope', 'empty slice is system.slice');
  t.equal(resolveCgroup('user.slice::x', 'id', { systemd: true, mode: 'hybrid' }).path, '/user.slice/-x.scope', 'no prefix: "-name.scope", as runc');
  t.equal(resolveCgroup('system.slice:p:sub.slice', 'id', { systemd: true, mode: 'hybrid' }).path, '/system.slice/sub.slice');
  const d = resolveCgroup(undefined, 'web1', { systemd: true, mode: 'unified' });
  t.same(d, { path: '/system.slice/runc-web1.scope', systemd: true, unit: 'runc-web1.scope', slice: 'system.slice', mode: 'unified' });
  const r = resolveCgroup(undefined, 'web1', { systemd: true, mode: 'unified', rootless: true, managerCgroup: '/user.slice/user-1000.slice/user@1000.service' });
  t.same(r, {
    path: '/user.slice/user-1000.slice/user@1000.service/user.slice/runc-web1.scope', systemd: true, unit: 'runc-web1.scope', slice: 'user.slice', userBus: true, mode: 'unified',
  }, 'rootless: user.slice of the user instance');
  t.equal(resolveCgroup('-.slice:p:n', 'id', { systemd: true, mode: 'unified' }).path, '/p-n.scope', 'the root slice');
  t.throws(() => resolveCgroup('a:b', 'id', { systemd: true, mode: 'unified' }), /^cgroup: linux.cgroupsPath "a:b": expected "slice:prefix:name" for systemd cgroups$/);
  t.throws(() => resolveCgroup('system.slice:p:', 'id', { systemd: true, mode: 'unified' }), /invalid unit name ""/);
  t.throws(() => resolveCgroup('a--b.slice:p:n', 'id', { systemd: true, mode: 'unified' }), /invalid slice name: a--b.slice/);
  t.throws(() => resolveCgroup('a/b.slice:p:n', 'id', { systemd: true, mode: 'unified' }), /invalid slice name/);
  t.throws(() => resolveCgroup('/abs/path', 'id', { systemd: true, mode: 'hybrid' }),
    /^cgroup: linux.cgroupsPath "\/abs\/path": expected "slice:prefix:name" for systemd cgroups$/);
  t.throws(() => resolveCgroup('bad:p:n', 'id', { systemd: true, mode: 'hybrid' }), /invalid slice name: bad/);
});

t.test('this host is hybrid (DESIGN.md), detected with statfs', async (t) => {
  t.equal(detectMode(), 'hybrid');
});

t.test('mode of a test double tree comes from its files; layout follows TSRUN_CGROUP_ROOT', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-cg-paths-'));
  t.teardown(() => {
    delete process.env.TSRUN_CGROUP_ROOT;
    rmSync(dir, { recursive: true, force: true });
  });
  const uni = join(dir, 'u');
  mkdirSync(uni);
  writeFileSync(join(uni, 'cgroup.controllers'), 'memory pids\n');
  const hyb = join(dir, 'h');
  mkdirSync(join(hyb, 'unified'), { recursive: true });
  mkdirSync(join(hyb, 'memory'));
  mkdirSync(join(hyb, 'systemd'));
  writeFileSync(join(hyb, 'unified', 'cgroup.controllers'), '\n');
  const leg = join(dir, 'l');
  mkdirSync(join(leg, 'pids'), { recursive: true });

  process.env.TSRUN_CGROUP_ROOT = uni;
  t.equal(detectMode(), 'unified');
  t.same(layout({ path: '/a/b', systemd: false, mode: 'unified' }).v2, { mount: uni, dir: join(uni, 'a/b') });
  process.env.TSRUN_CGROUP_ROOT = hyb;
  t.equal(detectMode(), 'hybrid');
  const l = layout({ path: '/a', systemd: false, mode: 'hybrid', paths: { memory: '/m/a' } });
  t.same([...l.v1.keys()], ['memory', 'name=systemd'], 'only mounted hierarchies');
  t.equal(l.v1.get('memory')?.dir, join(hyb, 'memory/m/a'));
  t.equal(l.v1.get('name=systemd')?.dir, join(hyb, 'systemd/a'));
  t.same(l.v2, { mount: join(hyb, 'unified'), dir: join(hyb, 'unified/a') });
  process.env.TSRUN_CGROUP_ROOT = leg;
  t.equal(detectMode(), 'legacy');
  t.same(layout({ path: '/a', systemd: false }).v2, undefined, 'mode absent from the handle: detected');
});

t.test('levels lists the directories below a mount, top first', async (t) => {
  t.same(levels('/r/memory', '/r/memory/a/b/c'), ['/r/memory/a', '/r/memory/a/b', '/r/memory/a/b/c']);
  t.same(levels('/r/memory', '/r/memory'), []);
});
