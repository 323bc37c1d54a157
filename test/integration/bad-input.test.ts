// Bad input: every case must fail with a non-zero status, leave nothing
// behind (leak checker), and — for tsrun — print exactly one stderr line
// `tsrun: ...` naming the container (when there is one) and saying what is
// wrong (for config errors, the JSON pointer of the bad value).
//
// The message checks are tsrun's format. They run when the runtime under test
// is tsrun (the default), or when BAD_INPUT_MESSAGES=1; BAD_INPUT_MESSAGES=0
// turns them off, so RUNTIME=runc checks exit statuses and leaks only.
import { writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import {
  assertNoLeaks, describe, makeBundle, rt, snapshotHost, stateOf, testingTsrun, uniqueId, waitUntil, writeRawConfig,
  type Config, type RtResult,
} from '../helpers/index.js';

const checkMessages = process.env.BAD_INPUT_MESSAGES ? process.env.BAD_INPUT_MESSAGES === '1' : testingTsrun();
const LONG = ['sh', '-c', 'exec sleep 1000'];

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A JSON pointer in an error message: the pointer itself, or (for a missing
 * property, which validators report at the parent) the parent and then the name.
 */
function pointer(p: string): RegExp {
  const i = p.lastIndexOf('/');
  const parent = p.slice(0, i);
  const prop = p.slice(i + 1);
  return new RegExp(`${esc(p)}|${esc(parent)}\\b.*\\b${esc(prop)}\\b`);
}

function expectFailure(t: Test, r: RtResult, id: string | null, phrase: RegExp): void {
  t.ok(r.status !== null && r.status !== 0, 'fails with a non-zero status', { detail: describe(r) });
  if (!checkMessages) return;
  const lines = r.stderr.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  t.equal(lines.length, 1, 'stderr is exactly one line', { stderr: r.stderr });
  const line = lines[0] ?? '';
  t.match(line, /^tsrun: /, 'the line starts with "tsrun: "');
  if (id) t.ok(line.includes(id), `the line names the container ${id}`, { line });
  t.match(line, phrase, 'the line says what is wrong', { line });
  t.equal(r.stdout, '', 'nothing on stdout');
}

/** A config case: create from a bundle the patch broke. */
function config(name: string, patch: (cfg: Config) => void, phrase: RegExp): void {
  t.test(name, async (t) => {
    const before = snapshotHost(t);
    const id = uniqueId(t);
    const b = makeBundle(t, patch, { args: LONG });
    expectFailure(t, rt(t, ['create', '--bundle', b.dir, id]), id, phrase);
    await assertNoLeaks(t, before);
  });
}

/** A config.json whose text is given. */
function raw(name: string, text: string | null, phrase: RegExp): void {
  t.test(name, async (t) => {
    const before = snapshotHost(t);
    const id = uniqueId(t);
    const b = makeBundle(t, undefined, { args: LONG });
    if (text === null) rmSync(b.configPath);
    else writeRawConfig(b, text);
    expectFailure(t, rt(t, ['create', '--bundle', b.dir, id]), id, phrase);
    await assertNoLeaks(t, before);
  });
}

interface CliCase {
  r: RtResult;
  /** The id the message must name (null: none). */
  id: string | null;
  /** A container to force-delete before the leak check (one the case made on purpose). */
  made?: string;
  /** A container that must not exist; removed after the leak check should the runtime have made it. */
  stray?: string;
}

/** A command-line case. */
function cli(name: string, make: (t: Test) => Promise<CliCase> | CliCase, phrase: RegExp): void {
  t.test(name, async (t) => {
    const before = snapshotHost(t);
    const c = await make(t);
    expectFailure(t, c.r, c.id, phrase);
    if (c.made) rt(t, ['delete', '--force', c.made]);
    await assertNoLeaks(t, before);
    if (c.stray) rt(t, ['delete', '--force', c.stray]);
  });
}

const ns = (cfg: Config, type: string) => cfg.linux.namespaces.filter((n: { type: string }) => n.type !== type);

// --- config.json as a file ---------------------------------------------------
raw('config.json is not JSON', '{"ociVersion": "1.3.0", "process": ', /config\.json/);
raw('config.json is empty', '', /config\.json/);
raw('config.json is a JSON array', '[]', /config\.json/);
raw('config.json is a JSON string', '"hello"', /config\.json/);
raw('config.json has a trailing comma', '{"ociVersion": "1.3.0",}', /config\.json/);
raw('config.json is missing', null, /config\.json/);

// --- schema violations ----------------------------------------------------------
config('ociVersion missing', (c) => { delete c.ociVersion; }, pointer('/ociVersion'));
config('ociVersion is a number', (c) => { c.ociVersion = 1.3; }, pointer('/ociVersion'));
config('ociVersion is not SemVer', (c) => { c.ociVersion = 'one'; }, /ociVersion/);
config('process.cwd missing', (c) => { delete c.process.cwd; }, pointer('/process/cwd'));
config('process.cwd is relative', (c) => { c.process.cwd = 'tmp'; }, pointer('/process/cwd'));
config('process.cwd is a number', (c) => { c.process.cwd = 7; }, pointer('/process/cwd'));
config('process.args is empty', (c) => { c.process.args = []; }, pointer('/process/args'));
config('process.args is a string', (c) => { c.process.args = 'sh -c true'; }, pointer('/process/args'));
config('process.args holds a number', (c) => { c.process.args = ['sleep', 5]; }, pointer('/process/args/1'));
config('process missing', (c) => { delete c.process; }, /process/);
config('process.user.uid is negative', (c) => { c.process.user.uid = -1; }, pointer('/process/user/uid'));
config('process.user.uid is a string', (c) => { c.process.user.uid = '0'; }, pointer('/process/user/uid'));
config('process.user.gid missing', (c) => { delete c.process.user.gid; }, pointer('/process/user/gid'));
config('process.user.uid above 2^32-1', (c) => { c.process.user.uid = 4294967296; }, pointer('/process/user/uid'));
config('process.env is an object', (c) => { c.process.env = { PATH: '/bin' }; }, pointer('/process/env'));
config('process.terminal is a string', (c) => { c.process.terminal = 'yes'; }, pointer('/process/terminal'));
config('process.rlimits type unknown', (c) => { c.process.rlimits = [{ type: 'RLIMIT_FOO', soft: 1, hard: 1 }]; }, /\/process\/rlimits\/0|RLIMIT_FOO/);
config('process.rlimits soft is a string', (c) => { c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: '1024', hard: 1024 }]; }, pointer('/process/rlimits/0/soft'));
config('process.rlimits hard missing', (c) => { c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 1024 }]; }, pointer('/process/rlimits/0/hard'));
// (An unknown capability name is not an error: config.md says runtimes SHOULD NOT fail on
// capabilities that cannot be granted; tsrun drops it with a warning, like runc.)
config('process.capabilities.effective is a string', (c) => { c.process.capabilities.effective = 'CAP_KILL'; }, pointer('/process/capabilities/effective'));
config('process.oomScoreAdj is a string', (c) => { c.process.oomScoreAdj = 'high'; }, pointer('/process/oomScoreAdj'));
config('root missing', (c) => { delete c.root; }, /\/root|root/);
config('root.path missing', (c) => { delete c.root.path; }, pointer('/root/path'));
config('root.path is a number', (c) => { c.root.path = 42; }, pointer('/root/path'));
config('root.readonly is a string', (c) => { c.root.readonly = 'true'; }, pointer('/root/readonly'));
config('hostname is a number', (c) => { c.hostname = 7; }, pointer('/hostname'));
config('mounts is an object', (c) => { c.mounts = { destination: '/x' }; }, pointer('/mounts'));
config('mount destination missing', (c) => { c.mounts.push({ type: 'tmpfs', source: 'tmpfs' }); }, /\/mounts\/7|destination/);
// (A relative destination is valid: runtime-spec 1.3.0 reads it relative to "/", deprecated.)
config('mount type is a number', (c) => { c.mounts.push({ destination: '/mnt', type: 7, source: 'tmpfs' }); }, pointer('/mounts/7/type'));
config('mount options is a string', (c) => { c.mounts.push({ destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: 'ro' }); }, /\/mounts\/7\/options/);
config('namespace type unknown', (c) => { c.linux.namespaces.push({ type: 'foo' }); }, /\/linux\/namespaces\/5|foo/);
config('namespace listed twice', (c) => { c.linux.namespaces.push({ type: 'pid' }); }, /namespace|pid/);
config('namespace path does not exist', (c) => {
  c.linux.namespaces = [...ns(c, 'network'), { type: 'network', path: '/nonexistent/netns' }];
}, /\/nonexistent\/netns/);
config('namespace path is not a namespace', (c) => {
  c.linux.namespaces = [...ns(c, 'ipc'), { type: 'ipc', path: '/etc/hostname' }];
}, /\/etc\/hostname/);
config('uidMappings without a user namespace', (c) => {
  c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
}, /uidMappings|user namespace/i);
config('uidMappings size is a string', (c) => {
  c.linux.namespaces.push({ type: 'user' });
  c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 'all' }];
  c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
}, pointer('/linux/uidMappings/0/size'));
config('hostname without a uts namespace', (c) => { c.linux.namespaces = ns(c, 'uts'); }, /hostname|uts/i);
config('sysctl is an array', (c) => { c.linux.sysctl = ['net.ipv4.ip_forward=1']; }, pointer('/linux/sysctl'));
config('sysctl net.* without a network namespace', (c) => {
  c.linux.namespaces = ns(c, 'network');
  c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
}, /net\.ipv4\.ip_forward/);
config('sysctl that does not exist', (c) => { c.linux.sysctl = { 'kernel.no_such_knob': '1' }; }, /kernel\.no_such_knob/);
config('resources.memory.limit is a string', (c) => { c.linux.resources.memory = { limit: '1G' }; }, pointer('/linux/resources/memory/limit'));
config('resources.devices entry without allow', (c) => { c.linux.resources.devices.push({ access: 'rwm' }); }, /\/linux\/resources\/devices\/1|allow/);
config('linux.devices type unknown', (c) => {
  c.linux.devices = [{ path: '/dev/foo', type: 'x', major: 1, minor: 3 }];
}, /\/linux\/devices\/0|type/);
config('linux.devices path is relative', (c) => {
  c.linux.devices = [{ path: 'dev/foo', type: 'c', major: 1, minor: 3 }];
}, /\/linux\/devices\/0\/path|dev\/foo/);
config('seccomp defaultAction unknown', (c) => { c.linux.seccomp = { defaultAction: 'SCMP_ACT_MAYBE' }; }, /\/linux\/seccomp\/defaultAction|SCMP_ACT_MAYBE/);
config('seccomp syscall action unknown', (c) => {
  c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_SOMETIMES' }] };
}, /\/linux\/seccomp\/syscalls\/0\/action|SCMP_ACT_SOMETIMES/);
config('hook path is relative', (c) => { c.hooks = { createRuntime: [{ path: 'bin/true' }] }; }, /\/hooks\/createRuntime\/0\/path|bin\/true/);
config('annotations hold a number', (c) => { c.annotations = { 'org.example.n': 1 }; }, pointer('/annotations/org.example.n'));
config('maskedPaths is a string', (c) => { c.linux.maskedPaths = '/proc/kcore'; }, pointer('/linux/maskedPaths'));

