// Reads the combined TAP stream of a `tap --reporter=tap` run on stdin and
// prints the failures and one summary line: `N passed, N failed[, N skipped]`.
//
// What is counted: the direct test points of each test file, i.e. every
// top-level `t.test(...)` and every top-level assertion of a file. Assertions
// inside a subtest decide whether that subtest passes; they are not counted
// separately. A file whose own result is `not ok` without any failed point
// (it crashed, timed out, exited non-zero) counts as one failure; a file that
// was expected but never reported counts as one failure too. `# SKIP` and
// `# TODO` points count as skipped.
//
// Usage: node tap-count.mjs [--tap-status=N] <expected-file>... < run.tap
// A non-zero tap status with no failure found in the stream counts as one
// failure. Exit status: 0 when at least one test passed and none failed, else 1.
import { Parser } from 'tap-parser';

const args = process.argv.slice(2);
const statusArg = args.find((a) => a.startsWith('--tap-status='));
const tapStatus = statusArg ? Number(statusArg.slice('--tap-status='.length)) : 0;
const expected = args.filter((a) => !a.startsWith('--'));
const parser = new Parser();
let passed = 0;
let failed = 0;
let skipped = 0;
let bailout = null;
const failures = [];
const seen = new Set();
let current = null;

parser.on('bailout', (reason) => { bailout = reason || 'bail out'; });
parser.on('child', (child) => {
  const file = { points: [] };
  current = file;
  child.on('assert', (res) => file.points.push(res));
  child.on('bailout', (reason) => { bailout = reason || 'bail out'; });
});
parser.on('assert', (res) => {
  const file = current ?? { points: [] };
  current = null;
  const name = res.name ?? '(unnamed)';
  seen.add(name);
  let fileFailures = 0;
  for (const p of file.points) {
    if (p.skip || p.todo) skipped++;
    else if (p.ok) passed++;
    else { failed++; fileFailures++; failures.push(`${name} > ${p.name ?? '(unnamed)'}`); }
  }
  if (!res.ok && !res.todo && fileFailures === 0) {
    failed++;
    const why = res.diag && (res.diag.signal || res.diag.exitCode !== undefined)
      ? ` (exit ${res.diag.exitCode ?? '-'}, signal ${res.diag.signal ?? '-'})` : '';
    failures.push(`${name}: the file failed without a failed test point${why}`);
  } else if (res.ok && file.points.length === 0) {
    skipped++;
  }
});
parser.on('complete', () => {
  for (const f of expected) {
    if (!seen.has(f)) { failed++; failures.push(`${f}: no result reported`); }
  }
  if (bailout !== null) { failed++; failures.push(`bail out: ${bailout}`); }
  if (tapStatus !== 0 && failed === 0) { failed++; failures.push(`tap exited with status ${tapStatus}`); }
  const out = [];
  if (failures.length) {
    out.push('', 'failed:');
    for (const f of failures) out.push(`  ${f}`);
  }
  out.push(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.stdout.write(out.join('\n') + '\n');
  process.exitCode = failed === 0 && passed > 0 ? 0 : 1;
});
process.stdin.pipe(parser);
