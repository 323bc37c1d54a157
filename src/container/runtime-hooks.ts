// Runs OCI hooks: each gets the container's state JSON on stdin; args[0] is its argv[0];
// `env` (when given) is its whole environment; `timeout` seconds bound it.
import { TsrunError, errnoMessage } from '../errors.js';
import type { Hook, Hooks, State } from '../spec/types.js';
import { restoreCallerNofile } from './caller-limits.js';

/** node:child_process, loaded when a hook runs: start and delete usually have none (~1 ms). */
function childProcess(): typeof import('node:child_process') {
  return process.getBuiltinModule('node:child_process');
}

export type HookKind = keyof Hooks;

export interface HookOptions {
  /** Working directory of the hooks (default: tsrun's own). */
  cwd?: string;
}

const STDERR_TAIL = 512;

function tail(s: string): string {
  const t = s.trim().replace(/\s*\n\s*/g, ' | ');
  return t.length > STDERR_TAIL ? `…${t.slice(-STDERR_TAIL)}` : t;
}

/** Runs one hook; throws a TsrunError naming the kind and path on any failure. */
export function runHook(kind: HookKind, hook: Hook, state: State, opts: HookOptions = {}): void {
  restoreCallerNofile();
  const args = hook.args?.length ? hook.args : [hook.path];
  const timeoutMs = hook.timeout !== undefined && hook.timeout > 0 ? hook.timeout * 1000 : undefined;
  const env = hook.env ? Object.fromEntries(hook.env.map((kv) => {
    const i = kv.indexOf('=');
    return i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
  })) : process.env;
  const r = childProcess().spawnSync(hook.path, args.slice(1), {
    argv0: args[0],
    input: JSON.stringify(state),
    env,
    cwd: opts.cwd,
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    stdio: ['pipe', 'ignore', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 4 * 1024 * 1024,
  });
  const errCode = (r.error as NodeJS.ErrnoException | undefined)?.code;
  if (errCode === 'ETIMEDOUT') {
    throw new TsrunError(`hook ${kind} ${hook.path} timed out after ${hook.timeout} s`);
  }
  // EPIPE: the hook exited without reading its stdin, which is its right; its status decides.
  if (r.error && errCode !== 'EPIPE') throw new TsrunError(`${kind} hook ${hook.path} failed: ${errnoMessage(r.error)}`);
  const stderr = tail(r.stderr ?? '');
  const why = r.signal ? `killed by signal ${r.signal}` : r.status !== 0 ? `exit status ${r.status}` : '';
  if (why) throw new TsrunError(`${kind} hook ${hook.path} failed: ${why}${stderr ? `: ${stderr}` : ''}`);
}

/** Runs the hooks of one kind in order; the first failure stops and throws. */
export function runHooks(kind: HookKind, hooks: Hook[] | undefined, state: State, opts: HookOptions = {}): void {
  for (const hook of hooks ?? []) runHook(kind, hook, state, opts);
}
