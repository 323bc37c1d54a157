// --systemd-cgroup where no systemd runs (this development host: PID 1 is not systemd, no system
// bus): every command that would make a cgroup fails with one clear line, never falls back to
// cgroupfs, and leaves nothing behind. The driver itself is tested against a real systemd in the
// systemd guest (test/vm/guest/systemd.vm.ts).
import { existsSync } from 'node:fs';
import t from 'tap';
import { assertNoLeaks, describe, makeBundle, rt, snapshotHost, stateOf, testingTsrun, uniqueId } from '../helpers/index.js';

const noSystemd = existsSync('/run/systemd/system') ? 'systemd runs on this host' : false;

t.test('create and run with --systemd-cgroup and no systemd: one line, nothing left', { skip: noSystemd || (!testingTsrun() && "the wording is tsrun's") }, async (t) => {
  const before = snapshotHost(t);
  for (const cmd of ['create', 'run']) {
    const id = uniqueId(t);
    const b = makeBundle(t, undefined, { args: ['true'] });
    const r = rt(t, ['--systemd-cgroup', cmd, '--bundle', b.dir, id]);
    t.not(r.status, 0, `${cmd} fails`, { detail: describe(r) });
    t.match(r.stderr, new RegExp(`^tsrun: ${cmd} ${id}: .*systemd cgroup driver: cannot reach systemd: connect to the system bus: `), 'one line naming the step and the cause', { err: r.stderr });
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    t.equal(stateOf(t, id), undefined, 'no state');
  }
  assertNoLeaks(t, before);
});

t.test('a malformed systemd cgroupsPath is refused before anything is made', { skip: !testingTsrun() && "the wording is tsrun's" }, async (t) => {
  const before = snapshotHost(t);
  for (const [path, why] of [['/abs/path', /linux\.cgroupsPath "\/abs\/path": expected "slice:prefix:name" for systemd cgroups/], ['x.slice:a:b:c', /expected "slice:prefix:name"/], ['bad:p:n', /invalid slice name: bad/], ['system.slice:p:', /invalid unit name ""/]] as const) {
    const id = uniqueId(t);
    const b = makeBundle(t, (c) => {
      c.linux.cgroupsPath = path;
    }, { args: ['true'] });
    const r = rt(t, ['--systemd-cgroup', 'create', '--bundle', b.dir, id]);
    t.not(r.status, 0, `${path}: refused`);
    t.match(r.stderr, why, `${path}: names the field and the form`, { err: r.stderr });
    t.equal(stateOf(t, id), undefined, 'no state');
  }
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => {
    c.annotations = { 'org.systemd.property.Bad1': 'true' };
  }, { args: ['true'] });
  const r = rt(t, ['--systemd-cgroup', 'create', '--bundle', b.dir, id]);
  t.match(r.stderr, /annotation org\.systemd\.property\.Bad1 name incorrect/, 'a bad property annotation is refused', { err: r.stderr });
  assertNoLeaks(t, before);
});