// --- the rootfs -----------------------------------------------------------------
config('rootfs does not exist', (c) => { c.root.path = '/nonexistent/rootfs'; }, /\/nonexistent\/rootfs/);
t.test('rootfs is a file', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => { c.root.path = 'rootfs'; }, { args: LONG });
  writeFileSync(join(b.dir, 'rootfs'), 'not a directory\n');
  expectFailure(t, rt(t, ['create', '--bundle', b.dir, id]), id, /rootfs|not a directory/i);
  await assertNoLeaks(t, before);
});
config('process.cwd is a file in the rootfs', (c) => { c.process.cwd = '/etc/passwd'; }, /\/etc\/passwd|cwd/);
config('process.args[0] does not exist in the rootfs', (c) => { c.process.args = ['/no/such/program']; }, /\/no\/such\/program/);

// --- container ids ----------------------------------------------------------------
for (const [label, id] of [['empty', ''], ['with a slash', 'a/b'], ['..', '..'], ['with a space', 'a b'], ['.', '.'], ['with a newline', 'a\nb']] as const) {
  cli(`container id ${label}`, (t) => {
    const b = makeBundle(t, undefined, { args: LONG });
    return { r: rt(t, ['create', '--bundle', b.dir, id]), id: null, stray: id || undefined };
  }, /container id|\bid\b|\bID\b/);
}
cli('create without an id', (t) => {
  const b = makeBundle(t, undefined, { args: LONG });
  return { r: rt(t, ['create', '--bundle', b.dir]), id: null };
}, /id|ID|argument/);

