// A container process in the foreground (`run`, `exec`): forward signals, proxy the terminal,
// wait for the exit status.
import type { Native } from '../native/native.js';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGCONT', 'SIGWINCH'];

export interface Foreground {
  pid: number;
  native: Native;
  /** pty master received from the container (terminal: true). */
  master?: number;
}

/** Waits for `pid` and returns a shell-style exit status (128 + signal when killed). */
export async function waitForeground(f: Foreground): Promise<number> {
  if (f.master === undefined) {
    // No terminal to proxy: wait in C, where handlers forward signals, without a worker thread.
    const st = f.native.waitForward(f.pid);
    return st.exited ? st.code : 128 + st.signal;
  }
  const handlers = new Map<NodeJS.Signals, () => void>();
  for (const sig of FORWARDED) {
    const h = () => {
      if (sig === 'SIGWINCH' && f.master !== undefined) return; // the pty keeps its consoleSize
      try {
        process.kill(f.pid, sig);
      } catch {
        /* already gone */
      }
    };
    handlers.set(sig, h);
    process.on(sig, h);
  }
  const done = f.master !== undefined ? proxyTerminal(f.master) : Promise.resolve();
  try {
    const st = await f.native.waitpidAsync(f.pid, 0);
    await Promise.race([done, new Promise((r) => setTimeout(r, 200))]);
    return st.exited ? st.code : 128 + st.signal;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stdin.unref?.();
  }
}

function proxyTerminal(master: number): Promise<void> {
  // node:tty (and the stream machinery, ~1 ms) only for a terminal.
  const tty = process.getBuiltinModule('node:tty');
  const input = new tty.ReadStream(master);
  const output = new tty.WriteStream(master);
  if (process.stdin.isTTY) process.stdin.setRawMode(true);
  process.stdin.pipe(output);
  return new Promise((resolve) => {
    input.on('data', (d: Buffer) => process.stdout.write(d));
    input.on('error', () => resolve()); // EIO once the container's side is closed
    input.on('end', () => resolve());
    input.on('close', () => resolve());
  });
}
