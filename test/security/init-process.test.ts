// The runtime's own process inside the container.
//
// CVE-2019-5736 class: a container process opens /proc/<pid>/exe (or map_files, or a mapped fd)
// of the runtime process that joined the container, and writes the runtime's binary on the host
// — directly, or by keeping an O_PATH fd and reopening it for writing once the runtime has
// exec'd the container's program. tsrun-init (the waiting init of `create`, the helper of
// `exec`) is executed from a detached read-only clone of its mount: every such open fails with
// EROFS, even for an attacker holding CAP_SYS_PTRACE and CAP_SYS_ADMIN.
//
// The process waiting between create and start (and the exec helper) cannot be used to enter
// the host: it is not dumpable, so /proc/<pid>/{environ,mem,exe,cwd,root,fd} and ptrace are
// closed to the other processes of the container.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { realHost } from '../../src/linux/host-facts.js';
import t from 'tap';
import type { Test } from 'tap';
import { Op } from '../../src/native/ops.js';
import { launchInit } from '../../src/native/init-protocol.js';
import { loadNative } from '../../src/native/native.js';
import { initPath } from '../../src/native/support-files.js';
import { buildExecPlan } from '../../src/linux/exec-plan.js';
import { describe, repoRoot, rootFor, rt, runtimeUnderTest, stateOf, uniqueId, waitUntil, type Bundle } from '../helpers/index.js';
import { attackBundle, jsonLines, runBundle } from './fixtures/lib.js';

const E = constants.errno;

// A private copy of tsrun's support files for this file's runs: no process of another test (or
// of anything else on the host) executes this tsrun-init, so "text file busy" can never stand
// in for the answer that matters (EROFS: the read-only mount).
const privateLib = mkdtempSync(join(tmpdir(), 'tsrun-security-lib-'));
cpSync(join(repoRoot, 'build', 'lib', 'tsrun'), privateLib, { recursive: true });
process.env.TSRUN_LIBDIR = privateLib;
t.teardown(() => rmSync(privateLib, { recursive: true, force: true }));
const ATTACKER_CAPS = ['--cap', 'CAP_SYS_PTRACE', '--cap', 'CAP_SYS_ADMIN'];
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

function results(b: Bundle, name: string): Record<string, any> {
  const file = join(b.rootfs, name);
  const out: Record<string, any> = {};
  if (!existsSync(file)) return out;
  for (const j of jsonLines(readFileSync(file, 'utf8'))) out[j.what] = j;
  return out;
}

function created(t: Test, b: Bundle): { id: string; pid: number } {
  const id = uniqueId(t);
  const c = rt(t, ['create', '--bundle', b.dir, id]);
  t.equal(c.status, 0, 'create', { detail: describe(c) });
  return { id, pid: stateOf(t, id)?.pid ?? 0 };
}

/** The attack's verdict: it could name the file, and no write open ever succeeded. */
function checkAttack(t: Test, r: Record<string, any>, what: string): void {
  t.equal(r.exe_link?.link, '/tsrun-init', `${what}: the attacker sees tsrun-init as /proc/<pid>/exe`);
  t.equal(r.open_path?.errno, 0, `${what}: with CAP_SYS_PTRACE it can open it O_PATH (the attack is possible at all)`);
  t.ok([E.EROFS, E.ETXTBSY].includes(r.open_wronly?.errno), `${what}: open(O_WRONLY) fails while tsrun-init runs`, { got: r.open_wronly });
  t.ok([E.EROFS, E.ETXTBSY].includes(r.open_rdwr?.errno), `${what}: open(O_RDWR) fails`, { got: r.open_rdwr });
  t.ok(r.map_files_wronly?.tried > 0, `${what}: map_files lists the mappings`, { got: r.map_files_wronly });
  t.ok([E.EROFS, E.ETXTBSY, E.EACCES].includes(r.map_files_wronly?.errno), `${what}: no mapped file opens for writing`, { got: r.map_files_wronly });
  t.equal(r.reopen_wronly_after_exec?.errno, E.EROFS, `${what}: after tsrun-init exec'd the container's program, the O_PATH fd reopens for writing with EROFS (not "text file busy": a read-only mount)`);
  t.equal(r.reopen_rdwr_after_exec?.errno, E.EROFS, `${what}: O_RDWR too`);
}

t.test('create: a process in the container cannot write tsrun-init through /proc/1/exe, before or after start', async (t) => {
  const before = sha(initPath());
  const b = attackBundle(t, (c) => {
    c.process.args = ['sleep', '1000'];
  });
  const { id, pid } = created(t, b);
  t.ok(pid > 0, 'the init waits');
  // the attacker: a process exec'd into the created container, with the capabilities that open
  // /proc/1/exe of a non-dumpable process and map_files
  const x = rt(t, ['exec', ...ATTACKER_CAPS, id, '/attack', 'exe', '1', '/result']);
  t.equal(x.status, 0, 'the attacker ran', { detail: describe(x) });
  t.ok(await waitUntil(() => results(b, 'result').reopen_wronly_now !== undefined), 'first half done');
  t.ok([E.EROFS, E.ETXTBSY].includes(results(b, 'result').reopen_wronly_now?.errno), 'reopen now fails');
  t.equal(rt(t, ['start', id]).status, 0, 'start: init execs the container process');
  t.ok(await waitUntil(() => results(b, 'result').done !== undefined, { timeoutMs: 30_000 }), 'the attacker tried again after the exec');
  checkAttack(t, results(b, 'result'), 'create');
  t.equal(sha(initPath()), before, 'tsrun-init on the host is unchanged');
  t.equal(rt(t, ['delete', '-f', id]).status, 0, 'delete');
});

