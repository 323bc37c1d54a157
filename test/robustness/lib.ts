// Shared by the robustness campaigns: an async runtime call (for races and parallel runs), the
// one-line-error rule, and a cheap leak check scoped to a set of ids and directories (so it can
// run after every fuzz case, and is not confused by what other tests on the host do meanwhile).
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { context, rootFor, runtimeUnderTest, cgroupDirsNamed } from '../helpers/index.js';

export interface Call {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  command: string;
  timedOut: boolean;
}

export interface CallOptions {
  root?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** Keep the output files (a created container keeps writing to them); default: removed. */
  keepFiles?: boolean;
  /** TSRUN_TEST_MARK for this call (default: the test's). */
  mark?: string;
}

let callSeq = 0;

/**
 * Runs the runtime without blocking the event loop. stdout/stderr go to files (a container
 * inherits them; a pipe would keep the call open until the container exits).
 */
export async function call(t: Test, args: string[], o: CallOptions = {}): Promise<Call> {
  // ETXTBSY: build/tsrun is being rewritten (a `make build` meanwhile): wait for the new one.
  for (let tries = 0; ; tries++) {
    try {
      return await callOnce(t, args, o);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ETXTBSY' || tries >= 50) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function callOnce(t: Test, args: string[], o: CallOptions): Promise<Call> {
  const c = context(t);
  const root = o.root ?? rootFor(t);
  const full = ['--root', root, ...args];
  const n = ++callSeq;
  const outPath = join(c.dir, `call-${process.pid}-${n}.out`);
  const errPath = join(c.dir, `call-${process.pid}-${n}.err`);
  const out = openSync(outPath, 'w+');
  const err = openSync(errPath, 'w+');
  const bin = runtimeUnderTest();
  return new Promise((resolve, reject) => {
    let timedOut = false;
    let child;
    try {
      child = spawn(bin, full, {
        stdio: ['ignore', out, err],
        env: { ...(o.env ?? process.env), TSRUN_TEST_MARK: o.mark ?? c.mark },
        cwd: o.cwd ?? c.dir,
      });
    } catch (e) {
      reject(e);
      return;
    } finally {
      closeSync(out);
      closeSync(err);
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, o.timeoutMs ?? 60_000);
    const finish = (status: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      const r: Call = {
        status,
        signal,
        stdout: readFileSync(outPath, 'utf8'),
        stderr: readFileSync(errPath, 'utf8'),
        command: [bin, ...full].join(' '),
        timedOut,
      };
      if (!o.keepFiles) {
        rmSync(outPath, { force: true });
        rmSync(errPath, { force: true });
      }
      resolve(r);
    };
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (status, signal) => finish(status, signal));
  });
}

/** Runs `fn` over `items`, at most `limit` at a time. */
export async function parallel<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= items.length) return;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function show(r: Call): string {
  const how = r.timedOut ? 'timed out' : r.signal ? `signal ${r.signal}` : `status ${r.status}`;
  const clip = (s: string) => (s.length > 600 ? s.slice(0, 600) + '…' : s).trim();
  return `${r.command.replace(/ --root \S+/, '')} -> ${how}; stderr: ${JSON.stringify(clip(r.stderr))}`;
}

/** logrus-style lines (`time="…" level=warning msg="…"`): warnings, not errors. */
const LOG_LINE = /^time="[^"]*" level=(warning|info|debug) msg=/;

/** stderr lines that are not warnings. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l !== '' && !LOG_LINE.test(l));
}

/**
 * The issue's rule for a command: success with no error line, or failure (exit 1) with
 * exactly one line `tsrun: …`. Returns what is wrong, or undefined.
 */
export function oneLineProblem(r: Call, okStatuses: readonly number[] = [0]): string | undefined {
  if (r.timedOut) return 'timed out';
  if (r.status === null) return `killed by ${r.signal}`;
  const lines = errorLines(r.stderr);
  if (okStatuses.includes(r.status)) return lines.length === 0 ? undefined : `succeeded but printed ${JSON.stringify(lines)}`;
  if (r.status !== 1) return `exit status ${r.status}`;
  if (lines.length !== 1) return `failed with ${lines.length} error lines: ${JSON.stringify(lines.slice(0, 5))}`;
  if (!lines[0]!.startsWith('tsrun: ')) return `error line does not start with "tsrun: ": ${JSON.stringify(lines[0])}`;
  return undefined;
}

// --- scoped leak check -------------------------------------------------------------------------

export interface Scope {
  /** --root dirs that must be empty. */
  roots: string[];
  /** Ids whose cgroups, processes (by command line or cgroup) and mounts must be gone. */
  ids: string[];
  /** Dirs (bundles, rootfs copies): no process may have its root or cwd there, no mount under them. */
  dirs: string[];
  /** TSRUN_TEST_MARK value: no process may carry it. */
  mark: string;
}

export interface ScopedLeaks {
  rootEntries: string[];
  processes: string[];
  mounts: string[];
  cgroups: string[];
}

function read(p: string): string {
  try {
    return readFileSync(p, 'latin1');
  } catch {
    return '';
  }
}

function link(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
}

const under = (p: string, dirs: readonly string[]) => p !== '' && dirs.some((d) => p === d || p.startsWith(d + '/'));

