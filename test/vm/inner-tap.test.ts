// The reader of the TAP the test VM hands back (inner-tap.ts), on the shapes guest/run.sh and tap
// print: passing, failing (with the assertion's location), skipped and nested tests, a file that
// crashed outside any test, a file cut off by a timeout, a bail out.
import t from 'tap';
import { parseInnerTap } from './inner-tap.js';

const SAMPLE = `TAP version 14
# vm: 6.1.0-56-amd64, 2 CPUs
# Subtest: test/vm/guest/a.vm.ts
    # Subtest: passes
        ok 1 - should be equal
        1..1
    ok 1 - passes # time=12.5ms
    
    # Subtest: fails
        ok 1 - fine
        not ok 2 - pids.max is 10
          ---
          compare: ===
          at:
            fileName: ../test/vm/guest/a.vm.ts
            lineNumber: 42
            columnNumber: 5
          diff: |
            -10
            +max
          ...
        
        # Subtest: nested
            not ok 1 - deeper
            1..1
        not ok 3 - nested # time=1ms
        1..3
    not ok 2 - fails # time=30ms
      ---
      at:
        fileName: ../test/vm/guest/a.vm.ts
        lineNumber: 40
      ...
    
    ok 3 - not here # SKIP needs a disk
    1..3
    # { total: 5, pass: 2, fail: 3 }
not ok 1 - test/vm/guest/a.vm.ts # time=100ms
  ---
  exitCode: 1
  ...
# Subtest: test/vm/guest/b.vm.ts
    ok 1 - only test # time=1ms
    1..1
not ok 2 - test/vm/guest/b.vm.ts # time=5ms
  ---
  exitCode: 134
  stderr: |
    Aborted
  ...
# Subtest: test/vm/guest/c.vm.ts
    # Subtest: hangs
        ok 1 - started
`;

t.test('files, tests, failures with their location, directives', async (t) => {
  const r = parseInnerTap(SAMPLE);
  t.same(r.comments, ['vm: 6.1.0-56-amd64, 2 CPUs']);
  t.equal(r.bailOut, undefined);
  t.same(r.files.map((f) => [f.name, f.ok, f.time]), [
    ['test/vm/guest/a.vm.ts', false, '100ms'],
    ['test/vm/guest/b.vm.ts', false, '5ms'],
    ['test/vm/guest/c.vm.ts', undefined, undefined],
  ], 'c never reported a result (cut off)');
  const [a, b, c] = r.files;
  t.same(a!.tests.map((x) => [x.name, x.ok, x.time, x.directive]), [
    ['passes', true, '12.5ms', undefined],
    ['fails', false, '30ms', undefined],
    ['not here', true, undefined, { kind: 'skip', reason: 'needs a disk' }],
  ]);
  t.same(a!.tests[0]!.failures, []);
  t.same(a!.tests[1]!.failures, ['pids.max is 10 (test/vm/guest/a.vm.ts:42)', 'deeper', 'nested'],
    'every failed assertion below the test, with file:line when its YAML has one');
  t.match(a!.tests[1]!.block, /\+max/, 'the block keeps the diagnostics');
  t.match(a!.tests[1]!.block, /lineNumber: 40/, "and the test's own YAML");
  t.equal(a!.yaml, 'exitCode: 1');
  t.same(b!.tests.map((x) => [x.name, x.ok]), [['only test', true]]);
  t.match(b!.yaml, /exitCode: 134\nstderr: \|\n {2}Aborted/, 'a crash outside any test keeps its YAML');
  t.same(c!.tests, [], 'an unfinished test is not reported as a result');
  t.equal(c!.unfinished, 'hangs', 'but named as the one the file was in');
  t.equal(a!.unfinished, undefined);
});

t.test('bail out and empty output', async (t) => {
  t.equal(parseInnerTap('TAP version 14\nBail out! build/tsrun does not run in the VM: Illegal instruction\n').bailOut,
    'build/tsrun does not run in the VM: Illegal instruction');
  const empty = parseInnerTap('');
  t.same(empty.files, []);
  t.equal(empty.bailOut, undefined);
});
