// The caller's RLIMIT_NOFILE is what the container gets (crun's behaviour), although bun raises
// tsrun's own soft limit to the hard limit at start-up: run, create + start, exec and the hooks,
// with tsrun started under `prlimit --nofile=1000:20000` (and `ulimit -Sn 1000; exec tsrun`,
// where tsrun's parent is not the one that set the limit). The built executable only.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

const REPO = join(import.meta.dirname, '..', '..');
const BUILT = join(REPO, 'build/tsrun');
const ROOTFS = join(REPO, 'bundles/busybox/rootfs');
const skip = !fs.existsSync(BUILT) ? 'run `make build` first' : !fs.existsSync(join(ROOTFS, 'bin/sh')) ? 'run `make rootfs` first' : false;

const SOFT = 1000;
// Below the hard limit of whoever runs the tests, so the soft limit can be told apart from it.
const HARD = Math.min(20000, Number(spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim()) || 20000);
const LINE = /^Max open files\s+(\S+)\s+(\S+)/m;

function nofile(text: string): [string, string] | undefined {
  const m = LINE.exec(text);
  return m ? [m[1]!, m[2]!] : undefined;
}

t.test('the container, exec and hooks get the caller\'s RLIMIT_NOFILE', { skip: skip || (HARD <= SOFT && 'hard limit too low') }, async (t) => {
  const dir = fs.mkdtempSync(join(tmpdir(), 'tsrun-nofile-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const root = join(dir, 'state');
  const out = join(dir, 'hooks');
  fs.mkdirSync(out);
  const bundle = join(dir, 'bundle');
  fs.mkdirSync(bundle);
  const config = JSON.parse(fs.readFileSync(join(REPO, 'bundles/busybox/config.json'), 'utf8'));
  config.root = { path: ROOTFS, readonly: true };
  config.process.terminal = false;
  delete config.process.rlimits; // the caller's limit, not one of the bundle's
  const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `grep "open files" /proc/self/limits > ${join(out, name)}`] });
  config.hooks = { prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], poststart: [hook('poststart')], poststop: [hook('poststop')] };
  const limited = (args: string[], opts: { stdio?: 'pipe' | 'file' } = {}) => {
    const cmd = ['--nofile=' + `${SOFT}:${HARD}`, BUILT, '--root', root, ...args];
    if (opts.stdio !== 'file') return spawnSync('prlimit', cmd, { encoding: 'utf8', timeout: 60_000 });
    // create: the container's process keeps create's stdio open, so a file rather than a pipe
    const f = fs.openSync(join(dir, 'create.out'), 'w+');
    const r = spawnSync('prlimit', cmd, { stdio: ['ignore', f, f], timeout: 60_000 });
    fs.closeSync(f);
    return { ...r, stdout: '', stderr: fs.readFileSync(join(dir, 'create.out'), 'utf8') };
  };
  const want = [String(SOFT), String(HARD)];
  const hooksSaw = (t: Test, kinds: string[]) => {
    for (const k of kinds) t.same(nofile(fs.readFileSync(join(out, k), 'utf8')), want, `${k} hook`);
    for (const f of fs.readdirSync(out)) fs.rmSync(join(out, f));
  };
  type Test = typeof t;

  config.process.args = ['sh', '-c', 'grep "open files" /proc/self/limits'];
  fs.writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  const id = `nofile-${process.pid}`;
  t.teardown(() => void spawnSync(BUILT, ['--root', root, 'delete', '--force', id]));

  const run = limited(['run', '--bundle', bundle, id]);
  t.equal(run.status, 0, `run: ${run.stderr}`);
  t.same(nofile(run.stdout), want, 'run: the container process');
  hooksSaw(t, ['prestart', 'createRuntime', 'poststart', 'poststop']);

  // The shell sets the limit and becomes tsrun: tsrun's parent never had it.
  const viaUlimit = spawnSync('sh', ['-c', `ulimit -Sn ${SOFT} && exec "$@"`, 'sh', BUILT, '--root', root, 'run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 60_000 });
  t.equal(viaUlimit.status, 0, `ulimit; exec tsrun run: ${viaUlimit.stderr}`);
  t.equal(nofile(viaUlimit.stdout)?.[0], String(SOFT), 'ulimit -Sn; exec tsrun run: the container process');
  for (const f of fs.readdirSync(out)) fs.rmSync(join(out, f));

  config.process.args = ['sh', '-c', 'grep "open files" /proc/self/limits > /dev/shm/limits; sleep 100'];
  fs.writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  const created = limited(['create', '--bundle', bundle, id], { stdio: 'file' });
  t.equal(created.status, 0, `create: ${created.stderr}`);
  hooksSaw(t, ['prestart', 'createRuntime']);
  t.equal(limited(['start', id]).status, 0, 'start');
  hooksSaw(t, ['poststart']);
  let seen = '';
  for (let i = 0; i < 100 && !LINE.test(seen); i++) {
    seen = limited(['exec', id, 'cat', '/dev/shm/limits']).stdout ?? '';
    if (!LINE.test(seen)) await new Promise((r) => setTimeout(r, 50));
  }
  t.same(nofile(seen), want, 'create + start: the container process');
  const exec = limited(['exec', id, 'sh', '-c', 'grep "open files" /proc/self/limits']);
  t.equal(exec.status, 0, `exec: ${exec.stderr}`);
  t.same(nofile(exec.stdout), want, 'exec: the exec\'d process');
  const del = limited(['delete', '--force', id]);
  t.equal(del.status, 0, `delete: ${del.stderr}`);
  hooksSaw(t, ['poststop']);
  t.same(fs.readdirSync(root), [], 'nothing left under --root');
});
