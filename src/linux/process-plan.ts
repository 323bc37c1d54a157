// The container process: rlimits, scheduling, identity, capabilities, no_new_privs, seccomp,
// terminal, the executable lookup — the tail of every plan (create and exec).
import type { Capabilities, Process } from '../spec/types.js';
import type { PlanOp } from '../native/plan.js';
import { Op } from '../native/ops.js';
import { capabilityNumber } from '../spec/capabilities.js';
import { rlimitNumber } from '../spec/rlimits.js';
import { parseIdList } from '../spec/semantics.js';
import { planLsm, type LsmHost } from './lsm.js';

export interface ProcessContext {
  /** fd of the connected console socket in tsrun-init (terminal: true). */
  consoleFd?: number;
  /** Bind the pty on /dev/console (a new container, not an exec). */
  bindConsole?: boolean;
  /** The plan set up the console already (consoleOp): no session to create. */
  consoleDone?: boolean;
  /** Seccomp: a raw BPF program and its flags, compiled by the parent; with a notify listener,
   * the connected socket's fd and the process state sent with the notify fd. */
  seccomp?: { program: Uint8Array; flags: number; listenerFd?: number; listenerState?: string };
  /** First fd that the container must not inherit (3 + preserved fds). */
  firstClosedFd: number;
  /** Ops that go between the preparation and the exec (READY, WAIT_START, startContainer hooks). */
  beforeExec: PlanOp[];
  /** The host's LSMs (HostFacts.lsm). */
  lsm: LsmHost;
}

const IOPRIO_CLASS: Record<string, number> = {
  IOPRIO_CLASS_RT: 1,
  IOPRIO_CLASS_BE: 2,
  IOPRIO_CLASS_IDLE: 3,
};

const SCHED_POLICY: Record<string, number> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};

const SCHED_FLAG: Record<string, number> = {
  SCHED_FLAG_RESET_ON_FORK: 0x01,
  SCHED_FLAG_RECLAIM: 0x02,
  SCHED_FLAG_DL_OVERRUN: 0x04,
  SCHED_FLAG_KEEP_POLICY: 0x08,
  SCHED_FLAG_KEEP_PARAMS: 0x10,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40,
};

function capMask(names: readonly string[] | undefined): [number, number] {
  let lo = 0;
  let hi = 0;
  for (const n of names ?? []) {
    const bit = capabilityNumber(n);
    if (bit === undefined) continue; // unknown names are rejected by validation
    if (bit < 32) lo = (lo | (1 << bit)) >>> 0;
    else hi = (hi | (1 << (bit - 32))) >>> 0;
  }
  return [lo, hi];
}

/** RLIM_INFINITY is 2^64-1, which JSON numbers round up to 2^64: both mean infinity (-1). */
function rlimValue(v: number): bigint {
  return v >= 2 ** 63 || v < 0 ? -1n : BigInt(Math.trunc(v));
}

function envPath(env: readonly string[]): string {
  const e = env.find((x) => x.startsWith('PATH='));
  return e ? e.slice(5) : '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
}

