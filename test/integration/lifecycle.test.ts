// The container lifecycle (runtime-spec "Runtime and Lifecycle", "Operations")
// against real containers. Runtime-agnostic: RUNTIME=runc works as well as the
// default build/tsrun. Where runtimes word errors differently, the tests check
// the exit status, the state afterwards and a few key words only.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import {
  assertNoLeaks, describe, makeBundle, readOut, rootFor, rt, runtimeUnderTest, snapshotHost, stateOf, uniqueId, waitUntil,
  type Bundle, type RtResult,
} from '../helpers/index.js';

const LONG = ['sh', '-c', 'echo started; exec sleep 1000'];

function ok(t: Test, r: RtResult, what: string): boolean {
  return t.equal(r.status, 0, `${what} succeeds`, { detail: describe(r) });
}

function fails(t: Test, r: RtResult, what: string, keywords?: RegExp): void {
  t.ok(r.status !== null && r.status !== 0, `${what} fails with a non-zero status`, { detail: describe(r) });
  if (keywords) t.match(r.stderr, keywords, `${what}: the error says why`);
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean).join(' ');
  } catch {
    return '';
  }
}

/** create + start a container running `sleep 1000`; returns the create result (its stdout gets the container's output). */
async function running(t: Test, id: string, b: Bundle): Promise<RtResult> {
  const c = rt(t, ['create', '--bundle', b.dir, id]);
  ok(t, c, 'create');
  ok(t, rt(t, ['start', id]), 'start');
  t.ok(await waitUntil(() => readOut(c).includes('started')), 'the process runs', { detail: readOut(c) });
  return c;
}

async function stopped(t: Test, id: string, b: Bundle): Promise<void> {
  await running(t, id, b);
  ok(t, rt(t, ['kill', id, 'KILL']), 'kill KILL');
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'the container is stopped');
}

t.test('create, state, start, state, kill, state, delete', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  const pidFile = join(b.dir, 'pid');

  const c = rt(t, ['create', '--bundle', b.dir, '--pid-file', pidFile, id]);
  ok(t, c, 'create');
  const s1 = stateOf(t, id);
  t.ok(s1, 'state after create');
  t.equal(s1?.id, id, 'state.id');
  t.equal(s1?.status, 'created', 'state.status is created');
  t.type(s1?.ociVersion, 'string', 'state.ociVersion');
  t.equal(s1?.bundle, b.dir, 'state.bundle is the absolute bundle path');
  const pid = s1?.pid ?? 0;
  t.ok(Number.isInteger(pid) && pid > 0, 'state.pid > 0', { pid });
  t.ok(existsSync(`/proc/${pid}`), 'the created container has a live process');
  t.notMatch(cmdlineOf(pid), /sleep 1000/, 'the user process has not been executed before start');
  t.equal(readOut(c), '', 'the process printed nothing before start');
  t.equal(readFileSync(pidFile, 'utf8').trim(), String(pid), '--pid-file holds the state pid');

  ok(t, rt(t, ['start', id]), 'start');
  t.ok(await waitUntil(() => readOut(c).includes('started')), 'the process runs after start', { detail: readOut(c) });
  const s2 = stateOf(t, id);
  t.equal(s2?.status, 'running', 'state.status is running');
  t.equal(s2?.pid, pid, 'the pid does not change at start');
  t.ok(await waitUntil(() => cmdlineOf(pid) === 'sleep 1000'), 'state.pid is the container process');

  ok(t, rt(t, ['kill', id, 'KILL']), 'kill');
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'state.status becomes stopped');
  const s3 = stateOf(t, id);
  t.equal(s3?.status, 'stopped', 'state after kill');
  t.equal(s3?.id, id, 'state.id after kill');

  ok(t, rt(t, ['delete', id]), 'delete');
  fails(t, rt(t, ['state', id]), 'state after delete');
  await assertNoLeaks(t, before);
});

t.test('kill without a signal sends SIGTERM', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  // pid 1 of a pid namespace ignores signals it has no handler for: trap TERM.
  const b = makeBundle(t, undefined, { args: ['sh', '-c', 'trap "echo got-term; exit 0" TERM; echo started; while :; do sleep 0.1; done'] });
  const c = await running(t, id, b);
  ok(t, rt(t, ['kill', id]), 'kill');
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'the container stops');
  t.match(readOut(c), /got-term/, 'the process received SIGTERM');
  ok(t, rt(t, ['delete', id]), 'delete');
  await assertNoLeaks(t, before);
});

