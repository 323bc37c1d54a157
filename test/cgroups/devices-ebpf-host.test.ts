// The cgroup v2 device filter on the real kernel. This host is hybrid: cgroup2 at
// /sys/fs/cgroup/unified (no controllers needed: BPF_CGROUP_DEVICE programs attach to any cgroup2
// directory), and the v1 devices cgroup of the test's processes is the unrestricted root, so what is
// refused here is refused by the program. Each probe is a fresh sh that moves itself into the cgroup,
// then opens device nodes made in a temp dir or mknod()s new ones. Every cgroup is
// /sys/fs/cgroup/unified/tsrun-test-<pid>-<n>, removed in teardown (which detaches its programs).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import {
  LICENSE, PROGRAM_NAME, applyDeviceFilter, attachedDeviceFilters, deviceFilter, encode, setDevicesV2,
} from '../../src/cgroups/devices-ebpf.js';
import { cgDir, setWarningHandler } from '../../src/cgroups/fs.js';
import { applyDevicesV2 } from '../../src/cgroups/resources.js';
import { BPF_F_ALLOW_MULTI, type Bpf, closeFd, loadBpf, openCgroupDir } from '../../src/native/bpf.js';
import { SysError } from '../../src/native/native.js';
import { DEFAULT_ALLOWED_DEVICES } from '../../src/linux/device-rules.js';
import type { DeviceCgroup } from '../../src/spec/types.js';
import { removeCgroupTree } from './fixtures/host.js';