export function mountPoints(): string[] {
  return read('/proc/self/mountinfo').split('\n').filter(Boolean).map((l) => (l.split(' ')[4] ?? '').replace(/\\040/g, ' '));
}

function listTree(dir: string, out: string[]): void {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    out.push(e.isDirectory() ? p + '/' : p);
    if (e.isDirectory()) listTree(p, out);
  }
}

/** pid -> start time (field 22 of stat), of every process now. */
export function procSnapshot(): Map<number, string> {
  const out = new Map<number, string>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = read(`/proc/${e}/stat`);
    if (stat) out.set(Number(e), startTimeOf(stat));
  }
  return out;
}

function startTimeOf(stat: string): string {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

/**
 * Processes of the scope (not zombies): by mark, command line, cgroup, root or cwd. With
 * `before` (procSnapshot()), only processes started since then are examined (much cheaper).
 */
export function scopedProcesses(s: Scope, before?: ReadonlyMap<number, string>, now?: Map<number, string>): string[] {
  const found: string[] = [];
  const markVar = `TSRUN_TEST_MARK=${s.mark}`;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    const stat = read(`/proc/${e}/stat`);
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (!stat) continue;
    now?.set(Number(e), startTimeOf(stat));
    if (state === 'Z' || state === 'X') continue;
    if (before && before.get(Number(e)) === startTimeOf(stat)) continue;
    const why: string[] = [];
    const cmdv = read(`/proc/${e}/cmdline`).split('\0').filter(Boolean);
    const cmdline = cmdv.join(' ');
    if (read(`/proc/${e}/environ`).split('\0').includes(markVar)) why.push('carries the mark');
    const id = s.ids.find((i) => cmdline.includes(i));
    if (id) why.push(`command line names ${id}`);
    if (cmdv.some((a) => under(a, s.dirs))) why.push('command line names a test dir');
    const cg = read(`/proc/${e}/cgroup`);
    const cgId = s.ids.find((i) => cg.includes(i));
    if (cgId) why.push(`in a cgroup named after ${cgId}`);
    if (under(link(`/proc/${e}/root`), s.dirs) || under(link(`/proc/${e}/cwd`), s.dirs)) why.push('root or cwd in a test dir');
    if (why.length) found.push(`pid ${e} "${cmdline.slice(0, 200)}" (${why.join(', ')})`);
  }
  return found;
}

/** Mount points under the scope's dirs or naming one of its ids, that were not in `before`. */
export function scopedMounts(s: Scope, before: ReadonlySet<string> = new Set()): string[] {
  return mountPoints().filter((mp) => !before.has(mp) && (under(mp, s.dirs) || s.ids.some((i) => mp.includes(i))));
}

export function findScopedLeaks(s: Scope, mountsBefore?: ReadonlySet<string>, procsBefore?: ReadonlyMap<number, string>, procsNow?: Map<number, string>): ScopedLeaks {
  const rootEntries: string[] = [];
  for (const r of s.roots) listTree(r, rootEntries);
  return {
    rootEntries,
    processes: scopedProcesses(s, procsBefore, procsNow),
    mounts: scopedMounts(s, mountsBefore),
    cgroups: cgroupDirsNamed(s.ids),
  };
}

export function leakCount(l: ScopedLeaks): number {
  return l.rootEntries.length + l.processes.length + l.mounts.length + l.cgroups.length;
}

/**
 * The scoped leak check, waiting up to `settleMs` while killed processes finish exiting
 * (a SIGKILLed process takes a moment to be reaped).
 */
export async function settledLeaks(s: Scope, mountsBefore?: ReadonlySet<string>, settleMs = 3000, procsBefore?: ReadonlyMap<number, string>,
  procsNow?: Map<number, string>): Promise<ScopedLeaks> {
  const deadline = Date.now() + settleMs;
  let l = findScopedLeaks(s, mountsBefore, procsBefore, procsNow);
  while (leakCount(l) > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    procsNow?.clear();
    l = findScopedLeaks(s, mountsBefore, procsBefore, procsNow);
  }
  return l;
}

/** One line per leak kind, for messages. */
export function describeLeaks(l: ScopedLeaks): string {
  return (['rootEntries', 'processes', 'mounts', 'cgroups'] as const)
    .filter((k) => l[k].length)
    .map((k) => `${k}: ${l[k].slice(0, 5).join('; ')}${l[k].length > 5 ? ` (+${l[k].length - 5})` : ''}`)
    .join(' | ');
}

/** The test's whole scope: its --root dirs, ids, temp dir and mark. */
export function testScope(t: Test): Scope {
  const c = context(t);
  return { roots: [...c.roots.values()], ids: [...c.ids], dirs: [c.dir], mark: c.mark };
}

/** `state` parsed, or the one-line error. */
export async function stateCall(t: Test, id: string, o: CallOptions = {}): Promise<{ status?: string; pid?: number; error?: string; raw: Call }> {
  const r = await call(t, ['state', id], o);
  if (r.status === 0) {
    try {
      const s = JSON.parse(r.stdout);
      return { status: s.status, pid: s.pid, raw: r };
    } catch {
      return { error: `state printed no JSON: ${r.stdout.slice(0, 200)}`, raw: r };
    }
  }
  return { error: errorLines(r.stderr).join(' / ') || show(r), raw: r };
}
