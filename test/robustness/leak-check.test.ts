// The campaigns' scoped leak check (lib.ts) must see each kind of leak, or their "zero leaks"
// proves nothing: a file under --root, a process (by cwd, by mark, by cgroup, and only new ones
// with a snapshot), a mount under the test dir, a cgroup named after an id.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { context, rootFor, uniqueId, waitUntil } from '../helpers/index.js';
import { findScopedLeaks, leakCount, mountPoints, procSnapshot, scopedMounts, scopedProcesses, testScope } from './lib.js';

t.test('every kind of leak is reported, and nothing once it is gone', async (t) => {
  const c = context(t);
  const id = uniqueId(t, 'lk');
  const root = rootFor(t);
  t.equal(leakCount(findScopedLeaks(testScope(t))), 0, 'clean at first');

  writeFileSync(join(root, 'stray'), '');
  t.same(findScopedLeaks(testScope(t)).rootEntries, [join(root, 'stray')], 'a file under --root');
  spawnSync('rm', ['-f', join(root, 'stray')]);

  const before = procSnapshot();
  const byCwd = spawn('sleep', ['1000'], { cwd: c.dir, stdio: 'ignore' });
  const byMark = spawn('sleep', ['1001'], { cwd: '/', stdio: 'ignore', env: { ...process.env, TSRUN_TEST_MARK: c.mark } });
  t.teardown(() => {
    byCwd.kill('SIGKILL');
    byMark.kill('SIGKILL');
  });
  await waitUntil(() => scopedProcesses(testScope(t)).length >= 2);
  const found = scopedProcesses(testScope(t)).join('\n');
  t.match(found, new RegExp(`pid ${byCwd.pid} .*root or cwd in a test dir`), 'a process whose cwd is in the test dir');
  t.match(found, new RegExp(`pid ${byMark.pid} .*carries the mark`), 'a process carrying the mark');
  t.equal(scopedProcesses(testScope(t), before).length, 2, 'both are new since the snapshot');
  t.same(scopedProcesses(testScope(t), procSnapshot()), [], 'nothing is new since a later snapshot');
  byCwd.kill('SIGKILL');
  byMark.kill('SIGKILL');
  t.ok(await waitUntil(() => scopedProcesses(testScope(t)).length === 0), 'killed processes are no longer reported');

  const cg = `/sys/fs/cgroup/pids/${id}`;
  mkdirSync(cg);
  t.teardown(() => {
    try {
      rmdirSync(cg);
    } catch {
      // removed below
    }
  });
  const sleeper = spawn('sleep', ['1002'], { cwd: '/', stdio: 'ignore' });
  writeFileSync(join(cg, 'cgroup.procs'), String(sleeper.pid));
  t.same(findScopedLeaks(testScope(t)).cgroups, [cg], 'a cgroup named after an id');
  t.match(scopedProcesses(testScope(t)).join('\n'), new RegExp(`pid ${sleeper.pid} .*in a cgroup named after ${id}`), 'a process in it');
  sleeper.kill('SIGKILL');
  await waitUntil(() => scopedProcesses(testScope(t)).length === 0);
  rmdirSync(cg);

  const mnt = join(c.dir, 'mnt');
  mkdirSync(mnt);
  const mountsBefore = new Set(mountPoints());
  t.equal(spawnSync('mount', ['-t', 'tmpfs', 'lk', mnt]).status, 0, 'mount a tmpfs in the test dir');
  t.same(scopedMounts(testScope(t), mountsBefore), [mnt], 'a mount under the test dir');
  t.equal(spawnSync('umount', [mnt]).status, 0, 'umount');

  t.equal(leakCount(findScopedLeaks(testScope(t), mountsBefore)), 0, 'clean again');
});