const UNIFIED = '/sys/fs/cgroup/unified';
const CGROUP2_SUPER_MAGIC = 0x63677270;
const isCgroup2 = (p: string): boolean => {
  try {
    return Number(statfsSync(p).type) === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
};
const skip = process.getuid?.() !== 0 ? 'needs root' :
  isCgroup2('/sys/fs/cgroup') ? false :
    !isCgroup2(UNIFIED) ? 'needs cgroup2 (at /sys/fs/cgroup or /sys/fs/cgroup/unified)' : false;
const MOUNT = isCgroup2('/sys/fs/cgroup') ? '/sys/fs/cgroup' : UNIFIED;

let counter = 0;

function killAndRemove(dir: string): void {
  if (!removeCgroupTree(dir)) rmdirSync(dir); // throws, saying why
}

/** A fresh cgroup2 directory, removed at the end of the test. */
function testCgroup(t: Test): string {
  const dir = join(MOUNT, `tsrun-test-${process.pid}-${++counter}`);
  mkdirSync(dir);
  t.teardown(() => killAndRemove(dir));
  return dir;
}

/** A temp dir with device nodes to open: full c 1:7, null c 1:3, zero c 1:5, kmsg c 1:11, loop b 7:0. */
function nodes(t: Test): string {
  const d = mkdtempSync(join(tmpdir(), 'tsrun-devices-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  for (const [name, type, major, minor] of [['full', 'c', 1, 7], ['null', 'c', 1, 3], ['zero', 'c', 1, 5], ['kmsg', 'c', 1, 11], ['loop', 'b', 7, 0]] as const) {
    execFileSync('mknod', [join(d, name), type, String(major), String(minor)]);
  }
  return d;
}

// Probes: "r:full" open for reading, "w:full" writing, "rw:full" both, "m:c 1 7" mknod of a new node.
// Each prints ok, EPERM or the error.
const PROBE = `
echo $$ > "$1/cgroup.procs" || exit 99
d=$2; shift 2; n=0
for p in "$@"; do
  n=$((n+1))
  case $p in
    r:*) err=$( (exec 3<"$d/\${p#r:}") 2>&1 ) ;;
    w:*) err=$( (exec 3>"$d/\${p#w:}") 2>&1 ) ;;
    rw:*) err=$( (exec 3<>"$d/\${p#rw:}") 2>&1 ) ;;
    m:*) err=$(mknod "$d/new$$-$n" \${p#m:} 2>&1 && rm -f "$d/new$$-$n") ;;
    *) echo "bad probe $p"; continue ;;
  esac
  if [ $? -eq 0 ]; then echo ok
  else case $err in *"Operation not permitted"*) echo EPERM ;; *) echo "other: $err" ;; esac
  fi
done
`;

function probe(cg: string, dir: string, probes: string[]): string[] {
  const r = spawnSync('/bin/sh', ['-c', PROBE, 'sh', cg, dir, ...probes], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`probe exited ${r.status}: ${r.stderr}`);
  return r.stdout.trim().split('\n');
}

/** Runs probes and pairs them with the results, for readable diffs. */
function check(cg: string, dir: string, probes: string[]): Record<string, string> {
  const out = probe(cg, dir, probes);
  return Object.fromEntries(probes.map((p, i) => [p, out[i] ?? 'missing']));
}

const DENY_ALL: DeviceCgroup = { allow: false, access: 'rwm' };
const ALL_OK = (probes: string[]): Record<string, string> => Object.fromEntries(probes.map((p) => [p, 'ok']));
const tsrunPrograms = (cg: string): number => attachedDeviceFilters(cg).filter((p) => p.name === PROGRAM_NAME).length;

t.test('the kernel enforces the filter', { skip }, async (t) => {
  const dev = nodes(t);
  const all = ['r:full', 'w:full', 'rw:null', 'r:kmsg', 'r:loop', 'm:c 1 11', 'm:b 7 1'];

  await t.test('control: without a program every probe succeeds', async (t) => {
    t.same(check(testCgroup(t), dev, all), ALL_OK(all));
  });

  await t.test("runc's default rules: the listed devices and mknod of any, nothing else", async (t) => {
    const cg = testCgroup(t);
    applyDeviceFilter(cg, [DENY_ALL, ...DEFAULT_ALLOWED_DEVICES]);
    t.same(check(cg, dev, all), {
      'r:full': 'ok', 'w:full': 'ok', 'rw:null': 'ok', 'r:kmsg': 'EPERM', 'r:loop': 'EPERM', 'm:c 1 11': 'ok', 'm:b 7 1': 'ok',
    });
    const progs = attachedDeviceFilters(cg);
    t.same(progs.map((p) => p.name), [PROGRAM_NAME], 'one program, named');
    const fd = openCgroupDir(cg);
    try {
      t.equal(loadBpf().queryDevicePrograms(fd).flags, BPF_F_ALLOW_MULTI, 'attached with BPF_F_ALLOW_MULTI');
    } finally {
      closeFd(fd);
    }
  });

  await t.test('mknod of a denied device fails', async (t) => {
    const cg = testCgroup(t);
    applyDeviceFilter(cg, [DENY_ALL, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }]);
    t.same(check(cg, dev, ['m:c 1 7', 'm:c 1 3', 'm:b 7 0', 'r:full', 'r:null']),
      { 'm:c 1 7': 'EPERM', 'm:c 1 3': 'ok', 'm:b 7 0': 'EPERM', 'r:full': 'EPERM', 'r:null': 'ok' });
  });

  await t.test('wildcards: any minor, any major, any type', async (t) => {
    const cg = testCgroup(t);
    applyDeviceFilter(cg, [DENY_ALL, { allow: true, type: 'c', major: 1, access: 'r' }]);
    t.same(check(cg, dev, ['r:full', 'r:null', 'r:kmsg', 'w:full', 'r:loop']),
      { 'r:full': 'ok', 'r:null': 'ok', 'r:kmsg': 'ok', 'w:full': 'EPERM', 'r:loop': 'EPERM' }, 'c 1:* r');
    applyDeviceFilter(cg, [DENY_ALL, { allow: true, type: 'c', minor: 7, access: 'rw' }]);
    t.same(check(cg, dev, ['rw:full', 'r:null', 'm:c 1 7']), { 'rw:full': 'ok', 'r:null': 'EPERM', 'm:c 1 7': 'EPERM' }, 'c *:7 rw');
    applyDeviceFilter(cg, [DENY_ALL, { allow: true, type: 'a', minor: 0, access: 'rwm' }]);
    t.same(check(cg, dev, ['r:loop', 'r:full', 'm:c 9 0']), { 'r:loop': 'ok', 'r:full': 'EPERM', 'm:c 9 0': 'ok' }, 'a *:0 (char and block)');
  });

  await t.test('access letters: r, w and m separately; split rules add up', async (t) => {
    const cg = testCgroup(t);
    applyDeviceFilter(cg, [DENY_ALL, { allow: true, type: 'c', major: 1, minor: 7, access: 'w' }]);
    t.same(check(cg, dev, ['w:full', 'r:full', 'rw:full', 'm:c 1 7']), { 'w:full': 'ok', 'r:full': 'EPERM', 'rw:full': 'EPERM', 'm:c 1 7': 'EPERM' });
    applyDeviceFilter(cg, [DENY_ALL, { allow: true, type: 'c', major: 1, minor: 7, access: 'm' }]);
    t.same(check(cg, dev, ['w:full', 'r:full', 'm:c 1 7']), { 'w:full': 'EPERM', 'r:full': 'EPERM', 'm:c 1 7': 'ok' });
    applyDeviceFilter(cg, [DENY_ALL, { allow: true, type: 'c', major: 1, minor: 7, access: 'r' }, { allow: true, type: 'c', major: 1, minor: 7, access: 'w' }]);
    t.same(check(cg, dev, ['rw:full', 'm:c 1 7']), { 'rw:full': 'ok', 'm:c 1 7': 'EPERM' }, 'r then w: an O_RDWR open passes');
  });

  await t.test('the last matching rule wins', async (t) => {
    const cg = testCgroup(t);
    applyDeviceFilter(cg, [DENY_ALL, { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 7, access: 'w' }]);
    t.same(check(cg, dev, ['r:full', 'w:full', 'rw:full']), { 'r:full': 'ok', 'w:full': 'EPERM', 'rw:full': 'EPERM' }, 'a later deny of w');
    applyDeviceFilter(cg, [DENY_ALL, { allow: false, type: 'c', major: 1, minor: 7, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }]);
    t.same(check(cg, dev, ['rw:full']), { 'rw:full': 'ok' }, 'a later allow');
    applyDeviceFilter(cg, [{ allow: true, access: 'rwm' }, { allow: false, type: 'c', major: 1, minor: 7 }]);
    t.same(check(cg, dev, ['r:full', 'r:null', 'r:loop']), { 'r:full': 'EPERM', 'r:null': 'ok', 'r:loop': 'ok' }, 'allow all, then deny one');
    applyDeviceFilter(cg, [DENY_ALL, { allow: true, type: 'c', major: 1 }, { allow: false, type: 'c', major: 1, minor: 7 }]);
    t.same(check(cg, dev, ['r:full', 'r:zero']), { 'r:full': 'EPERM', 'r:zero': 'ok' }, 'a hole in an allowed wildcard');
    applyDeviceFilter(cg, [{ allow: false, type: 'c', major: 1, minor: 7 }, { allow: true }]);
    t.same(check(cg, dev, ['r:full']), { 'r:full': 'ok' }, 'a later allow-all resets');
  });

  await t.test('applyDevicesV2 (the resources.ts entry) attaches the filter', async (t) => {
    const cg = testCgroup(t);
    applyDevicesV2(cgDir(cg), { devices: [DENY_ALL, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }] });
    t.same(check(cg, dev, ['r:full', 'r:null']), { 'r:full': 'EPERM', 'r:null': 'ok' });
    t.equal(tsrunPrograms(cg), 1);
  });

  await t.test('invalid rules: an error, and the cgroup keeps the filter it had', async (t) => {
    const cg = testCgroup(t);
    const before = [DENY_ALL, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' } as DeviceCgroup];
    setDevicesV2(cg, before);
    const ids = attachedDeviceFilters(cg).map((p) => p.id);
    t.throws(() => setDevicesV2(cg, [DENY_ALL, { allow: true, type: 'c', major: 2 ** 32 }]), /linux.resources.devices\[1\]: invalid major 4294967296/);
    t.same(attachedDeviceFilters(cg).map((p) => p.id), ids, 'same program');
    t.same(check(cg, dev, ['r:full', 'r:null']), { 'r:full': 'EPERM', 'r:null': 'ok' });
  });

  await t.test('where bpf(2) fails: an error, unless the rules restrict nothing (a warning, like runc)', async (t) => {
    const notCgroup = mkdtempSync(join(tmpdir(), 'tsrun-not-cgroup-'));
    t.teardown(() => rmSync(notCgroup, { recursive: true, force: true }));
    t.throws(() => setDevicesV2(notCgroup, [DENY_ALL]), /^cgroup: linux.resources.devices: query the device programs of .*tsrun-not-cgroup-/);
    const warnings: string[] = [];
    setWarningHandler((m) => warnings.push(m));
    t.teardown(() => setWarningHandler((m) => process.stderr.write(`tsrun: warning: ${m}\n`)));
    t.doesNotThrow(() => setDevicesV2(notCgroup, [{ allow: true, type: 'c', access: 'rwm' }, { allow: true }]));
    t.match(warnings, [/^device rules not applied: linux.resources.devices: query the device programs of /]);
  });

  await t.test('a missing cgroup directory is an error naming it', async (t) => {
    t.throws(() => applyDeviceFilter(join(MOUNT, `tsrun-test-${process.pid}-missing`), [DENY_ALL]),
      /^cgroup: linux.resources.devices: open \/sys\/fs\/cgroup\/.*missing: no such file or directory$/);
  });
});

// ---- update: replacing the program ----------------------------------------------------------

const RULES_A: DeviceCgroup[] = [DENY_ALL, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }];
const RULES_B: DeviceCgroup[] = [DENY_ALL, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 11, access: 'r' }];

