// Paths inside the rootfs that the image controls.
//
// CVE-2021-30465 class: mount destinations, device nodes, symlinks and directories made on the
// way are symlinks pointing outside the rootfs (absolute, or ../../ climbing above it), or turn
// into such symlinks while tsrun works (a racing process swaps a directory and a symlink). Nothing
// may ever be created or mounted outside the rootfs: every path is resolved inside it
// (openat2 RESOLVE_IN_ROOT) and operated on through the descriptor it resolved to.
//
// CVE-2019-16884 / CVE-2019-19921 / CVE-2025-31133 / CVE-2025-52881 class: /dev/null replaced by
// a symlink, a regular file or another device makes a masked path a window onto something else;
// a /proc that is a symlink covered by a volume turns sysctl and LSM writes into writes to the
// volume. Masking binds only the real null device, and /proc writes go only into procfs.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import type { Test } from 'tap';
import { context, describe, readOut, rt, uniqueId } from '../helpers/index.js';
import { attackBin, attackBundle, refused, runBundle } from './fixtures/lib.js';

/** An empty directory on the host, outside every rootfs: the target of the image's symlinks. */
function victim(t: Test, name: string): string {
  const d = join(context(t).dir, `victim-${name}`);
  mkdirSync(d, { recursive: true });
  return d;
}

const climb = '../'.repeat(12);
const mountPoints = (text: string) => text.split('\n').map((l) => l.split(' ')[4]).filter(Boolean) as string[];

t.test('mount targets, mkdir -p, devices and readonly paths through symlinks stay in the rootfs', async (t) => {
  const abs = victim(t, 'abs');
  const rel = victim(t, 'rel');
  const dev = victim(t, 'dev');
  const ro = victim(t, 'ro');
  const b = attackBundle(t, (c) => {
    c.root.readonly = false;
    c.mounts.push(
      { destination: '/evil-abs/a/b', type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] },
      { destination: '/evil-rel/x', type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] },
    );
    c.linux.devices = [{ path: '/evil-dev/evil', type: 'c', major: 1, minor: 3, fileMode: 0o666 }];
    c.linux.readonlyPaths.push('/evil-ro');
    c.process.args = ['sh', '-c', `cat /proc/self/mountinfo; ls -l /evil-dev/evil; touch /evil-ro/f 2>&1 || echo rolink-refused`];
  });
  // the image: symlinks to the host's victims, absolute and relative
  symlinkSync(abs, join(b.rootfs, 'evil-abs'));
  symlinkSync(climb + rel.slice(1), join(b.rootfs, 'evil-rel'));
  symlinkSync(dev, join(b.rootfs, 'evil-dev'));
  symlinkSync(climb + ro.slice(1), join(b.rootfs, 'evil-ro'));
  mkdirSync(join(b.rootfs, ro.slice(1)), { recursive: true });
  const { r } = runBundle(t, b);
  t.equal(r.status, 0, 'the container runs', { detail: describe(r) });
  const out = readOut(r);
  for (const [name, d] of [['abs', abs], ['rel', rel], ['dev', dev], ['ro', ro]]) {
    t.strictSame(readdirSync(d!), [], `nothing was created in the host directory the ${name} symlink names`);
  }
  const mps = mountPoints(out);
  t.ok(mps.includes(`${abs}/a/b`), 'the tmpfs behind the absolute symlink is inside the container (its path resolved in the rootfs)', { mps });
  t.ok(mps.includes(`${rel}/x`), 'the tmpfs behind ../../ is inside the container');
  t.ok(existsSync(join(b.rootfs, abs.slice(1), 'a', 'b')), 'mkdir -p made the directories in the rootfs');
  t.match(out, /^crw-rw-rw-\s+1 root\s+root\s+1,\s+3 .*\/evil-dev\/evil$/m, 'the device node is in the container');
  t.ok(existsSync(join(b.rootfs, dev.slice(1), 'evil')), 'its file lies in the rootfs');
  t.match(out, /rolink-refused/, 'the readonly path behind the symlink is read-only in the container');
});

