// runc's command-line behaviour on real containers (issue 14): exec's exit statuses (the
// process's own, 255 when the exec could not be done), kill --all of a stopped container, the
// --log/--debug records, and create into a cgroup that is not empty or is frozen.
// Runtime-agnostic: RUNTIME=runc passes the same tests.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import {
  assertNoLeaks, describe, makeBundle, readOut, rootFor, rt, runtimeUnderTest, snapshotHost, stateOf, uniqueId, waitUntil,
  type Bundle, type RtResult,
} from '../helpers/index.js';

const LONG = ['sh', '-c', 'echo started; exec sleep 1000'];
/** runc's log vocabulary at the moments a container's init is set up. */
const SETUP = ['nsexec container setup', 'child process in init()'];

function ok(t: Test, r: RtResult, what: string): boolean {
  return t.equal(r.status, 0, `${what} succeeds`, { detail: describe(r) });
}

async function running(t: Test, id: string, b: Bundle): Promise<void> {
  const c = rt(t, ['run', '-d', '--bundle', b.dir, id]);
  ok(t, c, 'run -d');
  t.ok(await waitUntil(() => readOut(c).includes('started')), 'the process runs', { detail: readOut(c) });
}

function hasAll(t: Test, text: string, phrases: string[], where: string): void {
  for (const p of phrases) t.ok(text.includes(p), `${where} has "${p}"`, { detail: text });
}

t.test('exec: the process exit status passes through; an exec that could not be done exits 255', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  await running(t, id, b);
  t.equal(rt(t, ['exec', id, 'false']).status, 1, 'exec false: 1');
  t.equal(rt(t, ['exec', id, 'sh', '-c', 'exit 42']).status, 42, 'exec sh -c "exit 42": 42');
  const badPid = rt(t, ['exec', '--pid-file', join(b.dir, 'no', 'dir', 'pid'), id, 'sleep', '1000']);
  t.equal(badPid.status, 255, '--pid-file in a missing directory: 255', { detail: describe(badPid) });
  const ps = rt(t, ['ps', '--format', 'json', id]);
  t.same(JSON.parse(ps.stdout || '[]').length, 1, 'the process of the failed exec is not left running', { detail: describe(ps) });
  t.equal(rt(t, ['exec', id, 'no-such-binary']).status, 255, 'a binary that does not exist: 255');
  t.equal(rt(t, ['exec', uniqueId(t, 'nx'), 'true']).status, 255, 'a container that does not exist: 255');
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
  await assertNoLeaks(t, before);
});

t.test('exec into a paused container: 255 unless --ignore-paused', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  await running(t, id, b);
  ok(t, rt(t, ['pause', id]), 'pause');
  const refused = rt(t, ['exec', id, 'true']);
  t.equal(refused.status, 255, 'exec: 255', { detail: describe(refused) });
  t.match(refused.stderr, /cannot exec in a paused container \(use --ignore-paused to override\)/);
  // With --ignore-paused the exec goes ahead and its process runs once the container resumes.
  const child = spawn(runtimeUnderTest(), ['--root', rootFor(t), 'exec', '--ignore-paused', id, 'echo', 'ok'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  await new Promise((r) => setTimeout(r, 500));
  ok(t, rt(t, ['resume', id]), 'resume');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const status = await done;
  clearTimeout(timer);
  t.same([status, out], [0, 'ok\n'], 'exec --ignore-paused succeeds once resumed');
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
  await assertNoLeaks(t, before);
});

t.test('kill --all of a stopped container succeeds; kill without --all fails', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  await running(t, id, b);
  ok(t, rt(t, ['kill', id, 'KILL']), 'kill KILL');
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped'), 'the container is stopped');
  ok(t, rt(t, ['kill', '-a', id, '0']), 'kill -a ID 0 of the stopped container');
  ok(t, rt(t, ['kill', '--all', id, 'KILL']), 'kill --all ID KILL of the stopped container');
  const single = rt(t, ['kill', id, 'KILL']);
  t.equal(single.status, 1, 'kill without --all of the stopped container: 1', { detail: describe(single) });
  t.match(single.stderr, /not running/);
  ok(t, rt(t, ['delete', id]), 'delete');
  await assertNoLeaks(t, before);
});

