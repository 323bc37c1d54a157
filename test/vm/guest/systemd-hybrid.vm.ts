// The systemd cgroup driver on systemd's hybrid layout (VM_CGROUP=hybrid: cgroup v1 controllers,
// cgroup2 at /sys/fs/cgroup/unified, systemd PID 1): the v1 properties runc sets (MemoryLimit,
// CPUShares, TasksMax), the hierarchies systemd does not manage joined by tsrun, freezer-based
// pause, update, and nothing left in any hierarchy after delete.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { describe, makeBundle, readOut, rt, stateOf, uniqueId, waitUntil, type RtResult } from '../../helpers/index.js';

const CG = '/sys/fs/cgroup';
const sd = (t: Test, args: string[]): RtResult => rt(t, ['--systemd-cgroup', ...args]);
const show = (unit: string, p: string): string => spawnSync('systemctl', ['show', unit, '-p', p, '--value'], { encoding: 'utf8' }).stdout.trim();
const ok = (t: Test, r: RtResult, what: string) => t.equal(r.status, 0, `${what} succeeds`, { detail: describe(r) });

t.test('hybrid: systemd PID 1 with v1 controllers', async (t) => {
  t.equal(readFileSync('/proc/1/comm', 'utf8').trim(), 'systemd');
  t.ok(existsSync(join(CG, 'memory', 'memory.limit_in_bytes')), 'v1 memory hierarchy');
  t.ok(existsSync(join(CG, 'unified', 'cgroup.procs')), 'cgroup2 at /sys/fs/cgroup/unified');
});

t.test('a scope with v1 properties; the other hierarchies joined; pause, update, delete', async (t) => {
  const id = uniqueId(t);
  const unit = `tsrun-hy-${id}.scope`;
  const b = makeBundle(t, (c) => {
    c.process.args = ['sh', '-c', 'echo started; exec sleep 1000'];
    c.linux.cgroupsPath = `system.slice:tsrun-hy:${id}`;
    c.linux.resources = { memory: { limit: 64 << 20 }, cpu: { shares: 512, cpus: '0' }, pids: { limit: 30 } };
  });
  const c = sd(t, ['create', '--bundle', b.dir, id]);
  if (!ok(t, c, 'create')) return;
  ok(t, sd(t, ['start', id]), 'start');
  t.ok(await waitUntil(() => readOut(c).includes('started'), { timeoutMs: 30_000 }), 'runs');
  const pid = stateOf(t, id)!.pid!;
  t.equal(show(unit, 'ActiveState'), 'active');
  t.equal(show(unit, 'MemoryLimit'), String(64 << 20), 'MemoryLimit (v1 property)');
  t.equal(show(unit, 'CPUShares'), '512', 'CPUShares');
  t.equal(show(unit, 'TasksMax'), '30', 'TasksMax');
  const procCg = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  for (const h of ['memory', 'cpu,cpuacct', 'pids', 'devices', 'freezer', 'cpuset', 'name=systemd']) {
    t.match(procCg, new RegExp(`:${h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:/system.slice/${unit.replace(/\./g, '\\.')}$`, 'm'), `${h}: in the unit's cgroup`);
  }
  t.equal(readFileSync(join(CG, 'memory/system.slice', unit, 'memory.limit_in_bytes'), 'utf8').trim(), String(64 << 20));
  t.equal(readFileSync(join(CG, 'cpuset/system.slice', unit, 'cpuset.cpus'), 'utf8').trim(), '0', 'cpuset (not systemd\'s) written by tsrun');
  ok(t, sd(t, ['pause', id]), 'pause');
  t.equal(readFileSync(join(CG, 'freezer/system.slice', unit, 'freezer.state'), 'utf8').trim(), 'FROZEN');
  ok(t, sd(t, ['resume', id]), 'resume');
  ok(t, sd(t, ['update', '--memory', '96M', id]), 'update');
  t.equal(show(unit, 'MemoryLimit'), String(96 << 20), 'MemoryLimit after update');
  t.equal(readFileSync(join(CG, 'memory/system.slice', unit, 'memory.limit_in_bytes'), 'utf8').trim(), String(96 << 20));
  ok(t, sd(t, ['delete', '--force', id]), 'delete --force');
  t.equal(show(unit, 'LoadState'), 'not-found', 'systemd forgot the unit');
  for (const h of ['memory', 'cpu,cpuacct', 'pids', 'devices', 'freezer', 'cpuset', 'systemd', 'unified']) {
    t.notOk(existsSync(join(CG, h, 'system.slice', unit)), `no ${h} cgroup left`);
  }
  t.equal(stateOf(t, id), undefined, 'no state');
});
