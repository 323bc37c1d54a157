// The systemd cgroup driver against a real systemd (PID 1 of the systemd guest, pure cgroup v2;
// test/vm/README.md): the transient scope and its properties as `systemctl show` reports them,
// limits inside the container, update, pause/resume, ps, events, and that nothing of a container
// is left after delete, after a create killed at any step, and after each refused create.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { FAULT_STEPS } from '../../../src/container/fault.js';
import {
  type Config, context, describe, makeBundle, readOut, rt, runtimeUnderTest, sampleRootfs, stateOf, uniqueId, waitUntil, type RtResult,
} from '../../helpers/index.js';
import { show, systemctl, unitsNamed } from './systemctl.js';

const CG = '/sys/fs/cgroup';
const LONG = ['sh', '-c', 'echo started; exec sleep 1000'];
const sd = (t: Test, args: string[], env?: NodeJS.ProcessEnv): RtResult => rt(t, ['--systemd-cgroup', ...args], env ? { env } : {});

function ok(t: Test, r: RtResult, what: string): boolean {
  return t.equal(r.status, 0, `${what} succeeds`, { detail: describe(r) });
}

async function running(t: Test, id: string, cfg: (c: Config) => void): Promise<RtResult> {
  const b = makeBundle(t, (c) => {
    c.process.args = LONG;
    cfg(c);
  });
  const c = sd(t, ['create', '--bundle', b.dir, id]);
  if (!ok(t, c, 'create')) throw new Error(`create ${id}: ${c.stderr}`);
  ok(t, sd(t, ['start', id]), 'start');
  t.ok(await waitUntil(() => readOut(c).includes('started'), { timeoutMs: 30_000 }), 'the process runs');
  return c;
}

function nothingLeft(t: Test, id: string, unit: string): void {
  t.same(unitsNamed(unit), [], `systemd knows no ${unit}`);
  t.notOk(existsSync(join(CG, 'system.slice', unit)), 'its cgroup is gone');
  t.equal(stateOf(t, id), undefined, 'no state');
  const procs = spawnSync('pgrep', ['-f', `tsrun-init|sleep 1000`], { encoding: 'utf8' }).stdout.trim();
  t.equal(procs, '', 'no container process', { procs });
}

t.test('systemd is PID 1 on a pure cgroup v2 tree', async (t) => {
  t.equal(readFileSync('/proc/1/comm', 'utf8').trim(), 'systemd');
  t.ok(existsSync(join(CG, 'cgroup.controllers')), 'cgroup2 at /sys/fs/cgroup');
  const f = JSON.parse(rt(t, ['features']).stdout);
  t.same([f.linux.cgroup.systemd, f.linux.cgroup.systemdUser], [true, true], 'features says so');
});

t.test('the container is a transient scope with runc\'s properties, and its limits hold inside', async (t) => {
  const id = uniqueId(t);
  const unit = `tsrun-test-${id}.scope`;
  await running(t, id, (c) => {
    c.linux.cgroupsPath = `system.slice:tsrun-test:${id}`;
    c.linux.resources = { memory: { limit: 64 << 20 }, pids: { limit: 40 }, cpu: { quota: 50000, period: 100000, shares: 2048, cpus: '0' } };
    c.annotations = { 'org.systemd.property.TimeoutStopSec': 'uint64 7', 'org.systemd.property.CollectMode': "'inactive-or-failed'" };
  });
  const p = show(unit, 'ActiveState', 'Slice', 'Delegate', 'ControlGroup', 'MemoryMax', 'TasksMax', 'CPUQuotaPerSecUSec', 'CPUQuotaPeriodUSec',
    'CPUWeight', 'AllowedCPUs', 'TimeoutStopUSec', 'CollectMode', 'DevicePolicy', 'Description', 'MemoryAccounting', 'TasksAccounting');
  t.match(p, {
    ActiveState: 'active', Slice: 'system.slice', Delegate: 'yes', ControlGroup: `/system.slice/${unit}`, MemoryMax: String(64 << 20),
    TasksMax: '40', CPUQuotaPerSecUSec: '500ms', CPUQuotaPeriodUSec: '100ms', AllowedCPUs: '0', TimeoutStopUSec: '7s',
    CollectMode: 'inactive-or-failed', DevicePolicy: 'strict', Description: `tsrun container ${id}`, MemoryAccounting: 'yes', TasksAccounting: 'yes',
  }, 'systemctl show');
  const pid = stateOf(t, id)!.pid!;
  t.equal(readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim(), `0::/system.slice/${unit}`, 'the init is in the scope');
  const dir = join(CG, 'system.slice', unit);
  t.equal(readFileSync(join(dir, 'memory.max'), 'utf8').trim(), String(64 << 20));
  t.equal(readFileSync(join(dir, 'cpu.max'), 'utf8').trim(), '50000 100000');
  // Inside (its own cgroup namespace): the limit, and pids.max stopping a fork loop.
  const inside = sd(t, ['exec', id, 'cat', '/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/pids.max']);
  t.equal(inside.stdout.trim(), `${64 << 20}\n40`, 'the container sees its limits');
  sd(t, ['exec', id, 'sh', '-c', 'for i in $(seq 60); do sleep 30 & done; true']);
  t.ok(Number(pids(dir)) <= 40, `pids.current stays within 40 (${pids(dir)})`);
  t.match(readFileSync(join(dir, 'pids.events'), 'utf8'), /^max [1-9]/m, 'forks past the limit were refused (pids.events)');

  ok(t, sd(t, ['kill', id, 'KILL']), 'kill');
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped', { timeoutMs: 20_000 }), 'stopped');
  ok(t, sd(t, ['delete', id]), 'delete');
  nothingLeft(t, id, unit);
});

