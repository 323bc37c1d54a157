// End-to-end runs of tsrun-init in new namespaces on a busybox rootfs (needs root).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Op, F_HOST, F_OPTIONAL } from '../../src/native/ops.js';
import { loadNative, PR_SET_CHILD_SUBREAPER } from '../../src/native/native.js';
import {
  CLONE_NEWIPC, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID,
  MS_PRIVATE, MS_REC, childrenOf, makeRootfs, makeTmp, runCreate, statusField,
} from './fixtures/helpers.js';

const native = await loadNative();
// orphans of the create fixture (the waiting init) become our children
native.prctl(PR_SET_CHILD_SUBREAPER, 1);

const dir = makeTmp();
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const rootfs = makeRootfs(dir);
mkdirSync(join(rootfs, 'secret'));
writeFileSync(join(rootfs, 'secret', 'key'), 'top secret\n');
writeFileSync(join(rootfs, 'secret.txt'), 'also secret\n');

const flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID;

/** Ops that enter the rootfs; `extra` runs before pivot_root, `after` after it. */
function rootPlan(extra: object[] = [], after: object[] = []): object[] {
  return [
    { op: Op.MOUNT, flags: F_HOST, ints: [MS_REC | MS_PRIVATE, 0, 0], strs: ['', '/', '', ''], what: 'make / private' },
    { op: Op.ROOTFS, strs: [rootfs], what: 'rootfs' },
    { op: Op.MOUNT, flags: F_HOST, ints: [MS_BIND | MS_REC, 0, 0], strs: [rootfs, rootfs, '', ''], what: 'bind rootfs' },
    { op: Op.MOUNT, ints: [MS_NOSUID | MS_NODEV | MS_NOEXEC, 1, 0o555], strs: ['proc', '/proc', 'proc', ''], what: 'mount "proc" on "/proc"' },
    ...extra,
    { op: Op.PIVOT_ROOT, what: 'pivot_root' },
    ...after,
  ];
}

