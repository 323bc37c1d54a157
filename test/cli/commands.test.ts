// The CLI end to end, from the sources: output formats, error lines and exit statuses, and
// kill/delete/state on records written by hand for real processes.
import * as fs from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { defaultSpec } from '../../src/spec/default-config.js';
import { featuresDocument } from '../../src/spec/features.js';
import { exited, record, sleep, spawnSleep, tempDir, tsrun, writeRecord } from './fixtures/support.js';

function oneErrorLine(t: Test, r: { status: number | null; stdout: string; stderr: string }, line: string | RegExp): void {
  t.equal(r.status, 1, 'exit status 1');
  t.equal(r.stdout, '', 'nothing on stdout');
  const lines = r.stderr.split('\n').filter(Boolean);
  t.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
  if (typeof line === 'string') t.equal(lines[0], line);
  else t.match(lines[0], line);
}

const waitSignal = (child: { once: (e: 'exit', f: (c: number | null, s: string | null) => void) => unknown }) =>
  new Promise<string | null>((r) => child.once('exit', (_c, s) => r(s)));

t.test('--version', async (t) => {
  const r = tsrun(['--version']);
  t.equal(r.status, 0);
  const lines = r.stdout.trim().split('\n');
  t.equal(lines[0], `tsrun version ${JSON.parse(fs.readFileSync('package.json', 'utf8')).version}`);
  t.match(lines[1], /^commit: \S+$/);
  t.equal(lines[2], 'spec: 1.3.0');
  t.match(lines[3], /^bun: \d+\.\d+\.\d+$/);
  t.match(lines[4], /^libseccomp: (\d+\.\d+\.\d+|unknown)$/);
  t.equal(tsrun(['-v']).stdout, r.stdout);
});

t.test('help', async (t) => {
  for (const args of [['--help'], ['-h'], [], ['help']]) {
    const r = tsrun(args);
    t.equal(r.status, 0, args.join(' '));
    for (const c of ['create', 'start', 'run', 'state', 'kill', 'delete', 'list', 'ps', 'events', 'pause', 'resume', 'update', 'exec', 'spec', 'features']) {
      t.match(r.stdout, new RegExp(`^   ${c} `, 'm'));
    }
  }
  const c = tsrun(['create', '--help']);
  t.equal(c.status, 0);
  t.match(c.stdout, /tsrun create \[command options\] <container-id>/);
  t.match(c.stdout, /--console-socket/);
  t.equal(tsrun(['help', 'kill']).stdout, tsrun(['kill', '-h']).stdout);
});

t.test('usage errors: one line, exit 1', async (t) => {
  oneErrorLine(t, tsrun(['bogus']), 'tsrun: unknown command "bogus" (see tsrun --help)');
  oneErrorLine(t, tsrun(['create', '--bogus', 'x']), 'tsrun: create: flag provided but not defined: --bogus');
  oneErrorLine(t, tsrun(['state', '--bogus', 'x']), 'tsrun: state: flag provided but not defined: --bogus');
  oneErrorLine(t, tsrun(['--bogus', 'state', 'x']), 'tsrun: flag provided but not defined: --bogus');
  oneErrorLine(t, tsrun(['state']), /^tsrun: state: requires exactly 1 argument\(s\), got 0 \(usage: tsrun state <container-id>\)$/);
  oneErrorLine(t, tsrun(['delete', 'a', 'b']), /^tsrun: delete: requires exactly 1 argument\(s\), got 2/);
  oneErrorLine(t, tsrun(['create', '--preserve-fds', 'many', 'x']), 'tsrun: create: invalid value "many" for --preserve-fds: not an integer');
  oneErrorLine(t, tsrun(['checkpoint', '--manage-cgroups-mode', 'x']), /^tsrun: checkpoint: requires exactly 1 argument\(s\), got 0/);
  oneErrorLine(t, tsrun(['restore', 'a', 'b']), /^tsrun: restore: requires exactly 1 argument\(s\), got 2/);
  oneErrorLine(t, tsrun(['checkpoint', '--bogus', 'c1']), 'tsrun: checkpoint: flag provided but not defined: --bogus');
  oneErrorLine(t, tsrun(['--root', '/tmp', 'state', '../etc']), 'tsrun: state ../etc: invalid container ID format');
});