function pids(dir: string): string {
  return readFileSync(join(dir, 'pids.current'), 'utf8').trim();
}

t.test('update changes the unit\'s properties and the files; pause, resume, ps and events work on the scope', async (t) => {
  const id = uniqueId(t);
  const unit = `runc-${id}.scope`;
  await running(t, id, (c) => {
    delete c.linux.cgroupsPath; // the default: system.slice:runc:<id>
    c.linux.resources = { memory: { limit: 64 << 20 } };
  });
  t.equal(show(unit, 'ActiveState').ActiveState, 'active', `the default unit is ${unit}`);
  ok(t, sd(t, ['update', '--memory', '128M', '--pids-limit', '33', '--cpu-quota', '25000', '--cpu-period', '100000', id]), 'update');
  t.match(show(unit, 'MemoryMax', 'TasksMax', 'CPUQuotaPerSecUSec'), { MemoryMax: String(128 << 20), TasksMax: '33', CPUQuotaPerSecUSec: '250ms' }, 'systemctl show after update');
  const dir = join(CG, 'system.slice', unit);
  t.equal(readFileSync(join(dir, 'memory.max'), 'utf8').trim(), String(128 << 20), 'memory.max after update');
  t.equal(readFileSync(join(dir, 'pids.max'), 'utf8').trim(), '33');
  // daemon-reload re-applies the unit's properties: the update survives it.
  systemctl('daemon-reload');
  t.equal(readFileSync(join(dir, 'memory.max'), 'utf8').trim(), String(128 << 20), 'memory.max after daemon-reload');

  ok(t, sd(t, ['pause', id]), 'pause');
  t.equal(stateOf(t, id)?.status, 'paused');
  t.equal(readFileSync(join(dir, 'cgroup.freeze'), 'utf8').trim(), '1');
  ok(t, sd(t, ['resume', id]), 'resume');
  t.equal(stateOf(t, id)?.status, 'running');
  const ps = sd(t, ['ps', '--format', 'json', id]);
  t.same(JSON.parse(ps.stdout), [stateOf(t, id)!.pid], 'ps lists the init');
  const ev = sd(t, ['events', '--stats', id]);
  ok(t, ev, 'events --stats');
  t.equal(JSON.parse(ev.stdout).data.memory.usage.limit, 128 << 20, 'events sees the new limit');
  ok(t, sd(t, ['delete', '--force', id]), 'delete --force of a running container');
  nothingLeft(t, id, unit);
});

t.test('run in the foreground: the container is gone with its process', async (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => {
    c.process.args = ['sh', '-c', 'echo hello'];
  });
  const r = sd(t, ['run', '--bundle', b.dir, id]);
  ok(t, r, 'run');
  t.equal(readOut(r).trim(), 'hello');
  nothingLeft(t, id, `runc-${id}.scope`);
});

t.test('SIGKILL of tsrun at each step of create: delete --force leaves nothing', async (t) => {
  for (const step of FAULT_STEPS.filter((s) => s.startsWith('create:'))) {
    const id = uniqueId(t);
    const b = makeBundle(t, (c) => {
      c.process.args = LONG;
      // A createRuntime hook: the init stops at a SYNC, so that create:sync is reached too.
      c.hooks = { createRuntime: [{ path: '/bin/true' }] };
    });
    const r = sd(t, ['create', '--bundle', b.dir, id], { ...process.env, TSRUN_FAULT: step });
    t.equal(r.signal, 'SIGKILL', `${step}: tsrun was killed there`, { detail: describe(r) });
    const d = sd(t, ['delete', '--force', id]);
    t.ok(d.status === 0 || /does not exist/.test(d.stderr), `${step}: delete --force`, { detail: describe(d) });
    await waitUntil(() => unitsNamed(`runc-${id}.scope`).length === 0, { timeoutMs: 10_000 });
    nothingLeft(t, id, `runc-${id}.scope`);
  }
});

