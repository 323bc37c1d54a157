// linux.seccomp -> a BPF program (compiled by libseccomp in the parent) and seccomp() flags.
import type { Seccomp, State } from '../spec/types.js';
import { loadLibSeccomp, type ArgCmp, type LibSeccomp } from '../native/libseccomp.js';
import { initJson } from '../native/plan.js';
import { AUDIT_ARCH_X86_64, MAX_INSNS, SCMP_ARCH_X32, enosysStub, type ArchLimits } from './seccomp-enosys.js';
import { endianness } from 'node:os';

const EPERM = 1;

export const SECCOMP_ACTIONS = [
  'SCMP_ACT_KILL',
  'SCMP_ACT_KILL_PROCESS',
  'SCMP_ACT_KILL_THREAD',
  'SCMP_ACT_TRAP',
  'SCMP_ACT_ERRNO',
  'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW',
  'SCMP_ACT_LOG',
  'SCMP_ACT_NOTIFY',
] as const;

export const SECCOMP_OPERATORS: Record<string, number> = {
  SCMP_CMP_NE: 1,
  SCMP_CMP_LT: 2,
  SCMP_CMP_LE: 3,
  SCMP_CMP_EQ: 4,
  SCMP_CMP_GE: 5,
  SCMP_CMP_GT: 6,
  SCMP_CMP_MASKED_EQ: 7,
};

export const SECCOMP_FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

export const SECCOMP_ARCHES = [
  'SCMP_ARCH_X86', 'SCMP_ARCH_X86_64', 'SCMP_ARCH_X32', 'SCMP_ARCH_ARM', 'SCMP_ARCH_AARCH64',
  'SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64', 'SCMP_ARCH_MIPS64N32', 'SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64',
  'SCMP_ARCH_MIPSEL64N32', 'SCMP_ARCH_PPC', 'SCMP_ARCH_PPC64', 'SCMP_ARCH_PPC64LE', 'SCMP_ARCH_S390',
  'SCMP_ARCH_S390X', 'SCMP_ARCH_PARISC', 'SCMP_ARCH_PARISC64', 'SCMP_ARCH_RISCV64',
];

