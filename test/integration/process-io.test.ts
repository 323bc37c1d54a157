// The container process's I/O and plumbing: a terminal through --console-socket (driven by a
// small client), the foreground terminal proxy, signal forwarding, exec joining every namespace,
// --preserve-fds, LISTEN_FDS and --no-pivot.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import {
  assertNoLeaks, context, describe, makeBundle, readOut, repoRoot, rootFor, rt, snapshotHost, stateOf, tsrunBin, uniqueId, waitUntil,
  type RtResult,
} from '../helpers/index.js';

const client = join(repoRoot, 'test', 'helpers', 'console-client.py');

function ok(t: Test, r: RtResult, what: string): boolean {
  return t.equal(r.status, 0, `${what} succeeds`, { detail: describe(r) });
}

t.test('terminal: the pty master arrives over --console-socket and drives the container', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => {
    c.process.terminal = true;
    c.process.consoleSize = { height: 33, width: 101 };
    c.process.args = ['sh', '-c', 'tty; stty size; read line; echo "got:$line"; ls -l /dev/console | cut -c1'];
  });
  const dir = context(t).dir;
  const sock = join(dir, 'console.sock');
  const ready = join(dir, 'client.ready');
  const out = join(dir, 'client.out');
  const outFd = openSync(out, 'w');
  const cl = spawn('python3', [client, sock, ready, 'hello\n'], { stdio: ['ignore', outFd, 'inherit'] });
  closeSync(outFd);
  const exited = new Promise<number | null>((resolve) => cl.on('exit', (code) => resolve(code)));
  t.ok(await waitUntil(() => existsSync(ready)), 'the client listens');
  ok(t, rt(t, ['create', '--bundle', b.dir, '--console-socket', sock, id]), 'create with --console-socket');
  ok(t, rt(t, ['start', id]), 'start');
  t.equal(await exited, 0, 'the client received the master and read until the container closed it');
  const text = readFileSync(out, 'utf8');
  t.match(text, /fds=1/, 'one fd arrived with SCM_RIGHTS');
  t.match(text, /\/dev\/pts\/\d+/, 'the process runs on a pty');
  t.match(text, /33 101/, 'consoleSize applied');
  t.match(text, /got:hello/, 'input typed into the master reaches the process');
  t.match(text, /\nc/, '/dev/console is the pty (a character device)');
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'the container stops');
  ok(t, rt(t, ['delete', id]), 'delete');
  await assertNoLeaks(t, before);
});

t.test('run in the foreground proxies the terminal and returns the exit status', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => {
    c.process.terminal = true;
    c.process.args = ['sh', '-c', 'tty; read x; echo "typed:$x"; exit 4'];
  });
  const r = rt(t, ['run', '--bundle', b.dir, id], { input: 'abc\n' });
  t.equal(r.status, 4, 'the exit status of the process', { detail: describe(r) });
  t.match(r.stdout, /\/dev\/pts\/\d+/, 'the process ran on a pty');
  t.match(r.stdout, /typed:abc/, 'stdin reached the process through the pty');
  // runc's recvtty clears ONLCR on the pty: "\n" stays "\n" in what the caller reads.
  t.notMatch(r.stdout, /\r/, 'no carriage returns added to the output');
  await assertNoLeaks(t, before);
});

t.test('run in the foreground forwards signals to the process', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: ['sh', '-c', 'trap "echo got-term; exit 5" TERM; echo ready; while true; do sleep 0.1; done'] });
  const root = rootFor(t);
  const child = spawn(tsrunBin(), ['--root', root, 'run', '--bundle', b.dir, id], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSRUN_TEST_MARK: context(t).mark } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  t.ok(await waitUntil(() => out.includes('ready')), 'the container runs');
  child.kill('SIGTERM');
  t.equal(await code, 5, 'tsrun exits with the status the trapped signal produced');
  t.match(out, /got-term/, 'the process received SIGTERM');
  await assertNoLeaks(t, before);
});

