// Spec behaviour of tsrun where runc and crun differ (runtime.md lifecycle, config.md hooks and
// capabilities, config-linux.md devices): failing hooks destroy the container and run the
// poststop hooks, createContainer hooks run in the container's namespaces, a created container
// is not deleted without --force, ungrantable capabilities only warn, a device path that holds
// another file is an error.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import {
  assertNoLeaks, context, describe, makeBundle, readOut, rootFor, rt, runtimeUnderTest, snapshotHost, stateOf, testingTsrun, uniqueId, waitUntil,
  type Config, type RtResult,
} from '../helpers/index.js';

if (!testingTsrun()) {
  t.pass('tsrun-specific: runc and crun do not follow the spec here');
  t.end();
} else {
  const ok = (t: Test, r: RtResult, what: string) => t.equal(r.status, 0, `${what} succeeds`, { detail: describe(r) });
  const fails = (t: Test, r: RtResult, what: string, msg: RegExp) => {
    t.ok(r.status !== null && r.status !== 0, `${what} fails`, { detail: describe(r) });
    t.match(r.stderr, msg, `${what}: the error says why`);
  };
  const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : []);

  /** A hook that appends `name` (and what it sees) to the log file, then exits `code`. */
  const hook = (log: string, name: string, code = 0) => ({
    path: '/bin/sh',
    args: ['sh', '-c', `echo ${name} $(readlink /proc/self/ns/uts) $(readlink /proc/self/ns/mnt) >> ${log}; exit ${code}`],
  });
  /** The same for a startContainer hook, which runs inside the container: the log is mounted at /log. */
  const inner = (name: string, code = 0) => ({ path: '/bin/sh', args: ['sh', '-c', `echo ${name} >> /log/hooks; exit ${code}`] });
  const withLog = (c: Config, dir: string) => c.mounts.push({ destination: '/log', type: 'bind', source: dir, options: ['rbind', 'rw'] });

  t.test('createContainer hooks run in the container namespaces, after createRuntime, before pivot_root', async (t) => {
    const before = snapshotHost(t);
    const dir = context(t).dir;
    const log = join(dir, 'hooks');
    const id = uniqueId(t);
    const b = makeBundle(t, (c) => {
      c.hooks = {
        createRuntime: [hook(log, 'createRuntime')],
        createContainer: [
          hook(log, 'createContainer'),
          { path: '/bin/sh', args: ['sh', '-c', `cat /proc/self/mountinfo > ${dir}/mountinfo; echo "$TSRUN_TEST_MARK" > ${dir}/env; pwd -P > ${dir}/cwd; cat > ${dir}/state`] },
        ],
      };
    }, { args: ['sleep', '1000'] });
    ok(t, rt(t, ['create', '--bundle', b.dir, id]), 'create');
    const pid = stateOf(t, id)?.pid as number;
    const [cr, cc] = lines(log).map((l) => l.split(' '));
    t.equal(cr?.[0], 'createRuntime');
    t.equal(cc?.[0], 'createContainer', 'createContainer ran after createRuntime');
    t.equal(cr?.[1], readlinkSync('/proc/self/ns/uts'), 'createRuntime: the runtime uts namespace');
    t.equal(cc?.[1], readlinkSync(`/proc/${pid}/ns/uts`), 'createContainer: the container uts namespace');
    t.equal(cc?.[2], readlinkSync(`/proc/${pid}/ns/mnt`), 'createContainer: the container mount namespace');
    t.match(readFileSync(join(dir, 'mountinfo'), 'utf8'), ` ${b.rootfs}/proc `, 'the container mounts are under the rootfs path (before pivot_root)');
    t.equal(readFileSync(join(dir, 'env'), 'utf8').trim(), context(t).mark, 'without `env`, the hook has the environment of tsrun');
    t.equal(readFileSync(join(dir, 'cwd'), 'utf8').trim(), realpathSync(b.rootfs), 'the hook runs in the rootfs (as runc: relative paths are the container\'s, not the host\'s /)');
    const state = JSON.parse(readFileSync(join(dir, 'state'), 'utf8'));
    t.same({ id: state.id, pid: state.pid }, { id, pid }, 'the hook got the state of the container on stdin');
    ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
    await assertNoLeaks(t, before);
  });

  for (const kind of ['prestart', 'createRuntime', 'createContainer'] as const) {
    t.test(`a failing ${kind} hook fails create, destroys the container and runs the poststop hooks`, async (t) => {
      const before = snapshotHost(t);
      const log = join(context(t).dir, 'hooks');
      const id = uniqueId(t);
      const b = makeBundle(t, (c) => { c.hooks = { [kind]: [hook(log, 'bad', 3)], poststop: [hook(log, 'poststop')] }; });
      fails(t, rt(t, ['create', '--bundle', b.dir, id]), 'create', new RegExp(`${kind} hook /bin/sh.*(exit status 3|exit 3)`));
      t.same(lines(log).map((l) => l.split(' ')[0]), ['bad', 'poststop'], 'the poststop hooks ran after the failure');
      t.not(rt(t, ['state', id]).status, 0, 'the container is gone');
      await assertNoLeaks(t, before);
    });
  }

  t.test('a failing startContainer hook fails start; the program never runs; the container is destroyed', async (t) => {
    const before = snapshotHost(t);
    const dir = context(t).dir;
    const id = uniqueId(t);
    const b = makeBundle(t, (c) => {
      withLog(c, dir);
      c.hooks = { startContainer: [inner('sc1'), inner('bad', 4), inner('never')], poststop: [hook(join(dir, 'poststop'), 'poststop')] };
    }, { args: ['sh', '-c', 'echo PROGRAM-RAN'] });
    const c = rt(t, ['create', '--bundle', b.dir, id]);
    ok(t, c, 'create');
    fails(t, rt(t, ['start', id]), 'start', /startContainer: error running hook \/bin\/sh: exit status 4/);
    t.same(lines(join(dir, 'hooks')), ['sc1', 'bad'], 'the hooks ran in order up to the failing one');
    t.equal(lines(join(dir, 'poststop')).length, 1, 'the poststop hook ran');
    t.not(rt(t, ['state', id]).status, 0, 'the container is gone');
    t.notMatch(readOut(c), /PROGRAM-RAN/, 'the user program never ran');
    await assertNoLeaks(t, before);
  });

  t.test('start returns once the program runs; startContainer hooks ran before it', async (t) => {
    const before = snapshotHost(t);
    const dir = context(t).dir;
    const id = uniqueId(t);
    const b = makeBundle(t, (c) => {
      withLog(c, dir);
      c.hooks = { startContainer: [inner('sc1')] };
    }, { args: ['sh', '-c', 'cat /log/hooks; exec sleep 1000'] });
    const c = rt(t, ['create', '--bundle', b.dir, id]);
    ok(t, c, 'create');
    ok(t, rt(t, ['start', id]), 'start');
    const pid = stateOf(t, id)?.pid as number;
    t.equal(stateOf(t, id)?.status, 'running', 'running as start returns');
    t.notMatch(readFileSync(`/proc/${pid}/cmdline`, 'latin1'), /tsrun-init/, 'the process was exec\'d by the time start returned');
    t.ok(await waitUntil(() => readOut(c).includes('sc1')), 'the program saw what the hook wrote');
    t.equal(existsSync(join(rootFor(t, runtimeUnderTest()), id, 'exec.fifo')), false, 'the exec fifo is gone');
    ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
    await assertNoLeaks(t, before);
  });

  // With a user namespace the init forks after the plan (and the hooks' state in it) was sent.
  t.test('in a user namespace, startContainer hooks get the pid of the container process', async (t) => {
    const before = snapshotHost(t);
    const dir = context(t).dir;
    const id = uniqueId(t);
    const b = makeBundle(t, (c) => {
      withLog(c, dir);
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 65536 }];
      c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /log/state'] }] };
    }, { args: ['sleep', '1000'] });
    ok(t, rt(t, ['create', '--bundle', b.dir, id]), 'create');
    ok(t, rt(t, ['start', id]), 'start');
    const pid = stateOf(t, id)?.pid as number;
    const state = JSON.parse(readFileSync(join(dir, 'state'), 'utf8'));
    t.match(state, { id, status: 'created', pid }, 'the hook read the state with the pid `state` reports');
    ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
    await assertNoLeaks(t, before);
  });

  t.test('a failing poststart hook fails start and destroys the container', async (t) => {
    const before = snapshotHost(t);
    const log = join(context(t).dir, 'hooks');
    const id = uniqueId(t);
    const b = makeBundle(t, (c) => { c.hooks = { poststart: [hook(log, 'bad', 5)], poststop: [hook(log, 'poststop')] }; }, { args: ['sleep', '1000'] });
    ok(t, rt(t, ['create', '--bundle', b.dir, id]), 'create');
    fails(t, rt(t, ['start', id]), 'start', /poststart hook \/bin\/sh failed: exit status 5/);
    t.same(lines(log).map((l) => l.split(' ')[0]), ['bad', 'poststop']);
    t.not(rt(t, ['state', id]).status, 0, 'the container is gone');
    await assertNoLeaks(t, before);
  });

  t.test('delete of a created container needs --force', async (t) => {
    const before = snapshotHost(t);
    const id = uniqueId(t);
    const b = makeBundle(t, undefined, { args: ['sleep', '1000'] });
    ok(t, rt(t, ['create', '--bundle', b.dir, id]), 'create');
    fails(t, rt(t, ['delete', id]), 'delete', new RegExp(`cannot delete container ${id} that is not stopped: created`));
    t.equal(stateOf(t, id)?.status, 'created', 'still created');
    ok(t, rt(t, ['start', id]), 'it can still be started');
    ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
    await assertNoLeaks(t, before);
  });

  t.test('capabilities that cannot be granted are dropped with a warning', async (t) => {
    const before = snapshotHost(t);
    const id = uniqueId(t);
    const bnd = BigInt('0x' + (/^CapBnd:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'));
    const missing = bnd & (1n << 24n) ? [] : ['CAP_SYS_RESOURCE']; // the development machines lack it
    const b = makeBundle(t, (c) => {
      for (const set of ['bounding', 'permitted', 'effective']) c.process.capabilities[set].push('CAP_CF_UNKNOWN', ...missing);
    }, { args: ['sh', '-c', 'grep CapBnd /proc/self/status'] });
    const c = rt(t, ['create', '--bundle', b.dir, id]);
    ok(t, c, 'create');
    t.match(c.stderr, /ignoring unknown or unavailable capabilities: CAP_CF_UNKNOWN/, 'a warning names them');
    ok(t, rt(t, ['start', id]), 'start');
    t.ok(await waitUntil(() => /CapBnd/.test(readOut(c))), 'the process ran', { detail: readOut(c) });
    const got = BigInt('0x' + (/CapBnd:\s*(\S+)/.exec(readOut(c))?.[1] ?? '0'));
    t.ok(got & (1n << 5n), 'CAP_KILL (grantable) is there');
    t.equal(got & (1n << 24n), 0n, 'CAP_SYS_RESOURCE is not');
    ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
    await assertNoLeaks(t, before);
  });

  t.test('a device path that holds another file is an error; the same device is fine', async (t) => {
    const before = snapshotHost(t);
    const id = uniqueId(t);
    const b = makeBundle(t, (c) => { c.linux.devices = [{ path: '/etc/passwd', type: 'c', major: 1, minor: 3 }]; }, { copyRootfs: true });
    fails(t, rt(t, ['create', '--bundle', b.dir, id]), 'create', /create device "\/etc\/passwd": a different file exists at this path/);
    t.match(readFileSync(join(b.dir, 'rootfs', 'etc', 'passwd'), 'utf8'), /root/, 'the file is untouched');
    const id2 = uniqueId(t);
    // the rootfs already holds the same device: it is made again with the configured mode
    const b2 = makeBundle(t, (c) => { c.linux.devices = [{ path: '/cf-null', type: 'c', major: 1, minor: 3, fileMode: 0o600 }]; }, { copyRootfs: true, args: ['stat', '-c', '%a %t:%T', '/cf-null'] });
    t.equal(spawnSync('mknod', ['-m', '0666', join(b2.dir, 'rootfs', 'cf-null'), 'c', '1', '3']).status, 0, 'mknod in the rootfs');
    const c2 = rt(t, ['create', '--bundle', b2.dir, id2]);
    ok(t, c2, 'create with the same device');
    ok(t, rt(t, ['start', id2]), 'start');
    t.ok(await waitUntil(() => readOut(c2).trim() === '600 1:3'), 'the device has the configured mode', { detail: readOut(c2) });
    ok(t, rt(t, ['delete', '--force', id2]), 'delete --force');
    await assertNoLeaks(t, before);
  });
}