t.test('state', async (t) => {
  const root = tempDir(t);
  const p = spawnSleep(t);
  const rec = record('c1', p.pid, { status: 'running', annotations: { 'org.example': 'x' } });
  writeRecord(root, rec);
  const r = tsrun(['--root', root, 'state', 'c1']);
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout), {
    ociVersion: '1.3.0', id: 'c1', pid: p.pid, status: 'running', bundle: rec.bundle, rootfs: rec.rootfs,
    created: rec.created, owner: 'root', annotations: { 'org.example': 'x' },
  });
  p.kill('SIGKILL');
  await exited(p);
  const s = JSON.parse(tsrun(['--root', root, 'state', 'c1']).stdout);
  t.equal(s.status, 'stopped');
  t.equal(s.pid, 0);
  oneErrorLine(t, tsrun(['--root', root, 'state', 'nosuch']), 'tsrun: state nosuch: container nosuch does not exist');
  fs.writeFileSync(join(root, 'c1', 'state.json'), '{');
  oneErrorLine(t, tsrun(['--root', root, 'state', 'c1']), /^tsrun: state c1: the state of container c1 is corrupt \(/);
});

t.test('list', async (t) => {
  const root = tempDir(t);
  const p = spawnSleep(t);
  writeRecord(root, record('b2', p.pid, { status: 'running' }));
  writeRecord(root, record('a1', 0, { pid: 0 }));
  const table = tsrun(['--root', root, 'list']);
  t.equal(table.status, 0, table.stderr);
  const uid = process.getuid!() === 0 ? 'root' : String(process.getuid!());
  t.equal(table.stdout, [
    'ID          PID         STATUS      BUNDLE                CREATED                          OWNER',
    `a1          0           stopped     /nonexistent/bundle   2026-01-02T03:04:05.123456789Z   ${uid}`,
    `b2          ${String(p.pid).padEnd(12)}running     /nonexistent/bundle   2026-01-02T03:04:05.123456789Z   ${uid}`,
    '',
  ].join('\n'));
  const json = JSON.parse(tsrun(['--root', root, 'list', '--format', 'json']).stdout);
  t.same(json.map((s: { id: string; status: string }) => [s.id, s.status]), [['a1', 'stopped'], ['b2', 'running']]);
  t.equal(tsrun(['--root', root, 'list', '-q']).stdout, 'a1\nb2\n');
  t.equal(tsrun(['--root', join(root, 'missing'), 'list', '-q']).stdout, '', 'a root that does not exist yet lists nothing');
  oneErrorLine(t, tsrun(['--root', root, 'list', '-f', 'xml']), 'tsrun: invalid format option "xml": use table or json');
});

t.test('kill', async (t) => {
  const root = tempDir(t);
  for (const [sig, expect] of [[[], 'SIGTERM'], [['KILL'], 'SIGKILL'], [['SIGUSR1'], 'SIGUSR1'], [['usr2'], 'SIGUSR2'], [['2'], 'SIGINT']] as const) {
    const p = spawnSleep(t);
    writeRecord(root, record('k', p.pid, { status: 'running' }));
    const got = waitSignal(p);
    const r = tsrun(['--root', root, 'kill', 'k', ...sig]);
    t.equal(r.status, 0, r.stderr);
    t.equal(await got, expect, `kill ${sig.join(' ')} delivers ${expect}`);
  }
  oneErrorLine(t, tsrun(['--root', root, 'kill', 'k', 'KILL']), 'tsrun: kill k: container not running');
  const p = spawnSleep(t);
  writeRecord(root, record('k', p.pid, { status: 'running' }));
  oneErrorLine(t, tsrun(['--root', root, 'kill', 'k', 'FOO']), 'tsrun: kill k: unknown signal "FOO"');
  // The pid now belongs to another process: never signal it.
  writeRecord(root, { ...record('k', p.pid, { status: 'running' }), pidStartTime: record('k', p.pid).pidStartTime - 1 });
  oneErrorLine(t, tsrun(['--root', root, 'kill', 'k', 'KILL']), 'tsrun: kill k: container not running');
  await sleep(50);
  t.equal(p.exitCode, null, 'the process with the recycled pid was not signalled');
  t.equal(p.signalCode, null);
  oneErrorLine(t, tsrun(['--root', root, 'kill', 'nosuch']), 'tsrun: kill nosuch: container nosuch does not exist');
});

t.test('kill --all of a stopped container succeeds (runc); without --all it fails', async (t) => {
  const root = tempDir(t);
  const p = spawnSleep(t);
  const pid = p.pid!;
  const rec = record('ka', pid, { status: 'running' });
  p.kill('SIGKILL');
  await exited(p);
  writeRecord(root, rec);
  for (const flag of ['--all', '-a']) {
    const r = tsrun(['--root', root, 'kill', flag, 'ka', '0']);
    t.same([r.status, r.stderr], [0, ''], `kill ${flag} of a stopped container without a cgroup`);
  }
  t.equal(tsrun(['--root', root, 'kill', '--all', 'ka', 'KILL']).status, 0, 'any signal');
  oneErrorLine(t, tsrun(['--root', root, 'kill', 'ka', 'KILL']), 'tsrun: kill ka: container not running');
  oneErrorLine(t, tsrun(['--root', root, 'kill', '--all', 'nosuch', 'KILL']), 'tsrun: kill nosuch: container nosuch does not exist');
});