/**
 * The real bpf(2), observed: after every attach and detach the probes run in the cgroup, so each
 * intermediate state is checked. refuseReplace makes BPF_F_REPLACE fail as a kernel without it would.
 */
function observed(cg: string, dev: string, probes: string[], opts: { refuseReplace?: boolean } = {}) {
  const real = loadBpf();
  const steps: { step: string; result: Record<string, string>; programs: number }[] = [];
  const record = (step: string): void => {
    steps.push({ step, result: check(cg, dev, probes), programs: attachedDeviceFilters(cg).length });
  };
  const bpf: Bpf = {
    ...real,
    attachDeviceProgram(cgroupFd, progFd, replaceFd) {
      if (replaceFd !== undefined && opts.refuseReplace) throw new SysError('BPF_PROG_ATTACH', 22, 'Invalid argument');
      real.attachDeviceProgram(cgroupFd, progFd, replaceFd);
      record(replaceFd === undefined ? 'attach' : 'replace');
    },
    detachDeviceProgram(cgroupFd, progFd) {
      real.detachDeviceProgram(cgroupFd, progFd);
      record('detach');
    },
  };
  return { bpf, steps };
}

/** Loads and attaches a program by hand (what an earlier run, or someone else, left attached). */
function attachByHand(cg: string, rules: DeviceCgroup[], name: string): void {
  const bpf = loadBpf();
  const fd = bpf.loadDeviceProgram(encode(deviceFilter(rules)), LICENSE, name);
  const dirFd = openCgroupDir(cg);
  try {
    bpf.attachDeviceProgram(dirFd, fd);
  } finally {
    closeFd(dirFd);
    closeFd(fd);
  }
}

