// `make install` / `make uninstall` into a temporary DESTDIR: the files and only those, and the
// installed tsrun runs a real container with nothing of the repository within reach.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join, relative } from 'node:path';
import t from 'tap';
import { COMMANDS } from '../../src/cli/table.js';
import { REPO, tempDir } from './fixtures/support.js';

const PREFIX = '/opt/tsrun-test';
const SAMPLE_ROOTFS = join(REPO, 'bundles/busybox/rootfs');

const sh = (cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) =>
  spawnSync(cmd, args, { encoding: 'utf8', timeout: 250_000, cwd: opts.cwd, env: opts.env ?? process.env });

/** Every file and symlink under `dir`, relative to it. */
function files(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((p) => !fs.lstatSync(join(dir, p)).isDirectory())
    .sort();
}

const expected = [
  'bin/tsrun',
  'share/man/man8/tsrun.8',
  ...[...COMMANDS.keys()].map((c) => `share/man/man8/tsrun-${c}.8`),
  'share/bash-completion/completions/tsrun',
  'share/zsh/site-functions/_tsrun',
].sort();

t.test('make install, the installed tsrun, make uninstall', { skip: !fs.existsSync(join(SAMPLE_ROOTFS, 'bin/sh')) && 'run `make rootfs` first' }, async (t) => {
  const tmp = tempDir(t, 'tsrun-install-');
  const dest = join(tmp, 'dest');
  const installed = join(dest, PREFIX);

  const inst = sh('make', ['-C', REPO, 'install', `DESTDIR=${dest}`, `PREFIX=${PREFIX}`]);
  t.equal(inst.status, 0, `make install: ${inst.stderr}`);
  t.same(files(installed), expected, 'the executable (one file, its native parts inside), man pages and completions');
  t.same(files(dest).filter((f) => !f.startsWith(PREFIX.slice(1))), [], 'nothing outside PREFIX');
  t.equal(fs.statSync(join(installed, 'bin/tsrun')).mode & 0o777, 0o755);
  t.equal(fs.statSync(join(installed, 'share/man/man8/tsrun.8')).mode & 0o777, 0o644);

  // A copy of the installed tree elsewhere, run with the repository's node_modules and build
  // directories hidden (tmpfs over them, in a mount namespace of its own).
  const copy = join(tmp, 'copy');
  t.equal(sh('cp', ['-a', installed, copy]).status, 0);
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: tmp };
  const hideRepo = ['-m', 'sh', '-c', 'mount -t tmpfs none "$1" && mount -t tmpfs none "$2" && shift 2 && exec "$@"',
    'sh', join(REPO, 'node_modules'), join(REPO, 'build'), join(copy, 'bin/tsrun')];
  const isolated = (args: string[]) => sh('unshare', [...hideRepo, ...args], { cwd: tmp, env });

  const version = isolated(['--version']);
  t.equal(version.status, 0, version.stderr);
  t.match(version.stdout, /^tsrun version \S+\ncommit: \S+\nspec: 1\.3\.0\nbun: \S+\nlibseccomp: \d+\.\d+\.\d+\n$/);

  const bundle = join(tmp, 'bundle');
  fs.mkdirSync(bundle);
  const config = JSON.parse(fs.readFileSync(join(REPO, 'bundles/busybox/config.json'), 'utf8'));
  config.root = { path: SAMPLE_ROOTFS, readonly: true };
  config.process.terminal = false;
  config.process.args = ['sh', '-c', 'echo "installed tsrun: pid $$"'];
  fs.writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
  const root = join(tmp, 'state');
  const id = `install-${process.pid}`;
  t.teardown(() => {
    sh(join(installed, 'bin/tsrun'), ['--root', root, 'delete', '--force', id]);
  });
  const ran = isolated(['--root', root, 'run', '--bundle', bundle, id]);
  t.equal(ran.status, 0, `run: ${ran.stderr}`);
  t.equal(ran.stdout, 'installed tsrun: pid 1\n', 'the container ran, pid 1 of its namespace');
  t.same(fs.readdirSync(root), [], 'and was deleted');

  // The installed completion script completes the installed tsrun's containers.
  // The created container's process keeps create's stdio open: give it a file, not a pipe.
  const out = fs.openSync(join(tmp, 'create.out'), 'w+');
  const created = spawnSync('unshare', [...hideRepo, '--root', root, 'create', '--bundle', bundle, id],
    { cwd: tmp, env, stdio: ['ignore', out, out], timeout: 60_000 });
  fs.closeSync(out);
  t.equal(created.status, 0, `create: ${fs.readFileSync(join(tmp, 'create.out'), 'utf8')}`);
  const comp = sh('bash', ['-c', 'source "$0" && COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) && _tsrun && printf "%s\\n" "${COMPREPLY[@]}"',
    join(copy, 'share/bash-completion/completions/tsrun'), join(copy, 'bin/tsrun'), '--root', root, 'start', 'inst']);
  t.equal(comp.stdout, `${id}\n`, 'bash completion offers the created container');
  t.equal(isolated(['--root', root, 'delete', '--force', id]).status, 0);

  // The man pages are found under PREFIX/share/man.
  const man = sh('man', ['tsrun-kill'], { env: { ...env, MANPATH: join(copy, 'share/man'), MANPAGER: 'cat', MANWIDTH: '100' } });
  t.equal(man.status, 0, man.stderr);
  t.match(man.stdout, /tsrun-kill\s+-\s+kill\s+sends\s+the\s+specified\s+signal/);

  t.notOk(fs.existsSync(join(copy, 'lib')), 'the copy has no lib directory: bin/tsrun is all it needs');
  t.same(fs.readdirSync(root), [], 'nothing left behind');

  // Other packages' files in the same directories survive uninstall.
  const others = ['bin/other', 'share/man/man8/other.8', 'share/bash-completion/completions/other', 'share/zsh/site-functions/_other'];
  for (const f of others) fs.writeFileSync(join(installed, f), 'not tsrun\n');
  const un = sh('make', ['-C', REPO, 'uninstall', `DESTDIR=${dest}`, `PREFIX=${PREFIX}`]);
  t.equal(un.status, 0, `make uninstall: ${un.stderr}`);
  t.same(files(installed), others.sort(), 'exactly the installed files are gone');
  t.same(relative(dest, installed), PREFIX.slice(1));
});