t.test('refused creates leave nothing: malformed cgroupsPath, a unit name in use, a failed job, a job that does not finish', async (t) => {
  const dir = context(t).dir;
  const create = (id: string, cfg: (c: Config) => void, env: NodeJS.ProcessEnv = process.env): RtResult => {
    const b = makeBundle(t, (c) => {
      c.process.args = LONG;
      cfg(c);
    });
    return sd(t, ['create', '--bundle', b.dir, id], env);
  };

  const bad = uniqueId(t);
  for (const path of ['/abs/path', 'system.slice:only-two', 'bad:p:n', 'a--b.slice:p:n', 'system.slice:p:']) {
    const r = create(bad, (c) => {
      c.linux.cgroupsPath = path;
    });
    t.not(r.status, 0, `cgroupsPath ${path} is refused`);
    t.match(r.stderr, /^tsrun: create \S+: .*(linux\.cgroupsPath .*expected "slice:prefix:name"|invalid slice name)/, 'one line naming the field and the form', { err: r.stderr });
    t.equal(r.stderr.trim().split('\n').length, 1);
    t.equal(stateOf(t, bad), undefined, 'no state');
  }

  // A unit of that name exists: a running container's.
  const first = uniqueId(t);
  await running(t, first, (c) => {
    c.linux.cgroupsPath = `system.slice:tsrun-busy:${first}`;
  });
  const second = uniqueId(t);
  const busy = create(second, (c) => {
    c.linux.cgroupsPath = `system.slice:tsrun-busy:${first}`;
  });
  t.not(busy.status, 0, 'a second container with the same unit is refused', { detail: describe(busy) });
  t.match(busy.stderr, /tsrun-busy-\S+\.scope.*(in use|already exists|not empty)/, 'the error names the unit', { err: busy.stderr });
  t.equal(stateOf(t, second), undefined, 'no state of the refused one');
  t.equal(show(`tsrun-busy-${first}.scope`, 'ActiveState').ActiveState, 'active', 'the first one is untouched');
  ok(t, sd(t, ['delete', '--force', first]), 'delete the first');

  // A dependency that fails: the scope's start job ends "dependency".
  writeFileSync('/run/systemd/system/tsrun-test-fail.service', '[Service]\nType=oneshot\nExecStart=/bin/false\n');
  writeFileSync('/run/systemd/system/tsrun-test-slow.service', '[Service]\nType=oneshot\nExecStart=/bin/sleep 60\n');
  systemctl('daemon-reload');
  t.teardown(() => {
    systemctl('stop', 'tsrun-test-slow.service');
    systemctl('reset-failed', 'tsrun-test-fail.service');
    rmSync('/run/systemd/system/tsrun-test-fail.service', { force: true });
    rmSync('/run/systemd/system/tsrun-test-slow.service', { force: true });
    systemctl('daemon-reload');
  });
  const failing = uniqueId(t);
  const f = create(failing, (c) => {
    c.annotations = { 'org.systemd.property.Requires': "['tsrun-test-fail.service']", 'org.systemd.property.After': "['tsrun-test-fail.service']" };
  });
  t.not(f.status, 0, 'create fails', { detail: describe(f) });
  t.match(f.stderr, new RegExp(`^tsrun: create ${failing}: .*start unit runc-${failing}\\.scope: the job ended "dependency"`), 'the job\'s result is named', { err: f.stderr });
  nothingLeft(t, failing, `runc-${failing}.scope`);

  // A job that waits for a slow dependency past the bound.
  const slow = uniqueId(t);
  const started = Date.now();
  const s = create(slow, (c) => {
    c.annotations = { 'org.systemd.property.Wants': "['tsrun-test-slow.service']", 'org.systemd.property.After': "['tsrun-test-slow.service']" };
  }, { ...process.env, TSRUN_SYSTEMD_TIMEOUT: '3' });
  t.not(s.status, 0, 'create fails', { detail: describe(s) });
  t.match(s.stderr, new RegExp(`^tsrun: create ${slow}: .*start unit runc-${slow}\\.scope: the job did not finish within 3 s`), 'the bound is named', { err: s.stderr });
  t.ok(Date.now() - started < 30_000, 'within the bound, not the dependency\'s 60 s');
  nothingLeft(t, slow, `runc-${slow}.scope`);
  t.ok(dir);
});

