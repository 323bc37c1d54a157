// The file operations of the short commands (state, kill, start, delete, pause, resume, list):
// read a whole file, open/read/write/close, link, unlink, rename, rmdir, readdir, a file's owner. Two implementations
// with node:fs's semantics and errors (`code` ENOENT, `syscall`, `path`): node:fs itself, and
// libc through bun:ffi (sysfile-libc.ts), which the built executable installs for those
// commands. Loading node:fs costs bun ~2.7 M instructions (~1 ms), more than all the rest such
// a command does; bun:ffi with a dozen libc functions ~0.7 M. Under node (the unit tests) and
// until something installs libc, node:fs.
import type * as NodeFs from 'node:fs';

let nodeFs: typeof NodeFs | undefined;
const fs = (): typeof NodeFs => (nodeFs ??= process.getBuiltinModule('node:fs'));

export interface SysFile {
  /** The whole file as UTF-8 text (fs.readFileSync(path, 'utf8')). */
  readFile(path: string): string;
  /** open(2) with O_* flags (O_CLOEXEC is added); returns the fd. */
  open(path: string, flags: number, mode?: number): number;
  /** read(2) into buf; 0 at end of file. A non-blocking fd with nothing to read throws EAGAIN. */
  read(fd: number, buf: Uint8Array): number;
  /** write(2) of buf; returns the bytes written. */
  write(fd: number, buf: Uint8Array): number;
  close(fd: number): void;
  link(existing: string, path: string): void;
  unlink(path: string): void;
  rename(from: string, to: string): void;
  rmdir(path: string): void;
  /** The names in a directory, without . and .. (fs.readdirSync). */
  readdir(path: string): string[];
  /** The owner of a file (stat, following symlinks): its uid; throws ENOENT like fs.statSync. */
  ownerUid(path: string): number;
}

// Linux x86-64 and arm64 values (fs.constants has the same).
export const O_RDONLY = 0;
export const O_WRONLY = 0o1;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_SYNC = 0o4010000;

const nodeSysFile: SysFile = {
  readFile: (p) => fs().readFileSync(p, 'utf8'),
  open: (p, flags, mode = 0o666) => fs().openSync(p, flags, mode),
  read: (fd, buf) => fs().readSync(fd, buf, 0, buf.length, null),
  write: (fd, buf) => fs().writeSync(fd, buf),
  close: (fd) => fs().closeSync(fd),
  link: (a, b) => fs().linkSync(a, b),
  unlink: (p) => fs().unlinkSync(p),
  rename: (a, b) => fs().renameSync(a, b),
  rmdir: (p) => fs().rmdirSync(p),
  readdir: (p) => fs().readdirSync(p),
  ownerUid: (p) => fs().statSync(p).uid,
};

let current: SysFile | undefined;

/** The implementation in use. */
export function sys(): SysFile {
  return current ?? nodeSysFile;
}

/** Whether libc (not node:fs) is in use. */
export function usingLibc(): boolean {
  return current !== undefined;
}

/** Makes `impl` the implementation (the built executable's libc one, see cli/main.ts). */
export function useSysFile(impl: SysFile | undefined): void {
  current = impl;
}

const encoder = new TextEncoder();

/** Writes all of `text` to fd, retrying while a non-blocking fd is full (EAGAIN). */
export function writeAll(fd: number, text: string): void {
  let buf = encoder.encode(text);
  const s = sys();
  while (buf.length) {
    try {
      buf = buf.subarray(s.write(fd, buf));
    } catch (e) {
      if ((e as { code?: string }).code !== 'EAGAIN') throw e;
    }
  }
}

/** Creates (or truncates) `path` with `text` in it, mode `mode` for a new file. */
export function writeFile(path: string, text: string, mode: number): void {
  const s = sys();
  const fd = s.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
  try {
    const buf = encoder.encode(text);
    for (let done = 0; done < buf.length;) done += s.write(fd, buf.subarray(done));
  } finally {
    s.close(fd);
  }
}

/** Whether `path` exists (fs.existsSync). */
export function exists(path: string): boolean {
  try {
    sys().ownerUid(path);
    return true;
  } catch {
    return false;
  }
}

/** unlink(2); a file that is not there is fine (fs.rmSync(path, { force: true }) for files). */
export function unlinkIfThere(path: string): void {
  try {
    sys().unlink(path);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ENOENT') throw e;
  }
}