// --- unknown ids and wrong states ---------------------------------------------------
for (const op of ['state', 'start', 'kill', 'delete', 'pause', 'resume'] as const) {
  cli(`${op} of an unknown id`, (t) => {
    const id = uniqueId(t, 'nx');
    return { r: rt(t, op === 'kill' ? [op, id, 'KILL'] : [op, id]), id };
  }, /not exist|not found|no such/i);
}

async function started(t: Test, id: string): Promise<void> {
  const b = makeBundle(t, undefined, { args: LONG });
  const c = rt(t, ['create', '--bundle', b.dir, id]);
  t.equal(c.status, 0, 'create', { detail: describe(c) });
  const s = rt(t, ['start', id]);
  t.equal(s.status, 0, 'start', { detail: describe(s) });
}

cli('start of a running container', async (t) => {
  const id = uniqueId(t);
  await started(t, id);
  const r = rt(t, ['start', id]);
  t.equal(stateOf(t, id)?.status, 'running', 'still running');
  return { r, id, made: id };
}, /running/);
cli('start of a stopped container', async (t) => {
  const id = uniqueId(t);
  await started(t, id);
  rt(t, ['kill', id, 'KILL']);
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'stopped');
  return { r: rt(t, ['start', id]), id, made: id };
}, /stopped/);
cli('kill of a stopped container', async (t) => {
  const id = uniqueId(t);
  await started(t, id);
  rt(t, ['kill', id, 'KILL']);
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'stopped');
  return { r: rt(t, ['kill', id, 'TERM']), id, made: id };
}, /not running|stopped/);
cli('delete of a running container without --force', async (t) => {
  const id = uniqueId(t);
  await started(t, id);
  const r = rt(t, ['delete', id]);
  t.equal(stateOf(t, id)?.status, 'running', 'still running');
  return { r, id, made: id };
}, /running/);
cli('create with an id in use', async (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  t.equal(rt(t, ['create', '--bundle', b.dir, id]).status, 0, 'first create');
  const r = rt(t, ['create', '--bundle', b.dir, id]);
  t.equal(stateOf(t, id)?.status, 'created', 'the first container is untouched');
  return { r, id, made: id };
}, /exists|in use/);
for (const sig of ['SIGFOO', '99', 'FOO']) {
  cli(`kill with signal ${sig}`, async (t) => {
    const id = uniqueId(t);
    await started(t, id);
    const r = rt(t, ['kill', id, sig]);
    t.equal(stateOf(t, id)?.status, 'running', 'the container keeps running');
    return { r, id, made: id };
  }, new RegExp(esc(sig)));
}