t.test('no bus: one clear error, no fall-back to cgroupfs, nothing left', async (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => {
    c.process.args = ['true'];
  });
  const r = sd(t, ['run', '--bundle', b.dir, id], { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/run/tsrun-test-no-such-bus' });
  t.not(r.status, 0, 'run fails', { detail: describe(r) });
  t.match(r.stderr, new RegExp(`^tsrun: run ${id}: .*systemd cgroup driver: cannot reach systemd: connect to the system bus: no such file or directory`), 'one line', { err: r.stderr });
  t.equal(r.stderr.trim().split('\n').length, 1);
  nothingLeft(t, id, `runc-${id}.scope`);
});

t.test("rootless: the unit is the user's own systemd instance's, over the session bus", async (t) => {
  const user = 'tsrun-sd-user';
  if (spawnSync('id', [user]).status !== 0) {
    const r = spawnSync('useradd', ['-m', '-s', '/bin/sh', user], { encoding: 'utf8' });
    t.equal(r.status, 0, 'useradd', { stderr: r.stderr });
    for (const f of ['/etc/subuid', '/etc/subgid']) writeFileSync(f, `${existsSync(f) ? readFileSync(f, 'utf8') : ''}${user}:400000:65536\n`);
  }
  const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
  t.equal(spawnSync('loginctl', ['enable-linger', user]).status, 0, 'loginctl enable-linger');
  const xdg = `/run/user/${uid}`;
  t.ok(await waitUntil(() => existsSync(`${xdg}/bus`), { timeoutMs: 60_000 }), 'the user manager and its bus are up');
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', XDG_RUNTIME_DIR: xdg, DBUS_SESSION_BUS_ADDRESS: `unix:path=${xdg}/bus`, HOME: `/home/${user}` };
  const asUser = (script: string) => spawnSync('runuser', ['-u', user, '--', 'sh', '-c', script], { encoding: 'utf8', env, timeout: 120_000 });
  const T = runtimeUnderTest();
  const dir = `/home/${user}/bundle`;
  // The rootfs is copied as root (some of its directories are root's alone), then given to the user.
  spawnSync('rm', ['-rf', dir]);
  spawnSync('mkdir', ['-p', dir]);
  spawnSync('cp', ['-a', sampleRootfs, `${dir}/rootfs`]);
  spawnSync('chown', ['-R', `${uid}:${uid}`, dir]);
  const setup = asUser(`set -e; cd ${dir}; ${T} spec --rootless; python3 -c "
import json; c = json.load(open('config.json'))
c['process']['terminal'] = False
c['process']['args'] = ['sleep', '1000']
c['linux']['resources'] = {'pids': {'limit': 20}}
json.dump(c, open('config.json', 'w'))"`);
  t.equal(setup.status, 0, 'a rootless bundle', { stderr: setup.stderr });
  const id = `rl${process.pid}`;
  const run = asUser(`${T} --systemd-cgroup run -d --bundle ${dir} ${id} >/dev/null && ${T} state ${id}`);
  t.equal(run.status, 0, 'run -d as the user with --systemd-cgroup', { stderr: run.stderr });
  const unit = `runc-${id}.scope`;
  const cg = join(CG, `user.slice/user-${uid}.slice/user@${uid}.service/user.slice/${unit}`);
  const pid = JSON.parse(run.stdout || '{}').pid;
  t.ok(existsSync(cg), `the unit's cgroup is ${cg}`);
  if (pid) t.equal(readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim(), `0::${cg.slice(CG.length)}`, 'the container is in it');
  t.equal(existsSync(join(cg, 'pids.max')) ? readFileSync(join(cg, 'pids.max'), 'utf8').trim() : '', '20', 'pids.max via the delegated user manager');
  const userUnits = () => asUser('systemctl --user list-units --all --no-legend --plain').stdout;
  t.match(userUnits(), new RegExp(unit.replace('.', '\\.')), "the user's systemd knows the unit");
  const del = asUser(`${T} --systemd-cgroup delete --force ${id}`);
  t.equal(del.status, 0, 'delete --force', { stderr: del.stderr });
  t.notMatch(userUnits(), new RegExp(unit.replace('.', '\\.')), 'the unit is gone');
  t.notOk(existsSync(cg), 'its cgroup is gone');
  spawnSync('loginctl', ['disable-linger', user]);
});
