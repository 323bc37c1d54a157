// Device rules on cgroup v2: linux.resources.devices compiled into a BPF_PROG_TYPE_CGROUP_DEVICE
// program, attached to the container's cgroup (replacing the one tsrun attached before).
//
// Semantics: the last rule that matches a device decides, for each access bit asked for (an open
// for reading and writing asks r and w together; both must be allowed). An "a" rule without
// major/minor and with rwm matches everything, so it resets: the rules before it never matter and
// its verdict is the default. Without one, the default is deny (the rules are an allow list).
// The program walks the rules from the last one back: a matching deny that covers an asked bit
// returns 0; a matching allow clears its bits from the asked set and returns 1 once none is left.
// runc gets the same answers for the rule lists cgroup v1 can express (it emulates v1: merged
// exceptions per device); where v1 cannot (a deny punching a hole in an allowed wildcard, which
// runc refuses), the later rule still wins here.
import { deviceAccess } from './device-access.js';
import * as fs from 'node:fs';
import type { DeviceCgroup } from '../spec/types.js';
import { type Bpf, closeFd, loadBpf, openCgroupDir } from '../native/bpf.js';
import { CgroupError, DEFAULT_ROOT, cgroupRoot, describeError, errnoCode, warn } from './fs.js';

export const BPF_DEVCG_ACC_MKNOD = 1;
export const BPF_DEVCG_ACC_READ = 2;
export const BPF_DEVCG_ACC_WRITE = 4;
export const BPF_DEVCG_DEV_BLOCK = 1;
export const BPF_DEVCG_DEV_CHAR = 2;
const ACC_ALL = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;

/** The name tsrun's programs carry; how an update finds the program to replace. */
export const PROGRAM_NAME = 'tsrun_devices';
/** No GPL-only helper is called; the project's license. */
export const LICENSE = 'Apache';

/** struct bpf_insn. */
export interface Insn {
  code: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

// Opcodes used (class | op | source).
const LDX_MEM_W = 0x61; // dst = *(u32 *)(src + off)
const ALU32_AND_K = 0x54;
const ALU32_RSH_K = 0x74;
const ALU32_MOV_K = 0xb4;
const JMP_JA = 0x05;
const JMP_JNE_K = 0x55;
const JMP32_JNE_K = 0x56;
const JMP_JSET_K = 0x45;
const JMP_EXIT = 0x95;

const R0 = 0;
const R1 = 1; // struct bpf_cgroup_dev_ctx *: u32 access_type (access << 16 | type), u32 major, u32 minor
const R_TYPE = 2;
const R_ACCESS = 3; // the asked access bits not decided yet
const R_MAJOR = 4;
const R_MINOR = 5;

const insn = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });

/** A rule with its defaults filled in: type "a", any major/minor (-1), access rwm. */
export interface DeviceMatch {
  allow: boolean;
  type: 'a' | 'c' | 'b';
  major: number;
  minor: number;
  /** BPF_DEVCG_ACC_* bits. */
  access: number;
}

const MAX_U32 = 0xffffffff;

export function normalizeRule(r: DeviceCgroup, index: number): DeviceMatch {
  const at = `linux.resources.devices[${index}]`;
  const type = r.type ?? 'a';
  if (type !== 'a' && type !== 'c' && type !== 'b') throw new CgroupError(`${at}: invalid device type ${JSON.stringify(type)}`);
  const num = (v: number | undefined, what: string): number => {
    if (v === undefined || v === null || v < 0) return -1;
    if (!Number.isInteger(v) || v > MAX_U32) throw new CgroupError(`${at}: invalid ${what} ${v}`);
    return v;
  };
  let access = 0;
  for (const ch of deviceAccess(r.access) ?? '') {
    if (ch === 'r') access |= BPF_DEVCG_ACC_READ;
    else if (ch === 'w') access |= BPF_DEVCG_ACC_WRITE;
    else access |= BPF_DEVCG_ACC_MKNOD;
  }
  return { allow: !!r.allow, type, major: num(r.major, 'major'), minor: num(r.minor, 'minor'), access };
}

const matchesAll = (m: DeviceMatch): boolean => m.type === 'a' && m.major < 0 && m.minor < 0 && m.access === ACC_ALL;

/** The rules that can matter (after the last match-all rule) and the verdict when none matches. */
export function effectiveRules(rules: readonly DeviceCgroup[]): { rules: DeviceMatch[]; defaultAllow: boolean } {
  // A rule naming none of r, w, m decides nothing (runc ignores it too).
  const all = rules.map(normalizeRule).filter((m) => m.access !== 0);
  let start = 0;
  let defaultAllow = false;
  all.forEach((m, i) => {
    if (matchesAll(m)) {
      start = i + 1;
      defaultAllow = m.allow;
    }
  });
  return { rules: all.slice(start), defaultAllow };
}