/** Waits until the init sleeps in the open/read of the exec fifo. */
async function blockedInWait(pid: number): Promise<void> {
  for (;;) {
    const nr = readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0];
    if (nr === '0' || nr === '257') return; // read, openat
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function startAndWait(fifo: string, pid: number | undefined) {
  // only a waiting init opens the fifo: without one, writing to it would block forever
  if (!pid) throw new Error('no container to start');
  writeFileSync(fifo, 'x');
  return native.waitpidAsync(pid, 0);
}

t.test('a container: namespaces, rootfs ops, clean signal state, start via fifo', async (t) => {
  const fifo = join(dir, 'exec.fifo');
  execFileSync('mkfifo', [fifo]);
  const script = [
    'hostname',
    'echo pid=$$',
    'cat /proc/sys/kernel/domainname',
    'ls -l /dev/null',
    'readlink /dev/fd',
    'echo secret-dir=$(ls /secret)',
    'echo secret-file=$(cat /secret.txt)',
    'touch /ro/f 2>/dev/null && echo ro=writable || echo ro=readonly',
    'touch /tmp/f && echo tmp=writable',
    'exec cat /proc/self/status',
  ].join('; ');
  const plan = rootPlan(
    [
      { op: Op.MOUNT, ints: [0, 1, 0o1777], strs: ['tmpfs', '/tmp', 'tmpfs', 'size=64k'], what: 'mount tmpfs on /tmp' },
      { op: Op.MOUNT, flags: F_OPTIONAL, ints: [MS_BIND, 1, 0o755], strs: ['/nonexistent/source', '/opt', '', ''], what: 'optional bind' },
      { op: Op.MKNOD, ints: [0o20666, (1 << 8) | 3, 0, 0], strs: ['/dev/null'], what: 'mknod /dev/null' },
      { op: Op.SYMLINK, strs: ['/proc/self/fd', '/dev/fd'], what: 'symlink /dev/fd' },
      { op: Op.MKDIR, ints: [0o755], strs: ['/ro/sub'], what: 'mkdir /ro/sub' },
      { op: Op.HOSTNAME, strs: ['tsrun-test'], what: 'hostname' },
    ],
    [
      { op: Op.WRITE_FILE, strs: ['/proc/sys/kernel/domainname', 'tsrun-domain'], what: 'sysctl kernel.domainname' },
      { op: Op.MASK, strs: ['/secret'], what: 'mask /secret' },
      { op: Op.MASK, strs: ['/secret.txt'], what: 'mask /secret.txt' },
      { op: Op.MASK, strs: ['/does/not/exist'], what: 'mask missing' },
      { op: Op.READONLY, strs: ['/ro'], what: 'readonly /ro' },
      { op: Op.CHDIR, strs: ['/tmp'], what: 'chdir' },
      { op: Op.UMASK, ints: [0o022], what: 'umask' },
      { op: Op.NO_NEW_PRIVS, what: 'no_new_privs' },
      { op: Op.LOOKUP, strs: ['sh', '/usr/bin:/bin'], what: 'lookup sh' },
      { op: Op.CLOSE_FDS, ints: [3], what: 'close fds' },
      { op: Op.READY, what: 'ready' },
      { op: Op.WAIT_START, ints: ['fd:0'], what: 'wait start' },
      { op: Op.EXEC, ints: [3, 1], strs: ['sh', '-c', script, 'PATH=/bin'], what: 'exec' },
    ],
  );
  const { result, output } = await runCreate({ plan, cloneFlags: flags, open: [{ path: fifo, flags: 'fifo-read' }] }, dir);
  t.ok(result.ok, `create succeeded: ${result.message ?? ''}`);
  const pid = result.pid!;
  t.equal(result.initPid, pid, 'no FORK: init is the container process');

  // the waiting init is a small static program: the density requirement
  await blockedInWait(pid);
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const pss = Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1]);
  t.ok(pss > 0 && pss <= 1024, `PSS of the waiting init is ${pss} kB (<= 1024 kB)`);
  const initStatus = readFileSync(`/proc/${pid}/status`, 'utf8');
  t.equal(statusField(initStatus, 'Name'), 'tsrun-init', 'the waiting process is tsrun-init');
  t.equal(statusField(initStatus, 'SigBlk'), '0000000000000000', 'spawn unblocked all signals');
  t.equal(statusField(initStatus, 'SigIgn'), '0000000000000000', 'spawn reset all dispositions');

  const st = await startAndWait(fifo, pid);
  const { stdout, stderr } = await output;
  t.same({ exited: st.exited, code: st.code }, { exited: true, code: 0 }, `container exited 0 (stderr: ${stderr})`);
  const lines = stdout.split('\n');
  t.equal(lines[0], 'tsrun-test', 'hostname set in the new uts ns');
  t.equal(lines[1], 'pid=1', 'the process is pid 1 of its pid ns');
  t.equal(lines[2], 'tsrun-domain', 'WRITE_FILE wrote the sysctl');
  t.match(lines[3], /^crw-rw-rw-\s+1 0\s+0\s+1,\s+3 /, 'MKNOD made /dev/null with the exact mode');
  t.equal(lines[4], '/proc/self/fd', 'SYMLINK');
  t.equal(lines[5], 'secret-dir=', 'MASK hides a directory');
  t.equal(lines[6], 'secret-file=', 'MASK hides a file');
  t.equal(lines[7], 'ro=readonly', 'READONLY');
  t.equal(lines[8], 'tmp=writable', 'tmpfs mounted with mkdir');
  const status = lines.slice(9).join('\n');
  t.equal(statusField(status, 'SigBlk'), '0000000000000000', 'no blocked signals');
  t.equal(statusField(status, 'SigIgn'), '0000000000000000', 'no ignored signals');
  t.equal(statusField(status, 'NoNewPrivs'), '1', 'no_new_privs');
  t.equal(statusField(status, 'Umask'), '0022', 'umask');
  t.same(childrenOf(process.pid), [], 'nothing left behind');
});