export function actionValue(action: string, errnoRet: number | undefined, defaultErrno: number | undefined): number {
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return 0x00000000;
    case 'SCMP_ACT_KILL_PROCESS':
      return 0x80000000;
    case 'SCMP_ACT_TRAP':
      return 0x00030000;
    case 'SCMP_ACT_ERRNO':
      return (0x00050000 | ((errnoRet ?? defaultErrno ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_TRACE':
      return (0x7ff00000 | ((errnoRet ?? defaultErrno ?? EPERM) & 0xffff)) >>> 0;
    case 'SCMP_ACT_LOG':
      return 0x7ffc0000;
    case 'SCMP_ACT_ALLOW':
      return 0x7fff0000;
    default: // SCMP_ACT_NOTIFY: the last of the schema's enum
      return 0x7fc00000;
  }
}

const SECCOMP_FILTER_FLAG_NEW_LISTENER = 8;
const SECCOMP_FILTER_FLAG_TSYNC_ESRCH = 16;

export interface CompiledSeccomp {
  program: Uint8Array;
  flags: number;
  /** Some rule notifies a listener (SCMP_ACT_NOTIFY): the filter is loaded with a listener fd. */
  notify: boolean;
}

/**
 * Compiles a judged profile (actions, operators, architectures and flags: the schema's enums;
 * the notify rules: semantics.ts). What it still refuses is decided by this host: a flag or
 * notify that the kernel lacks, an architecture that this libseccomp does not know, a filter
 * longer than the kernel takes.
 */
export async function compileSeccomp(s: Seccomp): Promise<CompiledSeccomp> {
  let flags = 0;
  for (const f of s.flags ?? []) flags |= SECCOMP_FLAGS[f]!;
  const defaultAction = actionValue(s.defaultAction, s.defaultErrnoRet, undefined);
  const notify = s.defaultAction === 'SCMP_ACT_NOTIFY' || (s.syscalls ?? []).some((r) => r.action === 'SCMP_ACT_NOTIFY');
  const lib = await loadLibSeccomp();
  for (const f of s.flags ?? []) {
    if (!lib.filterFlagSupported(SECCOMP_FLAGS[f]!)) throw new Error(`linux.seccomp.flags: ${f} is not supported by this kernel`);
  }
  // As libseccomp does it: WAIT_KILLABLE_RECV only means something for a listener (the kernel
  // refuses it alone), and TSYNC next to a listener needs TSYNC_ESRCH (the kernel refuses the pair).
  if (!notify) flags &= ~SECCOMP_FLAGS.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV!;
  if (notify) {
    // runc's words (it asks libseccomp's API level): the kernel must hand out a listener fd
    if (!lib.filterFlagSupported(SECCOMP_FILTER_FLAG_NEW_LISTENER)) {
      throw new Error('linux.seccomp: seccomp notify unsupported: this kernel has no SECCOMP_FILTER_FLAG_NEW_LISTENER (Linux >= 5.0 needed)');
    }
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    if (flags & SECCOMP_FLAGS.SECCOMP_FILTER_FLAG_TSYNC!) flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  }
  const program = lib.compile((f) => {
    for (const a of s.architectures ?? []) {
      const token = lib.resolveArch(a.replace(/^SCMP_ARCH_/, '').toLowerCase());
      if (!token) throw new Error(`linux.seccomp.architectures: unknown architecture ${a}`);
      f.addArch(token);
    }
    for (const rule of s.syscalls ?? []) {
      const action = actionValue(rule.action, rule.errnoRet, undefined);
      if (action === defaultAction) continue; // libseccomp refuses rules equal to the default
      const conds: ArgCmp[] = (rule.args ?? []).map((a) => ({ arg: a.index, op: SECCOMP_OPERATORS[a.op]!, a: BigInt(a.value), b: BigInt(a.valueTwo ?? 0) }));
      // libseccomp wants each argument at most once per rule; runc turns repeats into one rule each.
      const repeated = new Set(conds.map((c) => c.arg)).size !== conds.length;
      for (const name of rule.names) {
        const nr = lib.resolveSyscall(name);
        // libseccomp: -1 is an unknown name (skipped, as runc does); other negative numbers are
        // pseudo-syscalls of the other architectures (socketcall, ipc on x86) and are kept.
        if (nr === -1) continue;
        if (repeated) for (const c of conds) f.addRule(action, nr, [c]);
        else f.addRule(action, nr, conds);
      }
    }
  }, defaultAction);
  const stub = needsEnosysStub(s) ? enosysStub(archLimits(s, lib), endianness() === 'LE') : new Uint8Array(0);
  const full = new Uint8Array(stub.length + program.length);
  full.set(stub);
  full.set(program, stub.length);
  if (full.length / 8 > MAX_INSNS) {
    throw new Error(`linux.seccomp: the filter has ${full.length / 8} instructions, more than the kernel's limit of ${MAX_INSNS}`);
  }
  return { program: full, flags, notify };
}

const ENOSYS = 38;

/** As runc: not when the default lets syscalls through (a tracer handles new ones itself) or is ENOSYS already. */
function needsEnosysStub(s: Seccomp): boolean {
  if (['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE'].includes(s.defaultAction)) return false;
  return !(s.defaultAction === 'SCMP_ACT_ERRNO' && s.defaultErrnoRet === ENOSYS);
}

/** The largest syscall number the profile names (any action), per architecture of the filter and the native one. */
function archLimits(s: Seccomp, lib: LibSeccomp): ArchLimits[] {
  const tokens = new Set<number>([lib.nativeArch()]);
  for (const a of s.architectures ?? []) {
    const token = lib.resolveArch(a.replace(/^SCMP_ARCH_/, '').toLowerCase());
    if (token) tokens.add(token);
  }
  const names = new Set((s.syscalls ?? []).flatMap((r) => r.names));
  const byAudit = new Map<number, ArchLimits>();
  for (const token of tokens) {
    let max = 0;
    for (const name of names) max = Math.max(max, lib.resolveSyscallArch(token, name));
    if (max <= 0) continue; // no syscall of the profile exists there
    const x32 = token === SCMP_ARCH_X32;
    const audit = x32 ? AUDIT_ARCH_X86_64 : token;
    const entry = byAudit.get(audit) ?? { audit };
    if (x32) entry.x32Max = max;
    else entry.max = max;
    byAudit.set(audit, entry);
  }
  return [...byAudit.values()];
}

/**
 * The "container process state" a seccomp listener receives with the notify fd: `pid` is the
 * process's (for exec, not the container's: pidInInit(), as it forks), state.pid the container's.
 */
export function processStateJson(s: Seccomp, state: State, processPid = state.pid): string {
  return initJson({
    ociVersion: state.ociVersion,
    fds: ['seccompFd'],
    pid: processPid,
    metadata: s.listenerMetadata ?? '',
    state,
  });
}