t.test('kill KILL of a paused container stops it (the cgroup is thawed)', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  await running(t, id, b);
  ok(t, rt(t, ['pause', id]), 'pause');
  ok(t, rt(t, ['kill', id, 'KILL']), 'kill KILL of the paused container');
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'stopped', { timeoutMs: 5000 }), 'the container stops', { detail: stateOf(t, id) });
  ok(t, rt(t, ['delete', id]), 'delete');
  await assertNoLeaks(t, before);
});

t.test('--debug: records on stderr without --log, in the --log file with it (text and json)', async (t) => {
  const before = snapshotHost(t);
  const b = makeBundle(t, undefined, { args: ['echo', 'hello'] });
  const done = [...SETUP, 'init: closing the pipe to signal completion'];

  const toStderr = rt(t, ['--debug', 'run', '--bundle', b.dir, uniqueId(t)]);
  ok(t, toStderr, '--debug run');
  t.match(toStderr.stderr, /level=debug/, 'debug records on stderr');
  hasAll(t, toStderr.stderr, done, 'stderr');

  const text = join(b.dir, 'log.txt');
  const r = rt(t, ['--debug', '--log', text, '--log-format', 'text', 'run', '--bundle', b.dir, uniqueId(t)]);
  ok(t, r, '--debug --log run');
  t.notMatch(r.stderr, /level=debug/, 'nothing on stderr');
  const lines = readFileSync(text, 'utf8').trim().split('\n');
  t.ok(lines.length >= 3, 'several records');
  for (const l of lines) t.match(l, /^time="[^"]+" level=\w+ msg=/, 'a logrus text record');
  hasAll(t, lines.join('\n'), done, 'the text log');

  const json = join(b.dir, 'log.json');
  ok(t, rt(t, ['--debug', '--log', json, '--log-format', 'json', 'run', '--bundle', b.dir, uniqueId(t)]), '--log-format json');
  const recs = readFileSync(json, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; msg: string; time: string });
  t.ok(recs.every((x) => typeof x.msg === 'string' && typeof x.time === 'string' && !Number.isNaN(Date.parse(x.time))), 'msg and time in every record');
  const debugMsgs = recs.filter((x) => x.level === 'debug').map((x) => x.msg).join('\n');
  hasAll(t, debugMsgs, done, 'the json debug records');
  await assertNoLeaks(t, before);
});

t.test('--debug exec, and --log created by commands that succeed', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: LONG });
  const quiet = join(b.dir, 'quiet.log');
  const c = rt(t, ['--log', quiet, 'run', '-d', '--bundle', b.dir, id]);
  ok(t, c, 'run -d --log');
  t.ok(existsSync(quiet), 'the --log file of a command that succeeds exists');
  t.ok(await waitUntil(() => readOut(c).includes('started')), 'the process runs');
  const stateLog = join(b.dir, 'state.log');
  ok(t, rt(t, ['--log', stateLog, 'state', id]), 'state --log');
  t.equal(readFileSync(stateLog, 'utf8'), '', 'state --log: created, empty');
  const e = rt(t, ['--debug', 'exec', id, 'true']);
  ok(t, e, '--debug exec');
  hasAll(t, e.stderr, [...SETUP, 'setns_init: about to exec'], 'exec stderr');
  const log = join(b.dir, 'exec.log');
  const el = rt(t, ['--debug', '--log', log, 'exec', id, 'true']);
  ok(t, el, '--debug --log exec');
  t.notMatch(el.stderr, /level=debug/, 'nothing on stderr');
  hasAll(t, readFileSync(log, 'utf8'), [...SETUP, 'setns_init: about to exec'], 'exec log');
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
  await assertNoLeaks(t, before);
});

/** The freezer file of a cgroup path: v1 freezer.state where that hierarchy is mounted, else cgroup.freeze. */
function freezerOf(cgPath: string): { dir: string; file: string; frozen: string } {
  if (existsSync('/sys/fs/cgroup/freezer/freezer.state') || existsSync('/sys/fs/cgroup/freezer/tasks')) {
    return { dir: join('/sys/fs/cgroup/freezer', cgPath), file: 'freezer.state', frozen: 'FROZEN' };
  }
  return { dir: join('/sys/fs/cgroup', cgPath), file: 'cgroup.freeze', frozen: '1' };
}