t.test('exec: the exec helper inside the container cannot be written either', async (t) => {
  const before = sha(initPath());
  const b = attackBundle(t, (c) => {
    c.process.args = ['sleep', '1000'];
  });
  const id = uniqueId(t);
  t.equal(rt(t, ['run', '-d', '--bundle', b.dir, id]).status, 0, 'a running container');
  const pid = stateOf(t, id)?.pid ?? 0;
  // The helper `tsrun exec` spawns, with the same plan, stopped right after it forked into the
  // container's pid namespace (a SYNC after FORK) while the attacker works.
  const plan = buildExecPlan({
    host: realHost(),
    pid,
    process: { user: { uid: 0, gid: 0 }, cwd: '/', args: ['sleep', '0'], env: ['PATH=/bin'], noNewPrivileges: true },
    firstClosedFd: 3,
  });
  const fork = plan.findIndex((o) => o.op === Op.FORK);
  plan.splice(fork + 1, 0, { op: Op.SYNC, ints: ['A'.charCodeAt(0)], what: 'let the attacker in' });
  const native = await loadNative();
  let attacker: ReturnType<typeof rt> | undefined;
  const launched = await launchInit({
    plan,
    cloneFlags: 0,
    native,
    onSync: async (_code, helper) => {
      const nspid = readFileSync(`/proc/${helper}/status`, 'utf8').match(/^NSpid:\s+(.*)$/m)?.[1]?.trim().split(/\s+/).pop();
      attacker = rt(t, ['exec', ...ATTACKER_CAPS, id, '/attack', 'exe', String(nspid), '/result'], { root: rootFor(t, runtimeUnderTest()) });
    },
  });
  native.waitpid(launched.pid, 0);
  t.equal(attacker?.status, 0, 'the attacker ran while the helper was in the container', { detail: attacker && describe(attacker) });
  t.ok(await waitUntil(() => results(b, 'result').done !== undefined, { timeoutMs: 30_000 }), 'the attacker tried again after the exec');
  checkAttack(t, results(b, 'result'), 'exec');
  t.equal(sha(initPath()), before, 'tsrun-init on the host is unchanged');
  t.equal(rt(t, ['delete', '-f', id]).status, 0, 'delete');
});

function checkClosed(t: Test, p: any, what: string): void {
  for (const k of ['environ', 'mem', 'exe', 'cwd', 'root', 'exe_link', 'cwd_link', 'root_link']) {
    t.ok([E.EACCES, E.EPERM].includes(p?.[k]), `${what}: /proc/1/${k.replace('_link', '')}${k.endsWith('_link') ? ' (readlink)' : ''} is closed`, { got: p?.[k] });
  }
  t.ok(p?.fd_count > 0, `${what}: /proc/1/fd lists descriptors (root owns the directory)`, { got: p });
  t.ok([E.EACCES, E.EPERM].includes(p?.fd_link), `${what}: but none of /proc/1/fd/N can be read as a link`, { got: p?.fd_link });
  t.ok([E.EACCES, E.EPERM].includes(p?.fd_open), `${what}: or opened`, { got: p?.fd_open });
  t.equal(p?.attach, E.EPERM, `${what}: PTRACE_ATTACH is refused`);
  t.equal(p?.seize, E.EPERM, `${what}: PTRACE_SEIZE is refused`);
}

t.test('the waiting init cannot be used to enter the host (another container in its pid namespace, an exec)', async (t) => {
  const a = attackBundle(t, (c) => {
    c.process.args = ['sleep', '1000'];
  });
  const { id, pid } = created(t, a);
  // a second container sharing the pid namespace, with the default capabilities
  const b = attackBundle(t, (c) => {
    c.linux.namespaces = c.linux.namespaces.map((n: any) => (n.type === 'pid' ? { type: 'pid', path: `/proc/${pid}/ns/pid` } : n));
    // a dumpable process of its own next to the attacker: the control
    c.process.args = ['sh', '-c', 'sleep 100 & /attack peek 1; /attack peek $!; kill $!'];
  });
  const { r, json } = runBundle(t, b);
  t.equal(r.status, 0, 'the second container ran', { detail: describe(r) });
  checkClosed(t, json[0], 'second container');
  const control = json[1];
  t.equal(control?.environ, 0, 'control: the same probe reads a dumpable process of the container');
  t.equal(control?.exe, 0, 'control: and its exe');
  t.equal(control?.fd_link, 0, 'control: and its fds');
  t.equal(control?.attach, 0, 'control: and may ptrace it');

  const x = rt(t, ['exec', id, '/attack', 'peek', '1']);
  t.equal(x.status, 0, 'an exec into the created container', { detail: describe(x) });
  checkClosed(t, jsonLines(x.stdout)[0], 'exec');
  t.equal(stateOf(t, id)?.status, 'created', 'the container is still waiting');
  t.equal(rt(t, ['delete', '-f', id]).status, 0, 'delete');
});

t.test('the waiting init holds no copy of tsrun-init: its exe is the read-only mount, PSS stays under 1 MB', async (t) => {
  const a = attackBundle(t, (c) => {
    c.process.args = ['sleep', '1000'];
  });
  const { id, pid } = created(t, a);
  t.equal(spawnSync('readlink', [`/proc/${pid}/exe`], { encoding: 'utf8' }).stdout.trim(), '/tsrun-init', 'not a memfd copy');
  const maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  t.notMatch(maps, /memfd:/, 'nothing mapped from a memfd');
  const pss = Number(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').match(/^Pss:\s+(\d+) kB/m)?.[1]);
  t.ok(pss > 0 && pss <= 1024, `PSS of the waiting init is ${pss} kB`);
  t.equal(rt(t, ['delete', '-f', id]).status, 0, 'delete');
});
