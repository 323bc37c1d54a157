// node:fs and node:path on first use, and the reads and writes of the most frequent commands.
// Loading node:fs costs bun about 0.7 ms and node:path 0.1–0.3 ms, against runc's whole `state`
// of about 3.5 ms: the modules on the path of `state` and `kill` take `fs`/`path` from here, so
// only a command that calls them loads them. readText/writeText go through Bun.file/Bun.write
// under bun, through node:fs elsewhere (the tests run the sources under node).
import type * as NodeFs from 'node:fs';
import type * as NodePath from 'node:path';

let fsModule: typeof NodeFs | undefined;
let pathModule: typeof NodePath | undefined;

function lazy<T extends object>(load: () => T): T {
  return new Proxy({} as T, { get: (_, key) => (load() as Record<PropertyKey, unknown>)[key] });
}

/** node:fs, loaded when a function of it is first looked up. */
export const fs: typeof NodeFs = lazy(() => (fsModule ??= process.getBuiltinModule('node:fs')));
/** node:path, loaded when a function of it is first looked up. */
export const path: typeof NodePath = lazy(() => (pathModule ??= process.getBuiltinModule('node:path')));

interface BunFile {
  text(): Promise<string>;
  stream(): AsyncIterable<Uint8Array>;
}
interface BunRuntime {
  file(path: string): BunFile;
  mmap(path: string): Uint8Array;
  write(dest: BunFile, data: string): Promise<number>;
  stdout: BunFile;
  stderr: BunFile;
}
const bun = (globalThis as { Bun?: BunRuntime }).Bun;

/** A whole file as text; rejects with the errno error (`code` ENOENT, ...) like node:fs. */
export async function readText(file: string): Promise<string> {
  if (!bun) return fs.readFileSync(file, 'utf8');
  // A regular file is mapped, at once: Bun.file().text() costs ~0.5 ms more (a thread pool).
  // Bun.mmap opens read-write and cannot map empty or procfs files: whatever it refuses but a
  // missing file is streamed, which this thread reads (~0.2 ms less than text()) and which
  // reports the real error if there is one.
  try {
    return new TextDecoder().decode(bun.mmap(file));
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw e;
  }
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of bun.file(file).stream()) text += decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/** Writes all of `text` to stdout (1) or stderr (2); done when it has been written. */
export async function writeText(fd: 1 | 2, text: string): Promise<void> {
  if (bun) {
    // bun's console writes at once from this thread (Bun.write goes through its thread pool,
    // ~0.5 ms): console.write is raw stdout; console.error prints a string as it is, plus "\n".
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
