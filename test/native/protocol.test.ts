// The parent side of the tsrun-init protocol, in this process (needs root).
import t from 'tap';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Op } from '../../src/native/ops.js';
import { loadNative, AF_UNIX, SOCK_STREAM, SOCK_CLOEXEC } from '../../src/native/native.js';
import { launchInit, InitOpError, InitExitError } from '../../src/native/init-protocol.js';
import type { PlanOp } from '../../src/native/plan.js';
import { createCgroup, destroyCgroup, openEntry, type CgroupHandle } from '../../src/cgroups/index.js';
import { childrenOf, statusField } from './fixtures/helpers.js';

const native = await loadNative();
const openFds = (): string[] => readdirSync('/proc/self/fd').sort();

t.test('spawn of a missing init fails with ENOENT and leaks no fd', async (t) => {
  const before = openFds();
  await t.rejects(launchInit({ plan: [], cloneFlags: 0, init: '/nonexistent/tsrun-init' }), { code: 'ENOENT' });
  t.same(openFds(), before);
  t.throws(() => native.spawn('/nonexistent', ['x'], [], 0, [], []), { code: 'ENOENT', errno: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'tsrun-shim-'));
  t.teardown(() => rmSync(dir, { recursive: true }));
  writeFileSync(join(dir, 'noexec'), '#!/bin/sh\n', { mode: 0o644 });
  t.throws(() => native.spawn(join(dir, 'noexec'), ['x'], [], 0, [], []), { code: 'EACCES' });
  t.same(childrenOf(process.pid), [], 'the failed children were reaped');
});

t.test('spawn applies rlimits and closes every fd but the kept ones', async (t) => {
  const [r, w] = native.pipe2(0o2000000);
  const [, other] = native.pipe2(0); // not kept, not CLOEXEC: must be closed anyway
  const pid = native.spawn('/bin/sh', ['sh', '-c', `{ ulimit -n; ls /proc/self/fd; } >/proc/self/fd/${w}`], [], 0, [w], [[7, 321, 4321]]);
  native.close(w);
  native.close(other);
  t.equal(native.waitpid(pid, 0)?.code, 0);
  const buf = Buffer.alloc(4096);
  let out = '';
  for (let n; (n = readSync(r, buf)) > 0; ) out += buf.toString('utf8', 0, n);
  native.close(r);
  const lines = out.trim().split('\n');
  t.equal(lines[0], '321', 'RLIMIT_NOFILE soft limit applied');
  // 0,1,2, the kept fd, and the fd ls opens on /proc/self/fd
  t.same(lines.slice(1).map(Number).filter((fd) => fd > 2 && fd !== w).length, 1, 'no other fd survives');
});

t.test('SYNC round trip, then READY; X aborts', async (t) => {
  const seen: Array<[string, number]> = [];
  const plan: PlanOp[] = [
    { op: Op.SYNC, ints: ['U'.charCodeAt(0)], what: 'sync U' },
    { op: Op.SYNC, ints: ['C'.charCodeAt(0)], what: 'sync C' },
    { op: Op.READY, what: 'ready' },
  ];
  const r = await launchInit({ plan, cloneFlags: 0, onSync: async (code, pid) => void seen.push([code, pid]) });
  t.same(seen, [['U', r.pid], ['C', r.pid]]);
  t.same(native.waitpid(r.pid, 0), { pid: r.pid, status: 0, exited: true, code: 0, signal: 0 }, 'init ends after its plan');

  const boom = new Error('cgroup setup failed');
  await t.rejects(
    launchInit({ plan, cloneFlags: 0, onSync: () => { throw boom; } }),
    boom,
    'the onSync error is rethrown',
  );
  t.same(childrenOf(process.pid), [], 'the aborted init was reaped');
});

t.test('FORK: the pid changes and the intermediate is reaped', async (t) => {
  const pids: number[] = [];
  const plan: PlanOp[] = [
    { op: Op.UNSHARE, ints: [0x20000000], what: 'unshare pid' },
    { op: Op.FORK, what: 'fork' },
    { op: Op.SYNC, ints: ['H'.charCodeAt(0)], what: 'sync' },
    { op: Op.READY, what: 'ready' },
  ];
  let syncPid = 0;
  const r = await launchInit({ plan, cloneFlags: 0, onPid: (p) => pids.push(p), onSync: (_c, p) => void (syncPid = p) });
  t.not(r.pid, r.initPid);
  t.same(pids, [r.pid]);
  t.equal(syncPid, r.pid, 'SYNC after FORK reports the new pid');
  t.equal(native.waitpid(r.pid, 0)?.code, 0, 'the forked process is our child');
  t.same(childrenOf(process.pid), []);
});

