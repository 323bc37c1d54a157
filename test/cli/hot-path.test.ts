// The short path of the commands engines call most (src/cli/hot.ts) against the full command
// line: the same output, error line, exit status and log for the same command. `-root` (one
// dash) is a form only the full parser takes, so it forces the full path.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseHot } from '../../src/cli/hot-line.js';
import { record, spawnSleep, tempDir, tsrun, writeRecord } from './fixtures/support.js';

t.test('parseHot takes the plain engine forms and nothing else', async (t) => {
  const root = ['--root', '/run/x'];
  t.match(parseHot([...root, 'state', 'c']), { root: '/run/x', command: 'state', args: ['c'], logFormat: 'text', debug: false });
  t.match(parseHot(['--root=/run/x/', '--log', '/l', '--log-format=json', '--systemd-cgroup', '--debug', 'kill', 'c', 'KILL']),
    { root: '/run/x', log: '/l', logFormat: 'json', systemdCgroup: true, debug: true, command: 'kill', args: ['c', 'KILL'], flag: false });
  t.match(parseHot([...root, 'kill', '--all', 'c', '9']), { args: ['c', '9'], flag: true });
  t.match(parseHot([...root, 'delete', '-f', 'c']), { command: 'delete', args: ['c'], flag: true });
  t.match(parseHot([...root, 'list']), { command: 'list', args: [] });
  for (const argv of [
    [...root, 'state'], [...root, 'state', 'a', 'b'], [...root, 'state', '--help', 'c'], [...root, 'list', '-q'],
    [...root, 'delete', '--force=true', 'c'], [...root, 'kill', 'c', '-9'], [...root, 'create', 'c'], [...root, 'exec', 'c', 'true'],
    ['-root', '/run/x', 'state', 'c'], ['--root', 'rel', 'state', 'c'], ['--root', '/a/../b', 'state', 'c'],
    [...root, '--log-format', 'xml', 'state', 'c'], [...root, '--rootless', 'true', 'state', 'c'], ['--root'], [],
  ]) {
    t.equal(parseHot(argv), undefined, argv.join(' '));
  }
});

t.test('short path and full command line agree', async (t) => {
  const root = tempDir(t);
  const p = spawnSleep(t);
  writeRecord(root, record('run1', p.pid, { status: 'running', annotations: { a: 'b' } }));
  writeRecord(root, record('gone', 0, { pid: 0 }));
  const cases: string[][] = [
    ['state', 'run1'], ['state', 'gone'], ['state', 'nosuch'], ['state', 'bad,id'],
    ['kill', 'run1', '0'], ['kill', 'run1', 'FOO'], ['kill', 'gone', 'KILL'], ['kill', 'nosuch'],
    ['list'], ['delete', 'run1'], ['delete', 'nosuch'], ['delete', '-f', 'nosuch'],
    ['start', 'run1'], ['start', 'gone'], ['pause', 'gone'], ['resume', 'run1'],
  ];
  for (const c of cases) {
    const logHot = join(root, 'hot.log');
    const logFull = join(root, 'full.log');
    const hot = tsrun(['--root', root, '--log', logHot, '--log-format', 'json', ...c]);
    const full = tsrun(['-root', root, '--log', logFull, '--log-format', 'json', ...c]);
    t.same(hot, full, c.join(' '));
    const lines = (f: string) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => ({ ...JSON.parse(l), time: undefined }));
    t.same(lines(logHot), lines(logFull), `${c.join(' ')}: the log`);
    fs.rmSync(logHot);
    fs.rmSync(logFull);
  }
});
