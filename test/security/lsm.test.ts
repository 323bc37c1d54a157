// LSM labels (class: a container asks for confinement and silently runs without it, or the label
// is written somewhere that is not the kernel's attr file: CVE-2019-16884, where runc wrote the
// AppArmor profile into a fake /proc of the image). process.apparmorProfile,
// process.selinuxLabel and linux.mountLabel are applied through a verified procfs handle where
// the LSM runs and refused, naming the field, where it does not (this host runs neither).
import { constants } from 'node:os';
import { fakeHost } from '../helpers/fake-host.js';
import t from 'tap';
import { Op, F_HOST } from '../../src/native/ops.js';
import { launchInit, InitOpError } from '../../src/native/init-protocol.js';
import type { PlanOp } from '../../src/native/plan.js';
import { planLsm, probeLsmHost, withMountLabel, type LsmHost } from '../../src/linux/lsm.js';
import { planProcess } from '../../src/linux/process-plan.js';
import { buildCreatePlan } from '../../src/linux/create-plan.js';
import { baseConfig, makeBundle, rt, uniqueId, waitUntil, stateOf, describe } from '../helpers/index.js';
import { refused } from './fixtures/lib.js';

const host = probeLsmHost();
const NONE: LsmHost = { apparmor: false, selinux: false, apparmorOwnAttr: false };
const BOTH: LsmHost = { apparmor: true, selinux: true, apparmorOwnAttr: true };

t.test('on a host without AppArmor or SELinux, a config asking for a label is refused, naming the field', { skip: (host.apparmor || host.selinux) && 'this host runs an LSM' }, async (t) => {
  const cases: Array<[string, (c: any) => void, RegExp]> = [
    ['apparmorProfile', (c) => void (c.process.apparmorProfile = 'docker-default'), /process\.apparmorProfile: AppArmor is not enabled on this host$/],
    ['selinuxLabel', (c) => void (c.process.selinuxLabel = 'system_u:system_r:container_t:s0'), /process\.selinuxLabel: SELinux is not enabled on this host$/],
    ['mountLabel', (c) => void (c.linux.mountLabel = 'system_u:object_r:container_file_t:s0'), /linux\.mountLabel: SELinux is not enabled on this host$/],
  ];
  for (const [what, patch, phrase] of cases) {
    const id = uniqueId(t);
    const b = makeBundle(t, patch);
    refused(t, rt(t, ['create', '--bundle', b.dir, id]), id, phrase, what);
  }
  const id = uniqueId(t);
  const b = makeBundle(t, undefined, { args: ['sleep', '1000'] });
  t.equal(rt(t, ['run', '-d', '--bundle', b.dir, id]).status, 0, 'a plain container runs');
  t.ok(await waitUntil(() => stateOf(t, id)?.status === 'running'), 'running');
  for (const [flag, phrase] of [['--apparmor', /process\.apparmorProfile: AppArmor is not enabled on this host/], ['--process-label', /process\.selinuxLabel: SELinux is not enabled on this host/]] as const) {
    const r = rt(t, ['exec', flag, 'x', id, 'true']);
    t.not(r.status, 0, `exec ${flag} is refused`, { detail: describe(r) });
    t.match(r.stderr, phrase, `exec ${flag}: the error names the field`);
    t.equal(r.stderr.trim().split('\n').length, 1, `exec ${flag}: one line`);
  }
  t.equal(rt(t, ['delete', '-f', id]).status, 0, 'delete');
});