/** Placeholder offset of a jump to the next rule's block; resolved when the block is complete. */
const NEXT = 0x7fff;

/** if (reg != value) goto next; 32-bit compare for values the sign-extended 64-bit immediate cannot hold. */
const jneNext = (reg: number, value: number): Insn =>
  value > 0x7fffffff ? insn(JMP32_JNE_K, reg, 0, NEXT, value | 0) : insn(JMP_JNE_K, reg, 0, NEXT, value);

function ruleBlock(m: DeviceMatch): Insn[] {
  const b: Insn[] = [];
  if (m.type !== 'a') b.push(jneNext(R_TYPE, m.type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK));
  if (m.major >= 0) b.push(jneNext(R_MAJOR, m.major));
  if (m.minor >= 0) b.push(jneNext(R_MINOR, m.minor));
  if (m.allow) {
    if (m.access !== ACC_ALL) {
      // the bits this rule allows are decided; go on while some asked bit is not
      b.push(insn(ALU32_AND_K, R_ACCESS, 0, 0, ~m.access & ACC_ALL), insn(JMP_JNE_K, R_ACCESS, 0, NEXT, 0));
    }
    b.push(insn(ALU32_MOV_K, R0, 0, 0, 1), insn(JMP_EXIT));
  } else {
    // deny when an asked bit is one this rule denies
    if (m.access !== ACC_ALL) b.push(insn(JMP_JSET_K, R_ACCESS, 0, 1, m.access), insn(JMP_JA, 0, 0, NEXT, 0));
    b.push(insn(ALU32_MOV_K, R0, 0, 0, 0), insn(JMP_EXIT));
  }
  b.forEach((ins, i) => {
    if (ins.off === NEXT) ins.off = b.length - i - 1;
  });
  return b;
}

/** The device filter program for a rule list (in config order). Throws CgroupError on an invalid rule. */
export function deviceFilter(rules: readonly DeviceCgroup[]): Insn[] {
  const { rules: live, defaultAllow } = effectiveRules(rules);
  const p: Insn[] = [
    insn(LDX_MEM_W, R_TYPE, R1, 0),
    insn(ALU32_AND_K, R_TYPE, 0, 0, 0xffff),
    insn(LDX_MEM_W, R_ACCESS, R1, 0),
    insn(ALU32_RSH_K, R_ACCESS, 0, 0, 16),
    insn(LDX_MEM_W, R_MAJOR, R1, 4),
    insn(LDX_MEM_W, R_MINOR, R1, 8),
  ];
  for (let i = live.length - 1; i >= 0; i--) p.push(...ruleBlock(live[i]!));
  p.push(insn(ALU32_MOV_K, R0, 0, 0, defaultAllow ? 1 : 0), insn(JMP_EXIT));
  return p;
}

/** struct bpf_insn[] bytes (little-endian, as the kernel reads them on x86-64/arm64). */
export function encode(insns: readonly Insn[]): Uint8Array {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach((ins, i) => {
    b.writeUInt8(ins.code, i * 8);
    b.writeUInt8((ins.src << 4) | ins.dst, i * 8 + 1);
    b.writeInt16LE(ins.off, i * 8 + 2);
    b.writeInt32LE(ins.imm | 0, i * 8 + 4);
  });
  return b;
}

/** One instruction in the kernel verifier's notation (tests and error messages). */
export function disasm(ins: Insn): string {
  const off = ins.off >= 0 ? `+${ins.off}` : `${ins.off}`;
  switch (ins.code) {
    case LDX_MEM_W: return `r${ins.dst} = *(u32 *)(r${ins.src} + ${ins.off})`;
    case ALU32_AND_K: return `w${ins.dst} &= ${ins.imm >>> 0}`;
    case ALU32_RSH_K: return `w${ins.dst} >>= ${ins.imm}`;
    case ALU32_MOV_K: return `w${ins.dst} = ${ins.imm}`;
    case JMP_JA: return `goto ${off}`;
    case JMP_JNE_K: return `if r${ins.dst} != ${ins.imm} goto ${off}`;
    case JMP32_JNE_K: return `if w${ins.dst} != ${ins.imm >>> 0} goto ${off}`;
    case JMP_JSET_K: return `if r${ins.dst} & ${ins.imm} goto ${off}`;
    case JMP_EXIT: return 'exit';
    default: return `<code 0x${ins.code.toString(16)}>`;
  }
}

/** A device program attached to a cgroup (tsrun's carry PROGRAM_NAME). */
export interface AttachedFilter {
  id: number;
  name: string;
  tag: string;
}

