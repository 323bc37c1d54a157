// Typed bindings to libtsrun-shim.so (ffi/PLAN.md) and libc, through koffi (src/native/koffi.ts).
import { shimPath } from './support-files.js';
import { koffi as loadKoffi } from './koffi.js';

export interface WaitResult {
  pid: number;
  status: number;
  exited: boolean;
  /** exit code when exited */
  code: number;
  /** terminating signal when killed by a signal, else 0 */
  signal: number;
}

/** One rlimit to set in the child: [resource, soft, hard]; -1 means infinity. */
export type Rlimit = readonly [number, number | bigint, number | bigint];

export interface Native {
  /** clone() + exec `path` in the child; returns its pid. */
  spawn(
    path: string,
    argv: readonly string[],
    envp: readonly string[],
    cloneFlags: number,
    keepFds: readonly number[],
    rlimits: readonly Rlimit[],
    /** A cgroup2 directory fd the child is created in (clone3 CLONE_INTO_CGROUP), or -1. */
    cgroupFd?: number,
  ): number;
  /** fork + exec of a host helper (criu) by its path: no namespaces, no sealed copy (scripts work). */
  spawnHost(path: string, argv: readonly string[], envp: readonly string[], keepFds: readonly number[], rlimits: readonly Rlimit[]): number;
  sendFd(sock: number, fd: number): void;
  /** Receives one fd (O_CLOEXEC) over a unix socket. */
  recvFd(sock: number): number;
  /** A pty master received for a foreground process: clears ONLCR, so "\n" is not turned into "\r\n" (runc's recvtty). */
  clearOnlcr(fd: number): void;
  /** One message of a SOCK_SEQPACKET socket into buf, and the fd passed with it (O_CLOEXEC), else -1. */
  recvMsg(sock: number, buf: Buffer): { length: number; fd: number };
  pipe2(flags: number): [number, number];
  socketpair(domain: number, type: number, protocol: number): [number, number];
  /** Returns null with WNOHANG when no child changed state. */
  waitpid(pid: number, options: number): WaitResult | null;
  /** Blocks until pid exits, forwarding HUP/INT/QUIT/USR1/USR2/TERM/CONT/WINCH to it (C handlers). */
  waitForward(pid: number): WaitResult;
  /** Starts forwarding those signals to pid now (waitForward goes on and stops it). */
  forwardBegin(pid: number): void;
  /** waitpid on a worker thread: the event loop keeps running. */
  waitpidAsync(pid: number, options: number): Promise<WaitResult>;
  close(fd: number): void;
  /** poll(2) for input on one fd: true when readable (or hung up), false when timeoutMs passed. */
  pollIn(fd: number, timeoutMs: number): boolean;
  mkfifo(path: string, mode: number): void;
  umount2(target: string, flags: number): void;
  /** A connected AF_UNIX stream socket (O_CLOEXEC). */
  connectUnix(path: string): number;
  kill(pid: number, sig: number): void;
  prctl(option: number, a2?: number, a3?: number, a4?: number, a5?: number): number;
  getpid(): number;
  errno(): number;
  strerror(errno: number): string;
}

export const O_CLOEXEC = 0o2000000;
export const O_NONBLOCK = 0o4000;
export const WNOHANG = 1;
export const POLLIN = 1;
const ONLCR = 0o4;
const TCSANOW = 0;
export const WALL = 0x40000000;
export const PR_SET_CHILD_SUBREAPER = 36;
export const AF_UNIX = 1;
export const SOCK_STREAM = 1;
export const SOCK_SEQPACKET = 5;
export const SOCK_CLOEXEC = O_CLOEXEC;

// Linux errno values the FFI code tests for (the same on x86-64 and arm64).
export const EINTR = 4;
export const EFAULT = 14;
export const ENOSPC = 28;
export const ENAMETOOLONG = 36;

let errnoNames: Record<number, string> | undefined;

/** "ENOENT" for 2; node:os (which has the table) is loaded on the first call. */
export function errnoName(errno: number): string {
  errnoNames ??= Object.fromEntries(Object.entries(process.getBuiltinModule('node:os').constants.errno).map(([k, v]) => [v, k]));
  return errnoNames[errno] ?? `errno ${errno}`;
}

/** An Error from a failed system call, with Node's errno/code/syscall fields. */
export class SysError extends Error {
  readonly errno: number;
  readonly code: string;
  readonly syscall: string;
  constructor(syscall: string, errno: number, message: string) {
    super(`${syscall}: ${message}`);
    this.name = 'SysError';
    this.errno = errno;
    this.code = errnoName(errno);
    this.syscall = syscall;
  }
}