t.test('exec joins every namespace of the container', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => {
    c.linux.namespaces.push({ type: 'cgroup' });
  }, { args: ['sh', '-c', 'echo started; exec sleep 1000'] });
  const c = rt(t, ['create', '--bundle', b.dir, id]);
  ok(t, c, 'create');
  ok(t, rt(t, ['start', id]), 'start');
  t.ok(await waitUntil(() => readOut(c).includes('started')), 'running');
  const pid = stateOf(t, id)!.pid!;
  const types = ['pid', 'net', 'ipc', 'uts', 'mnt', 'cgroup'];
  const e = rt(t, ['exec', id, 'sh', '-c', types.map((n) => `readlink /proc/self/ns/${n}`).join('; ')]);
  ok(t, e, 'exec');
  const inside = e.stdout.trim().split('\n');
  types.forEach((n, i) => {
    const init = readlinkSync(`/proc/${pid}/ns/${n}`);
    t.equal(inside[i], init, `exec'd process shares the ${n} namespace of the init`);
    t.not(init, readlinkSync(`/proc/self/ns/${n}`), `the ${n} namespace is not the host's`);
  });
  const ps = rt(t, ['exec', id, 'ps', '-o', 'pid,comm']);
  t.match(ps.stdout, /\n\s*1 sleep/, 'pid 1 in the exec view is the container process');
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
  await assertNoLeaks(t, before);
});

t.test('--preserve-fds passes fds 3.. to the container; LISTEN_FDS adds LISTEN_FDS/LISTEN_PID', async (t) => {
  const before = snapshotHost(t);
  const dir = context(t).dir;
  const file = join(dir, 'passed.txt');
  writeFileSync(file, 'through fd 3\n');
  const b = makeBundle(t, undefined, { args: ['sh', '-c', 'cat <&3; echo "LISTEN_FDS=$LISTEN_FDS LISTEN_PID=$LISTEN_PID"; ls /proc/self/fd | tr "\\n" " "'] });
  const root = rootFor(t);
  const run = (id: string, args: string[], env: NodeJS.ProcessEnv) => {
    const fd = openSync(file, 'r');
    try {
      return spawnSync(tsrunBin(), ['--root', root, 'run', ...args, '--bundle', b.dir, id], {
        stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8', env: { ...process.env, ...env, TSRUN_TEST_MARK: context(t).mark },
      });
    } finally {
      closeSync(fd);
    }
  };
  const p = run(uniqueId(t), ['--preserve-fds', '1'], {});
  t.equal(p.status, 0, 'run --preserve-fds 1', { detail: p.stderr });
  t.match(p.stdout, /through fd 3/, 'the container reads fd 3');
  t.match(p.stdout, /LISTEN_FDS= LISTEN_PID=/, 'no LISTEN_FDS without socket activation');
  t.match(p.stdout, /^0 1 2 3 \d+ ?$/m, 'only 0-3 and the fd of ls itself are open');
  const n = run(uniqueId(t), [], {});
  t.equal(n.status, 0, 'run without --preserve-fds', { detail: n.stderr });
  t.notMatch(n.stdout, /through fd 3/, 'without --preserve-fds fd 3 is closed in the container');
  const l = run(uniqueId(t), [], { LISTEN_FDS: '1', LISTEN_PID: String(process.pid) });
  t.equal(l.status, 0, 'run with LISTEN_FDS=1', { detail: l.stderr });
  t.match(l.stdout, /through fd 3/, 'the socket-activation fd reaches the container');
  t.match(l.stdout, /LISTEN_FDS=1 LISTEN_PID=1/, 'LISTEN_FDS and LISTEN_PID=1 in the environment');
  await assertNoLeaks(t, before);
});

t.test('--no-pivot moves the rootfs to / instead of pivot_root', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: ['sh', '-c', 'ls /bin/busybox && grep -c " / " /proc/self/mountinfo'] });
  const r = rt(t, ['run', '--no-pivot', '--bundle', b.dir, id]);
  ok(t, r, 'run --no-pivot');
  t.match(r.stdout, /\/bin\/busybox/, 'the rootfs is /');
  await assertNoLeaks(t, before);
});
