// rt(): run the runtime once, synchronously, with the test's own --root.
//
// stdout/stderr go to files, not pipes: a created or detached container keeps
// the runtime's stdio open, and a pipe would make spawnSync wait for the
// container. The files stay readable after the call (readOut/readErr), so the
// output a container writes after `start` lands in its `create` call's files.
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { context, rootFor } from './context.js';
import { runtimeUnderTest } from './runtime.js';

export interface RtOptions {
  /** Runtime path (runtimeBin('runc') etc.); default: the runtime under test. */
  runtime?: string;
  /** Data for stdin; stdin is /dev/null otherwise. */
  input?: string;
  /** Kill the runtime after this long (a hang then fails the test instead of the file). Default 60 s. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Override the --root dir, or `null` for no --root at all. */
  root?: string | null;
}

export interface RtResult {
  /** Exit status; null when killed by a signal (see signal) or timed out. */
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Files holding the call's stdout and stderr (they keep growing if a container writes to them). */
  stdoutPath: string;
  stderrPath: string;
  /** The full command line, for messages. */
  command: string;
  /** Set when the runtime could not be started or timed out. */
  error?: Error;
}

export function rt(t: Test, args: string[], opts: RtOptions = {}): RtResult {
  const c = context(t);
  const runtime = opts.runtime ?? runtimeUnderTest();
  const root = opts.root === undefined ? rootFor(t, runtime) : opts.root;
  const full = root === null ? args : ['--root', root, ...args];
  const n = ++c.seq;
  const stdoutPath = join(c.dir, `out-${n}.txt`);
  const stderrPath = join(c.dir, `err-${n}.txt`);
  const out = openSync(stdoutPath, 'w+');
  const err = openSync(stderrPath, 'w+');
  let r;
  try {
    r = spawnSync(runtime, full, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', out, err],
      input: opts.input,
      timeout: opts.timeoutMs ?? 60_000,
      killSignal: 'SIGKILL',
      // The mark lets the leak checker attribute a container init that inherited the runtime's env.
      env: { ...(opts.env ?? process.env), TSRUN_TEST_MARK: c.mark },
      cwd: opts.cwd,
    });
  } finally {
    closeSync(out);
    closeSync(err);
  }
  return {
    status: r.status,
    signal: r.signal,
    stdout: readFileSync(stdoutPath, 'utf8'),
    stderr: readFileSync(stderrPath, 'utf8'),
    stdoutPath,
    stderrPath,
    command: [runtime, ...full].join(' '),
    error: r.error,
  };
}

/** What the call's stdout file holds now (container output written after the call included). */
export function readOut(r: RtResult): string {
  return readFileSync(r.stdoutPath, 'utf8');
}

export function readErr(r: RtResult): string {
  return readFileSync(r.stderrPath, 'utf8');
}

/** A one-line description of a result for assertion messages. */
export function describe(r: RtResult): string {
  const how = r.error ? `error ${r.error.message}` : r.signal ? `signal ${r.signal}` : `status ${r.status}`;
  const clip = (s: string) => (s.length > 400 ? s.slice(0, 400) + '…' : s).trim();
  return `${r.command} -> ${how}; stderr: ${JSON.stringify(clip(r.stderr))}; stdout: ${JSON.stringify(clip(r.stdout))}`;
}

/** Parse the JSON `state` prints; undefined when it is not JSON. */
export function parseState(r: RtResult): { id: string; status: string; pid?: number; bundle: string; [k: string]: unknown } | undefined {
  try {
    return JSON.parse(r.stdout);
  } catch {
    return undefined;
  }
}

/** `state ID` parsed, or undefined when the runtime reports an error. */
export function stateOf(t: Test, id: string, opts: RtOptions = {}): ReturnType<typeof parseState> {
  const r = rt(t, ['state', id], opts);
  return r.status === 0 ? parseState(r) : undefined;
}