/** The device programs attached to a cgroup directory itself, tsrun's and others'. */
export function attachedDeviceFilters(dir: string, bpf: Bpf = loadBpf()): AttachedFilter[] {
  const dirFd = openCgroupDir(dir);
  try {
    const out: AttachedFilter[] = [];
    for (const id of bpf.queryDevicePrograms(dirFd).ids) {
      const fd = openProgram(bpf, id);
      if (fd === undefined) continue;
      try {
        const info = bpf.programInfo(fd);
        out.push({ id: info.id, name: info.name, tag: info.tag });
      } finally {
        closeFd(fd);
      }
    }
    return out;
  } finally {
    closeFd(dirFd);
  }
}

/** An fd for an attached program; undefined when it went away or an LSM hides it (not ours then). */
function openProgram(bpf: Bpf, id: number): number | undefined {
  try {
    return bpf.programFd(id);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOENT' || code === 'EPERM' || code === 'EACCES') return undefined;
    throw e;
  }
}

const fail = (step: string, e: unknown, detail = ''): never => {
  throw new CgroupError(`linux.resources.devices: ${step}: ${describeError(e)}${detail}`, errnoCode(e));
};

/**
 * Loads the filter for `rules` and attaches it to the cgroup directory `dir`, replacing the program(s)
 * tsrun attached before (`update`) without a moment with no filter: with one old program, an atomic
 * BPF_F_REPLACE; otherwise attach first, then detach the old ones. Programs attached by others stay
 * (each attached program must allow an access, so they can only restrict further).
 */
export function applyDeviceFilter(dir: string, rules: readonly DeviceCgroup[], bpf?: Bpf): void {
  const code = encode(deviceFilter(rules));
  let sys: Bpf;
  try {
    sys = bpf ?? loadBpf();
  } catch (e) {
    return fail('bpf(2) bindings', e);
  }
  let dirFd: number;
  try {
    dirFd = openCgroupDir(dir);
  } catch (e) {
    return fail(`open ${dir}`, e);
  }
  const fds: number[] = [];
  try {
    const old: number[] = [];
    let ids: number[];
    try {
      ids = sys.queryDevicePrograms(dirFd).ids;
    } catch (e) {
      return fail(`query the device programs of ${dir}`, e);
    }
    for (const id of ids) {
      const fd = openProgram(sys, id);
      if (fd === undefined) continue;
      fds.push(fd);
      if (sys.programInfo(fd).name === PROGRAM_NAME) old.push(fd);
    }
    let prog: number;
    try {
      prog = sys.loadDeviceProgram(code, LICENSE, PROGRAM_NAME);
    } catch (e) {
      const log = (e as { verifierLog?: string }).verifierLog;
      return fail('load the device filter program', e, log ? ` (verifier: ${log})` : '');
    }
    fds.push(prog);
    if (old.length === 1) {
      try {
        sys.attachDeviceProgram(dirFd, prog, old[0]);
        return;
      } catch (e) {
        // EINVAL: a kernel before 5.6 has no BPF_F_REPLACE; attach, then detach.
        if (errnoCode(e) !== 'EINVAL') return fail(`attach the device filter to ${dir}`, e);
      }
    }
    try {
      sys.attachDeviceProgram(dirFd, prog);
    } catch (e) {
      return fail(`attach the device filter to ${dir}`, e);
    }
    for (const fd of old) {
      try {
        sys.detachDeviceProgram(dirFd, fd);
      } catch (e) {
        return fail(`detach the previous device filter from ${dir}`, e);
      }
    }
  } finally {
    for (const fd of fds) closeFd(fd);
    closeFd(dirFd);
  }
}

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** True inside a user namespace other than the initial one (bpf(2) is then usually refused). */
function inUserNamespace(): boolean {
  try {
    const map = fs.readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/);
    return !(map[0] === '0' && map[1] === '0' && map[2] === '4294967295');
  } catch {
    return false;
  }
}

const allowsEverything = (rules: readonly DeviceCgroup[]): boolean =>
  rules.every((r) => r.allow && normalizeRule(r, 0).access === ACC_ALL);

/** linux.resources.devices on cgroup v2 (what applyDevicesV2 runs). */
export function setDevicesV2(dir: string, rules: readonly DeviceCgroup[]): void {
  deviceFilter(rules); // invalid rules are an error even where nothing can be attached
  if (cgroupRoot() !== DEFAULT_ROOT && !isCgroup2(dir)) return; // a test double tree: no kernel to attach to
  try {
    applyDeviceFilter(dir, rules);
  } catch (e) {
    // Like runc: where bpf(2) is refused (a user namespace, or rootless: an unprivileged user)
    // or the rules restrict nothing, go on.
    if (inUserNamespace() || (process.geteuid?.() ?? 0) !== 0 || allowsEverything(rules)) {
      warn(`device rules not applied: ${(e as Error).message.replace(/^cgroup: /, '')}`);
      return;
    }
    throw e;
  }
}

function isCgroup2(dir: string): boolean {
  try {
    return Number(fs.statfsSync(dir).type) === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}