t.test('update replaces the program, never leaving the cgroup without one', { skip }, async (t) => {
  const dev = nodes(t);
  const probes = ['r:full', 'r:null', 'r:zero', 'r:kmsg'];
  const underA = { 'r:full': 'EPERM', 'r:null': 'ok', 'r:zero': 'ok', 'r:kmsg': 'EPERM' };
  const underB = { 'r:full': 'EPERM', 'r:null': 'ok', 'r:zero': 'EPERM', 'r:kmsg': 'ok' };

  await t.test('one old program: atomic BPF_F_REPLACE', async (t) => {
    const cg = testCgroup(t);
    applyDeviceFilter(cg, RULES_A);
    const [old] = attachedDeviceFilters(cg);
    t.same(check(cg, dev, probes), underA);
    const o = observed(cg, dev, probes);
    applyDeviceFilter(cg, RULES_B, o.bpf);
    t.same(o.steps, [{ step: 'replace', result: underB, programs: 1 }]);
    const now = attachedDeviceFilters(cg);
    t.equal(now.length, 1, 'BPF_PROG_QUERY: exactly one program');
    t.equal(now[0]!.name, PROGRAM_NAME);
    t.not(now[0]!.id, old!.id, 'a new program');
    t.not(now[0]!.tag, old!.tag, 'with other instructions');
  });

  await t.test('without BPF_F_REPLACE: attach the new program, then detach the old', async (t) => {
    const cg = testCgroup(t);
    applyDeviceFilter(cg, RULES_A);
    const o = observed(cg, dev, probes, { refuseReplace: true });
    applyDeviceFilter(cg, RULES_B, o.bpf);
    // Between the two calls both programs are attached: only what both allow passes.
    const both = { 'r:full': 'EPERM', 'r:null': 'ok', 'r:zero': 'EPERM', 'r:kmsg': 'EPERM' };
    t.same(o.steps, [{ step: 'attach', result: both, programs: 2 }, { step: 'detach', result: underB, programs: 1 }]);
    t.equal(tsrunPrograms(cg), 1);
  });

  await t.test('several old tsrun programs are all detached; a program attached by others stays', async (t) => {
    const cg = testCgroup(t);
    attachByHand(cg, RULES_A, PROGRAM_NAME);
    attachByHand(cg, RULES_A, PROGRAM_NAME);
    attachByHand(cg, [{ allow: true }, { allow: false, type: 'c', major: 1, minor: 3 }], 'other_filter');
    t.equal(attachedDeviceFilters(cg).length, 3);
    const o = observed(cg, dev, probes);
    applyDeviceFilter(cg, RULES_B, o.bpf);
    t.same(o.steps.map((s) => [s.step, s.programs]), [['attach', 4], ['detach', 3], ['detach', 2]]);
    for (const s of o.steps) t.equal(s.result['r:full'], 'EPERM', `${s.step}: /dev/full stays denied`);
    t.same(attachedDeviceFilters(cg).map((p) => p.name).sort(), ['other_filter', PROGRAM_NAME]);
    t.same(check(cg, dev, probes), { ...underB, 'r:null': 'EPERM' }, 'the other program still denies null');
  });

  await t.test('many updates in a row leave one program, the last rules in force', async (t) => {
    const cg = testCgroup(t);
    for (let i = 0; i < 20; i++) applyDeviceFilter(cg, i % 2 ? RULES_B : RULES_A);
    t.equal(tsrunPrograms(cg), 1);
    t.same(check(cg, dev, probes), underB);
  });
});

