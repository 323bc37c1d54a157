// Parent side of the tsrun-init protocol (ffi/PLAN.md): spawn init, send the plan,
// answer SYNCs, follow FORKs, and turn `E <index> <errno> <detail>` into one clear error.
import { readSync, writeSync } from 'node:fs';
import { encodePlan, type PlanOp } from './plan.js';
import { Op } from './ops.js';
import { initPath } from './support-files.js';
import { errnoName, loadNative, O_CLOEXEC, SysError, WNOHANG, type Native, type Rlimit, type WaitResult } from './native.js';
import type { CgroupEntry } from '../cgroups/manage.js';

export interface LaunchOptions {
  /** The plan, or a function building it once the init's pid is known (after onSpawn). */
  plan: readonly PlanOp[] | ((initPid: number) => readonly PlanOp[]);
  /**
   * The cgroup the init starts in: it is cloned into the cgroup2 one and joins the v1 ones
   * itself before its first op. Its fds are closed once the init has them.
   */
  cgroup?: CgroupEntry;
  /**
   * Join the v1 cgroups (and, where the clone into the cgroup2 one was refused, that one too)
   * right after the plan's last FORK rather than first: only the process that goes on to exec
   * enters, as with runc's exec, so a container at its pids.max can still be exec'd into.
   */
  joinAfterFork?: boolean;
  /** Called after clone, before the plan is sent: write id maps, move net devices. */
  onSpawn?: (initPid: number) => void | Promise<void>;
  /** CLONE_NEW* flags applied by clone() itself. */
  cloneFlags: number;
  /** fds (> 2) init must inherit, e.g. the exec fifo or the console socket. */
  keepFds?: readonly number[];
  rlimits?: readonly Rlimit[];
  /** Called for `S <code>`; the init goes on when it resolves, aborts when it throws. */
  onSync?: (code: string, pid: number) => void | Promise<void>;
  /** Called when a FORK op made `pid` the container's process. */
  onPid?: (pid: number) => void;
  /** Defaults to the built tsrun-init. */
  init?: string;
  native?: Native;
}

export interface Launched {
  /** The process that goes on to exec the container process (after FORKs). */
  pid: number;
  /** The process spawned first (equal to pid without FORK ops). */
  initPid: number;
}

/** An op of the plan failed inside tsrun-init. */
export class InitOpError extends Error {
  readonly index: number;
  readonly op: PlanOp | undefined;
  readonly errno: number;
  readonly code: string;
  readonly detail: string;
  constructor(index: number, op: PlanOp | undefined, errno: number, cause: string, detail: string) {
    const what = op?.what ?? `plan step ${index}`;
    super(`${what}: ${cause}`);
    this.name = 'InitOpError';
    this.index = index;
    this.op = op;
    this.errno = errno;
    this.code = errno ? errnoName(errno) : '';
    this.detail = detail;
  }
}

/** tsrun-init ended (or could not be talked to) before reporting READY. */
export class InitExitError extends Error {
  readonly status: WaitResult | null;
  constructor(message: string, status: WaitResult | null) {
    super(message);
    this.name = 'InitExitError';
    this.status = status;
  }
}

/**
 * How long tsrun waits for the init's next message (its setup between two syncs): far more than
 * any setup takes; an init that never answers (its cgroup frozen, a hung mount) must not hang
 * create. TSRUN_INIT_TIMEOUT (seconds) overrides it.
 */
function initTimeoutMs(): number {
  const s = Number(process.env.TSRUN_INIT_TIMEOUT);
  return Number.isFinite(s) && s > 0 ? s * 1000 : 60_000;
}

/** The init did not answer within initTimeoutMs(). */
export class InitTimeoutError extends Error {
  constructor(seconds: number) {
    super(`tsrun-init did not report within ${seconds} s while setting up the container (is its cgroup frozen?)`);
    this.name = 'InitTimeoutError';
  }
}

class LineReader {
  private buf = '';
  private readonly chunk = Buffer.alloc(4096);
  constructor(
    private readonly fd: number,
    private readonly readable: (fd: number, timeoutMs: number) => boolean,
  ) {}

  /** Next line without its newline, or null at EOF; InitTimeoutError after timeoutMs without one. */
  next(timeoutMs: number): string | null {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        return line;
      }
      if (!this.readable(this.fd, Math.max(0, deadline - Date.now()))) throw new InitTimeoutError(Math.round(timeoutMs / 1000));
      let n: number;
      try {
        n = readSync(this.fd, this.chunk, 0, this.chunk.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN' || (e as NodeJS.ErrnoException).code === 'EINTR') continue;
        throw e;
      }
      if (n === 0) return null;
      this.buf += this.chunk.toString('utf8', 0, n);
    }
  }
}

function describeExit(st: WaitResult | null): string {
  if (!st) return 'tsrun-init ended without reporting';
  if (st.exited) return `tsrun-init exited with status ${st.code}`;
  return `tsrun-init was killed by signal ${st.signal}`;
}

/** The plan with a CGROUP_JOIN of these files first, or right after its last FORK. */
function withCgroupJoin(plan: readonly PlanOp[], files: readonly { fd: number; path: string }[], afterFork: boolean): PlanOp[] {
  const dirs = files.map((f) => f.path.replace(/\/(tasks|cgroup\.procs)$/, ''));
  const join: PlanOp = { op: Op.CGROUP_JOIN, ints: files.map((f) => f.fd), strs: files.map((f) => f.path), what: `join cgroup ${dirs.join(', ')}` };
  let at = 0;
  if (afterFork) plan.forEach((op, i) => { if (op.op === Op.FORK) at = i + 1; });
  return [...plan.slice(0, at), join, ...plan.slice(at)];
}