t.test('the plan writes the labels where the kernel reads them (a host double)', async (t) => {
  const proc = { ...baseConfig().process, apparmorProfile: 'tsrun-test', selinuxLabel: 'system_u:system_r:container_t:s0:c1,c2' };
  t.strictSame(planLsm(proc, BOTH).map((o) => [o.op, o.strs]), [
    [Op.PROC_WRITE, ['self/attr/apparmor/exec', 'exec tsrun-test']],
    [Op.PROC_WRITE, ['self/attr/exec', 'system_u:system_r:container_t:s0:c1,c2']],
  ], 'AppArmor: "exec <profile>" into attr/apparmor/exec; SELinux: the label into attr/exec');
  t.strictSame(planLsm({ ...proc, selinuxLabel: undefined }, { ...BOTH, apparmorOwnAttr: false }).map((o) => o.strs), [['self/attr/exec', 'exec tsrun-test']], 'kernels without attr/apparmor use attr/exec');
  t.throws(() => planLsm(proc, NONE), /process\.apparmorProfile: AppArmor is not enabled on this host/);
  t.throws(() => planLsm({ ...proc, apparmorProfile: undefined }, NONE), /process\.selinuxLabel: SELinux is not enabled on this host/);
  t.strictSame(planLsm({ ...proc, apparmorProfile: '', selinuxLabel: '' }, NONE), [], 'empty labels ask for nothing');

  // before seccomp and before the user and capabilities change: the write needs them
  const ops = planProcess({ ...proc, noNewPrivileges: false }, { firstClosedFd: 3, beforeExec: [{ op: Op.READY, what: 'ready' }], seccomp: { program: new Uint8Array(8), flags: 0 }, lsm: BOTH });
  const at = (op: number, from = 0) => ops.findIndex((o, i) => i >= from && o.op === op);
  const firstLabel = at(Op.PROC_WRITE);
  t.ok(firstLabel > at(Op.CHDIR), 'after the working directory');
  t.ok(firstLabel < at(Op.SECCOMP), 'before the seccomp filter');
  t.ok(firstLabel < at(Op.USER) && firstLabel < at(Op.CAP_SET), 'before the user and capabilities change');
  t.ok(firstLabel < at(Op.READY), 'before READY: a failure is reported by create');

  // mountLabel: a context= option on the mounts that take one (runc's FormatMountLabel)
  const label = 'system_u:object_r:container_file_t:s0:c1,c2';
  t.equal(withMountLabel('tmpfs', 'mode=755', label), `mode=755,context="${label}"`);
  t.equal(withMountLabel('devpts', '', label), `context="${label}"`);
  t.equal(withMountLabel('proc', '', label), '', 'proc takes no context');
  t.equal(withMountLabel('sysfs', 'ro', label), 'ro');
  const spec = { ...baseConfig(), linux: { ...baseConfig().linux, mountLabel: label } };
  const input = { spec, rootfs: '/nonexistent-rootfs', bundle: '/nonexistent', noPivot: false, cgroupDir: () => undefined, fifoFd: 9, firstClosedFd: 3, startState: '{}' };
  const plan = buildCreatePlan({ ...input, host: fakeHost({ lsm: BOTH }) });
  const dataOf = (dest: string) => plan.ops.find((o) => o.op === Op.MOUNT && o.strs?.[1] === dest)?.strs?.[3];
  t.match(dataOf('/dev') as string, new RegExp(`context="${label}"`), '/dev (tmpfs) is labeled');
  t.match(dataOf('/dev/pts') as string, new RegExp(`context="${label}"`), '/dev/pts (devpts) is labeled');
  t.notMatch(dataOf('/proc') as string, /context=/, '/proc is not');
  t.throws(() => buildCreatePlan({ ...input, host: fakeHost({ lsm: NONE }) }), /linux\.mountLabel: SELinux is not enabled on this host/);
});

t.test('tsrun-init writes a label into the kernel\'s attr file, never into a fake /proc', async (t) => {
  // The real file: without an LSM the kernel itself refuses the write (EINVAL), which proves the
  // bytes reached /proc/<pid>/attr/exec and nothing else.
  const write: PlanOp = { op: Op.PROC_WRITE, strs: ['self/attr/exec', 'exec tsrun-test'], what: 'apply the AppArmor profile "tsrun-test"' };
  const e1 = await launchInit({ plan: [write, { op: Op.READY, what: 'ready' }], cloneFlags: 0 }).then(() => null, (e) => e);
  if (!host.apparmor && !host.selinux) {
    t.type(e1, InitOpError, 'the write fails inside tsrun-init');
    t.equal(e1?.errno, constants.errno.EINVAL, 'with the kernel\'s answer for a label no LSM takes (EINVAL): the attr file was reached');
    t.match(e1?.message, /^apply the AppArmor profile "tsrun-test": invalid argument/, 'worded by the plan');
  }
  // A /proc that is not the root of a procfs (here: a tmpfs in a private mount namespace, where a
  // rootfs could have put a directory or a volume): refused before anything is written.
  const CLONE_NEWNS = 0x20000;
  const plan: PlanOp[] = [
    { op: Op.MOUNT, flags: F_HOST, ints: [(1 << 18) | 0x4000, 0, 0], strs: ['', '/', '', ''], what: 'make / private' },
    { op: Op.MOUNT, flags: F_HOST, ints: [0, 0, 0], strs: ['tmpfs', '/proc', 'tmpfs', ''], what: 'a fake /proc' },
    { op: Op.MKDIR, flags: F_HOST, ints: [0o755], strs: ['/proc/self/attr'], what: 'fake attr dir' },
    write,
    { op: Op.READY, what: 'ready' },
  ];
  const e2 = await launchInit({ plan, cloneFlags: CLONE_NEWNS }).then(() => null, (e) => e);
  t.type(e2, InitOpError, 'refused');
  t.equal(e2?.index, 3, 'by the label write');
  t.match(e2?.message, /\/proc is not a procfs mount: refusing to write self\/attr\/exec/, 'saying why');
});
