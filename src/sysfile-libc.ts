// sysfile.ts's operations as libc calls through bun:ffi, with node:fs's errors. Only the built
// executable and `bun src/main.ts` load this (node has no bun:ffi); libc is opened on first use.
import { CString, dlopen, FFIType, read as peek } from 'bun:ffi';
import type { SysFile } from './sysfile.js';

const { i32, u32, i64, u64, ptr } = FFIType;
const AT_FDCWD = -100;
const STATX_UID = 0x8;
// struct dirent64 (glibc, every 64-bit Linux): d_ino, d_off, d_reclen, d_type, then d_name.
const D_NAME = 19;
// struct statx is the same on every architecture: stx_uid at byte 20.
const STX_UID = 20;
const O_CLOEXEC = 0o2000000;

function load() {
  return dlopen('libc.so.6', {
    open: { args: [ptr, i32, i32], returns: i32 },
    read: { args: [i32, ptr, u64], returns: i64 },
    write: { args: [i32, ptr, u64], returns: i64 },
    close: { args: [i32], returns: i32 },
    link: { args: [ptr, ptr], returns: i32 },
    unlink: { args: [ptr], returns: i32 },
    rename: { args: [ptr, ptr], returns: i32 },
    rmdir: { args: [ptr], returns: i32 },
    opendir: { args: [ptr], returns: ptr },
    readdir64: { args: [ptr], returns: ptr },
    closedir: { args: [ptr], returns: i32 },
    statx: { args: [i32, ptr, i32, u32, ptr], returns: i32 },
    __errno_location: { args: [], returns: ptr },
  }).symbols;
}

// errno numbers (Linux, x86-64 and arm64) to names; strerror's words are errors.ts's.
const NAMES: Record<number, [string, string]> = {
  1: ['EPERM', 'operation not permitted'], 2: ['ENOENT', 'no such file or directory'],
  3: ['ESRCH', 'no such process'], 4: ['EINTR', 'interrupted system call'], 5: ['EIO', 'input/output error'],
  6: ['ENXIO', 'no such device or address'], 9: ['EBADF', 'bad file descriptor'],
  11: ['EAGAIN', 'resource temporarily unavailable'], 12: ['ENOMEM', 'cannot allocate memory'],
  13: ['EACCES', 'permission denied'], 16: ['EBUSY', 'device or resource busy'], 17: ['EEXIST', 'file exists'],
  18: ['EXDEV', 'invalid cross-device link'], 20: ['ENOTDIR', 'not a directory'], 21: ['EISDIR', 'is a directory'],
  22: ['EINVAL', 'invalid argument'], 23: ['ENFILE', 'too many open files in system'],
  24: ['EMFILE', 'too many open files'], 26: ['ETXTBSY', 'text file busy'], 27: ['EFBIG', 'file too large'],
  28: ['ENOSPC', 'no space left on device'], 30: ['EROFS', 'read-only file system'], 31: ['EMLINK', 'too many links'],
  32: ['EPIPE', 'broken pipe'], 36: ['ENAMETOOLONG', 'file name too long'], 39: ['ENOTEMPTY', 'directory not empty'],
  40: ['ELOOP', 'too many levels of symbolic links'], 75: ['EOVERFLOW', 'value too large for defined data type'],
  95: ['EOPNOTSUPP', 'operation not supported'], 122: ['EDQUOT', 'disk quota exceeded'],
};

/** The error node:fs would throw: `code`, `errno` (negative), `syscall`, `path`, `dest`. */
function errnoError(errno: number, syscall: string, path?: string, dest?: string): Error {
  const [code, text] = NAMES[errno] ?? [`E${errno}`, `errno ${errno}`];
  const where = path === undefined ? '' : dest === undefined ? ` '${path}'` : ` '${path}' -> '${dest}'`;
  const e = new Error(`${code}: ${text}, ${syscall}${where}`) as Error & Record<string, unknown>;
  e.code = code;
  e.errno = -errno;
  e.syscall = syscall;
  if (path !== undefined) e.path = path;
  if (dest !== undefined) e.dest = dest;
  return e;
}

const encoder = new TextEncoder();
const cstr = (s: string): Uint8Array => encoder.encode(`${s}\0`);

/** The libc implementation, or undefined when libc cannot be opened (then node:fs is used). */
export function libcSysFile(): SysFile | undefined {
  let c: ReturnType<typeof load>;
  try {
    c = load();
  } catch {
    return undefined;
  }
  const errno = (): number => peek.i32(c.__errno_location()!, 0);
  const check = (r: number, syscall: string, path?: string, dest?: string): number => {
    if (r < 0) throw errnoError(errno(), syscall, path, dest);
    return r;
  };
  const open = (path: string, flags: number, mode = 0o666): number => check(c.open(cstr(path), flags | O_CLOEXEC, mode), 'open', path);
  const read = (fd: number, buf: Uint8Array): number => (buf.length === 0 ? 0 : check(Number(c.read(fd, buf, buf.length)), 'read'));
  const close = (fd: number): void => void check(c.close(fd), 'close');
  return {
    readFile(path) {
      const fd = open(path, 0);
      try {
        let buf = new Uint8Array(4096);
        let n = 0;
        for (;;) {
          if (n === buf.length) {
            const bigger = new Uint8Array(buf.length * 2);
            bigger.set(buf);
            buf = bigger;
          }
          const got = read(fd, buf.subarray(n));
          if (got === 0) break;
          n += got;
        }
        return new TextDecoder().decode(buf.subarray(0, n));
      } finally {
        c.close(fd);
      }
    },
    open,
    read,
    write: (fd, buf) => (buf.length === 0 ? 0 : check(Number(c.write(fd, buf, buf.length)), 'write')),
    close,
    link: (a, b) => void check(c.link(cstr(a), cstr(b)), 'link', a, b),
    unlink: (p) => void check(c.unlink(cstr(p)), 'unlink', p),
    rename: (a, b) => void check(c.rename(cstr(a), cstr(b)), 'rename', a, b),
    rmdir: (p) => void check(c.rmdir(cstr(p)), 'rmdir', p),
    readdir(p) {
      const dir = c.opendir(cstr(p));
      if (!dir) throw errnoError(errno(), 'scandir', p);
      const names: string[] = [];
      try {
        for (let e = c.readdir64(dir); e; e = c.readdir64(dir)) {
          const name = new CString(e, D_NAME).toString();
          if (name !== '.' && name !== '..') names.push(name);
        }
      } finally {
        c.closedir(dir);
      }
      return names;
    },
    ownerUid(p) {
      const buf = new Uint8Array(256);
      check(c.statx(AT_FDCWD, cstr(p), 0, STATX_UID, buf), 'stat', p);
      return new Uint32Array(buf.buffer)[STX_UID / 4]!;
    },
  };
}
