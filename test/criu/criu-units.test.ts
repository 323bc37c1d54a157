// The pure parts of the CRIU integration: runc's option checks, paths in a rootfs, the RPC
// encoding (CRIU's field numbers on the wire), CRIU's log lines.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CG_MODE, CLONE_NEWNET, cgMode, emptyNsMask, imagePaths, pageServer } from '../../src/criu/options.js';
import { resolveInRoot } from '../../src/criu/in-root.js';
import { ReqType, decodeResp, encodeReq } from '../../src/criu/rpc.js';
import { criuFailureMessage, criuLogErrors } from '../../src/criu/log.js';
import { stdioInheritFds } from '../../src/criu/externals.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsrun-criu-'));
t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

t.test('--manage-cgroups-mode, --empty-ns, --page-server', async (t) => {
  t.equal(cgMode(''), CG_MODE.default);
  t.equal(cgMode('soft'), 3);
  t.equal(cgMode('full'), 4);
  t.equal(cgMode('strict'), 5);
  t.equal(cgMode('ignore'), 0);
  t.throws(() => cgMode('Soft'), /invalid --manage-cgroups-mode value "Soft"/);
  t.equal(emptyNsMask([]), CLONE_NEWNET, 'the network namespace is always empty (runc)');
  t.equal(emptyNsMask(['network']), CLONE_NEWNET);
  t.throws(() => emptyNsMask(['network', 'uts']), /namespace "uts" is not supported/);
  t.same(pageServer('10.0.0.1:27277'), { address: '10.0.0.1', port: 27277 });
  t.same(pageServer('[::1]:80'), { address: '::1', port: 80 });
  for (const bad of ['host', ':80', 'host:', 'host:port', 'a:b:c', 'h:70000']) t.throws(() => pageServer(bad), /page server|port/, bad);
});

t.test('--image-path and --parent-path (runc prepareImagePaths), without making anything', async (t) => {
  const img = join(tmp, 'img');
  t.same(imagePaths(img, ''), { imagesDir: img });
  t.throws(() => imagePaths(img, '/abs/parent'), /--parent-path must be relative/);
  t.throws(() => imagePaths(img, '../pre'), /invalid --parent-path \.\.\/pre: .*no such file or directory/);
  mkdirSync(join(tmp, 'pre'));
  t.same(imagePaths(img, '../pre'), { imagesDir: img, parentImage: '../pre' }, 'relative to the image path, which need not exist yet');
  writeFileSync(join(tmp, 'file'), '');
  t.throws(() => imagePaths(img, '../file'), /not a directory/);
});

t.test('paths in a rootfs: symlinks resolve inside it', async (t) => {
  const root = join(tmp, 'rootfs');
  mkdirSync(join(root, 'real', 'conf'), { recursive: true });
  symlinkSync('/real/conf', join(root, 'conf'));
  symlinkSync('../../../../..', join(root, 'up'));
  symlinkSync('real', join(root, 'rel'));
  t.equal(resolveInRoot(root, '/conf'), '/real/conf', 'absolute link target: from the rootfs');
  t.equal(resolveInRoot(root, '/conf/x/y'), '/real/conf/x/y', 'missing parts kept');
  t.equal(resolveInRoot(root, '/up/etc'), '/etc', '.. never leaves the rootfs');
  t.equal(resolveInRoot(root, 'rel//./conf/'), '/real/conf');
  symlinkSync('loop', join(root, 'loop'));
  t.throws(() => resolveInRoot(root, '/loop'), /too many levels/);
});

t.test("the RPC messages carry CRIU's field numbers", async (t) => {
  // criu_req { type = 1 (varint) }: VERSION (10).
  t.equal(encodeReq({ type: ReqType.VERSION }).toString('hex'), '080a');
  // criu_opts.images_dir_fd = 1, log_file = 10, ext_mnt = 23 (key 1, val 2), manage_cgroups_mode = 34.
  const b = encodeReq({ type: ReqType.DUMP, opts: { imagesDirFd: 5, logFile: 'd', extMnt: [{ key: '/a', val: '/b' }], manageCgroupsMode: 6 } });
  // type DUMP (1); opts (2) of 19 bytes: 08 05 | 52 01 'd' | ba01 08 (0a 02 '/a' 12 02 '/b') | 9002 06.
  t.equal(b.toString('hex'), ['0801', '1213', '0805', '520164', 'ba0108', '0a022f61', '12022f62', '900206'].join(''));
  // criu_resp: type 2 success, restore { pid = 1 } at field 4, notify { script = 1, pid = 2 } at field 5, cr_errmsg at 9.
  t.match(decodeResp(Buffer.from('08021001220308e707', 'hex')), { type: 2, success: true, restore: { pid: 999 } });
  t.match(decodeResp(Buffer.from('080210004a026e6f', 'hex')), { type: 2, success: false, crErrmsg: 'no' });
  const n = decodeResp(Buffer.from(`08061001${'2a'}${(Buffer.from('post-restore').length + 4).toString(16).padStart(2, '0')}0a0c${Buffer.from('post-restore').toString('hex')}1007`, 'hex'));
  t.match(n, { type: ReqType.NOTIFY, success: true, notify: { script: 'post-restore', pid: 7 } });
});

t.test("CRIU's log: its Error lines, and the one-line failure", async (t) => {
  const log = join(tmp, 'dump.log');
  writeFileSync(log, [
    '(00.000001) Version: 3.17.1',
    '(00.058627) Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds',
    '(00.058631) Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.',
    '(00.058631) Error (criu/kerndat.c:1615): kerndat_vdso_fill_symtable failed when initializing kerndat.',
  ].join('\n'));
  t.same(criuLogErrors(log), ['vdso: Unexpected rt vDSO area bounds', 'kerndat_vdso_fill_symtable failed when initializing kerndat.']);
  t.equal(criuFailureMessage('criu dump', log), `criu dump failed: vdso: Unexpected rt vDSO area bounds; kerndat_vdso_fill_symtable failed when initializing kerndat. (criu log: ${log})`);
  t.equal(criuFailureMessage('criu dump', join(tmp, 'none.log'), 'errno 2'), `criu dump failed: errno 2 (criu log: ${join(tmp, 'none.log')})`);
});

t.test("descriptors.json: only the stdio pipes are handed over (runc)", async (t) => {
  t.same(stdioInheritFds(['pipe:[10]', '/dev/null', 'pipe:[12]']), [{ key: 'pipe:[10]', fd: 0 }, { key: 'pipe:[12]', fd: 2 }]);
  t.same(stdioInheritFds(['/dev/pts/0', '/dev/pts/0', '/dev/pts/0']), []);
});