t.test('USER, CAP_BOUNDING and CAP_SET shape the process credentials', async (t) => {
  const fifo = join(dir, 'exec2.fifo');
  execFileSync('mkfifo', [fifo]);
  const keep = (1 << 0) | (1 << 5) | (1 << 10); // chown, kill, net_bind_service
  const amb = 1 << 10;
  const plan = rootPlan(
    [],
    [
      { op: Op.LOOKUP, strs: ['/bin/cat', ''], what: 'lookup cat' },
      { op: Op.CAP_BOUNDING, ints: [keep, 0], what: 'bounding set' },
      { op: Op.USER, ints: [1000, 1001, 10, 20], what: 'user 1000' },
      { op: Op.CAP_SET, ints: [keep, 0, keep, 0, keep, 0, amb, 0], what: 'capabilities' },
      { op: Op.READY, what: 'ready' },
      { op: Op.WAIT_START, ints: ['fd:0'], what: 'wait start' },
      { op: Op.EXEC, ints: [2, 0], strs: ['cat', '/proc/self/status'], what: 'exec' },
    ],
  );
  const { result, output } = await runCreate({ plan, cloneFlags: flags, open: [{ path: fifo, flags: 'fifo-read' }] }, dir);
  t.ok(result.ok, `create succeeded: ${result.message ?? ''}`);
  const st = await startAndWait(fifo, result.pid);
  const { stdout, stderr } = await output;
  t.equal(st.code, 0, `exit 0 (${stderr})`);
  t.equal(statusField(stdout, 'Uid'), '1000\t1000\t1000\t1000');
  t.equal(statusField(stdout, 'Gid'), '1001\t1001\t1001\t1001');
  t.equal(statusField(stdout, 'Groups')?.trim(), '10 20');
  t.equal(statusField(stdout, 'CapBnd'), '0000000000000421', 'bounding set');
  t.equal(statusField(stdout, 'CapInh'), '0000000000000421', 'inheritable set');
  t.equal(statusField(stdout, 'CapAmb'), '0000000000000400', 'ambient set');
  // a non-root exec keeps the ambient caps as permitted and effective
  t.equal(statusField(stdout, 'CapPrm'), '0000000000000400');
  t.equal(statusField(stdout, 'CapEff'), '0000000000000400');
  t.equal(statusField(stdout, 'NoNewPrivs'), '0');
  t.same(childrenOf(process.pid), [], 'nothing left behind');
});

t.test('a failing op reports its index and errno; nothing is left behind', async (t) => {
  const plan = rootPlan([
    { op: Op.MOUNT, ints: [0, 1, 0o755], strs: ['none', '/mnt/x', 'nosuchfs', ''], what: 'mount "none" on "/mnt/x"' },
  ]);
  const { result } = await runCreate({ plan, cloneFlags: flags }, dir);
  t.equal(result.ok, false);
  t.equal(result.index, 4, 'the index of the failing op');
  t.equal(result.code, 'ENODEV');
  t.equal(result.message, 'mount "none" on "/mnt/x": no such device');
  t.equal(result.detail, '/mnt/x');
  t.same(childrenOf(process.pid), [], 'no process left');
});

t.test('a missing path in the rootfs: ENOENT, skipped when optional', async (t) => {
  const plan = rootPlan([
    { op: Op.MOUNT, flags: F_OPTIONAL, ints: [MS_BIND, 0, 0], strs: ['/etc', '/missing', '', ''], what: 'optional' },
    { op: Op.MOUNT, ints: [MS_BIND, 0, 0], strs: ['/etc', '/missing', '', ''], what: 'bind mount "/etc" on "/missing"' },
  ]);
  const { result } = await runCreate({ plan, cloneFlags: flags }, dir);
  t.equal(result.index, 5);
  t.equal(result.code, 'ENOENT');
  t.equal(result.message, 'bind mount "/etc" on "/missing": no such file or directory');
  t.same(childrenOf(process.pid), [], 'no process left');
});

t.test('symlinks cannot lead a mount out of the rootfs', async (t) => {
  const escape = join(dir, 'outside');
  mkdirSync(escape);
  // on the host ../outside is `escape`; inside the root it is /outside
  execFileSync('ln', ['-s', '../outside', join(rootfs, 'escape')]);
  const fifo = join(dir, 'exec3.fifo');
  execFileSync('mkfifo', [fifo]);
  const plan = rootPlan(
    [
      { op: Op.MOUNT, ints: [0, 1, 0o755], strs: ['tmpfs', '/escape/in', 'tmpfs', ''], what: 'tmpfs via symlink' },
    ],
    [
      { op: Op.LOOKUP, strs: ['ls', '/bin'], what: 'lookup' },
      { op: Op.READY, what: 'ready' },
      { op: Op.WAIT_START, ints: ['fd:0'], what: 'wait start' },
      { op: Op.EXEC, ints: [2, 0], strs: ['ls', '/outside'], what: 'exec' },
    ],
  );
  const { result, output } = await runCreate({ plan, cloneFlags: flags, open: [{ path: fifo, flags: 'fifo-read' }] }, dir);
  t.ok(result.ok, `create succeeded: ${result.message ?? ''}`);
  await startAndWait(fifo, result.pid);
  await output;
  t.same(readFileSync('/proc/self/mountinfo', 'utf8').includes(escape), false, 'no mount on the host');
  t.same(execFileSync('ls', ['-A', escape]).toString(), '', 'nothing created outside the rootfs');
  t.ok(execFileSync('ls', ['-d', join(rootfs, 'outside', 'in')]).toString().length > 0, 'created inside it');
});