t.test('a mount destination that is a dangling symlink: its target is made in the rootfs and mounted', async (t) => {
  const outside = victim(t, 'dangling');
  const srcFile = join(context(t).dir, 'localtime-src');
  const srcDir = join(context(t).dir, 'dir-src');
  writeFileSync(srcFile, 'zone-data\n');
  mkdirSync(srcDir, { recursive: true });
  writeFileSync(join(srcDir, 'inside'), 'dir-data\n');
  const links: Array<[string, string, 'file' | 'dir', string]> = [
    // [link in the image, its target, source kind, where the target lands in the rootfs]
    ['/etc/not-existing', '../foo/bar/not/here', 'file', 'foo/bar/not/here'],
    ['/etc/abs-link', '/abs/missing/file', 'file', 'abs/missing/file'],
    ['/etc/chain1', 'chain2', 'file', 'chain/end'],
    ['/etc/chain2', '/chain/end', 'file', 'chain/end'],
    ['/etc/climb', climb + outside.slice(1) + '/escaped', 'file', outside.slice(1) + '/escaped'],
    ['/etc/dirlink', '../missing/dir/path', 'dir', 'missing/dir/path'],
    ['/etc/dirclimb', '../../../../x', 'dir', 'x'],
  ];
  const b = attackBundle(t, (c) => {
    c.root.readonly = false;
    for (const [link, , kind] of links) {
      if (link === '/etc/chain2') continue; // reached through chain1
      c.mounts.push({ destination: link, type: 'bind', source: kind === 'file' ? srcFile : srcDir, options: ['rbind', 'ro'] });
    }
    c.process.args = ['sh', '-c', links.filter(([l]) => l !== '/etc/chain2').map(([l, , k]) => (k === 'file' ? `cat ${l}` : `cat ${l}/inside`)).join('; ')];
  });
  for (const [link, target] of links) symlinkSync(target, join(b.rootfs, link.slice(1)));
  const { r } = runBundle(t, b);
  t.equal(r.status, 0, 'the container runs', { detail: describe(r) });
  t.equal(readOut(r), 'zone-data\n'.repeat(4) + 'dir-data\n'.repeat(2), 'each source is visible through its link in the container');
  for (const [link, , kind, landed] of links) {
    const p = join(b.rootfs, landed);
    t.ok(existsSync(p), `${link}: its target was made in the rootfs (${landed})`);
    if (kind === 'file' && existsSync(p)) t.equal(readFileSync(p, 'utf8'), '', `${link}: an empty file (the mount is gone with the container)`);
  }
  t.strictSame(readdirSync(outside), [], 'a link climbing above the rootfs made nothing on the host');
});

t.test('with /dev a symlink to a host directory, devices and /dev symlinks land in the rootfs', async (t) => {
  const hostDev = victim(t, 'devdir');
  const b = attackBundle(t, (c) => {
    c.root.readonly = false;
    c.mounts = c.mounts.filter((m: any) => !m.destination.startsWith('/dev'));
    c.process.args = ['sh', '-c', 'ls -l /dev/null /dev/ptmx /dev/fd && echo hi > /dev/null && echo dev-works'];
  });
  rmSync(join(b.rootfs, 'dev'), { recursive: true, force: true });
  symlinkSync(hostDev, join(b.rootfs, 'dev'));
  const { r } = runBundle(t, b);
  t.equal(r.status, 0, 'the container runs', { detail: describe(r) });
  t.match(readOut(r), /dev-works/, '/dev works in the container');
  t.strictSame(readdirSync(hostDev), [], 'no device node or symlink was made in the host directory');
  t.ok(existsSync(join(b.rootfs, hostDev.slice(1), 'null')), 'they are in the rootfs');
});

