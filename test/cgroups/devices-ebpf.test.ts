// The cgroup v2 device filter generator: exact instruction sequences for given rules, the bytes the
// kernel gets, rule validation, and the program's answers (run by a small interpreter of the few
// opcodes it uses) against a direct reading of the rules, for every device/access combination.
// The kernel's answers are checked in devices-ebpf-host.test.ts.
import t from 'tap';
import {
  BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE, BPF_DEVCG_DEV_BLOCK, BPF_DEVCG_DEV_CHAR,
  type Insn, deviceFilter, disasm, effectiveRules, encode,
} from '../../src/cgroups/devices-ebpf.js';
import { DEFAULT_ALLOWED_DEVICES } from '../../src/linux/device-rules.js';
import type { DeviceCgroup } from '../../src/spec/types.js';

const text = (rules: DeviceCgroup[]): string[] => deviceFilter(rules).map(disasm);

const PROLOGUE = [
  'r2 = *(u32 *)(r1 + 0)',
  'w2 &= 65535',
  'r3 = *(u32 *)(r1 + 0)',
  'w3 >>= 16',
  'r4 = *(u32 *)(r1 + 4)',
  'r5 = *(u32 *)(r1 + 8)',
];
const DENY_ALL: DeviceCgroup = { allow: false, access: 'rwm' };

