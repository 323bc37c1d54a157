// tsrun's error type and the one-line wording of any error (Node errno errors included).

/**
 * An error whose message is fit for the user; `cause` (if any) is appended as `: <cause>`.
 * `exitStatus`: what tsrun exits with (default 1; runc's exec fails with 255).
 */
export class TsrunError extends Error {
  override readonly cause?: unknown;
  readonly exitStatus?: number;
  constructor(message: string, options?: { cause?: unknown; exitStatus?: number }) {
    super(message);
    this.name = 'TsrunError';
    if (options && 'cause' in options) this.cause = options.cause;
    if (options?.exitStatus !== undefined) this.exitStatus = options.exitStatus;
  }
}

/** Wrong command line: unknown command or flag, wrong number of arguments. */
export class UsageError extends TsrunError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

// strerror(3) wording, as runc (Go) prints it.
const ERRNO_TEXT: Record<string, string> = {
  EPERM: 'operation not permitted',
  ENOENT: 'no such file or directory',
  ESRCH: 'no such process',
  EINTR: 'interrupted system call',
  EIO: 'input/output error',
  ENXIO: 'no such device or address',
  E2BIG: 'argument list too long',
  ENOEXEC: 'exec format error',
  EBADF: 'bad file descriptor',
  ECHILD: 'no child processes',
  EAGAIN: 'resource temporarily unavailable',
  ENOMEM: 'cannot allocate memory',
  EACCES: 'permission denied',
  EFAULT: 'bad address',
  EBUSY: 'device or resource busy',
  EEXIST: 'file exists',
  EXDEV: 'invalid cross-device link',
  ENODEV: 'no such device',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  EINVAL: 'invalid argument',
  ENFILE: 'too many open files in system',
  EMFILE: 'too many open files',
  ENOTTY: 'inappropriate ioctl for device',
  ETXTBSY: 'text file busy',
  EFBIG: 'file too large',
  ENOSPC: 'no space left on device',
  ESPIPE: 'illegal seek',
  EROFS: 'read-only file system',
  EMLINK: 'too many links',
  EPIPE: 'broken pipe',
  ERANGE: 'numerical result out of range',
  ENAMETOOLONG: 'file name too long',
  ENOSYS: 'function not implemented',
  ENOTEMPTY: 'directory not empty',
  ELOOP: 'too many levels of symbolic links',
  ENOTSUP: 'operation not supported',
  EOPNOTSUPP: 'operation not supported',
  EADDRINUSE: 'address already in use',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  ETIMEDOUT: 'connection timed out',
  ENOTSOCK: 'socket operation on non-socket',
  EOVERFLOW: 'value too large for defined data type',
};

interface ErrnoLike {
  code?: unknown;
  syscall?: unknown;
  path?: unknown;
  dest?: unknown;
  message?: unknown;
}

function errnoText(code: string, message: string): string {
  // strerror wording; for unknown codes, what Node says after "ECODE: ".
  const known = ERRNO_TEXT[code];
  if (known) return known;
  // Node: "EFOO: some text, open '/x'"
  const m = /^[A-Z0-9]+: ([^,]+)/.exec(message);
  return m ? m[1]! : code;
}

/** One line describing `err`: TsrunError chains joined with ': ', errno errors as `syscall path: text`. */
export function describeError(err: unknown): string {
  if (err instanceof TsrunError) {
    return err.cause === undefined ? err.message : `${err.message}: ${describeError(err.cause)}`;
  }
  if (err && typeof err === 'object') {
    const e = err as ErrnoLike;
    const message = typeof e.message === 'string' ? e.message : String(err);
    if (typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code)) {
      const text = errnoText(e.code, message);
      const where = [
        typeof e.syscall === 'string' ? e.syscall : '',
        typeof e.path === 'string' && !(typeof e.syscall === 'string' && e.syscall.endsWith(` ${e.path}`)) ? e.path : '',
        typeof e.dest === 'string' ? `-> ${e.dest}` : '',
      ].filter(Boolean).join(' ');
      return where ? `${where}: ${text}` : text;
    }
    return oneLine(message);
  }
  return oneLine(String(err));
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** Just the strerror text of an errno error ("no such file or directory"), else describeError. */
export function errnoMessage(err: unknown): string {
  const e = err as ErrnoLike | null;
  if (e && typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code)) {
    return errnoText(e.code, typeof e.message === 'string' ? e.message : '');
  }
  return describeError(err);
}

/** The errno code of a Node/Bun system error, if it is one. */
export function errnoCode(err: unknown): string | undefined {
  const c = (err as ErrnoLike | null)?.code;
  return typeof c === 'string' ? c : undefined;
}