t.test('a directory swapped for a symlink to the host while tsrun mounts never lets anything out', async (t) => {
  const target = victim(t, 'race');
  const b = attackBundle(t, (c) => {
    c.root.readonly = false;
    c.mounts.push(
      { destination: '/race/m1/m2', type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] },
      { destination: '/race/bind/inner', type: 'bind', source: join(context(t).dir, 'bind-src'), options: ['rbind'] },
    );
    c.linux.devices = [{ path: '/race/devs/null2', type: 'c', major: 1, minor: 3 }];
    c.linux.maskedPaths.push('/race/m1');
    c.process.args = ['true'];
  });
  mkdirSync(join(context(t).dir, 'bind-src'), { recursive: true });
  mkdirSync(join(b.rootfs, 'race'));
  symlinkSync(target, join(b.rootfs, 'race-swap'));
  const swapper = spawn(attackBin(), ['swap', join(b.rootfs, 'race'), join(b.rootfs, 'race-swap')], { stdio: 'ignore' });
  t.teardown(() => swapper.kill('SIGKILL'));
  let ran = 0;
  let refusedCleanly = 0;
  for (let i = 0; i < 25; i++) {
    const { r } = runBundle(t, b);
    if (r.status === 0) ran++;
    else if (r.stderr.trim().split('\n').length === 1 && r.stderr.startsWith('tsrun: run ')) refusedCleanly++;
    else t.fail('a run failed without one clear line', { detail: describe(r) });
    if (readdirSync(target).length) break;
  }
  swapper.kill('SIGKILL');
  t.comment(`${ran} runs went through, ${refusedCleanly} were refused while the path moved`);
  t.ok(ran + refusedCleanly > 0, 'runs happened under the race');
  t.strictSame(readdirSync(target), [], 'the host directory the symlink names stayed empty (no mkdir, mknod or mount outside the rootfs)');
});