t.test('no rules, or an allow-all / deny-all last: the default alone', async (t) => {
  t.same(text([]), [...PROLOGUE, 'w0 = 0', 'exit'], 'an allow list: nothing listed is denied');
  t.same(text([DENY_ALL]), [...PROLOGUE, 'w0 = 0', 'exit']);
  t.same(text([{ allow: true }]), [...PROLOGUE, 'w0 = 1', 'exit'], 'type a, any major/minor, access rwm when absent');
  t.same(text([{ allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, { allow: false, type: 'a', access: 'rwm' }]),
    [...PROLOGUE, 'w0 = 0', 'exit'], 'a match-all rule resets: the rules before it are dropped');
  t.same(text([{ allow: false, type: 'a', major: -1, minor: -1, access: '' }, { allow: true, type: 'a', access: 'mrw' }]),
    [...PROLOGUE, 'w0 = 1', 'exit'], '-1 and "" are wildcards/rwm; letters in any order');
});

t.test('a full rwm allow of one device: type, major, minor checks, then accept', async (t) => {
  t.same(text([DENY_ALL, { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }]), [
    ...PROLOGUE,
    'if r2 != 2 goto +4',
    'if r4 != 1 goto +3',
    'if r5 != 7 goto +2',
    'w0 = 1',
    'exit',
    'w0 = 0',
    'exit',
  ]);
});

t.test('a partial allow clears its bits and accepts once no asked bit is left', async (t) => {
  t.same(text([DENY_ALL, { allow: true, type: 'b', major: 8, access: 'rw' }]), [
    ...PROLOGUE,
    'if r2 != 1 goto +5',
    'if r4 != 8 goto +4',
    'w3 &= 1',
    'if r3 != 0 goto +2',
    'w0 = 1',
    'exit',
    'w0 = 0',
    'exit',
  ], 'block, major 8, any minor; rw clears READ|WRITE, leaving MKNOD');
});

t.test('a partial deny rejects when an asked bit is one it denies', async (t) => {
  t.same(text([{ allow: true }, { allow: false, type: 'c', minor: 5, access: 'w' }]), [
    ...PROLOGUE,
    'if r2 != 2 goto +5',
    'if r5 != 5 goto +4',
    'if r3 & 4 goto +1',
    'goto +2',
    'w0 = 0',
    'exit',
    'w0 = 1',
    'exit',
  ], 'after an allow-all the default is allow');
  t.same(text([{ allow: true }, { allow: false, type: 'a', major: 4 }]), [
    ...PROLOGUE,
    'if r4 != 4 goto +2',
    'w0 = 0',
    'exit',
    'w0 = 1',
    'exit',
  ], 'type a with a major matches char and block devices: no type check');
});

t.test('the rules are tested last first (the last matching rule decides)', async (t) => {
  t.same(text([DENY_ALL, { allow: true, type: 'c', major: 1, minor: 7 }, { allow: false, type: 'c', major: 1, minor: 7, access: 'w' }]), [
    ...PROLOGUE,
    // deny c 1:7 w
    'if r2 != 2 goto +6',
    'if r4 != 1 goto +5',
    'if r5 != 7 goto +4',
    'if r3 & 4 goto +1',
    'goto +2',
    'w0 = 0',
    'exit',
    // allow c 1:7 rwm
    'if r2 != 2 goto +4',
    'if r4 != 1 goto +3',
    'if r5 != 7 goto +2',
    'w0 = 1',
    'exit',
    'w0 = 0',
    'exit',
  ]);
});

t.test("runc's default rules", async (t) => {
  const prog = text([DENY_ALL, ...DEFAULT_ALLOWED_DEVICES]);
  const full = (type: number, major: number, minor: number | undefined): string[] => [
    `if r2 != ${type} goto +${minor === undefined ? 3 : 4}`,
    `if r4 != ${major} goto +${minor === undefined ? 2 : 3}`,
    ...(minor === undefined ? [] : [`if r5 != ${minor} goto +2`]),
    'w0 = 1',
    'exit',
  ];
  const mknod = (type: number): string[] => [`if r2 != ${type} goto +4`, 'w3 &= 6', 'if r3 != 0 goto +2', 'w0 = 1', 'exit'];
  t.same(prog, [
    ...PROLOGUE,
    ...full(2, 10, 200), // tun
    ...full(2, 5, 2), // ptmx
    ...full(2, 136, undefined), // pts
    ...full(2, 1, 9),
    ...full(2, 1, 5),
    ...full(2, 5, 0),
    ...full(2, 1, 7),
    ...full(2, 1, 8),
    ...full(2, 1, 3),
    ...mknod(1), // b *:* m
    ...mknod(2), // c *:* m
    'w0 = 0',
    'exit',
  ]);
});

t.test('a major/minor above 2^31-1 is compared as 32 bits (the 64-bit immediate is sign-extended)', async (t) => {
  const p = deviceFilter([DENY_ALL, { allow: true, type: 'c', major: 0xfffffffe, minor: 0x7fffffff }]);
  t.same(p.slice(6, 9).map(disasm), ['if r2 != 2 goto +4', 'if w4 != 4294967294 goto +3', 'if r5 != 2147483647 goto +2']);
  t.equal(p[7]!.code, 0x56, 'BPF_JMP32 | BPF_JNE | BPF_K');
  t.equal(p[8]!.code, 0x55, 'BPF_JMP | BPF_JNE | BPF_K');
});

t.test('encoding: struct bpf_insn, little-endian, dst in the low nibble', async (t) => {
  const bytes = Buffer.from(encode(deviceFilter([DENY_ALL, { allow: false, type: 'c', major: 1, minor: 7, access: 'w' }])));
  t.equal(bytes.length, 8 * deviceFilter([DENY_ALL, { allow: false, type: 'c', major: 1, minor: 7, access: 'w' }]).length);
  const at = (i: number): string => bytes.subarray(i * 8, i * 8 + 8).toString('hex');
  t.equal(at(0), '6112000000000000', 'r2 = *(u32 *)(r1 + 0)');
  t.equal(at(1), '54020000ffff0000', 'w2 &= 0xffff');
  t.equal(at(3), '7403000010000000', 'w3 >>= 16');
  t.equal(at(4), '6114040000000000', 'r4 = *(u32 *)(r1 + 4)');
  t.equal(at(6), '5502060002000000', 'if r2 != 2 goto +6');
  t.equal(at(9), '4503010004000000', 'if r3 & 4 goto +1');
  t.equal(at(10), '0500020000000000', 'goto +2');
  t.equal(at(11), 'b400000000000000', 'w0 = 0');
  t.equal(at(12), '9500000000000000', 'exit');
  const big = Buffer.from(encode(deviceFilter([{ allow: true, type: 'b', major: 0xfffffffe }])));
  t.equal(big.subarray(56, 64).toString('hex'), '56040200feffffff', 'if w4 != 0xfffffffe goto +2');
  t.equal(Buffer.from(encode(deviceFilter([{ allow: false, type: 'c', access: 'rw' }]))).subarray(56, 64).toString('hex'),
    '4503010006000000', 'if r3 & (READ|WRITE) goto +1');
});

t.test("access letters other than r, w and m are ignored, as runc's Permissions set does", async (t) => {
  t.same(Buffer.from(encode(deviceFilter([DENY_ALL, { allow: true, type: 'c', access: 'rx' }]))),
    Buffer.from(encode(deviceFilter([DENY_ALL, { allow: true, type: 'c', access: 'r' }]))), '"rx" is "r"');
  t.same(Buffer.from(encode(deviceFilter([DENY_ALL, { allow: false, type: 'c', major: 1, minor: 11, access: 'rwa' }]))),
    Buffer.from(encode(deviceFilter([DENY_ALL, { allow: false, type: 'c', major: 1, minor: 11, access: 'rw' }]))), '"rwa" is "rw"');
  t.same(Buffer.from(encode(deviceFilter([DENY_ALL, { allow: true, type: 'c', access: 'a' }]))),
    Buffer.from(encode(deviceFilter([DENY_ALL]))), 'a rule with none of r, w, m decides nothing');
});

t.test('invalid rules are errors naming the rule', async (t) => {
  t.throws(() => deviceFilter([{ allow: true, type: 'u' as 'c' }]), /^cgroup: linux.resources.devices\[0\]: invalid device type "u"$/);
  t.throws(() => deviceFilter([{ allow: true, type: 'c', major: 2 ** 32 }]), /^cgroup: linux.resources.devices\[0\]: invalid major 4294967296$/);
  t.throws(() => deviceFilter([{ allow: true, type: 'c', minor: 1.5 }]), /invalid minor 1.5/);
  t.same(effectiveRules([{ allow: true, type: 'c', major: 0xffffffff }]).rules[0]?.major, 0xffffffff, '2^32-1 is a valid u32');
});

// ---- semantics: run the program ------------------------------------------------------------

const U64 = (1n << 64n) - 1n;
const sext32 = (imm: number): bigint => BigInt.asUintN(64, BigInt(imm | 0));

/** Runs a program of the opcodes the generator emits on a bpf_cgroup_dev_ctx; returns r0. */
function run(p: Insn[], devType: number, access: number, major: number, minor: number): number {
  const ctx = [BigInt(((access << 16) | devType) >>> 0), BigInt(major >>> 0), BigInt(minor >>> 0)];
  const r: bigint[] = new Array<bigint>(11).fill(0n);
  let pc = 0;
  for (let steps = 0; steps < 10000; steps++) {
    const i = p[pc];
    if (!i) throw new Error(`fell off the program at ${pc}`);
    const jump = (cond: boolean): void => {
      if (i.off < 0) throw new Error('backward jump');
      pc += cond ? i.off + 1 : 1;
    };
    const lo = (v: bigint): bigint => v & 0xffffffffn;
    switch (i.code) {
      case 0x61:
        if (i.src !== 1 || i.off % 4 !== 0 || i.off > 8) throw new Error(`bad ctx load at ${pc}`);
        r[i.dst] = ctx[i.off / 4]!;
        pc++;
        break;
      case 0x54: r[i.dst] = lo(r[i.dst]! & sext32(i.imm)); pc++; break;
      case 0x74: r[i.dst] = lo(r[i.dst]!) >> BigInt(i.imm); pc++; break;
      case 0xb4: r[i.dst] = lo(sext32(i.imm)); pc++; break;
      case 0x05: jump(true); break;
      case 0x55: jump(r[i.dst]! !== (sext32(i.imm) & U64)); break;
      case 0x56: jump(lo(r[i.dst]!) !== lo(sext32(i.imm))); break;
      case 0x45: jump((r[i.dst]! & sext32(i.imm)) !== 0n); break;
      case 0x95: return Number(r[0]);
      default: throw new Error(`unexpected opcode 0x${i.code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('no exit');
}

/** The rules read directly: per asked access bit, the last rule matching the device and having the bit. */
function expected(rules: DeviceCgroup[], type: 'c' | 'b', access: string, major: number, minor: number): boolean {
  return [...access].every((bit) => {
    let verdict = false;
    for (const r of rules) {
      const any = (v: number | undefined): boolean => v === undefined || v < 0;
      const matches = ((r.type ?? 'a') === 'a' || r.type === type) && (any(r.major) || r.major === major) &&
        (any(r.minor) || r.minor === minor) && (r.access || 'rwm').includes(bit);
      if (matches) verdict = r.allow;
    }
    return verdict;
  });
}

const ACCESS = ['r', 'w', 'm', 'rw', 'rm', 'wm', 'rwm'];
const bits = (a: string): number =>
  (a.includes('r') ? BPF_DEVCG_ACC_READ : 0) | (a.includes('w') ? BPF_DEVCG_ACC_WRITE : 0) | (a.includes('m') ? BPF_DEVCG_ACC_MKNOD : 0);
const MAJORS = [0, 1, 5, 136, 0xfffffffe];
const MINORS = [0, 3, 7, 0x80000001];

function mismatches(rules: DeviceCgroup[]): string[] {
  const p = deviceFilter(rules);
  const bad: string[] = [];
  for (const type of ['c', 'b'] as const) {
    for (const major of MAJORS) {
      for (const minor of MINORS) {
        for (const a of ACCESS) {
          const got = run(p, type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, bits(a), major, minor);
          const want = expected(rules, type, a, major, minor) ? 1 : 0;
          if (got !== want) bad.push(`${type} ${major}:${minor} ${a}: got ${got}, want ${want}`);
        }
      }
    }
  }
  return bad;
}

t.test('the program answers as the rules read (hand-picked lists)', async (t) => {
  const lists: Record<string, DeviceCgroup[]> = {
    "runc's defaults": [DENY_ALL, ...DEFAULT_ALLOWED_DEVICES],
    'later deny wins over an earlier allow': [DENY_ALL, { allow: true, type: 'c', major: 1, minor: 7 }, { allow: false, type: 'c', major: 1, minor: 7, access: 'w' }],
    'later allow wins over an earlier deny': [DENY_ALL, { allow: false, type: 'c', major: 1, minor: 7 }, { allow: true, type: 'c', major: 1, minor: 7, access: 'r' }],
    'a hole in an allowed wildcard': [DENY_ALL, { allow: true, type: 'c', major: 1 }, { allow: false, type: 'c', major: 1, minor: 3, access: 'rw' }],
    'split access bits add up': [DENY_ALL, { allow: true, type: 'c', major: 1, minor: 3, access: 'r' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'w' }],
    'blacklist': [{ allow: true }, { allow: false, type: 'b' }, { allow: false, type: 'c', minor: 7, access: 'm' }],
    'reset in the middle': [{ allow: true, type: 'c', major: 5 }, DENY_ALL, { allow: true, type: 'c', major: 1, access: 'rm' }],
    'partial a rules': [{ allow: true, access: 'm' }, { allow: false, type: 'a', access: 'w' }, { allow: true, type: 'a', major: 136, access: 'w' }],
    'huge numbers': [DENY_ALL, { allow: true, type: 'c', major: 0xfffffffe, minor: 0x80000001 }, { allow: true, type: 'b', minor: 0 }],
    'no deny-all first': [{ allow: true, type: 'c', major: 1, minor: 3 }],
  };
  for (const [name, rules] of Object.entries(lists)) t.same(mismatches(rules), [], name);
});

t.test('the program answers as the rules read (600 pseudo-random lists)', async (t) => {
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const pick = <T>(a: readonly T[]): T => a[rnd(a.length)]!;
  const failures: string[] = [];
  for (let n = 0; n < 600; n++) {
    const rules: DeviceCgroup[] = [];
    const len = rnd(8);
    for (let i = 0; i < len; i++) {
      const r: DeviceCgroup = { allow: rnd(2) === 0 };
      const type = pick([undefined, 'a', 'c', 'b'] as const);
      if (type) r.type = type;
      const major = pick([undefined, -1, ...MAJORS]);
      if (major !== undefined) r.major = major;
      const minor = pick([undefined, -1, ...MINORS]);
      if (minor !== undefined) r.minor = minor;
      const access = pick([undefined, '', ...ACCESS]);
      if (access !== undefined) r.access = access;
      rules.push(r);
    }
    const bad = mismatches(rules);
    if (bad.length) failures.push(`${JSON.stringify(rules)}: ${bad.slice(0, 3).join('; ')}`);
  }
  t.same(failures, []);
});
