// Concurrency: 50 containers created, started and deleted in parallel (all 50 alive at once), and
// races on one id: two creates, two starts, start against delete, kill against delete, two deletes.
// Each race has one winner (or a consistent outcome), state.json is never seen corrupt, and
// nothing is left. RACE_ROUNDS (default 5) repeats every race; PARALLEL_CONTAINERS (default 50).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { makeBundle, rootFor, uniqueId, type Bundle } from '../helpers/index.js';
import { call, describeLeaks, leakCount, oneLineProblem, parallel, settledLeaks, show, stateCall, testScope, type Call } from './lib.js';

const N = Number(process.env.PARALLEL_CONTAINERS ?? '50');
const ROUNDS = Number(process.env.RACE_ROUNDS ?? '5');
const JOBS = 10;
t.setTimeout(Math.max(300_000, ROUNDS * 60_000));

async function noLeaks(t: Test, what: string): Promise<number> {
  const leaks = await settledLeaks(testScope(t), undefined, 5000);
  t.equal(leakCount(leaks), 0, `${what}: nothing left`, { detail: describeLeaks(leaks) });
  return leakCount(leaks);
}

t.test(`${N} containers created, started and deleted in parallel`, async (t) => {
  const b = makeBundle(t, undefined, { args: ['sleep', '1000'] });
  const ids = Array.from({ length: N }, () => uniqueId(t, 'par'));
  const created = await parallel(ids, JOBS, (id) => call(t, ['create', '--bundle', b.dir, id], { keepFiles: true }));
  const createFailures = created.filter((r) => r.status !== 0).map(show);
  t.same(createFailures, [], `all ${N} creates succeed`);

  const list = await call(t, ['list', '--format', 'json']);
  const listed = JSON.parse(list.stdout || '[]') as Array<{ id: string; status: string }>;
  t.equal(listed.filter((c) => ids.includes(c.id) && c.status === 'created').length, N, `all ${N} are listed as created at once`);

  const started = await parallel(ids, JOBS, (id) => call(t, ['start', id]));
  t.same(started.filter((r) => r.status !== 0).map(show), [], `all ${N} starts succeed`);
  const states = await parallel(ids, JOBS, (id) => stateCall(t, id));
  t.equal(states.filter((s) => s.status === 'running').length, N, `all ${N} run at once`);
  t.equal(new Set(states.map((s) => s.pid)).size, N, 'with distinct pids');

  const deleted = await parallel(ids, JOBS, (id) => call(t, ['delete', '--force', id]));
  t.same(deleted.filter((r) => r.status !== 0).map(show), [], `all ${N} deletes succeed`);
  const after = await call(t, ['list', '--format', 'json']);
  t.same(JSON.parse(after.stdout || '[]'), [], 'list is empty');
  const leaks = await noLeaks(t, `${N} parallel containers`);
  t.comment(`parallel: ${N} containers, ${JOBS} runtime calls at a time: created ${created.filter((r) => r.status === 0).length}, ` +
    `started ${started.filter((r) => r.status === 0).length}, deleted ${deleted.filter((r) => r.status === 0).length}; leaks: ${leaks}`);
});

