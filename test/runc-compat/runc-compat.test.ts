// runc's own integration suite (../shared/runc-integration, runc v1.1.15's bats tests) against
// build/tsrun, and against Debian's runc in the same run: every test whose expected outcome
// (expected.tsv; a test not listed there must pass) is "pass" must pass with tsrun, and every
// test allowed to fail must still fail (so expected.tsv never goes stale). Each bats test is one
// subtest here. The TAP of both runs and the table by test name go to build/runc-compat/.
//   RUNC_COMPAT_FILES="exec.bats kill"  only these bats files (default: the whole suite)
//   RUNC_COMPAT_REFERENCE=none           do not run runc beside tsrun
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadExpectations, parseBatsTap, renderTable, type Outcome } from './outcomes.js';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const suite = resolve(repo, process.env.SHARED ?? '../shared', 'runc-integration');
const outDir = join(repo, 'build', 'runc-compat');
const files = (process.env.RUNC_COMPAT_FILES ?? '').split(/\s+/).filter(Boolean);
const reference = process.env.RUNC_COMPAT_REFERENCE ?? '/usr/sbin/runc';
// The whole suite: ~10 min for tsrun, ~3 min for runc on 2 cores; a hung test costs 90 s more.
t.setTimeout(60 * 60 * 1000);

interface Run {
  status: number | null;
  tap: string;
  stderr: string;
}

function runOnce(runtime: string): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(join(suite, 'run.sh'), [runtime, ...files], { stdio: ['ignore', 'pipe', 'pipe'] });
    let tap = '';
    let stderr = '';
    child.stdout.on('data', (b) => (tap += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', (e) => done({ status: null, tap, stderr: `${stderr}\nspawn run.sh: ${e.message}` }));
    child.on('close', (status) => done({ status, tap, stderr }));
    t.teardown(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    });
  });
}

/** run.sh allows one run per host (a lock): wait for another run to finish, up to 30 minutes. */
async function runSuite(runtime: string): Promise<Run> {
  const deadline = Date.now() + 30 * 60 * 1000;
  for (;;) {
    const r = await runOnce(runtime);
    if (!/another runc integration run is active/.test(r.stderr) || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 15_000));
  }
}

const skip = process.getuid?.() !== 0 ? 'needs root' : false;

t.test('runc integration suite', { skip }, async (t) => {
  if (!existsSync(join(suite, 'run.sh'))) {
    t.fail(`runc's integration suite is missing: ${suite} (../shared/runc-integration beside the checkout)`);
    return;
  }
  const expectations = loadExpectations(join(here, 'expected.tsv'));
  mkdirSync(outDir, { recursive: true });
  const tsrun = await runSuite(join(repo, 'build', 'tsrun'));
  writeFileSync(join(outDir, 'tsrun.tap'), tsrun.tap);
  const got = parseBatsTap(tsrun.tap);
  if (got.size === 0) {
    t.fail('the suite reported no test with tsrun', { status: tsrun.status, stderr: tsrun.stderr.slice(-4000) });
    return;
  }
  let runc: Map<string, Outcome> | undefined;
  if (reference !== 'none') {
    const r = await runSuite(reference);
    writeFileSync(join(outDir, 'runc.tap'), r.tap);
    runc = parseBatsTap(r.tap);
  }
  writeFileSync(join(outDir, 'table.md'), renderTable(got, runc, expectations));

  for (const [name, outcome] of got) {
    const e = expectations.get(name) ?? { expect: 'pass' as Outcome, reason: '' };
    t.test(name, async (t) => {
      if (e.expect === 'pass') t.not(outcome, 'fail', 'passes with tsrun (or is skipped by a host requirement)');
      else if (e.expect === 'fail') t.equal(outcome, 'fail', `fails, as expected.tsv says (${e.reason}); if it now passes, update expected.tsv`);
      else t.equal(outcome, 'skip', `is skipped, as expected.tsv says (${e.reason})`);
    });
  }
  if (files.length === 0) {
    for (const name of expectations.keys()) {
      if (!got.has(name)) t.fail(`expected.tsv names "${name}", which the suite did not run`);
    }
  }
});
