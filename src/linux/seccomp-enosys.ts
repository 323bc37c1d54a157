// The -ENOSYS stub put in front of a seccomp filter (runc's patchbpf does the same): a syscall
// newer than every syscall the profile names gets ENOSYS instead of the default action, so
// that a program whose profile predates a syscall (clone3, faccessat2, ...) sees "not
// implemented" and falls back, as glibc does, rather than EPERM or a kill.
// Per architecture of the filter: syscall number > the largest number the profile names -> ENOSYS.

/** The x32 ABI: x86_64 syscalls with this bit set in the number (same AUDIT_ARCH as x86_64). */
export const X32_SYSCALL_BIT = 0x40000000;
export const AUDIT_ARCH_X86_64 = 0xc000003e;
/** libseccomp's SCMP_ARCH_X32 is not an AUDIT_ARCH value: x86_64 with X32_SYSCALL_BIT. */
export const SCMP_ARCH_X32 = 0x4000003e;
const AUDIT_ARCH_S390 = 0x16;
const AUDIT_ARCH_S390X = 0x80000016;
const ENOSYS = 38;
const SECCOMP_RET_ERRNO = 0x00050000;
/** BPF_MAXINSNS: the kernel refuses longer programs. */
export const MAX_INSNS = 4096;

// struct seccomp_data: nr at 0, arch at 4
const OFF_NR = 0;
const OFF_ARCH = 4;
const LD_W_ABS = 0x20;
const JA = 0x05;
const JEQ_K = 0x15;
const JGT_K = 0x25;
const JSET_K = 0x45;
const RET_K = 0x06;

/** The largest syscall number a profile names, per architecture of its filter. */
export interface ArchLimits {
  /** AUDIT_ARCH_* of the architecture (x32 counts as x86_64). */
  audit: number;
  /** Largest number in the architecture's own ABI (for x86_64: without X32_SYSCALL_BIT). */
  max?: number;
  /** x86_64 only: the largest x32 number (X32_SYSCALL_BIT included). */
  x32Max?: number;
}

type Label = 'filter' | number; // a section index
interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
  /** BPF_JA to this label (resolved once the layout is known). */
  to?: Label;
}

const insn = (code: number, k: number, jt = 0, jf = 0): Insn => ({ code, jt, jf, k });
const jumpTo = (to: Label): Insn => ({ code: JA, jt: 0, jf: 0, k: 0, to });
const retEnosys = (): Insn => insn(RET_K, (SECCOMP_RET_ERRNO | ENOSYS) >>> 0);

/** nr > max: ENOSYS; else on to the filter. 3 instructions, short jumps only. */
function limit(max: number): Insn[] {
  return [insn(JGT_K, max >>> 0, 0, 1), retEnosys(), jumpTo('filter')];
}

function section(a: ArchLimits): Insn[] {
  const out: Insn[] = [insn(LD_W_ABS, OFF_NR)];
  if (a.audit === AUDIT_ARCH_X86_64) {
    // x32 calls carry X32_SYSCALL_BIT: each ABI against its own largest number
    const native = a.max !== undefined ? limit(a.max) : [jumpTo('filter')];
    const x32 = a.x32Max !== undefined ? limit(a.x32Max) : [jumpTo('filter')];
    out.push(insn(JSET_K, X32_SYSCALL_BIT, native.length, 0), ...native, ...x32);
    return out;
  }
  if (a.max === undefined) return [];
  // s390: a number the kernel does not know reaches the filter as 0 (the multiplexer, setup(2))
  if (a.audit === AUDIT_ARCH_S390 || a.audit === AUDIT_ARCH_S390X) out.push(insn(JEQ_K, 0, 0, 1), retEnosys());
  out.push(...limit(a.max));
  return out;
}

/** The stub's instructions (struct sock_filter[], host byte order); empty when nothing to patch. */
export function enosysStub(arches: readonly ArchLimits[], littleEndian = true): Uint8Array {
  const used = arches
    .filter((a) => a.max !== undefined || a.x32Max !== undefined)
    .map((a) => ({ audit: a.audit, code: section(a) }))
    .filter((s) => s.code.length > 0);
  if (!used.length) return new Uint8Array(0);
  const sections = used.map((s) => s.code);
  // ld arch; per arch: jeq A,0,1 + ja section; ja filter (another architecture); the sections
  const head: Insn[] = [insn(LD_W_ABS, OFF_ARCH)];
  used.forEach((s, i) => head.push(insn(JEQ_K, s.audit >>> 0, 0, 1), jumpTo(i)));
  head.push(jumpTo('filter'));
  const starts: number[] = [];
  let at = head.length;
  for (const s of sections) {
    starts.push(at);
    at += s.length;
  }
  const all = [...head, ...sections.flat()];
  const filterAt = all.length;
  const out = new Uint8Array(all.length * 8);
  const view = new DataView(out.buffer);
  all.forEach((x, pc) => {
    let k = x.k;
    if (x.to !== undefined) k = (x.to === 'filter' ? filterAt : starts[x.to]!) - (pc + 1);
    view.setUint16(pc * 8, x.code, littleEndian);
    view.setUint8(pc * 8 + 2, x.jt);
    view.setUint8(pc * 8 + 3, x.jf);
    view.setUint32(pc * 8 + 4, k >>> 0, littleEndian);
  });
  return out;
}
