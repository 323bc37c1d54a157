// build/tsrun is one file: copied alone anywhere, under any name, with the repository's build/
// and node_modules hidden, it runs containers (its native parts are inside it), leaves nothing
// beside itself, and an override directory of support files that others could write is refused.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { REPO, tempDir } from './fixtures/support.js';

const BUILT = join(REPO, 'build/tsrun');
const SAMPLE_ROOTFS = join(REPO, 'bundles/busybox/rootfs');
const skip = !fs.existsSync(BUILT) ? 'run `make build` first' : !fs.existsSync(join(SAMPLE_ROOTFS, 'bin/sh')) ? 'run `make rootfs` first' : false;

function bundleIn(dir: string, args: string[]): string {
  const bundle = join(dir, 'bundle');
  fs.mkdirSync(bundle);
  const config = JSON.parse(fs.readFileSync(join(REPO, 'bundles/busybox/config.json'), 'utf8'));
  config.root = { path: SAMPLE_ROOTFS, readonly: true };
  config.process.terminal = false;
  config.process.args = args;
  fs.writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  return bundle;
}

t.test('build/tsrun copied alone into an empty directory, under another name', { skip }, async (t) => {
  const tmp = tempDir(t, 'tsrun-single-');
  const home = join(tmp, 'bin');
  fs.mkdirSync(home);
  const exe = join(home, 'my-runtime');
  fs.copyFileSync(BUILT, exe);
  fs.chmodSync(exe, 0o755);
  const bundle = bundleIn(tmp, ['sh', '-c', 'echo "one file: pid $$"']);
  const root = join(tmp, 'state');
  const id = `single-${process.pid}`;
  t.teardown(() => void spawnSync(exe, ['--root', root, 'delete', '--force', id]));

  // build/ and node_modules of the repository hidden (tmpfs over them, in a mount namespace of
  // its own), a minimal environment, the copy's own directory as the working directory.
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: tmp };
  const ran = spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs none "$1" && mount -t tmpfs none "$2" && shift 2 && exec "$@"',
    'sh', join(REPO, 'node_modules'), join(REPO, 'build'), exe, '--root', root, 'run', '--bundle', bundle, id],
  { cwd: home, env, encoding: 'utf8', timeout: 60_000 });
  t.equal(ran.status, 0, `run: ${ran.stderr}`);
  t.equal(ran.stdout, 'one file: pid 1\n', 'the container ran');
  t.equal(ran.stderr, '', 'nothing on stderr');
  t.same(fs.readdirSync(home), ['my-runtime'], 'nothing left beside the executable');
  t.same(fs.readdirSync(root), [], 'the container is gone');

  // Its unpacked native parts: private to root, nothing half-written next to them.
  const cache = '/run/tsrun-lib';
  const st = fs.lstatSync(cache);
  t.ok(st.isDirectory() && st.uid === 0 && (st.mode & 0o777) === 0o700, `${cache} is root's, mode 0700`);
  t.same(fs.readdirSync(cache).filter((n) => n.startsWith('.new-')), [], 'no unfinished unpacking left');
});

t.test('TSRUN_LIBDIR: a directory others can write is refused with one line', { skip }, async (t) => {
  const tmp = tempDir(t, 'tsrun-single-');
  const lib = join(tmp, 'lib');
  fs.cpSync(join(REPO, 'build/lib/tsrun'), lib, { recursive: true });
  const bundle = bundleIn(tmp, ['true']);
  const root = join(tmp, 'state');
  const id = `single-lib-${process.pid}`;
  t.teardown(() => void spawnSync(BUILT, ['--root', root, 'delete', '--force', id]));
  const run = () => spawnSync(BUILT, ['--root', root, 'run', '--bundle', bundle, id], { env: { ...process.env, TSRUN_LIBDIR: lib }, encoding: 'utf8', timeout: 60_000 });

  fs.chmodSync(lib, 0o700);
  const good = run();
  t.equal(good.status, 0, `a private copy is used: ${good.stderr}`);

  fs.chmodSync(join(lib, 'tsrun-init'), 0o777);
  const bad = run();
  t.equal(bad.status, 1, 'a world-writable tsrun-init is not executed');
  t.match(bad.stderr, /^tsrun: run single-lib-\d+: .*tsrun-init: writable by group or others \(mode 777\)\n$/);
  fs.chmodSync(join(lib, 'tsrun-init'), 0o755);

  fs.chmodSync(lib, 0o777);
  const open = run();
  t.equal(open.status, 1, 'nor anything from a world-writable directory');
  t.match(open.stderr, /writable by group or others \(mode 777\)\n$/);
  t.same(fs.readdirSync(root), [], 'nothing left behind');
});
