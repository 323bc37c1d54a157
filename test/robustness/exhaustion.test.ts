// Resource exhaustion: a container that fills its pids limit (fork loop), its memory limit (a hog
// the OOM killer takes) or the disk of its tmpfs (dd until ENOSPC). tsrun's commands on it
// (state, exec, ps, pause/resume, kill, delete) and on other containers keep working, and delete
// leaves nothing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { cgroupDirsNamed, makeBundle, uniqueId, waitUntil, type Config } from '../helpers/index.js';
import { call, describeLeaks, leakCount, oneLineProblem, settledLeaks, show, stateCall, testScope, type Call } from './lib.js';

t.setTimeout(300_000);

function cgroupFile(id: string, controller: string, file: string): string | undefined {
  const dir = cgroupDirsNamed([id]).find((d) => d.startsWith(`/sys/fs/cgroup/${controller}/`));
  if (!dir) return undefined;
  try {
    return readFileSync(join(dir, file), 'utf8');
  } catch {
    return undefined;
  }
}

/** exec's status is the process's own; tsrun's own failure is exit 1 with one line. */
function execOk(r: Call): boolean {
  return r.status !== null && (r.status === 0 || oneLineProblem(r) === undefined || r.status >= 126);
}

/** A healthy container next to the exhausted one, and a fresh `run`: both must keep working. */
async function others(t: Test, other: string, what: string): Promise<void> {
  const s = await stateCall(t, other);
  t.equal(s.status, 'running', `${what}: the other container still runs`);
  const ex = await call(t, ['exec', other, 'echo', 'still here']);
  t.equal(ex.status, 0, `${what}: exec in the other container`, { detail: show(ex) });
  t.match(ex.stdout, /still here/);
  const b = makeBundle(t, undefined, { args: ['echo', 'fresh'] });
  const r = await call(t, ['run', '--bundle', b.dir, uniqueId(t, 'fresh')]);
  t.equal(r.status, 0, `${what}: a new container runs`, { detail: show(r) });
}

/** state, exec, ps, pause/resume on the exhausted container; then kill and delete it. */
async function commandsOn(t: Test, id: string, what: string): Promise<void> {
  const s = await stateCall(t, id);
  t.ok(s.status === 'running' || s.status === 'stopped', `${what}: state works (${s.status ?? s.error})`);
  const ex = await call(t, ['exec', id, 'true']);
  t.ok(execOk(ex), `${what}: exec succeeds or fails in one line`, { detail: show(ex) });
  t.comment(`${what}: state ${s.status}; exec in it: ${show(ex).replace(/^.* -> /, '')}`);
  const ps = await call(t, ['ps', id]);
  t.equal(oneLineProblem(ps), undefined, `${what}: ps works`, { detail: show(ps) });
  if (s.status === 'running') {
    const p = await call(t, ['pause', id]);
    t.equal(p.status, 0, `${what}: pause`, { detail: show(p) });
    t.equal((await stateCall(t, id)).status, 'paused', `${what}: paused`);
    const r = await call(t, ['resume', id]);
    t.equal(r.status, 0, `${what}: resume`, { detail: show(r) });
    const k = await call(t, ['kill', id, 'KILL']);
    t.equal(k.status, 0, `${what}: kill`, { detail: show(k) });
    let now: string | undefined = 'running';
    for (let i = 0; i < 200 && now !== 'stopped'; i++) {
      await new Promise((res) => setTimeout(res, 25));
      now = (await stateCall(t, id)).status;
    }
    t.equal(now, 'stopped', `${what}: stopped after kill`);
  }
  const del = await call(t, ['delete', '--force', id]);
  t.equal(del.status, 0, `${what}: delete --force`, { detail: show(del) });
  t.match((await stateCall(t, id)).error, /does not exist/, `${what}: gone`);
}

async function scenario(t: Test, what: string, patch: (c: Config) => void, args: string[], filled: (id: string) => Promise<boolean>): Promise<void> {
  const other = uniqueId(t, 'other');
  const ob = makeBundle(t, undefined, { args: ['sleep', '1000'] });
  t.equal((await call(t, ['run', '-d', '--bundle', ob.dir, other], { keepFiles: true })).status, 0, 'the other container runs');

  const id = uniqueId(t, 'exh');
  const b = makeBundle(t, patch, { args });
  const r = await call(t, ['run', '-d', '--bundle', b.dir, id], { keepFiles: true });
  t.equal(r.status, 0, `${what}: run -d`, { detail: show(r) });
  t.ok(await filled(id), `${what}: the limit is reached`);
  await commandsOn(t, id, what);
  await others(t, other, what);
  const d = await call(t, ['delete', '--force', other]);
  t.equal(d.status, 0, 'delete the other container', { detail: show(d) });
  const leaks = await settledLeaks(testScope(t), undefined, 5000);
  t.equal(leakCount(leaks), 0, `${what}: nothing left`, { detail: describeLeaks(leaks) });
}