t.test('HOOK: stdin, nonzero exit and timeout are reported', async (t) => {
  const hook = (what: string, timeout: number, script: string, stdin = 'hello'): PlanOp => ({
    op: Op.HOOK,
    ints: [timeout, 3, 1],
    strs: ['/bin/sh', stdin, 'sh', '-c', script, 'HOOKVAR=yes'],
    what,
  });
  const r = await launchInit({
    plan: [
      hook('hook 0', 0, 'read x; test "$x" = hello && test "$HOOKVAR" = yes'),
      hook('hook big stdin', 10, 'cat >/dev/null', 'x'.repeat(200000)),
      { op: Op.READY, what: 'ready' },
    ],
    cloneFlags: 0,
  });
  t.equal(native.waitpid(r.pid, 0)?.code, 0, 'hooks with exit 0 pass');

  const err = await launchInit({
    plan: [hook('hook 0', 0, 'exit 0'), hook('prestart hook /bin/sh', 0, 'exit 3')],
    cloneFlags: 0,
  }).catch((e: unknown) => e);
  t.type(err, InitOpError);
  t.match(err, { index: 1, errno: 0, detail: 'exit 3', message: 'prestart hook /bin/sh: exit 3' });

  const timeout = await launchInit({ plan: [hook('slow hook', 1, 'exec sleep 30')], cloneFlags: 0 }).catch((e: unknown) => e);
  t.match(timeout, { index: 0, detail: 'timeout', message: 'slow hook: timeout' });
  t.same(childrenOf(process.pid), [], 'no process left');
});

t.test('CONSOLE: the master arrives over the socket, the process gets the pty', async (t) => {
  const [parentSock, childSock] = native.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const r = await launchInit({
    plan: [
      { op: Op.CONSOLE, ints: [childSock, 24, 80], what: 'console' },
      { op: Op.LOOKUP, strs: ['sh', '/usr/bin:/bin'], what: 'lookup' },
      { op: Op.READY, what: 'ready' },
      {
        op: Op.EXEC,
        ints: [3, 1],
        strs: ['sh', '-c', 'stty size; tty >/dev/null && echo is-a-tty; read x; echo got-$x', 'PATH=/usr/bin:/bin'],
        what: 'exec',
      },
    ],
    cloneFlags: 0,
    keepFds: [childSock],
  });
  native.close(childSock);
  const master = native.recvFd(parentSock);
  native.close(parentSock);
  writeSync(master, 'ping\n');
  const buf = Buffer.alloc(4096);
  let out = '';
  for (;;) {
    let n = 0;
    try {
      n = readSync(master, buf);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EIO') break; // the pty's last user is gone
      if ((e as NodeJS.ErrnoException).code === 'EAGAIN') continue;
      throw e;
    }
    if (n === 0) break;
    out += buf.toString('utf8', 0, n);
  }
  native.close(master);
  t.equal(native.waitpid(r.pid, 0)?.code, 0);
  t.match(out, /24 80\r\n/, 'window size set');
  t.match(out, /is-a-tty\r\n/);
  t.match(out, /got-ping\r\n/, 'input written to the master reached the process');
});

t.test('EOF before READY is an InitExitError with the status', async (t) => {
  // WAIT_START on a closed pipe end: init exits 1 quietly without READY
  const [r, w] = native.pipe2(0o2000000);
  native.close(w);
  const err = await launchInit({ plan: [{ op: Op.WAIT_START, ints: [r], what: 'wait' }], cloneFlags: 0, keepFds: [r] }).catch(
    (e: unknown) => e,
  );
  native.close(r);
  t.type(err, InitExitError);
  t.match(err, { message: 'tsrun-init exited with status 1' });
  t.same(childrenOf(process.pid), []);
});

t.test('process attribute ops: domainname, rlimit, personality, oom, sched, affinity, seccomp', async (t) => {
  const [r, w] = native.pipe2(0o2000000);
  const allowAll = new Uint8Array([0x06, 0, 0, 0, 0x00, 0x00, 0xff, 0x7f]); // BPF_RET|BPF_K ALLOW
  const script = [
    'cat /proc/sys/kernel/domainname',
    'ulimit -n',
    'cat /proc/self/oom_score_adj',
    'cat /proc/self/personality',
    "awk '{print $19}' /proc/self/stat",
    'cat /proc/self/status',
  ].join('; ');
  const res = await launchInit({
    plan: [
      { op: Op.UNSHARE, ints: [0x4000000], what: 'unshare uts' },
      { op: Op.DOMAINNAME, strs: ['tsrun.example'], what: 'domainname' },
      { op: Op.RLIMIT, ints: [7, 100, 200], what: 'rlimit nofile' },
      { op: Op.OOM_SCORE_ADJ, ints: [123], what: 'oom_score_adj' },
      { op: Op.PERSONALITY, ints: [0x0040000], what: 'personality' },
      { op: Op.SCHED, ints: [0, 0, 5, 0, 0, 0, 0], what: 'sched' },
      { op: Op.IOPRIO, ints: [(2 << 13) | 4], what: 'ioprio' },
      { op: Op.AFFINITY, ints: [0], what: 'affinity' },
      { op: Op.PDEATHSIG, ints: [9], what: 'pdeathsig' },
      { op: Op.SETSID, what: 'setsid' },
      { op: Op.SECCOMP, ints: [0, -1], strs: [allowAll, ''], what: 'seccomp' },
      { op: Op.LOOKUP, strs: ['sh', '/usr/bin:/bin'], what: 'lookup' },
      { op: Op.READY, what: 'ready' },
      { op: Op.EXEC, ints: [3, 1], strs: ['sh', '-c', `{ ${script}; } >/proc/self/fd/${w}`, 'PATH=/usr/bin:/bin'], what: 'exec' },
    ],
    cloneFlags: 0,
    keepFds: [w],
  });
  native.close(w);
  t.equal(native.waitpid(res.pid, 0)?.code, 0);
  const buf = Buffer.alloc(65536);
  let out = '';
  for (let n; (n = readSync(r, buf)) > 0; ) out += buf.toString('utf8', 0, n);
  native.close(r);
  const lines = out.split('\n');
  t.equal(lines[0], 'tsrun.example', 'DOMAINNAME');
  t.equal(lines[1], '100', 'RLIMIT');
  t.equal(lines[2], '123', 'OOM_SCORE_ADJ');
  t.equal(lines[3], '00040000', 'PERSONALITY');
  t.equal(lines[4], '5', 'SCHED nice');
  t.equal(statusField(out, 'Cpus_allowed_list'), '0', 'AFFINITY');
  t.equal(statusField(out, 'Seccomp'), '2', 'SECCOMP filter mode');
  t.equal(statusField(out, 'Seccomp_filters'), '1');
});