// --- command-line paths -------------------------------------------------------------
cli('--bundle is a missing dir', (t) => {
  const id = uniqueId(t);
  return { r: rt(t, ['create', '--bundle', '/nonexistent/bundle', id]), id };
}, /\/nonexistent\/bundle/);
cli('--bundle is a file', (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  return { r: rt(t, ['create', '--bundle', b.configPath, id]), id };
}, /config\.json|bundle|not a directory/i);
cli('--pid-file in a missing dir', (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  return { r: rt(t, ['create', '--bundle', b.dir, '--pid-file', join(b.dir, 'no', 'such', 'pid'), id]), id };
}, /no\/such\/pid/);
cli('--console-socket that does not exist', (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => { c.process.terminal = true; }, { args: LONG });
  return { r: rt(t, ['create', '--bundle', b.dir, '--console-socket', join(b.dir, 'no-such.sock'), id]), id };
}, /no-such\.sock/);
cli('--console-socket that is not a socket', (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => { c.process.terminal = true; }, { args: LONG });
  const notSock = join(b.dir, 'plain');
  mkdirSync(notSock);
  return { r: rt(t, ['create', '--bundle', b.dir, '--console-socket', notSock, id]), id };
}, /plain|console/);
cli('terminal true without a console socket', (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => { c.process.terminal = true; }, { args: LONG });
  return { r: rt(t, ['create', '--bundle', b.dir, id]), id };
}, /console/i);
