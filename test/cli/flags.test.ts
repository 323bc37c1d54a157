// The hand-written parser (hot commands) and the yargs one (the others) read the same command
// line the same way, with runc's semantics; the kill signal syntax.
import t from 'tap';
import { canonicalize, parseFlags } from '../../src/cli/flags.js';
import { parseGlobals } from '../../src/cli/globals.js';
import { COMMANDS } from '../../src/cli/table.js';
import { parseWithYargs } from '../../src/cli/yargs-command.js';
import { parseSignal } from '../../src/container/kill.js';

const def = (name: string) => COMMANDS.get(name)!;

t.test('create flags: long, short, =value, single-dash long, defaults', async (t) => {
  const a = parseFlags(def('create'), ['-b', '/b', '--pid-file=/p', '-console-socket', '/s', '--no-pivot', 'id1']);
  t.same(a._, ['id1']);
  t.same(a.flags, {
    bundle: '/b', 'console-socket': '/s', 'pid-file': '/p', 'no-pivot': true, 'no-new-keyring': false, 'preserve-fds': 0,
  });
  t.equal(parseFlags(def('create'), ['id1']).flags.bundle, '.');
  t.equal(parseFlags(def('create'), ['--preserve-fds', '3', 'x']).flags['preserve-fds'], 3);
  t.equal(parseFlags(def('create'), ['--no-pivot=false', 'x']).flags['no-pivot'], false);
});

t.test('flags after the id are parsed (runc reorders), except for exec and ps', async (t) => {
  t.same(parseFlags(def('delete'), ['id', '--force']), { _: ['id'], flags: { force: true }, help: false });
  t.same(parseFlags(def('kill'), ['id', 'KILL', '-a']).flags, { all: true });
  const e = parseFlags(def('exec'), ['-t', '--env', 'A=1', '-e', 'B=2', 'id', 'sh', '-c', 'echo --tty', '-e']);
  t.same(e._, ['id', 'sh', '-c', 'echo --tty', '-e']);
  t.same(e.flags.env, ['A=1', 'B=2']);
  t.equal(e.flags.tty, true);
  t.same(parseFlags(def('ps'), ['id', '-o', 'pid,comm'])._, ['id', '-o', 'pid,comm']);
  t.same(parseFlags(def('exec'), ['--', 'id', 'ls'])._, ['id', 'ls']);
});

t.test('bundled one-letter booleans', async (t) => {
  const e = parseFlags(def('exec'), ['-td', 'id', 'sh']);
  t.equal(e.flags.tty, true);
  t.equal(e.flags.detach, true);
});

t.test('bad flags are one clear error', async (t) => {
  t.throws(() => parseFlags(def('create'), ['--bogus', 'x']), { name: 'UsageError', message: 'create: flag provided but not defined: --bogus' });
  t.throws(() => parseFlags(def('create'), ['x', '--bundle']), { message: 'create: flag needs an argument: --bundle' });
  t.throws(() => parseFlags(def('create'), ['--preserve-fds', 'x', 'y']), { message: 'create: invalid value "x" for --preserve-fds: not an integer' });
  t.throws(() => parseFlags(def('delete'), ['--force=maybe', 'x']), { message: /invalid boolean value "maybe"/ });
  t.throws(() => parseFlags(def('exec'), ['-tz', 'id', 'sh']), { message: 'exec: flag provided but not defined: -tz' });
});

t.test('-h / --help', async (t) => {
  t.equal(parseFlags(def('state'), ['--help']).help, true);
  t.equal(parseFlags(def('kill'), ['x', '-h']).help, true);
  t.equal(parseFlags(def('exec'), ['id', 'ls', '-h']).help, false, 'belongs to the container command');
});