t.test('bpf(2) bindings: verifier errors, program info, unknown ids', { skip }, async (t) => {
  const bpf = loadBpf();
  const exitOnly = Buffer.from('9500000000000000', 'hex'); // exit with r0 never set
  const err = (() => {
    try {
      bpf.loadDeviceProgram(exitOnly, LICENSE, PROGRAM_NAME);
    } catch (e) {
      return e as SysError & { verifierLog?: string };
    }
    return undefined;
  })();
  t.equal(err?.code, 'EACCES', 'the verifier refuses it');
  t.match(err?.verifierLog, /R0 !read_ok/, "with the verifier's reason");

  const fd = bpf.loadDeviceProgram(encode(deviceFilter([DENY_ALL])), LICENSE, PROGRAM_NAME);
  try {
    const info = bpf.programInfo(fd);
    t.equal(info.type, 15, 'BPF_PROG_TYPE_CGROUP_DEVICE');
    t.equal(info.name, PROGRAM_NAME);
    t.match(info.tag, /^[0-9a-f]{16}$/);
    t.ok(info.id > 0);
    const again = bpf.programFd(info.id);
    t.equal(bpf.programInfo(again).id, info.id, 'BPF_PROG_GET_FD_BY_ID finds it');
    closeFd(again);
  } finally {
    closeFd(fd);
  }
  t.throws(() => bpf.programFd(0x7ffffff0), { code: 'ENOENT' });
});