t.test('start of a running container is an error', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  await running(t, id, b);
  const pid = stateOf(t, id)?.pid;
  fails(t, rt(t, ['start', id]), 'second start', /running|created|state/i);
  const s = stateOf(t, id);
  t.equal(s?.status, 'running', 'the container keeps running');
  t.equal(s?.pid, pid, 'with the same process');
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
  await assertNoLeaks(t, before);
});

t.test('start of a stopped container is an error', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  await stopped(t, id, b);
  fails(t, rt(t, ['start', id]), 'start after stop', /stopped|created|state/i);
  t.equal(stateOf(t, id)?.status, 'stopped', 'the container stays stopped');
  ok(t, rt(t, ['delete', id]), 'delete');
  await assertNoLeaks(t, before);
});

t.test('start of a container that exited by itself is an error', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: ['true'] });
  ok(t, rt(t, ['create', '--bundle', b.dir, id]), 'create');
  ok(t, rt(t, ['start', id]), 'start');
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'the container stops when its process exits');
  fails(t, rt(t, ['start', id]), 'start again', /stopped|created|state/i);
  ok(t, rt(t, ['delete', id]), 'delete');
  await assertNoLeaks(t, before);
});

t.test('delete of a running container needs --force', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  await running(t, id, b);
  const pid = stateOf(t, id)?.pid ?? 0;
  fails(t, rt(t, ['delete', id]), 'delete without --force', /running|stopped|force/i);
  const s = stateOf(t, id);
  t.equal(s?.status, 'running', 'the container is untouched');
  t.ok(existsSync(`/proc/${pid}`) && cmdlineOf(pid) === 'sleep 1000', 'its process still runs');
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
  fails(t, rt(t, ['state', id]), 'state after delete --force');
  await assertNoLeaks(t, before);
});

t.test('delete --force of a created container', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  const c = rt(t, ['create', '--bundle', b.dir, id]);
  ok(t, c, 'create');
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
  fails(t, rt(t, ['state', id]), 'state after delete');
  t.equal(readOut(c), '', 'the process never ran');
  await assertNoLeaks(t, before);
});

t.test('kill of a stopped container is an error', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  await stopped(t, id, b);
  fails(t, rt(t, ['kill', id, 'KILL']), 'kill KILL of a stopped container', /not running|stopped/i);
  fails(t, rt(t, ['kill', id]), 'kill of a stopped container', /not running|stopped/i);
  t.equal(stateOf(t, id)?.status, 'stopped', 'still stopped');
  ok(t, rt(t, ['delete', id]), 'delete');
  await assertNoLeaks(t, before);
});

t.test('create with an id in use is an error and leaves the first container alone', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b1 = makeBundle(t, undefined, { args: LONG });
  const b2 = makeBundle(t, undefined, { args: ['sh', '-c', 'echo second'] });
  ok(t, rt(t, ['create', '--bundle', b1.dir, id]), 'first create');
  const s1 = stateOf(t, id);
  const dup = rt(t, ['create', '--bundle', b2.dir, id]);
  fails(t, dup, 'second create', /exists|in use|already/i);
  const s2 = stateOf(t, id);
  t.equal(s2?.status, 'created', 'the first container is still created');
  t.equal(s2?.pid, s1?.pid, 'with its process');
  t.equal(s2?.bundle, b1.dir, 'and its bundle');
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
  await assertNoLeaks(t, before);
});

for (const op of ['state', 'start', 'kill', 'delete'] as const) {
  t.test(`${op} of an unknown id is an error`, async (t) => {
    const before = snapshotHost(t);
    const id = uniqueId(t, 'nx');
    const args = op === 'kill' ? [op, id, 'KILL'] : [op, id];
    fails(t, rt(t, args), `${op} ${id}`, /not exist|not found|no such|unknown/i);
    await assertNoLeaks(t, before);
  });
}