t.test('the yargs parser agrees with the hand-written one', async (t) => {
  const cases: Array<[string, string[]]> = [
    ['create', ['-b', '/b', '--pid-file=/p', '--no-new-keyring', 'c1']],
    ['create', ['c1', '--bundle', 'x', '--bundle', 'y']],
    ['create', ['--preserve-fds=2', '-no-pivot', 'c1']],
    ['run', ['-d', '--keep', '--no-subreaper', '-b', 'b', 'c1']],
    ['exec', ['-t', '-e', 'A=1', '--env=B=2', '-u', '1:2', '-g', '10', '-g', '11', '--cap', 'CAP_X', 'id', 'sh', '-c', 'x -t']],
    ['exec', ['-p', '/proc.json', '--detach', '--pid-file', 'f', 'id']],
    ['exec', ['--no-new-privs', '--ignore-paused', '--cgroup', 'a:b', '--process-label', 'l', '--apparmor', 'p', 'id', 'true']],
    ['exec', ['--cgroup', 'a:b', '--cgroup=c,d:/e', 'id', 'true']],
    ['ps', ['-f', 'json', 'id']],
    ['ps', ['id', '-ef']],
    ['events', ['--stats', '--interval=1s', 'id']],
    ['update', ['-r', '-', 'id']],
    ['update', ['--memory', '1m', '--cpu-quota', '-1', '--pids-limit=5', 'id']],
    ['spec', ['--rootless', '-b', '/tmp']],
    ['pause', ['id']],
    ['features', []],
    ['delete', ['-f', 'id']],
    ['kill', ['--all', 'id', '9']],
    ['list', ['-q', '--format', 'json']],
    ['state', ['id']],
  ];
  for (const [name, argv] of cases) {
    t.same(parseWithYargs(def(name), argv), parseFlags(def(name), argv), `${name} ${argv.join(' ')}`);
  }
});

t.test('global flags stop at the command name', async (t) => {
  const g = parseGlobals(['--root', '/r', '--log=/l', '--log-format', 'json', '--debug', '--systemd-cgroup', '--rootless', 'true', 'state', '--root', 'x']);
  t.equal(g.root, '/r');
  t.equal(g.log, '/l');
  t.equal(g.logFormat, 'json');
  t.equal(g.debug, true);
  t.equal(g.systemdCgroup, true);
  t.equal(g.rootless, true);
  t.equal(g.command, 'state');
  t.same(g.rest, ['--root', 'x']);
  t.equal(parseGlobals(['list']).rootless, 'auto');
  t.equal(parseGlobals(['-v']).version, true);
  t.equal(parseGlobals(['-h', 'state']).help, true);
  t.throws(() => parseGlobals(['--log-format', 'xml', 'list']), /invalid log format "xml"/);
  t.throws(() => parseGlobals(['--rootless', 'maybe', 'list']), /invalid --rootless value/);
  t.throws(() => parseGlobals(['--bogus', 'list']), { message: 'flag provided but not defined: --bogus' });
});

t.test('canonical tokens', async (t) => {
  t.same(canonicalize(def('create'), ['-b', 'x', '-no-pivot', 'id']).tokens, ['--bundle=x', '--no-pivot', 'id']);
});

t.test('kill signals: names with and without SIG, any case, numbers', async (t) => {
  for (const [s, n] of [['KILL', 9], ['SIGKILL', 9], ['kill', 9], ['sigterm', 15], ['9', 9], ['15', 15], ['0', 0],
    ['HUP', 1], ['USR1', 10], ['SIGUSR2', 12], ['CHLD', 17], ['WINCH', 28], ['SYS', 31], ['RTMIN', 34], ['SIGRTMIN+3', 37],
    ['RTMAX', 64], ['RTMAX-2', 62], ['64', 64]] as const) {
    t.equal(parseSignal(s), n, s);
  }
  for (const s of ['FOO', 'SIGFOO', '65', '-1', '', 'RTMIN+40', '9x', 'SIG']) {
    t.throws(() => parseSignal(s), { message: `unknown signal "${s}"` }, s);
  }
});

t.test('--root is resolved like path.resolve (node:path is loaded only for unusual paths)', async (t) => {
  const { resolve } = await import('node:path');
  for (const r of ['/run/tsrun', '/run/tsrun/', '/', '//x', '/a/./b', '/a/../b', 'rel', './rel/', '/a/.', '/a/..', '/a/.b/', '/a/..b']) {
    t.equal(parseGlobals(['--root', r, 'state']).root, resolve(r), r);
  }
});