export function planProcess(p: Process, ctx: ProcessContext): PlanOp[] {
  const ops: PlanOp[] = [];
  if (p.oomScoreAdj !== undefined) ops.push({ op: Op.OOM_SCORE_ADJ, ints: [p.oomScoreAdj], what: `set oom_score_adj to ${p.oomScoreAdj}` });
  // The process was judged (src/spec): rlimit types by semantics.ts, the classes, policies and
  // flags below by the schema's enums, the CPU list by semantics.ts.
  for (const r of p.rlimits ?? []) {
    ops.push({ op: Op.RLIMIT, ints: [rlimitNumber(r.type)!, rlimValue(r.soft), rlimValue(r.hard)], what: `set ${r.type} to ${r.soft}/${r.hard}` });
  }
  if (p.ioPriority) {
    ops.push({ op: Op.IOPRIO, ints: [(IOPRIO_CLASS[p.ioPriority.class]! << 13) | p.ioPriority.priority], what: 'set the I/O priority' });
  }
  if (p.scheduler) {
    const s = p.scheduler;
    const policy = SCHED_POLICY[s.policy]!;
    let flags = 0;
    for (const f of s.flags ?? []) flags |= SCHED_FLAG[f]!;
    ops.push({
      op: Op.SCHED,
      ints: [policy, flags, s.nice ?? 0, s.priority ?? 0, s.runtime ?? 0, s.deadline ?? 0, s.period ?? 0],
      what: `set the scheduler ${s.policy}`,
    });
  }
  if (p.execCPUAffinity?.final) {
    ops.push({ op: Op.AFFINITY, ints: parseIdList(p.execCPUAffinity.final)!, what: 'set the CPU affinity' });
  }
  if (ctx.consoleFd !== undefined) ops.push(consoleOp(p, ctx.consoleFd, ctx.bindConsole === true));
  else if (!ctx.consoleDone) ops.push({ op: Op.SETSID, what: 'create a session' });
  ops.push({ op: Op.CHDIR, strs: [p.cwd], what: `change to the working directory "${p.cwd}"` });
  // labels for the next execve, written before seccomp and the user switch, as runc does
  ops.push(...planLsm(p, ctx.lsm));
  const nnp = p.noNewPrivileges === true;
  if (ctx.seccomp && !nnp) ops.push(seccompOp(ctx.seccomp));
  ops.push(...planIdentity(p));
  if (nnp) ops.push({ op: Op.NO_NEW_PRIVS, what: 'set no_new_privs' });
  ops.push({ op: Op.UMASK, ints: [p.user.umask ?? 0o022], what: 'set the umask' });
  const args = p.args ?? [];
  const env = p.env ?? [];
  ops.push({ op: Op.LOOKUP, strs: [args[0] ?? '', envPath(env)], what: `exec: "${args[0] ?? ''}"` });
  ops.push({ op: Op.CLOSE_FDS, ints: [ctx.firstClosedFd], what: 'close inherited file descriptors' });
  // As late as possible, yet before READY (as runc): a filter that fails to load fails create or
  // exec, and the startContainer hooks run under it (runc runs them in the init, filtered).
  if (ctx.seccomp && nnp) ops.push(seccompOp(ctx.seccomp));
  ops.push(...ctx.beforeExec);
  ops.push({ op: Op.EXEC, ints: [args.length, env.length], strs: [...args, ...env], what: `exec "${args[0] ?? ''}"` });
  return ops;
}

/** The pty (a new session with it as the controlling terminal); bound on /dev/console for a new container. */
export function consoleOp(p: Process, consoleFd: number, bindConsole: boolean): PlanOp {
  const rows = p.consoleSize?.height ?? 0;
  const cols = p.consoleSize?.width ?? 0;
  return { op: Op.CONSOLE, ints: [consoleFd, rows, cols, bindConsole ? 1 : 0], what: 'set up the console' };
}

function seccompOp(s: NonNullable<ProcessContext['seccomp']>): PlanOp {
  return {
    op: Op.SECCOMP,
    ints: [s.flags, s.listenerFd ?? -1],
    strs: [s.program, s.listenerState ?? ''],
    what: 'load the seccomp filter',
  };
}

/** Bounding set, user and groups, then the capability sets (runc's finalizeNamespace order). */
function planIdentity(p: Process): PlanOp[] {
  const caps: Capabilities = p.capabilities ?? {};
  const [bLo, bHi] = capMask(caps.bounding);
  const [eLo, eHi] = capMask(caps.effective);
  const [pLo, pHi] = capMask(caps.permitted);
  const [iLo, iHi] = capMask(caps.inheritable);
  // The kernel only keeps ambient caps that are also permitted and inheritable; runc silently
  // ends up with the same intersection.
  const [aLo0, aHi0] = capMask(caps.ambient);
  const aLo = (aLo0 & pLo & iLo) >>> 0;
  const aHi = (aHi0 & pHi & iHi) >>> 0;
  const u = p.user;
  return [
    { op: Op.CAP_BOUNDING, ints: [bLo, bHi], what: 'drop capabilities from the bounding set' },
    ...(u.uid !== 0 ? [{ op: Op.STDIO_CHOWN, ints: [u.uid], what: `give the stdio to user ${u.uid}` }] : []),
    { op: Op.USER, ints: [u.uid, u.gid, ...(u.additionalGids ?? [])], what: `set user ${u.uid}:${u.gid}` },
    { op: Op.CAP_SET, ints: [eLo, eHi, pLo, pHi, iLo, iHi, aLo, aHi], what: 'set capabilities' },
  ];
}
