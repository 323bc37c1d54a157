// Status derivation from a record and /proc, with real processes.
import { spawn } from 'node:child_process';
import t from 'tap';
import { currentStatus, readProcStat, readStartTime, runtimeState, specState } from '../../src/container/status.js';
import { exited, record, spawnSleep, startTimeOf } from './fixtures/support.js';

t.test('a live process: the recorded status', async (t) => {
  const p = spawnSleep(t);
  t.equal(readStartTime(p.pid), startTimeOf(p.pid));
  for (const s of ['creating', 'created', 'running', 'paused'] as const) {
    t.equal(currentStatus(record('c', p.pid, { status: s })), s);
  }
});

t.test('a dead process: stopped, whatever the record says', async (t) => {
  const p = spawnSleep(t);
  const r = record('c', p.pid, { status: 'running' });
  p.kill('SIGKILL');
  await exited(p);
  t.equal(currentStatus(r), 'stopped');
  t.equal(currentStatus(record('c', 0, { status: 'creating' })), 'stopped', 'creating without a pid yet');
});

t.test('a zombie is stopped', async (t) => {
  // sh forks `true` and then sleeps without reaping it (exec keeps the zombie as our grandchild's sibling).
  const parent = spawn('sh', ['-c', 'true & exec sleep 1000'], { stdio: 'ignore' });
  t.teardown(() => parent.kill('SIGKILL'));
  let zombie: number | undefined;
  for (let i = 0; i < 500 && zombie === undefined; i++) {
    await new Promise((r) => setTimeout(r, 10));
    const fs = await import('node:fs');
    const kids = fs.readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    zombie = kids.find((k) => readProcStat(k)?.state === 'Z');
  }
  t.ok(zombie, 'found the zombie child');
  const st = readProcStat(zombie!)!;
  t.equal(currentStatus(record('c', zombie!, { pidStartTime: st.startTime, status: 'running' })), 'stopped');
});

t.test('a recycled pid (other start time) is stopped', async (t) => {
  const p = spawnSleep(t);
  const r = record('c', p.pid, { status: 'running' });
  t.equal(currentStatus({ ...r, pidStartTime: r.pidStartTime + 1 }), 'stopped');
  t.equal(currentStatus(r), 'running');
});

t.test('/proc/<pid>/stat with spaces and parentheses in comm', async (t) => {
  const p = spawnSleep(t, ['bash', '-c', 'exec -a "x) (y z" sleep 1000']);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(readStartTime(p.pid), startTimeOf(p.pid));
  t.equal(readProcStat(999_999_999), undefined);
  t.equal(readProcStat(-1), undefined);
});

t.test('state documents', async (t) => {
  const p = spawnSleep(t);
  const r = record('c', p.pid, { status: 'running', annotations: { a: 'b' } });
  t.same(specState(r), { ociVersion: '1.3.0', id: 'c', status: 'running', pid: p.pid, bundle: r.bundle, annotations: { a: 'b' } });
  t.same(specState(r, 'stopped'), { ociVersion: '1.3.0', id: 'c', status: 'stopped', bundle: r.bundle, annotations: { a: 'b' } }, 'no pid once stopped');
  t.same(Object.keys(runtimeState(record('c', p.pid))), ['ociVersion', 'id', 'pid', 'status', 'bundle', 'rootfs', 'created', 'owner'], 'runc\'s field order; no empty annotations');
  t.equal(runtimeState(r, 'stopped').pid, 0, 'runc prints pid 0 once stopped');
});