t.test('create into a cgroup with processes warns; into a frozen one fails', async (t) => {
  const before = snapshotHost(t);
  const id1 = uniqueId(t);
  const id2 = uniqueId(t);
  const cgPath = `/tsrun-it-${id1}`;
  const b = makeBundle(t, (cfg) => {
    cfg.linux.cgroupsPath = cgPath;
  }, { args: LONG });
  await running(t, id1, b);
  const second = rt(t, ['create', '--bundle', b.dir, id2]);
  ok(t, second, 'create into the non-empty cgroup');
  t.match(second.stderr, /container's cgroup is not empty: 1 process\(es\) found/, 'with a warning');
  ok(t, rt(t, ['delete', '--force', id2]), 'delete --force the second');
  ok(t, rt(t, ['delete', '--force', id1]), 'delete --force the first');

  const id3 = uniqueId(t);
  const fz = freezerOf(`/tsrun-it-${id3}`);
  mkdirSync(fz.dir);
  t.teardown(() => {
    try {
      rmdirSync(fz.dir);
    } catch {
      // removed by the test
    }
  });
  writeFileSync(join(fz.dir, fz.file), fz.frozen);
  const b3 = makeBundle(t, (cfg) => {
    cfg.linux.cgroupsPath = `/tsrun-it-${id3}`;
  }, { args: LONG });
  const frozen = rt(t, ['create', '--bundle', b3.dir, id3], { timeoutMs: 20_000 });
  t.equal(frozen.status, 1, 'create into a frozen cgroup fails', { detail: describe(frozen) });
  t.match(frozen.stderr, /container's cgroup unexpectedly frozen/);
  t.notOk(stateOf(t, id3), 'no container is left');
  rmdirSync(fz.dir);
  await assertNoLeaks(t, before);
});

const v1Memory = existsSync('/sys/fs/cgroup/memory/tasks');

t.test('exec --cgroup: sub-cgroups of the container, never above it', { skip: !v1Memory && 'needs the cgroup v1 memory hierarchy' }, async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const cgPath = `/tsrun-it-${id}`;
  const b = makeBundle(t, (cfg) => {
    cfg.linux.cgroupsPath = cgPath;
  }, { args: LONG });
  await running(t, id, b);
  const cgroupOf = (args: string[]): { status: number | null; lines: string[]; r: RtResult } => {
    const r = rt(t, ['exec', ...args, id, 'cat', '/proc/self/cgroup']);
    return { status: r.status, lines: r.stdout.trim().split('\n'), r };
  };
  const up = cgroupOf(['--cgroup', '..']);
  t.equal(up.status, 255, '--cgroup ..: 255');
  t.match(up.r.stderr, / \.\. is not a sub cgroup path/);
  const missing = cgroupOf(['--cgroup', 'nonexistent']);
  t.equal(missing.status, 255, 'a sub-cgroup that does not exist: 255');
  t.match(missing.r.stderr, / adding pid .*\/nonexistent\/cgroup\.procs: no such file /);
  const unknown = cgroupOf(['--cgroup', 'whaaat:/']);
  t.equal(unknown.status, 255, 'an unknown controller: 255');
  t.match(unknown.r.stderr, /unknown controller /);
  const top = cgroupOf(['--cgroup', '/']);
  t.equal(top.status, 0, '--cgroup /: the container cgroup');
  t.same(top.lines.filter((l) => /:(memory|pids):/.test(l)).map((l) => l.replace(/^\d+:/, '')).sort(), [`memory:${cgPath}`, `pids:${cgPath}`]);

  const sub = join('/sys/fs/cgroup/memory', cgPath, 'submem');
  mkdirSync(sub);
  t.teardown(() => {
    try {
      rmdirSync(sub);
    } catch {
      // removed with the container's cgroup
    }
  });
  const inSub = cgroupOf(['--cgroup', 'memory:submem']);
  t.equal(inSub.status, 0, '--cgroup memory:submem', { detail: describe(inSub.r) });
  t.ok(inSub.lines.some((l) => l.endsWith(`:memory:${cgPath}/submem`)), 'the process is in the memory sub-cgroup', { detail: inSub.lines });
  t.ok(inSub.lines.some((l) => l.endsWith(`:pids:${cgPath}`)), 'and in the container cgroup elsewhere', { detail: inSub.lines });
  const twoFlags = cgroupOf(['--cgroup', 'memory:submem', '--cgroup', 'pids:/']);
  t.equal(twoFlags.status, 0, '--cgroup repeated');
  const bare = cgroupOf(['--cgroup', 'submem', '--cgroup', 'pids:/']);
  t.equal(bare.status, 255, 'a path without controller among several --cgroup: 255');
  ok(t, rt(t, ['delete', '--force', id]), 'delete --force');
  await assertNoLeaks(t, before);
});
