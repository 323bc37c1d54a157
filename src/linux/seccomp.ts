// linux.seccomp -> a BPF program (compiled by libseccomp in the parent) and seccomp() flags.
import type { Seccomp, State } from '../spec/types.js';
import { loadLibSeccomp, type ArgCmp } from '../shim/libseccomp.js';
import { initJson } from '../shim/plan.js';

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
    case 'SCMP_ACT_NOTIFY':
      return 0x7fc00000;
    default:
      throw new Error(`linux.seccomp: unknown action ${action}`);
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

export async function compileSeccomp(s: Seccomp): Promise<CompiledSeccomp> {
  let flags = 0;
  for (const f of s.flags ?? []) {
    const v = SECCOMP_FLAGS[f];
    if (v === undefined) throw new Error(`linux.seccomp.flags: unknown or unsupported flag ${f}`);
    flags |= v;
  }
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
    if (!s.listenerPath) throw new Error('linux.seccomp: SCMP_ACT_NOTIFY needs a listenerPath');
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
      const conds: ArgCmp[] = (rule.args ?? []).map((a) => {
        const op = SECCOMP_OPERATORS[a.op];
        if (op === undefined) throw new Error(`linux.seccomp: unknown operator ${a.op}`);
        return { arg: a.index, op, a: BigInt(a.value), b: BigInt(a.valueTwo ?? 0) };
      });
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
  return { program, flags, notify };
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
