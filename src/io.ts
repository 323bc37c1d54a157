// node:fs and node:path on first use, and the reads and writes of the most frequent commands.
// Loading node:fs costs bun about 0.7 ms and node:path 0.1–0.3 ms, against runc's whole `state`
// of about 3.5 ms: the modules on the path of `state` and `kill` take `fs`/`path` from here, so
// only a command that calls them loads them. readText/writeText go through sysfile.ts (libc in
// the short commands of the built executable, node:fs elsewhere: the tests run under node).
import type * as NodeFs from 'node:fs';
import type * as NodePath from 'node:path';
import { sys, usingLibc, writeAll } from './sysfile.js';

let fsModule: typeof NodeFs | undefined;
let pathModule: typeof NodePath | undefined;

function lazy<T extends object>(load: () => T): T {
  return new Proxy({} as T, { get: (_, key) => (load() as Record<PropertyKey, unknown>)[key] });
}

/** node:fs, loaded when a function of it is first looked up. */
export const fs: typeof NodeFs = lazy(() => (fsModule ??= process.getBuiltinModule('node:fs')));
/** node:path, loaded when a function of it is first looked up. */
export const path: typeof NodePath = lazy(() => (pathModule ??= process.getBuiltinModule('node:path')));

interface BunRuntime {
  write(dest: unknown, data: string): Promise<number>;
  stdout: unknown;
  stderr: unknown;
}
const bun = (globalThis as { Bun?: BunRuntime }).Bun;

/** A whole file as text; throws the errno error (`code` ENOENT, ...) like node:fs. */
export async function readText(file: string): Promise<string> {
  return sys().readFile(file);
}

/** Writes all of `text` to stdout (1) or stderr (2); done when it has been written. */
export async function writeText(fd: 1 | 2, text: string): Promise<void> {
  // With libc installed (the short commands): write(2) at once. Otherwise bun's console, which
  // also writes at once from this thread (Bun.write goes through its thread pool, ~0.5 ms):
  // console.write is raw stdout; console.error prints a string as it is, plus "\n".
  if (usingLibc()) return writeAll(fd, text);
  if (bun) {
    const console = globalThis.console as Console & { write?: (s: string) => void };
    if (fd === 1 && console.write) return console.write(text);
    if (fd === 2 && text.endsWith('\n')) return console.error(text.slice(0, -1));
    await bun.write(fd === 1 ? bun.stdout : bun.stderr, text);
    return;
  }
  writeAllSync(fd, text);
}

/** Writes all of `text` to fd now, retrying a non-blocking fd that is full (EAGAIN). */
export function writeAllSync(fd: number, text: string): void {
  let buf = Buffer.from(text);
  while (buf.length) {
    try {
      buf = buf.subarray(fs.writeSync(fd, buf));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}
