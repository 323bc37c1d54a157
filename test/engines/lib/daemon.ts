// A daemon (containerd, dockerd) started by a test with its own state and socket,
// its output in a log file, stopped (SIGTERM, then SIGKILL) when the test ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { quote } from './cmd.js';

export interface Daemon {
  name: string;
  pid: number;
  logFile: string;
  /** Log lines naming `needle` (the daemon runs at debug level: shim and runtime errors end up here). */
  logLines(needle: string, max?: number): string[];
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

export async function startDaemon(
  name: string,
  argv: string[],
  logFile: string,
  ready: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<Daemon> {
  const [file, ...args] = argv;
  if (!file) throw new Error('startDaemon: empty argv');
  const fd = openSync(logFile, 'a');
  const child = spawn(file, args, { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  running.add(child);
  let exited: string | undefined;
  const exitedP = new Promise<void>((res) => {
    child.on('exit', (code, sig) => {
      exited = `exited (${sig ?? code})`;
      running.delete(child);
      res();
    });
    child.on('error', (e) => {
      exited = `failed to start: ${e.message}`;
      running.delete(child);
      res();
    });
  });
  const logTail = () => readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`${name} ${exited}: ${quote(argv)}\n${logTail()}`);
    if (await ready()) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready after ${timeoutMs} ms: ${quote(argv)}\n${logTail()}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    name,
    pid: child.pid ?? -1,
    logFile,
    logLines(needle, max = 40) {
      let text = '';
      try {
        text = readFileSync(logFile, 'utf8');
      } catch {
        return [];
      }
      return text.split('\n').filter((l) => l.includes(needle)).slice(-max);
    },
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exitedP;
      clearTimeout(t);
    },
  };
}
