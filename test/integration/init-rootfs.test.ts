// The rootfs as tsrun-init builds it, where it used to differ from runc: read-only /dev and tmpfs
// mounts that later mounts, devices and the console go into; a tmpfs without mode= over a
// directory; the pty of a non-root user; what a createContainer hook mounts; --no-pivot and a
// fresh proc mount.
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { assertNoLeaks, context, describe, makeBundle, readOut, rt, snapshotHost, uniqueId, type Config } from '../helpers/index.js';
import { attackBundle, jsonLines, runBundle } from '../security/fixtures/lib.js';

function run(t: Test, patch: (c: Config) => void, opts: { copyRootfs?: boolean; extra?: string[]; prepare?: (rootfs: string) => void } = {}) {
  const b = makeBundle(t, patch, { copyRootfs: opts.copyRootfs });
  opts.prepare?.(b.rootfs);
  const r = rt(t, ['run', ...(opts.extra ?? []), '--bundle', b.dir, uniqueId(t)], { input: '' });
  return { r, out: readOut(r) };
}

for (const opt of ['ro', 'rro']) {
  t.test(`/dev mounted "${opt}": devpts, devices and the console still go in, then it is read-only`, async (t) => {
    const before = snapshotHost(t);
    const { r, out } = run(t, (c) => {
      c.process.terminal = true;
      c.mounts = c.mounts.map((m: any) => (m.destination === '/dev' ? { ...m, options: [...m.options, opt] } : m));
      c.process.args = ['sh', '-c', 'grep "^tmpfs /dev " /proc/mounts; grep -c "^devpts /dev/pts " /proc/mounts; ls -l /dev/null | cut -c1; tty; touch /dev/x 2>/dev/null || echo dev-refuses-writes'];
    });
    t.equal(r.status, 0, 'the container runs', { detail: describe(r) });
    t.match(out, /^tmpfs \/dev tmpfs ro,/m, '/dev is read-only');
    t.match(out, /^1\r?$/m, 'devpts is mounted on /dev/pts');
    t.match(out, /^c\r?$/m, '/dev/null is a device');
    t.match(out, /\/dev\/pts\/\d+/, 'the process runs on a pty');
    t.match(out, /dev-refuses-writes/, 'nothing can be created in /dev');
    await assertNoLeaks(t, before);
  });
}

t.test('a tmpfs without mode= takes the mode of the directory it covers; a read-only tmpfs takes mounts below it', async (t) => {
  const { r, out } = run(t, (c) => {
    c.mounts.push(
      { destination: '/moded', type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] },
      { destination: '/withmode', type: 'tmpfs', source: 'tmpfs', options: ['size=64k', 'mode=1777'] },
      { destination: '/fresh', type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] },
      { destination: '/rot', type: 'tmpfs', source: 'tmpfs', options: ['size=64k', 'ro', 'mode=755'] },
      { destination: '/rot/sub', type: 'tmpfs', source: 'tmpfs', options: ['size=64k', 'mode=777'] },
    );
    c.process.args = ['sh', '-c', 'stat -c "%n %a" /moded /withmode /fresh /rot/sub; touch /rot/f 2>/dev/null || echo rot-read-only; touch /rot/sub/f && echo sub-writable'];
  }, {
    copyRootfs: true,
    prepare: (rootfs) => {
      mkdirSync(join(rootfs, 'moded'));
      chmodSync(join(rootfs, 'moded'), 0o710);
      mkdirSync(join(rootfs, 'withmode'));
      chmodSync(join(rootfs, 'withmode'), 0o700);
    },
  });
  t.equal(r.status, 0, 'the container runs', { detail: describe(r) });
  t.match(out, /^\/moded 710$/m, 'the directory\'s mode');
  t.match(out, /^\/withmode 1777$/m, 'mode= wins');
  t.match(out, /^\/fresh 1777$/m, 'a directory made for it: tmpfs\'s default');
  t.match(out, /rot-read-only/, 'the ro tmpfs is read-only');
  t.match(out, /sub-writable/, 'the mount below it was made and is writable');
});

t.test('the pty belongs to a non-root process user, group tty, mode 620', async (t) => {
  const { r, out } = run(t, (c) => {
    c.process.terminal = true;
    c.process.user = { uid: 1000, gid: 100 };
    c.process.args = ['sh', '-c', 'stat -c "%u:%g:%a" $(tty)'];
  });
  t.equal(r.status, 0, 'the container runs', { detail: describe(r) });
  t.match(out, /^1000:5:620\r?$/m, 'owner 1000, devpts gid 5, mode 620');
});

