// The leak checker must see leaks, or every "nothing left behind" assertion
// in the other tests proves nothing. Leaves things behind on purpose and checks
// that findLeaks reports each kind, then that it is clean once they are gone.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { context, describe, findLeaks, makeBundle, rt, snapshotHost, stateOf, uniqueId, waitUntil } from '../helpers/index.js';

t.test('a created container that is not deleted is reported', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: ['sleep', '1000'] });
  const r = rt(t, ['create', '--bundle', b.dir, id]);
  t.equal(r.status, 0, 'create', { detail: describe(r) });
  const leaks = findLeaks(context(t), before);
  t.ok(leaks.rootEntries.some((e) => e.endsWith(`/${id}/`)), 'the state dir under --root is reported', { leaks });
  const pid = stateOf(t, id)?.pid;
  t.ok(leaks.processes.some((p) => p.startsWith(`pid ${pid} `)), 'the waiting init is reported', { leaks });

  t.equal(rt(t, ['start', id]).status, 0, 'start');
  const leaks2 = findLeaks(context(t), before);
  t.ok(leaks2.processes.some((p) => p.startsWith(`pid ${pid} `) && /bundle of this test|cgroup/.test(p)),
    'the started process is reported', { leaks: leaks2 });

  t.equal(rt(t, ['delete', '--force', id]).status, 0, 'delete --force');
  t.ok(await waitUntil(() => findLeaks(context(t), before).processes.length === 0), 'the process is gone after delete');
  t.same(findLeaks(context(t), before), { rootEntries: [], processes: [], mounts: [], cgroups: [] }, 'clean after delete');
});

t.test('a new mount is reported', async (t) => {
  const before = snapshotHost(t);
  const dir = join(context(t).dir, 'mnt');
  mkdirSync(dir);
  t.equal(spawnSync('mount', ['-t', 'tmpfs', 'leaktest', dir]).status, 0, 'mount a tmpfs');
  t.ok(findLeaks(context(t), before).mounts.some((l) => l.includes(dir)), 'the mount is reported');
  t.equal(spawnSync('umount', [dir]).status, 0, 'umount');
  t.same(findLeaks(context(t), before).mounts, [], 'clean after umount');
});

t.test('a cgroup named after an id is reported', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  // v1 or hybrid: a controller hierarchy; pure v2: the unified root.
  const dir = existsSync('/sys/fs/cgroup/pids') ? `/sys/fs/cgroup/pids/${id}` : `/sys/fs/cgroup/${id}`;
  mkdirSync(dir);
  try {
    t.same(findLeaks(context(t), before).cgroups, [dir], 'the cgroup is reported');
  } finally {
    spawnSync('rmdir', [dir]);
  }
  t.same(findLeaks(context(t), before).cgroups, [], 'clean after rmdir');
});