t.test('run returns the exit status of the process and removes the container', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: ['sh', '-c', 'echo out; echo err >&2; exit 7'] });
  const r = rt(t, ['run', '--bundle', b.dir, id]);
  t.equal(r.status, 7, 'run exits with 7', { detail: describe(r) });
  t.equal(r.stdout, 'out\n', 'the process stdout is the caller\'s');
  t.match(r.stderr, /err/, 'the process stderr is the caller\'s');
  fails(t, rt(t, ['state', id]), 'state after run');
  await assertNoLeaks(t, before);
});

t.test('run of a successful process exits 0', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: ['true'] });
  ok(t, rt(t, ['run', '--bundle', b.dir, id]), 'run true');
  await assertNoLeaks(t, before);
});

t.test('run exits 128+N when the process is killed by signal N', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  const runtime = runtimeUnderTest();
  const child = spawn(runtime, ['--root', rootFor(t, runtime), 'run', '--bundle', b.dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { err += d; });
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  t.ok(await waitUntil(() => out.includes('started')), 'the process runs', { stderr: err });
  ok(t, rt(t, ['kill', id, 'KILL']), 'kill KILL');
  const code = await Promise.race([exited, new Promise<'hang'>((res) => setTimeout(() => res('hang'), 30_000))]);
  if (code === 'hang') child.kill('SIGKILL');
  t.equal(code, 137, 'run exits with 128+9', { stderr: err });
  fails(t, rt(t, ['state', id]), 'state after run');
  await assertNoLeaks(t, before);
});

t.test('run reads stdin', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: ['sh', '-c', 'read line; echo "got $line"'] });
  const r = rt(t, ['run', '--bundle', b.dir, id], { input: 'hello\n' });
  ok(t, r, 'run');
  t.equal(r.stdout, 'got hello\n', 'the container read the caller\'s stdin');
  await assertNoLeaks(t, before);
});

t.test('run --detach leaves the container running', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  const pidFile = join(b.dir, 'pid');
  const r = rt(t, ['run', '--detach', '--bundle', b.dir, '--pid-file', pidFile, id]);
  ok(t, r, 'run --detach');
  const s = stateOf(t, id);
  t.equal(s?.status, 'running', 'state is running');
  t.equal(readFileSync(pidFile, 'utf8').trim(), String(s?.pid), '--pid-file holds the state pid');
  t.ok(await waitUntil(() => readOut(r).includes('started')), 'the process writes to the caller\'s stdout');
  t.ok(await waitUntil(() => cmdlineOf(s?.pid ?? 0) === 'sleep 1000'), 'state.pid is the process');
  ok(t, rt(t, ['kill', id, 'KILL']), 'kill');
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'stopped');
  ok(t, rt(t, ['delete', id]), 'delete');
  await assertNoLeaks(t, before);
});

t.test('run --detach of a short process: state becomes stopped', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: ['sh', '-c', 'exit 3'] });
  ok(t, rt(t, ['run', '-d', '--bundle', b.dir, id]), 'run -d');
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'stopped once the process exits');
  ok(t, rt(t, ['delete', id]), 'delete');
  await assertNoLeaks(t, before);
});

t.test('the bundle path may be relative to the caller\'s cwd', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  ok(t, rt(t, ['create', '--bundle', '.', id], { cwd: b.dir }), 'create --bundle .');
  t.equal(stateOf(t, id)?.bundle, b.dir, 'state.bundle is absolute');
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
  await assertNoLeaks(t, before);
});

t.test('containers are independent', async (t) => {
  const before = snapshotHost(t);
  const a = uniqueId(t);
  const z = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  await running(t, a, b);
  ok(t, rt(t, ['create', '--bundle', b.dir, z]), 'create a second container from the same bundle');
  t.equal(stateOf(t, a)?.status, 'running', 'first running');
  t.equal(stateOf(t, z)?.status, 'created', 'second created');
  t.not(stateOf(t, a)?.pid, stateOf(t, z)?.pid, 'different processes');
  ok(t, rt(t, ['delete', '--force', a]), 'delete --force the first');
  t.equal(stateOf(t, z)?.status, 'created', 'the second is untouched');
  ok(t, rt(t, ['delete', '--force', z]), 'delete --force the second');
  await assertNoLeaks(t, before);
});
