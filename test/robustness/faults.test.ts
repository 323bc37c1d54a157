// Fault injection: tsrun SIGKILLed at every step of create, start, exec and delete
// (TSRUN_FAULT=<command>:<step>, src/container/fault.ts). Afterwards `state` must tell the truth
// and `delete --force` must remove everything; the runtime must also recover (a second start,
// exec or delete works). FAULT_ROUNDS (default 1) repeats every step.
import t, { type Test } from 'tap';
import { FAULT_STEPS, type FaultStep } from '../../src/container/fault.js';
import { makeBundle, testingTsrun, uniqueId } from '../helpers/index.js';
import { call, describeLeaks, findScopedLeaks, leakCount, oneLineProblem, settledLeaks, show, stateCall, testScope, type Call } from './lib.js';

const rounds = Number(process.env.FAULT_ROUNDS ?? '1');
t.setTimeout(Math.max(300_000, rounds * FAULT_STEPS.length * 20_000));

/** What `state` must say after the fault (a string: that status; undefined: "does not exist"). */
const TRUTH: Record<FaultStep, string | undefined> = {
  'create:dir': undefined,
  'create:record': 'stopped',
  'create:cgroup': 'stopped',
  'create:fifo': 'stopped',
  'create:spawn': 'stopped',
  'create:sync': 'stopped',
  'create:ready': 'stopped',
  'create:saved': 'created',
  'start:lock': 'created',
  'start:released': 'running',
  'start:saved': 'running',
  'exec:spawn': 'running',
  'exec:ready': 'running',
  'delete:lock': 'running',
  'delete:kill': 'stopped',
  'delete:cgroup': 'stopped',
  'delete:state': 'stopped',
};

const counts = { steps: 0, killed: 0, truthful: 0, recovered: 0, cleaned: 0, leaks: 0 };

function killed(t: Test, r: Call, step: string): boolean {
  return t.equal(r.signal, 'SIGKILL', `${step}: tsrun killed itself at the step`, { detail: show(r) });
}

async function faultCase(t: Test, step: FaultStep, round: number): Promise<void> {
  const id = uniqueId(t, `flt-${step.replace(':', '-')}`);
  // A createRuntime hook makes the init stop at a SYNC (the create:sync step).
  const b = makeBundle(t, (c) => {
    c.hooks = { createRuntime: [{ path: '/bin/true' }] };
  }, { args: ['sleep', '1000'] });
  const fault = { env: { ...process.env, TSRUN_FAULT: step } };
  const [command] = step.split(':');
  let r: Call;
  counts.steps++;
  if (command === 'create') {
    r = await call(t, ['create', '--bundle', b.dir, id], { ...fault, keepFiles: true });
  } else {
    const cr = await call(t, ['create', '--bundle', b.dir, id], { keepFiles: true });
    t.equal(cr.status, 0, 'create', { detail: show(cr) });
    if (command !== 'start') {
      const st = await call(t, ['start', id]);
      t.equal(st.status, 0, 'start', { detail: show(st) });
    }
    if (command === 'start') r = await call(t, ['start', id], fault);
    else if (command === 'exec') r = await call(t, ['exec', id, 'sleep', '1000'], { ...fault, keepFiles: true });
    else r = await call(t, ['delete', '--force', id], fault);
  }
  if (killed(t, r, step)) counts.killed++;

  const s = await stateCall(t, id);
  const want = TRUTH[step];
  const truthful = want === undefined
    ? t.match(s.error, /does not exist/, `${step}: state says the container does not exist`, { detail: show(s.raw) })
    : t.equal(s.status, want, `${step}: state says ${want}`, { detail: show(s.raw) });
  if (truthful) counts.truthful++;
  const list = await call(t, ['list', '--format', 'json']);
  t.equal(oneLineProblem(list), undefined, `${step}: list still works`, { detail: show(list) });

  // Recovery: the interrupted command (or the next one) works afterwards.
  let recovered = true;
  if (step === 'start:lock') {
    const again = await call(t, ['start', id]);
    recovered = t.equal(again.status, 0, 'start works after a start died holding the lock', { detail: show(again) });
    const s2 = await stateCall(t, id);
    recovered &&= t.equal(s2.status, 'running', 'and the container runs');
  } else if (command === 'start' && want === 'running') {
    const again = await call(t, ['start', id]);
    recovered = t.match(again.stderr, /already running/, 'a second start says it already runs', { detail: show(again) });
  } else if (command === 'exec') {
    const again = await call(t, ['exec', id, 'true']);
    recovered = t.equal(again.status, 0, 'exec works after an exec died', { detail: show(again) });
  } else if (step === 'create:saved') {
    const st = await call(t, ['start', id]);
    recovered = t.equal(st.status, 0, 'a container whose create died after saving its state starts', { detail: show(st) });
  } else if (command === 'create') {
    const again = await call(t, ['create', '--bundle', b.dir, id]);
    recovered = t.equal(oneLineProblem(again), undefined, 'a second create fails with one line', { detail: show(again) }) &&
      t.match(again.stderr, /already exists/, 'and says the id is taken');
  }
  if (recovered) counts.recovered++;

  // What the kill left is visible to the leak checker (so its "nothing left" below means something).
  t.ok(leakCount(findScopedLeaks(testScope(t))) > 0, `${step}: the leak checker sees the container before delete --force`);
  const del = await call(t, ['delete', '--force', id]);
  if (t.equal(del.status, 0, `${step}: delete --force`, { detail: show(del) })) counts.cleaned++;
  const gone = await stateCall(t, id);
  t.match(gone.error, /does not exist/, 'state: does not exist after delete --force');
  const leaks = await settledLeaks(testScope(t));
  counts.leaks += leakCount(leaks);
  t.equal(leakCount(leaks), 0, `${step} (round ${round}): nothing left`, { detail: describeLeaks(leaks) });
}

t.test('SIGKILL at every step of create, start, exec and delete', { skip: !testingTsrun() && 'TSRUN_FAULT is tsrun\'s' }, async (t) => {
  for (let round = 1; round <= rounds; round++) {
    for (const step of FAULT_STEPS) {
      await t.test(`${step} (round ${round})`, (t) => faultCase(t, step, round));
    }
  }
  t.comment(`faults: ${counts.steps} runs over ${FAULT_STEPS.length} steps x ${rounds} round(s); killed at the step: ${counts.killed}; ` +
    `state truthful: ${counts.truthful}; recovered: ${counts.recovered}; delete --force clean: ${counts.cleaned}; leaks: ${counts.leaks}`);
  t.equal(counts.killed, counts.steps, 'every fault point was reached');
  t.equal(counts.leaks, 0, 'zero leaks');
});

t.test('without TSRUN_FAULT (or with another command\'s step) nothing is killed', async (t) => {
  const id = uniqueId(t, 'flt-none');
  const b = makeBundle(t, undefined, { args: ['true'] });
  const r = await call(t, ['run', '--bundle', b.dir, id], { env: { ...process.env, TSRUN_FAULT: 'exec:spawn' } });
  t.equal(r.status, 0, 'run completes', { detail: show(r) });
  const leaks = await settledLeaks(testScope(t));
  t.equal(leakCount(leaks), 0, 'nothing left', { detail: describeLeaks(leaks) });
});
