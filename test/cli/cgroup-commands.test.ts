// kill --all, pause/resume and delete --force against a real cgroup holding real processes
// (the cgroup made with src/cgroups, the record written by hand: no container needed).
import * as fs from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { addProcess, createCgroup, destroyCgroup, isFrozen, pids, resolveCgroup, type CgroupHandle } from '../../src/cgroups/index.js';
import { record, sleep, spawnSleep, tempDir, tsrun, writeRecord } from './fixtures/support.js';

const skip = process.getuid?.() === 0 ? false : 'needs root to make cgroups';

function cgroupWith(t: Test, id: string, n: number) {
  const handle: CgroupHandle = resolveCgroup(`/tsrun-cli-test/${id}-${process.pid}`, id, { systemd: false });
  createCgroup(handle, undefined);
  t.teardown(() => destroyCgroup(handle, { kill: true }));
  const procs = Array.from({ length: n }, () => spawnSleep(t));
  for (const p of procs) addProcess(handle, p.pid);
  return { handle, procs };
}

const died = (p: { once: (e: 'exit', f: (c: number | null, s: string | null) => void) => unknown }) =>
  new Promise<string | null>((r) => p.once('exit', (_c, s) => r(s)));

t.test('kill --all signals every process of the cgroup; plain kill only the init', { skip }, async (t) => {
  const root = tempDir(t);
  const { handle, procs } = cgroupWith(t, 'ka', 3);
  writeRecord(root, record('ka', procs[0]!.pid, { status: 'running', cgroup: handle }));
  const firstDied = died(procs[0]!);
  t.equal(tsrun(['--root', root, 'kill', 'ka', 'USR1']).status, 0);
  t.equal(await firstDied, 'SIGUSR1');
  await sleep(50);
  t.same(procs.slice(1).map((p) => p.signalCode), [null, null], 'the others were not signalled');
  writeRecord(root, record('ka', procs[1]!.pid, { status: 'running', cgroup: handle }));
  const rest = procs.slice(1).map(died);
  const r = tsrun(['--root', root, 'kill', '--all', 'ka', 'KILL']);
  t.equal(r.status, 0, r.stderr);
  t.same(await Promise.all(rest), ['SIGKILL', 'SIGKILL']);
  t.equal(isFrozen(handle), false, 'not left frozen');
});

t.test('pause, resume, and delete --force of a paused container', { skip }, async (t) => {
  const root = tempDir(t);
  const { handle, procs } = cgroupWith(t, 'pz', 2);
  writeRecord(root, record('pz', procs[0]!.pid, { status: 'running', cgroup: handle }));
  t.equal(tsrun(['--root', root, 'pause', 'pz']).status, 0);
  t.equal(isFrozen(handle), true);
  t.equal(JSON.parse(tsrun(['--root', root, 'state', 'pz']).stdout).status, 'paused');
  const again = tsrun(['--root', root, 'pause', 'pz']);
  t.same([again.status, again.stderr], [1, 'tsrun: pause pz: container not running\n']);
  t.equal(tsrun(['--root', root, 'resume', 'pz']).status, 0);
  t.equal(isFrozen(handle), false);
  t.equal(JSON.parse(tsrun(['--root', root, 'state', 'pz']).stdout).status, 'running');
  t.same(tsrun(['--root', root, 'resume', 'pz']).stderr, 'tsrun: resume pz: container not paused\n');
  t.equal(tsrun(['--root', root, 'pause', 'pz']).status, 0);
  const all = procs.map(died);
  const r = tsrun(['--root', root, 'delete', '--force', 'pz']);
  t.equal(r.status, 0, r.stderr);
  t.same(await Promise.all(all), ['SIGKILL', 'SIGKILL'], 'thawed and killed');
  t.equal(fs.existsSync(join(root, 'pz')), false, 'state removed');
  let left: number[] = [];
  try {
    left = pids(handle);
  } catch {
    // the cgroup is gone
  }
  t.same(left, [], 'no process left in the cgroup');
});

t.test('ps lists the cgroup\'s processes', { skip }, async (t) => {
  const root = tempDir(t);
  const { handle, procs } = cgroupWith(t, 'ps', 2);
  writeRecord(root, record('ps', procs[0]!.pid, { status: 'running', cgroup: handle }));
  const r = tsrun(['--root', root, 'ps', '-f', 'json', 'ps']);
  t.same(JSON.parse(r.stdout), procs.map((p) => p.pid).sort((a, b) => a - b));
});