t.test('exec that cannot be done exits 255 (runc), a usage error 1', async (t) => {
  const root = tempDir(t);
  const r = tsrun(['--root', root, 'exec', 'nosuch', 'true']);
  t.equal(r.status, 255, 'no such container');
  t.equal(r.stderr, 'tsrun: exec nosuch: exec failed: container nosuch does not exist\n');
  const p = spawnSleep(t);
  writeRecord(root, record('x', p.pid!, { status: 'running' }));
  const empty = tsrun(['--root', root, 'exec', 'x']);
  t.equal(empty.status, 255, 'no command: runc says "process args cannot be empty" with 255');
  t.match(empty.stderr, /^tsrun: exec x: exec failed: .*empty/);
  const usage = tsrun(['--root', root, 'exec']);
  t.equal(usage.status, 1, 'no container id: a usage error');
  const flag = tsrun(['--root', root, 'exec', '--no-such-flag', 'x', 'true']);
  t.equal(flag.status, 1, 'an unknown flag: a usage error');
});

t.test('--log is created at start-up, even by a command that logs nothing; a bad one fails', async (t) => {
  const root = tempDir(t);
  const log = join(root, 'quiet.log');
  const r = tsrun(['--root', root, '--log', log, 'list', '-q']);
  t.equal(r.status, 0, r.stderr);
  t.equal(fs.readFileSync(log, 'utf8'), '', 'the log file exists, empty');
  t.equal((fs.statSync(log).mode & 0o777).toString(8), '644');
  fs.writeFileSync(log, 'before\n');
  tsrun(['--root', root, '--log', log, 'kill', 'nosuch']);
  t.match(fs.readFileSync(log, 'utf8'), /^before\ntime="[^"]+" level=error msg="kill nosuch: container nosuch does not exist"\n$/, 'appended to');
  oneErrorLine(t, tsrun(['--root', root, '--log', join(root, 'no', 'dir', 'x.log'), 'list']),
    `tsrun: --log ${join(root, 'no', 'dir', 'x.log')}: open ${join(root, 'no', 'dir', 'x.log')}: no such file or directory`);
});

t.test('delete', async (t) => {
  const root = tempDir(t);
  const p = spawnSleep(t);
  writeRecord(root, record('d', p.pid, { status: 'running' }));
  oneErrorLine(t, tsrun(['--root', root, 'delete', 'd']), 'tsrun: delete d: cannot delete container d that is not stopped: running');
  writeRecord(root, record('d', p.pid, { status: 'paused' }));
  oneErrorLine(t, tsrun(['--root', root, 'delete', 'd']), 'tsrun: delete d: cannot delete container d that is not stopped: paused');
  t.equal(p.exitCode ?? p.signalCode, null, 'still alive');
  writeRecord(root, record('d', p.pid, { status: 'running' }));
  const got = waitSignal(p);
  const r = tsrun(['--root', root, 'delete', '--force', 'd']);
  t.equal(r.status, 0, r.stderr);
  t.equal(await got, 'SIGKILL', '--force kills the process');
  t.equal(fs.existsSync(join(root, 'd')), false, 'state removed');

  // runtime.md: only a stopped container may be deleted without --force (runc and crun also
  // delete a created one).
  const waiting = spawnSleep(t);
  writeRecord(root, record('c', waiting.pid, { status: 'created' }));
  oneErrorLine(t, tsrun(['--root', root, 'delete', 'c']), 'tsrun: delete c: cannot delete container c that is not stopped: created');
  t.equal(waiting.exitCode ?? waiting.signalCode, null, 'the waiting init of a created container is left alone');
  t.equal(fs.existsSync(join(root, 'c')), true, 'its state is kept');
  const killed = waitSignal(waiting);
  t.equal(tsrun(['--root', root, 'delete', '--force', 'c']).status, 0, 'a created container is deleted with --force');
  t.equal(await killed, 'SIGKILL', 'its waiting init was killed');
  t.equal(fs.existsSync(join(root, 'c')), false);

  writeRecord(root, record('s', 0, { status: 'running', pid: 0 }));
  t.equal(tsrun(['--root', root, 'delete', 's']).status, 0, 'a stopped container is deleted');
  t.equal(fs.existsSync(join(root, 's')), false);

  const quiet = tsrun(['--root', root, 'delete', '--force', 'nosuch']);
  t.same([quiet.status, quiet.stdout, quiet.stderr], [0, '', ''], 'unknown id with --force: silent success (runc)');
  oneErrorLine(t, tsrun(['--root', root, 'delete', 'nosuch']), 'tsrun: delete nosuch: container nosuch does not exist');
});