t.test('what a createContainer hook mounts at a path relative to its cwd is in the container', async (t) => {
  const before = snapshotHost(t);
  const { r, out } = run(t, (c) => {
    c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'mount -t tmpfs -o size=64k hooked ./home && echo from-hook > ./home/f'] }] };
    c.process.args = ['sh', '-c', 'cat /home/f; grep -c "^hooked /home tmpfs" /proc/mounts'];
  });
  t.equal(r.status, 0, 'the container runs', { detail: describe(r) });
  t.match(out, /^from-hook\n1\n/, 'the hook\'s tmpfs is the container\'s /home');
  await assertNoLeaks(t, before);
});

for (const noPivot of [false, true]) {
  t.test(`${noPivot ? '--no-pivot' : 'pivot_root'}: a user namespace in the container may not mount a fresh proc`, async (t) => {
    const b = attackBundle(t, (c) => {
      c.process.args = ['/attack', 'procmount'];
    });
    const { r, json } = runBundle(t, b, noPivot ? ['--no-pivot'] : []);
    t.equal(r.status, 0, 'the container runs', { detail: describe(r) });
    t.match(json[0], { mount: -1, errno: 1 }, 'mount -t proc: EPERM (no full procfs in the mount namespace)', { json });
  });
}

t.test('a new user namespace: bind sources its root cannot reach are mounted (cloned with the host\'s credentials)', async (t) => {
  const before = snapshotHost(t);
  const dir = context(t).dir;
  const locked = join(dir, 'locked');
  mkdirSync(join(locked, 'dir'), { recursive: true });
  writeFileSync(join(locked, 'dir', 'foo.txt'), 'in-dir\n');
  writeFileSync(join(locked, 'file.txt'), 'a-file\n');
  chmodSync(locked, 0o700);
  chmodSync(dir, 0o711); // the bundle and its rootfs stay reachable, as in runc's userns.bats
  const { r, out } = run(t, (c) => {
    c.linux.namespaces.push({ type: 'user' });
    c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.mounts.push(
      { destination: '/mnt1', type: 'bind', source: join(locked, 'dir'), options: ['rbind', 'ro'] },
      { destination: '/mnt2', type: 'bind', source: join(locked, 'dir'), options: ['bind'] },
      { destination: '/f1', type: 'bind', source: join(locked, 'file.txt'), options: ['bind'] },
    );
    c.process.args = ['sh', '-c', 'cat /mnt1/foo.txt /mnt2/foo.txt /f1; touch /mnt1/x 2>/dev/null || echo mnt1-ro'];
  }, {
    copyRootfs: true,
    prepare: (rootfs) => {
      mkdirSync(join(rootfs, 'mnt1'));
      mkdirSync(join(rootfs, 'mnt2'));
      writeFileSync(join(rootfs, 'f1'), '');
    },
  });
  t.equal(r.status, 0, 'the container runs', { detail: describe(r) });
  t.equal(out, 'in-dir\nin-dir\na-file\nmnt1-ro\n', 'the sources are in the container, options applied');
  await assertNoLeaks(t, before);
});

t.test('exec --process with a file that has no user: uid 0, gid 0 (runc)', async (t) => {
  const before = snapshotHost(t);
  const id = uniqueId(t);
  const b = makeBundle(t, (c) => {
    c.process.args = ['sleep', '30'];
  });
  t.equal(rt(t, ['run', '-d', '--bundle', b.dir, id]).status, 0, 'the container runs');
  const file = join(context(t).dir, 'process.json');
  writeFileSync(file, JSON.stringify({ args: ['sh', '-c', 'id -u; id -g'], cwd: '/' }));
  const r = rt(t, ['exec', '--process', file, id]);
  t.equal(r.status, 0, 'exec runs', { detail: describe(r) });
  t.equal(readOut(r), '0\n0\n', 'as root');
  rt(t, ['kill', id, 'KILL']);
  rt(t, ['delete', '--force', id]);
  await assertNoLeaks(t, before);
});

// runc: procfs and sysfs only on an ordinary directory; through a symlink they could land where
// the masked and read-only paths no longer cover them.
for (const [dir, type] of [['proc', 'proc'], ['sys', 'sysfs']] as const) {
  t.test(`a /${dir} that is a symlink in the rootfs is refused for ${type}, and nothing is left`, async (t) => {
    const before = snapshotHost(t);
    const { r } = run(t, (c) => { c.process.args = ['true']; }, {
      copyRootfs: true,
      prepare: (rootfs) => {
        rmSync(join(rootfs, dir), { recursive: true, force: true });
        symlinkSync('/symlink', join(rootfs, dir));
      },
    });
    t.not(r.status, 0, 'run fails', { detail: describe(r) });
    t.match(r.stderr, new RegExp(`mount "${type}" on "/${dir}": /${dir} must be mounted on ordinary directory`), "runc's words");
    await assertNoLeaks(t, before);
  });
}