/** A bundle whose /dev is bound from a directory the image (the test) filled. */
function craftedDev(t: Test, make: (devdir: string) => void, masked = '/etc/masked-file'): { b: ReturnType<typeof attackBundle>; id: string } {
  const devdir = join(context(t).dir, `devdir-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(devdir);
  make(devdir);
  const b = attackBundle(t, (c) => {
    c.root.readonly = false;
    c.mounts = c.mounts.filter((m: any) => !m.destination.startsWith('/dev'));
    c.mounts.push({ destination: '/dev', type: 'bind', source: devdir, options: ['rbind', 'rw'] });
    c.linux.maskedPaths.push(masked);
    c.process.args = ['sh', '-c', `cat ${masked}; echo pwned > ${masked}; hostname`];
  });
  writeFileSync(join(b.rootfs, 'etc', 'masked-file'), 'this must not be readable\n');
  return { b, id: uniqueId(t) };
}

t.test('masking binds only the real null device: a fake /dev/null is refused', async (t) => {
  const cases: Array<[string, (d: string) => void, RegExp, string?]> = [
    ['a symlink to a sysctl', (d) => symlinkSync('/proc/sys/kernel/hostname', join(d, 'null')), /cannot mask \S+: \/dev\/null is a symlink, not the null device/],
    ['a regular file', (d) => writeFileSync(join(d, 'null'), 'attacker data\n'), /cannot mask \S+: \/dev\/null is not a character device/],
    ['another device (1:5)', (d) => void spawnSync('mknod', ['-m', '666', join(d, 'null'), 'c', '1', '5']), /cannot mask \S+: \/dev\/null is the device 1:5, not the null device 1:3/],
    ['missing', () => {}, /cannot mask \S+: \/dev\/null does not exist/, '/proc/keys'],
  ];
  for (const [what, make, phrase, masked] of cases) {
    const { b, id } = craftedDev(t, make, masked);
    const r = rt(t, ['run', '--bundle', b.dir, id]);
    refused(t, r, id, phrase, `/dev/null is ${what}`);
    t.equal(readOut(r), '', `${what}: the process never ran: nothing was read or written through the masked path`);
  }
  // the real thing works: /dev bound from a directory holding the null device
  const { b, id } = craftedDev(t, (d) => void spawnSync('mknod', ['-m', '666', join(d, 'null'), 'c', '1', '3']));
  const r = rt(t, ['run', '--bundle', b.dir, id]);
  t.equal(r.status, 0, 'a real null device masks', { detail: describe(r) });
  t.equal(readOut(r).trim(), 'tsrun', 'the masked file reads empty, the write went nowhere, the hostname is intact');
});

const MASK_CHECK = [
  'for f in /proc/keys /proc/timer_list /proc/latency_stats; do [ -e $f ] && echo "$f=$(wc -c < $f)"; done',
  'echo "firmware=$(ls -A /sys/firmware | wc -l)"',
  'touch /sys/firmware/x 2>/dev/null && echo firmware-writable',
  'echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo procsys-writable',
  'echo done',
].join('; ');

function checkMasked(t: Test, out: string, what: string): void {
  t.match(out, /^done$/m, `${what}: the checks ran`);
  for (const f of ['/proc/keys', '/proc/timer_list']) {
    if (existsSync(f)) t.match(out, new RegExp(`^${f}=0$`, 'm'), `${what}: ${f} is masked (reads empty)`);
  }
  t.match(out, /^firmware=0$/m, `${what}: /sys/firmware is an empty tmpfs`);
  t.notMatch(out, /firmware-writable/, `${what}: and read-only`);
  t.notMatch(out, /procsys-writable/, `${what}: /proc/sys is read-only`);
}

t.test('/proc and /sys stay as masked as the config says; a /proc that is a symlink in the image is refused (runc)', async (t) => {
  const plain = attackBundle(t, (c) => void (c.process.args = ['sh', '-c', MASK_CHECK]));
  const p = runBundle(t, plain);
  t.equal(p.r.status, 0, 'runs', { detail: describe(p.r) });
  checkMasked(t, readOut(p.r), 'plain rootfs');

  const linked = attackBundle(t, (c) => void (c.process.args = ['sh', '-c', MASK_CHECK]));
  rmSync(join(linked.rootfs, 'proc'), { recursive: true, force: true });
  mkdirSync(join(linked.rootfs, 'realproc'));
  symlinkSync('realproc', join(linked.rootfs, 'proc'));
  const l = runBundle(t, linked);
  t.not(l.r.status, 0, '/proc -> realproc: refused', { detail: describe(l.r) });
  t.match(l.r.stderr, /mount "proc" on "\/proc": \/proc must be mounted on ordinary directory/, "runc's words");
});

t.test('a /proc covered by a volume (the image made /proc a symlink to the volume) gets no sysctl or oom_score_adj write', async (t) => {
  for (const field of ['sysctl', 'oomScoreAdj'] as const) {
    const vol = join(context(t).dir, `vol-${field}`);
    mkdirSync(join(vol, 'sys', 'net', 'ipv4'), { recursive: true });
    mkdirSync(join(vol, 'self'), { recursive: true });
    writeFileSync(join(vol, 'sys', 'net', 'ipv4', 'ip_forward'), '0\n');
    writeFileSync(join(vol, 'self', 'oom_score_adj'), '0\n');
    const id = uniqueId(t);
    const b = attackBundle(t, (c) => {
      c.root.readonly = false;
      c.mounts.push({ destination: '/vol', type: 'bind', source: vol, options: ['rbind', 'rw'] });
      if (field === 'sysctl') c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
      else c.process.oomScoreAdj = 500;
    });
    rmSync(join(b.rootfs, 'proc'), { recursive: true, force: true });
    symlinkSync('vol', join(b.rootfs, 'proc'));
    const r = rt(t, ['run', '--bundle', b.dir, id]);
    refused(t, r, id, /\/proc must be mounted on ordinary directory/, `${field} behind a fake /proc`);
    t.equal(readFileSync(join(vol, 'sys', 'net', 'ipv4', 'ip_forward'), 'utf8'), '0\n', `${field}: the volume's files are untouched`);
    t.equal(readFileSync(join(vol, 'self', 'oom_score_adj'), 'utf8'), '0\n', `${field}: oom_score_adj too`);
  }
  // and the real procfs takes them
  const b = attackBundle(t, (c) => {
    c.linux.sysctl = { 'net.ipv4.ip_forward': '1' };
    c.process.oomScoreAdj = 500;
    c.process.args = ['sh', '-c', 'cat /proc/sys/net/ipv4/ip_forward /proc/self/oom_score_adj'];
  });
  const { r } = runBundle(t, b);
  t.equal(r.status, 0, 'runs', { detail: describe(r) });
  t.equal(readOut(r), '1\n500\n', 'sysctl and oom_score_adj applied through the real procfs');
});