t.test('an exec that fails before READY is reported with its index', async (t) => {
  const err = await launchInit({
    plan: [
      { op: Op.LOOKUP, strs: ['definitely-not-here', '/usr/bin:/bin'], what: 'exec "definitely-not-here"' },
      { op: Op.READY, what: 'ready' },
    ],
    cloneFlags: 0,
  }).catch((e: unknown) => e);
  t.match(err, { index: 0, code: 'ENOENT', message: 'exec "definitely-not-here": no such file or directory' });
});

// The init is cloned into the cgroup2 cgroup (CLONE_INTO_CGROUP) and writes "0" to the v1
// `tasks` files itself (CGROUP_JOIN, prepended to the plan): in place before its first op.
const CG = '/sys/fs/cgroup';
const cgSkip = !existsSync(join(CG, 'pids', 'tasks')) || !existsSync(join(CG, 'unified', 'cgroup.procs'))
  ? 'needs the hybrid layout (v1 pids, cgroup2 at /sys/fs/cgroup/unified)' : false;

t.test('cgroup: the init starts in its cgroup2 cgroup and joins the v1 ones before its first op', { skip: cgSkip }, async (t) => {
  const name = `tsrun-shim-${process.pid}`;
  const h: CgroupHandle = { path: `/${name}`, systemd: false, mode: 'hybrid' };
  createCgroup(h, undefined);
  t.teardown(() => destroyCgroup(h, { kill: true }));
  const seen: string[] = [];
  const plan: PlanOp[] = [
    { op: Op.SYNC, ints: ['C'.charCodeAt(0)], what: 'sync' },
    { op: Op.READY, what: 'ready' },
  ];
  const before = openFds();
  const r = await launchInit({
    plan,
    cloneFlags: 0,
    cgroup: openEntry(h),
    onSpawn: (pid) => void seen.push(readFileSync(`/proc/${pid}/cgroup`, 'utf8')),
    onSync: (_c, pid) => void seen.push(readFileSync(`/proc/${pid}/cgroup`, 'utf8')),
  });
  t.match(seen[0], new RegExp(`^0::/${name}$`, 'm'), 'in the cgroup2 cgroup from clone on');
  t.match(seen[1], new RegExp(`^\\d+:pids:/${name}$`, 'm'), 'in the v1 pids cgroup at its first op');
  t.match(seen[1], new RegExp(`^0::/${name}$`, 'm'));
  t.equal(native.waitpid(r.pid, 0)?.code, 0);
  t.same(openFds(), before, "the cgroup fds are closed in this process");

  // A tasks fd that cannot be written: the op fails, naming the cgroup; the init is reaped.
  const fd = openSync('/proc/self/stat', 'r');
  await t.rejects(
    launchInit({ plan, cloneFlags: 0, cgroup: { tasks: [{ fd, path: '/sys/fs/cgroup/x/tasks' }], addToV2: () => undefined, openV2Procs: () => undefined, close: () => closeSync(fd) } }),
    { name: 'InitOpError', message: 'join cgroup /sys/fs/cgroup/x: bad file descriptor', index: 0 },
  );
  // An fd that is no cgroup2 directory: clone3 refuses it, and nothing is left.
  const tmp = openSync(tmpdir(), 'r');
  await t.rejects(
    launchInit({ plan, cloneFlags: 0, cgroup: { intoFd: tmp, tasks: [], addToV2: () => undefined, openV2Procs: () => undefined, close: () => closeSync(tmp) } }),
    { code: 'EBADF' },
  );
  t.same(openFds(), before, 'no fd left after the failures');
  t.same(childrenOf(process.pid), [], 'no child left');
});
