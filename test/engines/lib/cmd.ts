// Runs an engine command with a bound on its duration. Engines daemonize helpers
// (conmon, containerd-shim) that may keep our stdout pipe open after the command
// itself exited, so completion is the command's exit, not the pipes' EOF.
import { spawn } from 'node:child_process';

export interface CmdResult {
  /** The command line, for messages. */
  cmd: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface CmdOptions {
  env?: NodeJS.ProcessEnv;
  /** Kill the command (SIGKILL) after this long; default 60 s. */
  timeoutMs?: number;
  input?: string;
}

export function quote(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function cmd(argv: readonly string[], opts: CmdOptions = {}): Promise<CmdResult> {
  const [file, ...args] = argv;
  if (!file) throw new Error('cmd: empty argv');
  return new Promise((resolve) => {
    const child = spawn(file, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 60_000);
    let done = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.stdout.destroy();
      child.stderr.destroy();
      resolve({ cmd: quote(argv), code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), timedOut });
    };
    child.on('error', (e) => {
      err.push(Buffer.from(`spawn ${file}: ${e.message}\n`));
      finish(null, null);
    });
    child.on('close', (code, signal) => finish(code, signal));
    // The command exited but a daemonized grandchild still holds a pipe: take what arrived.
    child.on('exit', (code, signal) => setTimeout(() => finish(code, signal), 300));
  });
}

/** A short description of a result for assertion diagnostics. */
export function describeResult(r: CmdResult): Record<string, unknown> {
  return {
    command: r.cmd,
    exit: r.timedOut ? 'timed out (killed)' : r.signal ? `signal ${r.signal}` : r.code,
    stdout: r.stdout.length > 4000 ? r.stdout.slice(0, 4000) + '…' : r.stdout,
    stderr: r.stderr.length > 4000 ? r.stderr.slice(-4000) : r.stderr,
  };
}
