// Runs one runtime command through build/bench/bench-exec, which times it
// (vfork+execve+wait4 only) and reports its rusage. Sync for sequential
// measurements, async for parallel batches.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from './runtimes.js';
import { benchExec, workDir } from './paths.js';

export interface Sample {
  /** Exit status, -1 when killed by a signal. */
  status: number;
  signal: number;
  wallMs: number;
  /** ru_maxrss of the command (and the children it waited for). */
  maxRssKb: number;
  userMs: number;
  sysMs: number;
  /** The command's stderr (first 400 characters), for failure messages. */
  stderr: string;
  command: string;
}

export interface RunOptions {
  /** File for the command's stdout (default /dev/null). Inherited by a created container. */
  stdout?: string;
  timeoutS?: number;
  /** cgroup.procs file the command is moved into before it starts. */
  cgroupProcs?: string;
  /** Extra environment for the command. */
  env?: Record<string, string>;
}

let seq = 0;

/** Nice value for every measured command (BENCH_NICE; "" for none). */
const NICE = process.env.BENCH_NICE ?? '-20';

function argvFor(rt: Runtime, args: string[], result: string, timeoutS: number, cgroupProcs?: string): string[] {
  const a = ['-o', result, '-t', String(timeoutS)];
  if (NICE !== '') a.push('-p', NICE);
  if (rt.hideCgroup2) a.push('-n');
  if (cgroupProcs) a.push('-c', cgroupProcs);
  return [...a, '--', rt.bin, '--root', rt.root, ...args];
}

function parse(result: string, stderrPath: string, command: string, fallbackStatus: number | null): Sample {
  let line = '';
  try {
    line = readFileSync(result, 'utf8').trim();
  } catch {
    // bench-exec itself failed; reported below
  }
  let stderr = '';
  try {
    stderr = readFileSync(stderrPath, 'utf8').slice(0, 400).trim();
  } catch {
    // none
  }
  rmSync(result, { force: true });
  rmSync(stderrPath, { force: true });
  const f = line.split(' ').map(Number);
  if (f.length !== 6 || f.some((n) => !Number.isFinite(n))) {
    return { status: fallbackStatus ?? 125, signal: 0, wallMs: NaN, maxRssKb: NaN, userMs: NaN, sysMs: NaN, stderr: stderr || 'bench-exec failed', command };
  }
  const [status, signal, wallUs, rss, ut, st] = f as [number, number, number, number, number, number];
  return { status, signal, wallMs: wallUs / 1000, maxRssKb: rss, userMs: ut / 1000, sysMs: st / 1000, stderr, command };
}

function files(): { result: string; stderr: string } {
  const n = ++seq;
  return { result: join(workDir(), 'tmp', `r-${process.pid}-${n}`), stderr: join(workDir(), 'tmp', `e-${process.pid}-${n}`) };
}

/** Runs `RUNTIME --root ROOT args...` and waits for it. */
export function measure(rt: Runtime, args: string[], opts: RunOptions = {}): Sample {
  const f = files();
  const out = openSync(opts.stdout ?? '/dev/null', opts.stdout ? 'w' : 'r+');
  const err = openSync(f.stderr, 'w');
  const command = `${rt.name} ${args.join(' ')}`;
  try {
    const r = spawnSync(benchExec(), argvFor(rt, args, f.result, opts.timeoutS ?? 60, opts.cgroupProcs), {
      stdio: ['ignore', out, err],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
    });
    return parse(f.result, f.stderr, command, r.status);
  } finally {
    closeSync(out);
    closeSync(err);
  }
}

/** Same, without blocking: for commands that must run at the same time. */
export function measureAsync(rt: Runtime, args: string[], opts: RunOptions = {}): Promise<Sample> {
  const f = files();
  const out = openSync(opts.stdout ?? '/dev/null', opts.stdout ? 'w' : 'r+');
  const err = openSync(f.stderr, 'w');
  const command = `${rt.name} ${args.join(' ')}`;
  return new Promise((resolve) => {
    const child = spawn(benchExec(), argvFor(rt, args, f.result, opts.timeoutS ?? 120, opts.cgroupProcs), { stdio: ['ignore', out, err] });
    closeSync(out);
    closeSync(err);
    child.on('error', () => resolve(parse(f.result, f.stderr, command, 125)));
    child.on('exit', (code) => resolve(parse(f.result, f.stderr, command, code)));
  });
}

export function ok(s: Sample): boolean {
  return s.status === 0 && s.signal === 0;
}

export function describeFailure(s: Sample): string {
  const how = s.signal ? `signal ${s.signal}` : `status ${s.status}`;
  return `${s.command}: ${how}${s.stderr ? `: ${s.stderr.replace(/\s+/g, ' ')}` : ''}`;
}

/** Runs a command and returns its stdout too (state, list: not measured, just asked). */
export function capture(rt: Runtime, args: string[]): { sample: Sample; stdout: string } {
  const out = join(workDir(), 'tmp', `o-${process.pid}-${++seq}`);
  const sample = measure(rt, args, { stdout: out });
  let stdout = '';
  try {
    stdout = readFileSync(out, 'utf8');
  } catch {
    // none
  }
  rmSync(out, { force: true });
  return { sample, stdout };
}

/** The pid `state` reports for a container, or undefined. */
export function statePid(rt: Runtime, id: string): number | undefined {
  const { sample, stdout } = capture(rt, ['state', id]);
  if (!ok(sample)) return undefined;
  try {
    const pid = JSON.parse(stdout).pid;
    return typeof pid === 'number' && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Force-deletes every container under the runtime's --root (cleanup, not measured). */
export function deleteAll(rt: Runtime): void {
  const { stdout } = capture(rt, ['list', '-q']);
  for (const id of stdout.split('\n').map((s) => s.trim()).filter(Boolean)) measure(rt, ['delete', '--force', id]);
}