t.test('a container that fills its pids limit', async (t) => {
  const limit = 16;
  // A fork bomb that never stops: the inner shell forks sleeps until a fork fails (fatal for
  // ash), the outer one starts it again in the slot it freed. The cgroup stays full; a CPU quota
  // keeps the churn from starving the host. The init itself only sleeps: a shell that cannot fork
  // may exit, and the container must stay up while the limit is full.
  const bomb = 'while :; do sh -c "while :; do sleep 1000 & done" 2>/dev/null; done';
  await scenario(t, 'pids', (c) => {
    c.linux.resources = { ...c.linux.resources, pids: { limit }, cpu: { quota: 20000, period: 100000 } };
  }, ['sh', '-c', `sh -c '${bomb}' & exec sleep 100000`], async (id) => {
    const full = await waitUntil(() => Number(cgroupFile(id, 'pids', 'pids.current')) >= limit, { timeoutMs: 30_000 });
    // The cgroup can be full a moment before the next fork is refused (a loaded host): wait for it.
    await waitUntil(() => /max [1-9]/.test(cgroupFile(id, 'pids', 'pids.events') ?? ''), { timeoutMs: 10_000 });
    const events = cgroupFile(id, 'pids', 'pids.events') ?? '';
    t.match(events, /max [1-9]/, 'forks were refused (pids.events)');
    return full;
  });
});

t.test('a container whose hog the OOM killer takes (memory limit)', async (t) => {
  const limit = 48 << 20;
  // 40 MiB in a tmpfs stay charged to the cgroup; then a 64 MiB buffer cannot fit.
  const fill = 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=40 2>/dev/null; dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; exec sleep 1000';
  await scenario(t, 'memory', (c) => {
    c.linux.resources = { ...c.linux.resources, memory: { limit, swap: limit } };
  }, ['sh', '-c', fill], async (id) => {
    return waitUntil(() => /oom_kill [1-9]/.test(cgroupFile(id, 'memory', 'memory.oom_control') ?? ''), { timeoutMs: 30_000 });
  });
});

t.test('a container whose init itself is OOM-killed', async (t) => {
  const limit = 32 << 20;
  const other = uniqueId(t, 'other');
  const ob = makeBundle(t, undefined, { args: ['sleep', '1000'] });
  t.equal((await call(t, ['run', '-d', '--bundle', ob.dir, other], { keepFiles: true })).status, 0, 'the other container runs');
  const id = uniqueId(t, 'oom');
  const b = makeBundle(t, (c) => {
    c.linux.resources = { ...c.linux.resources, memory: { limit, swap: limit } };
  }, { args: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'] });
  const r = await call(t, ['run', '--bundle', b.dir, id]);
  t.equal(r.status, 137, 'run reports the OOM kill as the container\'s status (128 + SIGKILL)', { detail: show(r) });
  t.match((await stateCall(t, id)).error, /does not exist/, 'and deletes the container');
  await others(t, other, 'init OOM-killed');
  t.equal((await call(t, ['delete', '--force', other])).status, 0, 'delete the other container');
  const leaks = await settledLeaks(testScope(t), undefined, 5000);
  t.equal(leakCount(leaks), 0, 'nothing left', { detail: describeLeaks(leaks) });
});

t.test('a container that fills the disk of its tmpfs', async (t) => {
  await scenario(t, 'tmpfs', (c) => {
    c.mounts.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'nosuid', 'nodev'] });
  }, ['sh', '-c', 'dd if=/dev/zero of=/data/fill bs=4k 2>/dev/null; exec sleep 1000'], async (id) => {
    let full = false;
    for (let i = 0; i < 100 && !full; i++) {
      const r = await call(t, ['exec', id, 'dd', 'if=/dev/zero', 'of=/data/more', 'bs=1k', 'count=1']);
      full = r.status !== 0 && /No space left/i.test(r.stderr);
      if (!full) await new Promise((res) => setTimeout(res, 100));
    }
    return full;
  });
});