t.test('delete runs poststop hooks after removing the state; failures only warn', async (t) => {
  const root = tempDir(t);
  const dir = tempDir(t);
  const bad = join(dir, 'bad');
  fs.writeFileSync(bad, '#!/bin/sh\necho hook trouble >&2\nexit 2\n', { mode: 0o755 });
  const good = join(dir, 'good');
  fs.writeFileSync(good, `#!/bin/sh\ncat > ${dir}/stdin\ntest -e ${root}/h && echo present > ${dir}/state-dir || echo gone > ${dir}/state-dir\n`, { mode: 0o755 });
  writeRecord(root, record('h', 0, { pid: 0, hooks: { poststop: [{ path: bad }, { path: good }] } }));
  const r = tsrun(['--root', root, 'delete', 'h']);
  t.equal(r.status, 0, 'a failing poststop hook does not fail delete');
  t.match(r.stderr, `poststop hook ${bad} failed: exit status 2: hook trouble`);
  t.match(r.stderr, /level=warning/);
  t.same(JSON.parse(fs.readFileSync(join(dir, 'stdin'), 'utf8')), { ociVersion: '1.3.0', id: 'h', status: 'stopped', bundle: '/nonexistent/bundle' }, 'the next hook still ran, with the state');
  t.equal(fs.readFileSync(join(dir, 'state-dir'), 'utf8'), 'gone\n', 'hooks run once the container is deleted');
});

t.test('errors also go to --log, as JSON lines with --log-format json', async (t) => {
  const root = tempDir(t);
  const log = join(root, 'log.json');
  const r = tsrun(['--root', root, '--log', log, '--log-format', 'json', 'state', 'nosuch']);
  t.equal(r.stderr, 'tsrun: state nosuch: container nosuch does not exist\n');
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  t.equal(lines.length, 1);
  t.same(Object.keys(lines[0]).sort(), ['level', 'msg', 'time']);
  t.equal(lines[0].level, 'error');
  t.equal(lines[0].msg, 'state nosuch: container nosuch does not exist');
  t.ok(!Number.isNaN(Date.parse(lines[0].time)));
  const text = join(root, 'log.txt');
  tsrun(['--root', root, '--log', text, 'kill', 'nosuch']);
  t.match(fs.readFileSync(text, 'utf8'), /^time="[^"]+" level=error msg="kill nosuch: container nosuch does not exist"\n$/);
  const dbg = tsrun(['--root', root, '--debug', 'state', 'nosuch']);
  t.match(dbg.stderr, /^tsrun: state nosuch: container nosuch does not exist\n/);
  t.match(dbg.stderr, /TsrunError/, '--debug adds the stack');
});

t.test('ps --format json without a cgroup: the init', async (t) => {
  const root = tempDir(t);
  const p = spawnSleep(t);
  writeRecord(root, record('p', p.pid, { status: 'running' }));
  const r = tsrun(['--root', root, 'ps', '--format', 'json', 'p']);
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout), [p.pid]);
  const table = tsrun(['--root', root, 'ps', 'p']);
  t.equal(table.status, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  t.match(lines[0], /\bPID\b/);
  t.equal(lines.length, 2);
  t.match(lines[1], new RegExp(`\\b${p.pid}\\b.*sleep 1000`));
});

t.test('spec writes the default config, and never over an existing one', async (t) => {
  const dir = tempDir(t);
  const r = tsrun(['spec'], { cwd: dir });
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(fs.readFileSync(join(dir, 'config.json'), 'utf8')), defaultSpec({ rootless: false }));
  oneErrorLine(t, tsrun(['spec'], { cwd: dir }), 'tsrun: File config.json exists. Remove it first');
  const other = tempDir(t);
  t.equal(tsrun(['spec', '--rootless', '-b', other]).status, 0);
  t.same(JSON.parse(fs.readFileSync(join(other, 'config.json'), 'utf8')), defaultSpec({ rootless: true }));
  oneErrorLine(t, tsrun(['spec', '-b', join(other, 'missing')]), `tsrun: chdir ${join(other, 'missing')}: no such file or directory`);
});

t.test('features prints the features document', async (t) => {
  const r = tsrun(['features']);
  t.equal(r.status, 0, r.stderr);
  t.same(JSON.parse(r.stdout), featuresDocument());
});
