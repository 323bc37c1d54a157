// Leaked descriptors and working directory (CVE-2024-21626 class): runc leaked a descriptor of
// a host directory into its init, and process.cwd = "/proc/self/fd/7" (or `exec --cwd`) put the
// container process in that host directory: a full escape. No host descriptor and no host cwd may
// reach the container process; a cwd that resolves through a descriptor to a directory outside
// the container's root must fail cleanly.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { context, describe, readOut, rootFor, rt, runtimeUnderTest, stateOf, uniqueId } from '../helpers/index.js';
import { attackBundle, jsonLines, nothingLeft, runBundle } from './fixtures/lib.js';

function noHostFds(t: Test, report: any, what: string): void {
  const fds = (report?.fds ?? []) as Array<{ fd: number; target: string }>;
  t.strictSame(fds.map((f) => f.fd).sort(), [0, 1, 2], `${what}: only 0, 1 and 2 are open`, { fds });
  t.equal(report?.cwd, '/', `${what}: cwd is /`);
  t.equal(report?.cwd_is_root, true, `${what}: and it is the container's root`);
}

t.test('the container process and an exec\'d process see no descriptor but their stdio, and cwd in the container', async (t) => {
  const b = attackBundle(t, (c) => {
    c.process.args = ['/attack', 'fds'];
  });
  const { r, json } = runBundle(t, b);
  t.equal(r.status, 0, 'run', { detail: describe(r) });
  noHostFds(t, json[0], 'run');

  const id = uniqueId(t);
  const b2 = attackBundle(t, (c) => {
    c.process.args = ['sleep', '1000'];
  });
  t.equal(rt(t, ['run', '-d', '--bundle', b2.dir, id]).status, 0, 'a running container');
  const x = rt(t, ['exec', id, '/attack', 'fds']);
  t.equal(x.status, 0, 'exec', { detail: describe(x) });
  noHostFds(t, jsonLines(x.stdout)[0], 'exec');
  const xd = rt(t, ['exec', '-d', id, 'sh', '-c', '/attack fds > /fds.json']);
  t.equal(xd.status, 0, 'exec -d', { detail: describe(xd) });
  t.equal(rt(t, ['exec', id, 'sh', '-c', 'while [ ! -s /fds.json ]; do sleep 0.05; done']).status, 0, 'its report is written');
  noHostFds(t, JSON.parse(readFileSync(join(b2.rootfs, 'fds.json'), 'utf8')), 'exec -d');
  t.equal(rt(t, ['delete', '-f', id]).status, 0, 'delete');
});

t.test('cwd /proc/self/fd/N: fails cleanly or lands in the container, never in a host directory', async (t) => {
  for (let n = 3; n <= 12; n++) {
    const b = attackBundle(t, (c) => {
      c.process.args = ['/attack', 'fds'];
      c.process.cwd = `/proc/self/fd/${n}`;
    });
    const { r, json, id } = runBundle(t, b);
    if (r.status === 0) {
      t.ok(json[0]?.cwd?.startsWith('/'), `fd ${n}: the cwd is inside the container (getcwd names no unreachable directory)`, { json });
    } else {
      t.equal(r.stderr.trim().split('\n').length, 1, `fd ${n}: refused with one line`, { stderr: r.stderr });
      t.notMatch(readOut(r), /"cwd"/, `fd ${n}: the process never ran`);
      nothingLeft(t, id, `fd ${n}`);
    }
  }
});

/** tsrun with a descriptor of a host directory as fd 3 (--preserve-fds 1 passes it on). */
function withHostDirFd(t: Test, args: string[]): ReturnType<typeof spawnSync> {
  const hostDir = join(context(t).dir, 'host-secret');
  mkdirSync(hostDir, { recursive: true });
  const fd = openSync(hostDir, 'r');
  try {
    return spawnSync(runtimeUnderTest(), ['--root', rootFor(t), ...args], {
      stdio: ['ignore', 'pipe', 'pipe', fd],
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, TSRUN_TEST_MARK: context(t).mark },
    });
  } finally {
    closeSync(fd);
  }
}

t.test('the runc attack: a host directory descriptor in the init and cwd through it is refused (create and exec)', async (t) => {
  // With --preserve-fds the descriptor is there on purpose (runc's leak put it there by
  // accident): the cwd check after chdir is what stops the escape.
  const b = attackBundle(t, (c) => {
    c.process.args = ['/attack', 'fds'];
    c.process.cwd = '/proc/self/fd/3';
  });
  const id = uniqueId(t);
  const r = withHostDirFd(t, ['run', '--preserve-fds', '1', '--bundle', b.dir, id]);
  t.not(r.status, 0, 'run is refused', { stdout: r.stdout, stderr: r.stderr });
  // create resolves the cwd in the rootfs first (to make it), where magic links are refused
  t.match(String(r.stderr), /^tsrun: run \S+: (create the working directory \/proc\/self\/fd\/3: invalid cross-device link|change to the working directory "\/proc\/self\/fd\/3": \/proc\/self\/fd\/3 is outside the container's root)\n$/, 'one line saying why');
  t.notMatch(String(r.stdout), /"cwd"/, 'the process never ran in the host directory');
  nothingLeft(t, id, 'run');

  const id2 = uniqueId(t);
  const b2 = attackBundle(t, (c) => {
    c.process.args = ['sleep', '1000'];
  });
  t.equal(rt(t, ['run', '-d', '--bundle', b2.dir, id2]).status, 0, 'a running container');
  const x = withHostDirFd(t, ['exec', '--preserve-fds', '1', '--cwd', '/proc/self/fd/3', id2, '/attack', 'fds']);
  t.not(x.status, 0, 'exec --cwd /proc/self/fd/3 is refused', { stdout: x.stdout, stderr: x.stderr });
  t.match(String(x.stderr), /^tsrun: exec \S+: exec failed: change to the working directory "\/proc\/self\/fd\/3": \/proc\/self\/fd\/3 is outside the container's root\n$/, 'one line saying why');
  t.notMatch(String(x.stdout), /"cwd"/, 'the process never ran');
  // the same exec without the cwd trick: the descriptor is inherited (asked for), cwd stays inside
  const ok = withHostDirFd(t, ['exec', '--preserve-fds', '1', id2, '/attack', 'fds']);
  t.equal(ok.status, 0, 'exec --preserve-fds 1 alone runs', { stderr: ok.stderr });
  t.equal(jsonLines(String(ok.stdout))[0]?.cwd_is_root, true, 'in the container\'s root');
  for (let n = 3; n <= 12; n++) {
    const e = rt(t, ['exec', '--cwd', `/proc/self/fd/${n}`, id2, '/attack', 'fds']);
    const j = jsonLines(e.stdout)[0];
    t.ok(e.status !== 0 || (j && j.cwd.startsWith('/')), `exec --cwd /proc/self/fd/${n}: refused or inside`, { detail: describe(e) });
  }
  t.equal(stateOf(t, id2)?.status, 'running', 'the container is unharmed');
  t.equal(rt(t, ['delete', '-f', id2]).status, 0, 'delete');
});
