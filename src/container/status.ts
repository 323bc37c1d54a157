// A container's live status, derived from its record and /proc: a pid that is gone, a zombie,
// or a different process that reuses the pid (another start time) means `stopped`.
import { sys } from '../sysfile.js';
import type { State, Status } from '../spec/types.js';
import type { ContainerRecord } from './record.js';

export interface ProcStat {
  /** Field 2: the executable's name (15 characters at most). */
  comm: string;
  /** Field 3: R, S, D, Z, T, t, X, I, ... */
  state: string;
  ppid: number;
  /** Field 22: start time in clock ticks after boot. */
  startTime: number;
}

/** Fields of /proc/<pid>/stat, or undefined when there is no such process. */
export function readProcStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return parseProcStat(sys().readFile(`/proc/${pid}/stat`));
  } catch {
    return undefined;
  }
}

/** readProcStat(), for callers written against the asynchronous form. */
export async function readProcStatAsync(pid: number): Promise<ProcStat | undefined> {
  return readProcStat(pid);
}

function parseProcStat(text: string): ProcStat | undefined {
  // comm (field 2) may contain spaces and parentheses: the fields resume after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3.
  const startTime = Number(f[19]);
  if (!f[0] || !Number.isFinite(startTime)) return undefined;
  return { comm: text.slice(text.indexOf('(') + 1, text.lastIndexOf(')')), state: f[0], ppid: Number(f[1]), startTime };
}

/** Field 22 of /proc/<pid>/stat (start time, clock ticks after boot), or undefined. */
export function readStartTime(pid: number): number | undefined {
  return readProcStat(pid)?.startTime;
}

/** The process exists, is not a zombie, and is the one that started at `startTime`. */
export function isAlive(pid: number, startTime: number): boolean {
  const st = readProcStat(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X' && st.startTime === startTime;
}

export function currentStatus(r: ContainerRecord): Status {
  return statusOf(r, readProcStat(r.pid));
}

export async function currentStatusAsync(r: ContainerRecord): Promise<Status> {
  return statusOf(r, await readProcStatAsync(r.pid));
}

/** The status of a container whose init has this stat (undefined: no such process). */
function statusOf(r: ContainerRecord, st: ProcStat | undefined): Status {
  if (st === undefined || st.state === 'Z' || st.state === 'X' || st.startTime !== r.pidStartTime) return 'stopped';
  // A `start` killed after it woke the init but before it saved "running": the init has exec'd
  // the container's process since, so it is no longer tsrun-init.
  if (r.status === 'created' && r.execFifo !== undefined && st.comm !== 'tsrun-init') return 'running';
  return r.status;
}

/** The spec's state document (what hooks get on stdin); no pid once stopped, like runc. */
export function specState(r: ContainerRecord, status: Status = currentStatus(r)): State {
  const s: State = { ociVersion: r.ociVersion, id: r.id, status, ...(status === 'stopped' ? {} : { pid: r.pid }), bundle: r.bundle };
  if (r.annotations && Object.keys(r.annotations).length) s.annotations = r.annotations;
  return s;
}

/** `tsrun state` output: the spec's state plus runc's rootfs, created and owner; pid 0 once stopped. */
export interface RuntimeState extends State {
  rootfs: string;
  created: string;
  owner: string;
}

export function runtimeState(r: ContainerRecord, status: Status = currentStatus(r)): RuntimeState {
  const s: RuntimeState = {
    ociVersion: r.ociVersion,
    id: r.id,
    pid: status === 'stopped' ? 0 : r.pid,
    status,
    bundle: r.bundle,
    rootfs: r.rootfs,
    created: r.created,
    owner: r.owner,
  };
  if (r.annotations && Object.keys(r.annotations).length) s.annotations = r.annotations;
  return s;
}
