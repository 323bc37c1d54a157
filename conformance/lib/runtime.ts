// Drives any runc-compatible runtime through its command line only:
//   $RUNTIME --root <dir> <command> [flags] <id>
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { closeSync, openSync, readFileSync, existsSync } from 'node:fs';
import { sleepMs } from './util.js';

export interface Result {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** set when the runtime could not be spawned at all or timed out */
  error?: string;
}

export interface ContainerState {
  ociVersion?: unknown;
  id?: unknown;
  status?: unknown;
  pid?: unknown;
  bundle?: unknown;
  annotations?: unknown;
  [k: string]: unknown;
}

export interface CreateOptions {
  /** file that receives the container's (and the create command's) stdout */
  stdoutFile?: string;
  stderrFile?: string;
  pidFile?: string;
  consoleSocket?: string;
  /** working directory for the create command */
  cwd?: string;
  /** extra environment for the runtime process */
  env?: NodeJS.ProcessEnv;
  /** a shell snippet run before exec'ing the runtime (e.g. to set oom_score_adj) */
  preamble?: string;
  /** omit the id argument (to test error handling) */
  noId?: boolean;
  /** omit --bundle (to test error handling) */
  noBundle?: boolean;
}

const TIMEOUT_MS = 30_000;

export class Runtime {
  readonly argv0: string;
  readonly baseArgs: string[];

  constructor(command: string, readonly root: string) {
    const parts = command.trim().split(/\s+/);
    this.argv0 = parts[0]!;
    this.baseArgs = parts.slice(1);
  }

  /** Run one runtime command; stdio as given (files are opened by the caller). */
  run(args: string[], opts: { stdout?: number | 'pipe'; stderr?: number | 'pipe'; cwd?: string; env?: NodeJS.ProcessEnv; preamble?: string; timeoutMs?: number; input?: string } = {}): Result {
    const full = [...this.baseArgs, '--root', this.root, ...args];
    let r: SpawnSyncReturns<string>;
    const common = {
      cwd: opts.cwd,
      env: { ...process.env, ...(opts.env ?? {}) },
      encoding: 'utf8' as const,
      timeout: opts.timeoutMs ?? TIMEOUT_MS,
      killSignal: 'SIGKILL' as const,
      stdio: [opts.input !== undefined ? 'pipe' : 'ignore', opts.stdout ?? 'pipe', opts.stderr ?? 'pipe'] as ('pipe' | 'ignore' | number)[],
      input: opts.input,
      maxBuffer: 64 * 1024 * 1024,
    };
    if (opts.preamble) {
      r = spawnSync('/bin/sh', ['-c', `${opts.preamble}\nexec "$@"`, 'sh', this.argv0, ...full], common);
    } else {
      r = spawnSync(this.argv0, full, common);
    }
    const res: Result = { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
    if (r.error) res.error = String(r.error.message ?? r.error);
    return res;
  }

  create(id: string, bundle: string, o: CreateOptions = {}): Result {
    const args = ['create'];
    if (!o.noBundle) args.push('--bundle', bundle);
    if (o.pidFile) args.push('--pid-file', o.pidFile);
    if (o.consoleSocket) args.push('--console-socket', o.consoleSocket);
    if (!o.noId) args.push(id);
    const outFd = o.stdoutFile ? openSync(o.stdoutFile, 'a') : undefined;
    const errFd = o.stderrFile ? openSync(o.stderrFile, 'a') : undefined;
    try {
      const r = this.run(args, { stdout: outFd ?? 'pipe', stderr: errFd ?? 'pipe', cwd: o.cwd, env: o.env, preamble: o.preamble });
      if (o.stderrFile && !r.stderr) r.stderr = safeRead(o.stderrFile);
      return r;
    } finally {
      if (outFd !== undefined) closeSync(outFd);
      if (errFd !== undefined) closeSync(errFd);
    }
  }

  start(id: string): Result { return this.run(['start', id]); }
  kill(id: string, signal: string): Result { return this.run(['kill', id, signal]); }
  delete(id: string, force = false): Result { return this.run(force ? ['delete', '--force', id] : ['delete', id]); }
  features(): Result { return this.run(['features']); }

  /** state as parsed JSON, or undefined when the command failed */
  state(id: string): { res: Result; state?: ContainerState } {
    const res = this.run(['state', id]);
    if (res.code !== 0) return { res };
    try {
      return { res, state: JSON.parse(res.stdout) as ContainerState };
    } catch {
      return { res };
    }
  }

  status(id: string): string | undefined {
    const s = this.state(id).state;
    return typeof s?.status === 'string' ? s.status : undefined;
  }

  /** Poll `state` until the status is `want` (or the container is gone when want is 'gone'). */
  waitStatus(id: string, want: string, timeoutMs = 10_000): string | undefined {
    const end = Date.now() + timeoutMs;
    let last: string | undefined;
    for (;;) {
      const st = this.state(id);
      last = st.res.code === 0 ? (typeof st.state?.status === 'string' ? st.state.status : 'unparsable') : 'gone';
      if (last === want || Date.now() > end) return last;
      sleepMs(10);
    }
  }

  /** Best-effort removal, used after every test. */
  cleanup(id: string): void {
    const st = this.state(id);
    if (st.res.code !== 0) return;
    if (st.state?.status !== 'stopped') {
      this.kill(id, 'SIGKILL');
      this.waitStatus(id, 'stopped', 5_000);
    }
    this.delete(id, true);
    if (this.state(id).res.code === 0) this.delete(id, true);
  }
}

function safeRead(p: string): string {
  try {
    return existsSync(p) ? readFileSync(p, 'utf8') : '';
  } catch {
    return '';
  }
}
