// Paths the caller gives (class: a container ID, --root, --pid-file or --console-socket that
// makes the runtime create, follow or overwrite files it should not — e.g. an ID with "../",
// a symlink planted where the runtime writes its temporary pid file, a state root another user
// can write into). runc's rules: IDs are plain names, the pid file is written to a new temporary
// file in its directory and renamed over the target (never following a symlink), state
// directories are private to root.
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync, chmodSync, chownSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { context, describe, makeBundle, rootFor, rt, uniqueId } from '../helpers/index.js';
import { nothingLeft } from './fixtures/lib.js';

t.test('container IDs cannot name anything but a directory of their own under --root', async (t) => {
  const root = rootFor(t);
  const parent = context(t).dir;
  const before = readdirSync(parent).sort();
  const b = makeBundle(t);
  for (const id of ['../escape', 'a/b', '..', '.', '/abs', 'x\ny', ' lead', '-flag', 'a'.repeat(1025)]) {
    const r = rt(t, ['create', '--bundle', b.dir, id]);
    t.not(r.status, 0, `create ${JSON.stringify(id.slice(0, 40))} is refused`, { detail: describe(r) });
    t.equal(r.stderr.trim().split('\n').length, 1, `${JSON.stringify(id.slice(0, 40))}: one line`, { stderr: r.stderr });
  }
  t.strictSame(readdirSync(root), [], 'nothing under --root');
  t.strictSame(readdirSync(parent).filter((e) => !before.includes(e) && !/^(bundle-\d+|(out|err)-\d+\.txt)$/.test(e)), [], 'nothing new next to --root but the test\'s own files');
  t.notOk(existsSync(join(parent, 'escape')), '../escape was not created');
});

t.test('state directories: private to root', async (t) => {
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: ['sleep', '1000'] });
  t.equal(rt(t, ['create', '--bundle', b.dir, id]).status, 0, 'create');
  const root = rootFor(t);
  const dir = join(root, id);
  const st = statSync(dir);
  t.equal(st.mode & 0o777, 0o700, 'the container\'s state directory is 0700');
  t.equal(st.uid, 0, 'owned by root');
  t.equal(statSync(root).mode & 0o022, 0, 'the state root is writable by its owner only');
  for (const e of readdirSync(dir)) {
    const s = lstatSync(join(dir, e));
    t.equal(s.uid, 0, `${e} is owned by root`);
    // exec.fifo is 0622 as runc makes it: only the 0700 directory keeps others away
    if (e !== 'exec.fifo') t.equal(s.mode & 0o002, 0, `${e} is not writable by others`);
  }
  t.equal(rt(t, ['delete', '-f', id]).status, 0, 'delete');
});

t.test('a state root another user owns or anyone may write is refused', async (t) => {
  const b = makeBundle(t);
  for (const [what, prep] of [
    ['world-writable', (d: string) => chmodSync(d, 0o777)],
    ['owned by another user', (d: string) => chownSync(d, 65534, 65534)],
  ] as const) {
    const root = join(context(t).dir, `root-${what.replace(/ /g, '-')}`);
    mkdirSync(root, { mode: 0o700 });
    prep(root);
    const id = uniqueId(t);
    const r = rt(t, ['create', '--bundle', b.dir, id], { root });
    t.not(r.status, 0, `${what}: create is refused`, { detail: describe(r) });
    t.match(r.stderr, new RegExp(`^tsrun: create ${id}: the state root ${root} is owned by uid \\d+ with mode \\d+: it must belong to uid 0 and be writable by it alone\\n$`), `${what}: one line saying why`);
    t.strictSame(readdirSync(root), [], `${what}: nothing written there`);
  }
});

t.test('--pid-file: written by rename, never through a symlink', async (t) => {
  const dir = join(context(t).dir, 'pids');
  mkdirSync(dir);
  const victim = join(context(t).dir, 'victim');
  writeFileSync(victim, 'precious\n');
  const b = makeBundle(t, undefined, { args: ['sleep', '1000'] });

  // a symlink at the target: replaced, not followed (runc renames over it too)
  const id = uniqueId(t);
  const pidFile = join(dir, 'a.pid');
  symlinkSync(victim, pidFile);
  // symlinks where a runtime using "<dir>/.<name>.<its pid>" would write its temporary file
  const last = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
  for (let p = last + 1; p < last + 400; p++) symlinkSync(victim, join(dir, `.a.pid.${p}`));
  const r = rt(t, ['create', '--bundle', b.dir, '--pid-file', pidFile, id]);
  t.equal(r.status, 0, 'create', { detail: describe(r) });
  t.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the file the symlinks name is untouched');
  t.notOk(lstatSync(pidFile).isSymbolicLink(), 'the pid file is now a regular file');
  t.match(readFileSync(pidFile, 'utf8'), /^\d+$/, 'holding the pid');
  t.equal(lstatSync(pidFile).mode & 0o022, 0, 'not writable by others');
  t.equal(readdirSync(dir).filter((e) => !e.startsWith('.a.pid.')).length, 1, 'no temporary file left');
  // the same for exec
  const xPid = join(dir, 'x.pid');
  symlinkSync(victim, xPid);
  t.equal(rt(t, ['start', id]).status, 0, 'start');
  const x = rt(t, ['exec', '-d', '--pid-file', xPid, id, 'sleep', '1']);
  t.equal(x.status, 0, 'exec --pid-file', { detail: describe(x) });
  t.equal(readFileSync(victim, 'utf8'), 'precious\n', 'exec: the file the symlink names is untouched');
  t.match(readFileSync(xPid, 'utf8'), /^\d+$/, 'exec: the pid file holds the pid');
  t.equal(rt(t, ['delete', '-f', id]).status, 0, 'delete');

  const id2 = uniqueId(t);
  const r2 = rt(t, ['create', '--bundle', b.dir, '--pid-file', join(dir, 'nodir', 'p.pid'), id2]);
  t.not(r2.status, 0, 'a pid file in a missing directory is refused');
  t.equal(r2.stderr.trim().split('\n').length, 1, 'with one line', { stderr: r2.stderr });
  nothingLeft(t, id2, 'missing pid-file directory');
});

t.test('--console-socket that is not a socket: refused, nothing written to it', async (t) => {
  const file = join(context(t).dir, 'not-a-socket');
  writeFileSync(file, 'keep\n');
  const b = makeBundle(t, (c) => void (c.process.terminal = true));
  for (const target of [file, context(t).dir, join(context(t).dir, 'missing.sock')]) {
    const id = uniqueId(t);
    const r = rt(t, ['create', '--bundle', b.dir, '--console-socket', target, id]);
    t.not(r.status, 0, `${target}: refused`, { detail: describe(r) });
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line', { stderr: r.stderr });
    nothingLeft(t, id, `console socket ${target}`);
  }
  t.equal(readFileSync(file, 'utf8'), 'keep\n', 'the file is untouched');
});