const E2BIG = 7;
const EAGAIN = 11;
const EINVAL = 22;

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
const sleepMs = (ms: number): void => void Atomics.wait(sleepCell, 0, 0, ms);
const ENOSYS = 38;

export async function launchInit(opts: LaunchOptions): Promise<Launched> {
  const native = opts.native ?? (await loadNative());
  const toInit = native.pipe2(O_CLOEXEC);
  const fromInit = native.pipe2(O_CLOEXEC);
  const own = new Set([toInit[1], fromInit[0]]);
  const closeFd = (fd: number): void => {
    try {
      native.close(fd);
    } catch {
      /* already closed */
    }
  };
  let initPid: number;
  const cg = opts.cgroup;
  let intoV2 = cg?.intoFd !== undefined;
  let joins = cg?.tasks ?? [];
  try {
    const path = opts.init ?? initPath();
    const spawn = (cgroupFd: number): number =>
      native.spawn(
        path,
        [path, String(toInit[0]), String(fromInit[1])],
        [],
        opts.cloneFlags,
        [toInit[0], fromInit[1], ...(opts.keepFds ?? []), ...joins.map((j) => j.fd)],
        opts.rlimits ?? [],
        cgroupFd,
      );
    try {
      initPid = spawn(cg?.intoFd ?? -1);
    } catch (e) {
      // A kernel before 5.7 (or not x86-64), or a cgroup at its pids.max (a fork into it fails
      // where a migration is allowed): clone outside, then move into the cgroup2 cgroup.
      if (!cg || !intoV2 || !(e instanceof SysError) || ![ENOSYS, E2BIG, EINVAL, EAGAIN].includes(e.errno)) throw e;
      intoV2 = false;
      const procs = opts.joinAfterFork ? cg.openV2Procs() : undefined;
      if (procs) joins = [...joins, procs];
      initPid = spawn(-1);
    }
  } catch (e) {
    for (const fd of [...toInit, ...fromInit]) closeFd(fd);
    throw e;
  } finally {
    // init holds its own copies (or never came to be)
    closeFd(toInit[0]);
    closeFd(fromInit[1]);
    cg?.close();
  }

  let pid = initPid;
  // processes that are ours to reap: the live one, and an intermediate after FORK
  const live = new Set<number>([initPid]);
  const reap = (p: number, kill: boolean): WaitResult | null => {
    if (!live.has(p)) return null;
    live.delete(p);
    try {
      if (kill) native.kill(p, 9);
    } catch {
      /* already gone */
    }
    try {
      // A killed init in a frozen v1 cgroup dies only once thawed: wait a bounded time for it
      // (whoever removes the cgroup thaws it; its parent, once this process exits, reaps it).
      if (kill) {
        for (let i = 0; i < 200; i++) {
          const st = native.waitpid(p, WNOHANG);
          if (st) return st;
          sleepMs(5);
        }
        return null;
      }
      return native.waitpid(p, 0);
    } catch {
      return null;
    }
  };
  const cleanup = (): void => {
    for (const fd of own) closeFd(fd);
    own.clear();
  };

  let plan: readonly PlanOp[] = [];
  try {
    if (cg && !intoV2 && !opts.joinAfterFork) cg.addToV2(initPid);
    await opts.onSpawn?.(initPid);
    plan = typeof opts.plan === 'function' ? opts.plan(initPid) : opts.plan;
    if (joins.length) plan = withCgroupJoin(plan, joins, opts.joinAfterFork === true);
    try {
      writeSync(toInit[1], encodePlan(plan));
    } catch (e) {
      // init died before reading its plan: the line reader sees EOF and reports how
      if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
    }
    const lines = new LineReader(fromInit[0], (fd, ms) => native.pollIn(fd, ms));
    const timeoutMs = initTimeoutMs();
    for (;;) {
      const line = lines.next(timeoutMs);
      if (line === null) {
        const st = reap(pid, false);
        throw new InitExitError(describeExit(st), st);
      }
      const kind = line[0];
      const rest = line.slice(2);
      if (kind === 'R') {
        cleanup();
        return { pid, initPid };
      }
      if (kind === 'E') {
        const m = /^(\d+) (-?\d+) ?(.*)$/s.exec(rest);
        if (!m) throw new InitExitError(`tsrun-init: bad message ${JSON.stringify(line)}`, null);
        const index = Number(m[1]);
        const errno = Number(m[2]);
        const detail = m[3] ?? '';
        const cause = errno ? native.strerror(errno).toLowerCase() : detail || 'failed';
        throw new InitOpError(index, plan[index], errno, cause, detail);
      }
      if (kind === 'S') {
        try {
          await opts.onSync?.(rest, pid);
        } catch (e) {
          try {
            writeSync(toInit[1], 'X');
          } catch {
            /* init is gone */
          }
          throw e;
        }
        writeSync(toInit[1], 'K');
        continue;
      }
      if (kind === 'P') {
        const child = Number(rest);
        if (!Number.isInteger(child) || child <= 0) {
          throw new InitExitError(`tsrun-init: bad message ${JSON.stringify(line)}`, null);
        }
        live.add(child);
        reap(pid, false); // the intermediate exits right after sending P
        pid = child;
        opts.onPid?.(child);
        continue;
      }
      throw new InitExitError(`tsrun-init: bad message ${JSON.stringify(line)}`, null);
    }
  } catch (e) {
    cleanup();
    for (const p of [...live]) reap(p, true);
    throw e;
  }
}