function decodeStatus(pid: number, status: number): WaitResult {
  const sig = status & 0x7f;
  const exited = sig === 0;
  return {
    pid,
    status,
    exited,
    code: exited ? (status >> 8) & 0xff : 0,
    signal: !exited && sig !== 0x7f ? sig : 0,
  };
}

let loaded: Promise<Native> | undefined;

export function loadNative(): Promise<Native> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<Native> {
  const koffi = loadKoffi();
  const shim = koffi.load(shimPath());
  const libc = koffi.load('libc.so.6');

  const tsrunSpawn = shim.func(
    'int tsrun_spawn(const char *path, const char **argv, const char **envp, unsigned long flags, const int *keep, int nkeep, const long *rlimits, int nrl, int cgroup_fd)',
  );
  const tsrunSpawnHost = shim.func(
    'int tsrun_spawn_host(const char *path, const char **argv, const char **envp, const int *keep, int nkeep, const long *rlimits, int nrl)',
  );
  const tsrunSendFd = shim.func('int tsrun_send_fd(int sock, int fd)');
  const tsrunRecvFd = shim.func('int tsrun_recv_fd(int sock)');
  const tsrunRecvMsg = shim.func('int tsrun_recv_msg(int sock, _Out_ uint8_t *buf, int len, _Out_ int *fd)');
  const tsrunWaitForward = shim.func('int tsrun_wait_forward(int pid)');
  const tsrunForwardBegin = shim.func('int tsrun_forward_begin(int pid)');
  const cPipe2 = libc.func('int pipe2(_Out_ int *fds, int flags)');
  const cSocketpair = libc.func('int socketpair(int domain, int type, int protocol, _Out_ int *sv)');
  const cWaitpid = libc.func('int waitpid(int pid, _Out_ int *status, int options)');
  const cClose = libc.func('int close(int fd)');
  const cTcgetattr = libc.func('int tcgetattr(int fd, void *termios)');
  const cTcsetattr = libc.func('int tcsetattr(int fd, int action, void *termios)');
  const cPoll = libc.func('int poll(_Inout_ int16_t *fds, unsigned long nfds, int timeout)');
  const cKill = libc.func('int kill(int pid, int sig)');
  const cPrctl = libc.func(
    'int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)',
  );
  const cGetpid = libc.func('int getpid()');
  const cMkfifo = libc.func('int mkfifo(const char *path, uint32_t mode)');
  const cUmount2 = libc.func('int umount2(const char *target, int flags)');
  const cSocket = libc.func('int socket(int domain, int type, int protocol)');
  const cConnect = libc.func('int connect(int fd, const uint8_t *addr, uint32_t len)');
  const cStrerror = libc.func('const char *strerror(int errnum)');

  const strerror = (e: number): string => cStrerror(e) as string;
  const fail = (syscall: string, e: number): never => {
    throw new SysError(syscall, e, strerror(e));
  };
  const check = (syscall: string, r: number): number => (r < 0 ? fail(syscall, koffi.errno()) : r);

  return {
    spawn(path, argv, envp, cloneFlags, keepFds, rlimits, cgroupFd = -1) {
      const rl = new BigInt64Array(rlimits.length * 3);
      rlimits.forEach(([res, soft, hard], i) => {
        rl[i * 3] = BigInt(res);
        rl[i * 3 + 1] = BigInt(soft);
        rl[i * 3 + 2] = BigInt(hard);
      });
      const r = tsrunSpawn(
        path,
        [...argv, null],
        [...envp, null],
        cloneFlags,
        keepFds.length ? Int32Array.from(keepFds) : null,
        keepFds.length,
        rlimits.length ? rl : null,
        rlimits.length,
        cgroupFd,
      ) as number;
      return r < 0 ? fail('spawn ' + path, -r) : r;
    },
    spawnHost(path, argv, envp, keepFds, rlimits) {
      const rl = new BigInt64Array(rlimits.length * 3);
      rlimits.forEach(([res, soft, hard], i) => {
        rl[i * 3] = BigInt(res);
        rl[i * 3 + 1] = BigInt(soft);
        rl[i * 3 + 2] = BigInt(hard);
      });
      const r = tsrunSpawnHost(path, [...argv, null], [...envp, null], keepFds.length ? Int32Array.from(keepFds) : null, keepFds.length,
        rlimits.length ? rl : null, rlimits.length) as number;
      return r < 0 ? fail('spawn ' + path, -r) : r;
    },
    sendFd(sock, fd) {
      const r = tsrunSendFd(sock, fd) as number;
      if (r < 0) fail('sendmsg', -r);
    },
    recvFd(sock) {
      const r = tsrunRecvFd(sock) as number;
      return r < 0 ? fail('recvmsg', -r) : r;
    },
    recvMsg(sock, buf) {
      const fd = new Int32Array(1);
      const r = tsrunRecvMsg(sock, buf, buf.length, fd) as number;
      return r < 0 ? fail('recvmsg', -r) : { length: r, fd: fd[0]! };
    },
    pipe2(flags) {
      const fds = new Int32Array(2);
      check('pipe2', cPipe2(fds, flags) as number);
      return [fds[0]!, fds[1]!];
    },
    socketpair(domain, type, protocol) {
      const fds = new Int32Array(2);
      check('socketpair', cSocketpair(domain, type, protocol, fds) as number);
      return [fds[0]!, fds[1]!];
    },
    clearOnlcr(fd) {
      // struct termios: c_iflag, c_oflag, ... (60 bytes on Linux); ONLCR is bit 2 of c_oflag.
      const t = Buffer.alloc(64);
      check('tcgetattr', cTcgetattr(fd, t) as number);
      t.writeUInt32LE(t.readUInt32LE(4) & ~ONLCR, 4);
      check('tcsetattr', cTcsetattr(fd, TCSANOW, t) as number);
    },
    pollIn(fd, timeoutMs) {
      // struct pollfd { int fd; short events; short revents; } as four int16s (little endian x86-64/arm64).
      const pfd = new Int16Array([fd & 0xffff, fd >>> 16, POLLIN, 0]);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = cPoll(pfd, 1, Math.max(0, deadline - Date.now())) as number;
        if (r < 0 && koffi.errno() === EINTR) continue;
        check('poll', r);
        return r > 0;
      }
    },
    waitpid(pid, options) {
      const st = new Int32Array(1);
      for (;;) {
        const r = cWaitpid(pid, st, options) as number;
        if (r < 0 && koffi.errno() === EINTR) continue;
        check('waitpid', r);
        return r === 0 ? null : decodeStatus(r, st[0]!);
      }
    },
    forwardBegin(pid) {
      tsrunForwardBegin(pid);
    },
    waitForward(pid) {
      const r = tsrunWaitForward(pid) as number;
      return r < 0 ? fail('waitpid', -r) : decodeStatus(pid, r);
    },
    waitpidAsync(pid, options) {
      return new Promise((resolve, reject) => {
        const st = new Int32Array(1);
        const once = (): void => {
          cWaitpid.async(pid, st, options, (err: unknown, r: number) => {
            if (err) return reject(err);
            if (r < 0) {
              // errno of a worker-thread call is not observable: ask again synchronously
              const again = cWaitpid(pid, st, options | WNOHANG) as number;
              if (again > 0) return resolve(decodeStatus(again, st[0]!));
              if (again === 0) return once();
              const e = koffi.errno();
              if (e === EINTR) return once();
              return reject(new SysError('waitpid', e, strerror(e)));
            }
            resolve(decodeStatus(r, st[0]!));
          });
        };
        once();
      });
    },
    close(fd) {
      check('close', cClose(fd) as number);
    },
    mkfifo(path, mode) {
      check('mkfifo ' + path, cMkfifo(path, mode) as number);
    },
    umount2(target, flags) {
      check('umount2 ' + target, cUmount2(target, flags) as number);
    },
    connectUnix(path) {
      const name = Buffer.from(path);
      if (name.length >= 108) fail('connect ' + path, ENAMETOOLONG);
      const addr = Buffer.alloc(110);
      addr.writeUInt16LE(AF_UNIX, 0);
      name.copy(addr, 2);
      const fd = check('socket', cSocket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) as number);
      if ((cConnect(fd, addr, 2 + name.length + 1) as number) < 0) {
        const e = koffi.errno();
        cClose(fd);
        fail('connect ' + path, e);
      }
      return fd;
    },
    kill(pid, sig) {
      check('kill', cKill(pid, sig) as number);
    },
    prctl(option, a2 = 0, a3 = 0, a4 = 0, a5 = 0) {
      return check('prctl', cPrctl(option, a2, a3, a4, a5) as number);
    },
    getpid: () => cGetpid() as number,
    errno: () => koffi.errno(),
    strerror,
  };
}
