// The reading of bats TAP and of expected.tsv behind test/runc-compat (no kernel needed).
import t from 'tap';
import { categorize, parseBatsTap, parseExpectations, renderTable } from './outcomes.js';

const TAP = [
  '1..4',
  'ok 1 runc run [a]',
  'ok 2 runc run (blkio weight) # skip test requires cgroups_v2',
  'not ok 3 runc run/create should refuse pre-existing frozen cgroup # timeout after 90s',
  '# (in test file x.bats, line 3)',
  'not ok 4 runc foo | bar',
].join('\n');

t.test('bats TAP: pass, skip, fail (a timeout too), by name', async (t) => {
  const m = parseBatsTap(TAP);
  t.same([...m], [
    ['runc run [a]', 'pass'],
    ['runc run (blkio weight)', 'skip'],
    ['runc run/create should refuse pre-existing frozen cgroup', 'fail'],
    ['runc foo | bar', 'fail'],
  ]);
});

t.test('expected.tsv: entries, comments, and bad lines named', async (t) => {
  const e = parseExpectations('# c\n\nrunc x\tfail\thost limit\nrunc y\tskip\tno v2\n');
  t.same(e.get('runc x'), { expect: 'fail', reason: 'host limit' });
  t.same(e.get('runc y'), { expect: 'skip', reason: 'no v2' });
  t.throws(() => parseExpectations('runc x\tbroken\tr\n'), /line 1: want/);
  t.throws(() => parseExpectations('runc x\tfail\n'), /without a reason/);
  t.throws(() => parseExpectations('a\tfail\tr\na\tfail\tr\n'), /line 2: "a" is listed twice/);
});

t.test('categories and the table', async (t) => {
  t.equal(categorize('pass', 'pass'), 'both pass');
  t.equal(categorize('fail', 'pass'), 'runc only');
  t.equal(categorize('pass', 'fail'), 'tsrun only');
  t.equal(categorize('fail', 'fail'), 'both fail');
  t.equal(categorize('skip', 'skip'), 'skipped');
  const table = renderTable(parseBatsTap(TAP), parseBatsTap(TAP.replace('not ok 4', 'ok 4')), parseExpectations('runc foo | bar\tfail\tnames itself runc\n'));
  t.match(table, /\| both pass \| 1 \|/);
  t.match(table, /\| runc only \| 1 \|/);
  t.match(table, /\| runc foo \\\| bar \| fail \| pass \| runc only \| names itself runc \|/);
});