/** Reads state.json in a loop while `race` runs: every read must parse (or find no file). */
async function watchState(root: string, id: string, race: () => Promise<void>): Promise<{ reads: number; corrupt: string[] }> {
  const file = join(root, id, 'state.json');
  let done = false;
  let reads = 0;
  const corrupt: string[] = [];
  const watcher = (async () => {
    while (!done) {
      let text: string | undefined;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        text = undefined;
      }
      if (text !== undefined) {
        reads++;
        try {
          const r = JSON.parse(text);
          if (r.id !== id || typeof r.pid !== 'number') corrupt.push(text.slice(0, 200));
        } catch {
          corrupt.push(text.slice(0, 200));
        }
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  try {
    await race();
  } finally {
    done = true;
    await watcher;
  }
  return { reads, corrupt };
}

const isOneLine = (r: Call) => oneLineProblem(r) === undefined;
const tally = new Map<string, Map<string, number>>();
function outcome(race: string, what: string): void {
  const m = tally.get(race) ?? new Map<string, number>();
  m.set(what, (m.get(what) ?? 0) + 1);
  tally.set(race, m);
}

async function created(t: Test, b: Bundle, id: string): Promise<void> {
  const r = await call(t, ['create', '--bundle', b.dir, id], { keepFiles: true });
  t.equal(r.status, 0, 'create', { detail: show(r) });
}

t.test('races on one id', async (t) => {
  const b = makeBundle(t, undefined, { args: ['sleep', '1000'] });
  let corruptReads = 0;
  let reads = 0;
  const race = async (name: string, fn: (t: Test, id: string) => Promise<void>) => {
    for (let round = 1; round <= ROUNDS; round++) {
      await t.test(`${name} (round ${round})`, async (t) => {
        const id = uniqueId(t, 'race');
        const w = await watchState(rootFor(t), id, () => fn(t, id));
        reads += w.reads;
        corruptReads += w.corrupt.length;
        t.same(w.corrupt, [], 'state.json always parses');
        const gone = await call(t, ['delete', '--force', id]);
        t.equal(gone.status, 0, 'final delete --force', { detail: show(gone) });
        await noLeaks(t, name);
      });
    }
  };

  await race('two creates', async (t, id) => {
    const [a, c] = await Promise.all([0, 1].map(() => call(t, ['create', '--bundle', b.dir, id], { keepFiles: true })));
    const wins = [a!, c!].filter((r) => r.status === 0);
    t.equal(wins.length, 1, 'exactly one create succeeds', { detail: [a!, c!].map(show) });
    const loser = [a!, c!].find((r) => r.status !== 0);
    t.ok(loser && isOneLine(loser) && /already exists/.test(loser.stderr), 'the other says the id is taken, in one line', { detail: loser && show(loser) });
    const s = await stateCall(t, id);
    t.equal(s.status, 'created', 'the winner\'s container is created');
    const st = await call(t, ['start', id]);
    t.equal(st.status, 0, 'and starts', { detail: show(st) });
    outcome('two creates', `${wins.length} winner`);
  });

  await race('two starts', async (t, id) => {
    await created(t, b, id);
    const rs = await Promise.all([0, 1].map(() => call(t, ['start', id])));
    const wins = rs.filter((r) => r.status === 0);
    t.equal(wins.length, 1, 'exactly one start succeeds', { detail: rs.map(show) });
    const loser = rs.find((r) => r.status !== 0);
    t.ok(loser && isOneLine(loser) && /already running|is busy/.test(loser.stderr), 'the other fails in one line', { detail: loser && show(loser) });
    t.equal((await stateCall(t, id)).status, 'running', 'the container runs');
    outcome('two starts', `${wins.length} winner`);
  });

  await race('start against delete --force', async (t, id) => {
    await created(t, b, id);
    const [st, del] = await Promise.all([call(t, ['start', id]), call(t, ['delete', '--force', id])]);
    t.equal(del.status, 0, 'delete --force succeeds', { detail: show(del) });
    t.ok(st.status === 0 || (isOneLine(st) && /does not exist|not waiting|has stopped|stopped/.test(st.stderr)),
      'start either won (and the container was then deleted) or failed in one line', { detail: show(st) });
    const s = await stateCall(t, id);
    t.match(s.error, /does not exist/, 'the container is gone');
    outcome('start against delete --force', st.status === 0 ? 'start first' : 'delete first');
  });

  await race('start against delete', async (t, id) => {
    await created(t, b, id);
    const [st, del] = await Promise.all([call(t, ['start', id]), call(t, ['delete', id])]);
    // A created or running container cannot be deleted without --force: start is the only winner.
    t.equal(st.status, 0, 'start succeeds', { detail: show(st) });
    t.ok(del.status !== 0 && isOneLine(del) && /not stopped/.test(del.stderr), 'delete refuses a live container in one line', { detail: show(del) });
    t.equal((await stateCall(t, id)).status, 'running', 'the container runs');
    outcome('start against delete', 'start wins');
  });

  await race('kill against delete --force', async (t, id) => {
    await created(t, b, id);
    t.equal((await call(t, ['start', id])).status, 0, 'start');
    const [k, del] = await Promise.all([call(t, ['kill', id, 'KILL']), call(t, ['delete', '--force', id])]);
    t.equal(del.status, 0, 'delete --force succeeds', { detail: show(del) });
    t.ok(k.status === 0 || (isOneLine(k) && /does not exist|not running/.test(k.stderr)), 'kill succeeded or failed in one line', { detail: show(k) });
    t.match((await stateCall(t, id)).error, /does not exist/, 'the container is gone');
    outcome('kill against delete --force', k.status === 0 ? 'kill first' : 'delete first');
  });

  await race('kill against delete', async (t, id) => {
    await created(t, b, id);
    t.equal((await call(t, ['start', id])).status, 0, 'start');
    const [k, del] = await Promise.all([call(t, ['kill', id, 'KILL']), call(t, ['delete', id])]);
    t.equal(k.status, 0, 'kill succeeds (delete without --force never removes a running container)', { detail: show(k) });
    const s = await stateCall(t, id);
    if (del.status === 0) {
      // The process was already dead when delete looked.
      t.match(s.error, /does not exist/, 'delete won after the kill: the container is gone');
      outcome('kill against delete', 'delete after the kill');
    } else {
      t.ok(isOneLine(del) && /not stopped/.test(del.stderr), 'delete refused a running container in one line', { detail: show(del) });
      t.ok(s.status === 'stopped' || s.status === 'running', `state is consistent (${s.status})`);
      let now = s.status;
      for (let i = 0; i < 200 && now !== 'stopped'; i++) {
        await new Promise((r) => setTimeout(r, 25));
        now = (await stateCall(t, id)).status;
      }
      t.equal(now, 'stopped', 'the killed container becomes stopped');
      const again = await call(t, ['delete', id]);
      t.equal(again.status, 0, 'and a plain delete then removes it', { detail: show(again) });
      outcome('kill against delete', 'delete before the kill');
    }
  });

  await race('two deletes --force', async (t, id) => {
    await created(t, b, id);
    t.equal((await call(t, ['start', id])).status, 0, 'start');
    const rs = await Promise.all([0, 1].map(() => call(t, ['delete', '--force', id])));
    t.same(rs.filter((r) => r.status !== 0).map(show), [], 'both succeed (force: a missing container is fine)');
    t.match((await stateCall(t, id)).error, /does not exist/, 'the container is gone');
    outcome('two deletes --force', 'both succeed');
  });

  const summary = [...tally.entries()].map(([race, m]) => `${race}: ${[...m.entries()].map(([k, n]) => `${n}× ${k}`).join(', ')}`);
  t.comment(`races: ${ROUNDS} round(s) each; ${summary.join('; ')}; state.json read ${reads} times during the races, corrupt: ${corruptReads}`);
  t.equal(corruptReads, 0, 'state.json never corrupt');
});
