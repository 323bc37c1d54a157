// The one source of truth for the launch plan's operations: their codes, names and operands.
// scripts/gen-ops.ts generates from it ffi/init/op-table.h and ffi/init/op-table.c (the C enum,
// names and dispatch table), src/native/ops.ts (the codes and one typed constructor per
// operation) and the operations table of ffi/PLAN.md. `make build` regenerates them; a test
// fails when a generated file is stale.

export interface IntOperand {
  name: string;
  /** Repeats to the end of the ints (only the last operand). */
  rest?: true;
  /** Not given by the caller: the length of the string operand named here. */
  countOf?: string;
  /** May exceed 2^53 (a 64-bit value). */
  big?: true;
}

export interface StrOperand {
  name: string;
  /** Repeats (only the last operand, or one whose length an int operand gives). */
  rest?: true;
  /** Raw bytes rather than text. */
  bytes?: true;
}

export interface OpSpec {
  code: number;
  /** UPPER_CASE name: OP_<name> in C, Op.<name> in TypeScript. */
  name: string;
  ints: IntOperand[];
  strs: StrOperand[];
  /** What the init does, for ffi/PLAN.md (markdown, one line). */
  doc: string;
}

/** Record flags (ffi/PLAN.md, Plan encoding): F_<name> in C and TypeScript. */
export const RECORD_FLAGS: readonly { name: string; bit: number; doc: string }[] = [
  { name: 'OPTIONAL', bit: 1, doc: 'ENOENT (the path does not exist) is not an error: skip the op' },
  { name: 'HOST', bit: 2, doc: 'path arguments are host paths, not resolved inside the rootfs' },
  { name: 'NO_SYMLINKS', bit: 4, doc: 'MOUNT: no symlink anywhere on the target (procfs and sysfs only on an ordinary directory, as runc)' },
];

const i = (name: string, more: Partial<IntOperand> = {}): IntOperand => ({ name, ...more });
const s = (name: string, more: Partial<StrOperand> = {}): StrOperand => ({ name, ...more });

export const OPS: readonly OpSpec[] = [
  { code: 1, name: 'SETNS', ints: [i('nstype')], strs: [s('path')], doc: 'open path, setns(fd, nstype)' },
  { code: 2, name: 'UNSHARE', ints: [i('flags')], strs: [], doc: 'unshare(flags)' },
  { code: 3, name: 'SYNC', ints: [i('code')], strs: [], doc: 'send `S <code>` (code is a char), wait for `K`' },
  {
    code: 4, name: 'FORK', ints: [], strs: [],
    doc: 'clone(CLONE_PARENT\\|SIGCHLD); intermediate sends `P <pid>`, passes that pid to the child over a private pipe and `_exit(0)`; the child (maybe pid 1 of a new pid namespace) keeps it as *the pid* and goes on',
  },
  { code: 5, name: 'SET_ROOT_IDS', ints: [], strs: [], doc: 'setresgid(0,0,0), setresuid(0,0,0), setgroups(0) where allowed (after the user ns maps)' },
  { code: 6, name: 'ROOTFS', ints: [], strs: [s('path')], doc: 'remember the rootfs (host path) and open it as the root for rootfs paths' },
  {
    code: 7, name: 'MOUNT', ints: [i('flags'), i('mkkind'), i('mode')], strs: [s('source'), s('target'), s('fstype'), s('data')],
    doc: 'mount(source or NULL if "", target, fstype or NULL, flags, data or NULL). target is a rootfs path unless F_HOST. mkkind 0: must exist; 1: mkdir -p target (mode); 2: mkdir -p parent, create an empty file (a dangling symlink on the way or at the end: its target, resolved in the rootfs, is made); 3: as 1, and a directory that was already there gives its mode to the root of the new mount (runc\'s tmpfs without `mode=`). For MS_BIND sources F_HOST does not matter: the source is always a host path.',
  },
  {
    code: 8, name: 'MOUNT_SETATTR', ints: [i('attrSet'), i('attrClr'), i('propagation'), i('recursive')], strs: [s('target')],
    doc: 'mount_setattr(AT_RECURSIVE if recursive) — for rro/ridmap and friends',
  },
  { code: 9, name: 'MKDIR', ints: [i('mode')], strs: [s('path')], doc: 'mkdir -p (rootfs path)' },
  {
    code: 10, name: 'MKNOD', ints: [i('mode'), i('dev'), i('uid'), i('gid')], strs: [s('path')],
    doc: 'mode has the S_IF* bits, dev is makedev(). mkdir -p parent; an existing file of another type or device number is an error (errno 0), the same device is unlinked; mknod, chown',
  },
  { code: 11, name: 'SYMLINK', ints: [], strs: [s('target'), s('linkpath')], doc: 'symlink (rootfs linkpath); EEXIST is not an error' },
  { code: 12, name: 'CHOWN', ints: [i('uid'), i('gid')], strs: [s('path')], doc: 'chown' },
  { code: 13, name: 'PIVOT_ROOT', ints: [], strs: [], doc: 'chdir(rootfs); pivot_root(".", "."); umount2(".", MNT_DETACH); chdir("/")' },
  {
    code: 14, name: 'MOVE_ROOT', ints: [i('chrootOnly')], strs: [],
    doc: 'chdir(rootfs); mount(rootfs, "/", MS_MOVE) unless chrootOnly is 1 (a container without a mount namespace: "/" is the caller\'s; the int may be left out); chroot("."); chdir("/")',
  },
  {
    code: 15, name: 'MASK', ints: [], strs: [s('path')],
    doc: 'directory: an empty read-only tmpfs (fsopen/fsmount, as runc\'s `mount("tmpfs", path, "tmpfs", MS_RDONLY)`) on it; else bind /dev/null on it — only if /dev/null, opened O_PATH\\|O_NOFOLLOW, is the character device 1:3 (a symlink, a file or another device is an error, errno 0, never ENOENT: CVE-2025-31133). Both through fds (open_tree/move_mount). Missing path: skipped',
  },
  {
    code: 16, name: 'READONLY', ints: [], strs: [s('path')],
    doc: 'clone the mounts at path (open_tree AT_RECURSIVE), mount_setattr RDONLY recursively, move the clone on top (fds only; path-based bind + remount where the kernel lacks the new mount API). Missing: skipped',
  },
  { code: 17, name: 'WRITE_FILE', ints: [], strs: [s('path'), s('content')], doc: 'open(O_WRONLY) + write (sysctl, oom_score_adj, timens_offsets, setgroups)' },
  { code: 18, name: 'HOSTNAME', ints: [], strs: [s('name')], doc: 'sethostname' },
  { code: 19, name: 'DOMAINNAME', ints: [], strs: [s('name')], doc: 'setdomainname' },
  {
    code: 20, name: 'CHDIR', ints: [], strs: [s('path')],
    doc: 'chdir; then an error (errno 0) if the kernel\'s getcwd says the directory is not under the root, e.g. `/proc/self/fd/N` of a host directory (CVE-2024-21626)',
  },
  { code: 21, name: 'RLIMIT', ints: [i('resource'), i('soft', { big: true }), i('hard', { big: true })], strs: [], doc: 'prlimit(0, ...) (-1 = infinity)' },
  { code: 22, name: 'PERSONALITY', ints: [i('domain')], strs: [], doc: 'personality()' },
  { code: 23, name: 'IOPRIO', ints: [i('ioprio')], strs: [], doc: 'ioprio_set(IOPRIO_WHO_PROCESS, 0, ioprio)' },
  {
    code: 24, name: 'SCHED',
    ints: [i('policy'), i('flags', { big: true }), i('nice'), i('priority'), i('runtime', { big: true }), i('deadline', { big: true }), i('period', { big: true })],
    strs: [], doc: 'sched_setattr(0, ...)',
  },
  { code: 25, name: 'AFFINITY', ints: [i('cpus', { rest: true })], strs: [], doc: 'sched_setaffinity(0, ...) to the cpu numbers' },
  {
    code: 26, name: 'CAP_BOUNDING', ints: [i('lo'), i('hi')], strs: [],
    doc: 'PR_CAPBSET_DROP every cap not in the 64-bit set (lo = bits 0-31, hi = 32-63), up to the last cap the kernel knows',
  },
  {
    code: 27, name: 'USER', ints: [i('uid'), i('gid'), i('additionalGids', { rest: true })], strs: [],
    doc: 'PR_SET_KEEPCAPS 1; setgroups(additional) (skipped when /proc/self/setgroups says deny and the list is empty); setresgid; setresuid; PR_SET_KEEPCAPS 0',
  },
  {
    code: 28, name: 'CAP_SET',
    ints: [i('effLo'), i('effHi'), i('permLo'), i('permHi'), i('inhLo'), i('inhHi'), i('ambLo'), i('ambHi')],
    strs: [], doc: 'capset v3, then PR_CAP_AMBIENT_RAISE each ambient cap',
  },
  { code: 29, name: 'NO_NEW_PRIVS', ints: [], strs: [], doc: 'PR_SET_NO_NEW_PRIVS 1' },
  {
    code: 30, name: 'SECCOMP', ints: [i('flags'), i('listenerFd')], strs: [s('program', { bytes: true }), s('state')],
    doc: 'program = raw `struct sock_filter[]` bytes; seccomp(SECCOMP_SET_MODE_FILTER, flags). With SECCOMP_FILTER_FLAG_NEW_LISTENER the returned fd goes to the listener socket (listenerFd, -1: none) with `state` (the runtime-spec "container process state"; each byte 0x01 in it becomes the pid FORK learned, else getpid()), then both are closed',
  },
  {
    code: 31, name: 'CONSOLE', ints: [i('socketFd'), i('rows'), i('cols'), i('bindConsole')], strs: [],
    doc: 'open /dev/ptmx (O_RDWR\\|O_NOCTTY\\|O_CLOEXEC), unlockpt, open the peer with TIOCGPTPEER, TIOCSWINSZ if rows/cols > 0, bind the peer on /dev/console if bindConsole (created as an empty file; bound through fds onto the file opened O_NOFOLLOW, which must be a regular file or a character device), send the master over socketFd with SCM_RIGHTS, close master and socket, setsid, TIOCSCTTY, dup2 the peer to 0,1,2',
  },
  { code: 32, name: 'SETSID', ints: [], strs: [], doc: 'setsid()' },
  { code: 33, name: 'UMASK', ints: [i('mask')], strs: [], doc: 'umask' },
  {
    code: 34, name: 'LOOKUP', ints: [], strs: [s('file'), s('path')],
    doc: 'resolve the executable like execvp (file containing `/` as is; else each PATH entry), must be a regular executable file; remembered for EXEC. Runs under the seccomp filter when `noNewPrivileges` is false, so like runc: faccessat2(AT_EACCESS), faccessat when that is refused (EPERM/ENOSYS), the mode bits when that is refused too; when even stat is refused the lookup stops there and EXEC decides',
  },
  { code: 35, name: 'READY', ints: [], strs: [], doc: 'send `R`' },
  {
    code: 36, name: 'WAIT_START', ints: [i('fd')], strs: [],
    doc: 'fd is an O_PATH fd of the exec fifo (tsrun create): open it O_WRONLY\\|O_CLOEXEC (blocks until `tsrun start` opens it for reading), close fd, write `0` and keep the write end: `start` reads until EOF, which comes when EXEC succeeds (or init dies); a HOOK failing after this op first writes `hook <path>: <detail>\\n` to it. Any other fd (pipe, fifo opened for reading): read 1 byte (blocks until written), close fd; EOF: exit 1',
  },
  {
    code: 37, name: 'HOOK', ints: [i('timeoutS'), i('nargs', { countOf: 'args' }), i('nenv', { countOf: 'env' })],
    strs: [s('path'), s('stdin'), s('args', { rest: true }), s('env', { rest: true })],
    doc: 'fork; child: stdin = a pipe fed `stdin` (each byte 0x01 in it replaced as in SECCOMP), execve(path, args, env); parent waits, kills it after timeoutS (0: none); nonzero exit = error (errno field: 0, detail: "exit N" / "signal N" / "timeout")',
  },
  {
    code: 38, name: 'EXEC', ints: [i('nargs', { countOf: 'args' }), i('nenv', { countOf: 'env' })], strs: [s('args', { rest: true }), s('env', { rest: true })],
    doc: 'execve(the LOOKUP result, args, env); after a LOOKUP the filter kept from deciding, execve each remaining candidate in turn as execvp does (ENOENT, ENOTDIR, EACCES: the next one)',
  },
  {
    code: 39, name: 'CLOSE_FDS', ints: [i('first')], strs: [],
    doc: 'close_range(first, ~0, CLOSE_RANGE_CLOEXEC) — every fd ≥ first becomes close-on-exec (the sync fds already are)',
  },
  { code: 40, name: 'DUMPABLE', ints: [i('value')], strs: [], doc: 'PR_SET_DUMPABLE' },
  { code: 41, name: 'OOM_SCORE_ADJ', ints: [i('value')], strs: [], doc: 'as PROC_WRITE of `self/oom_score_adj`' },
  { code: 42, name: 'PDEATHSIG', ints: [i('signo')], strs: [], doc: 'PR_SET_PDEATHSIG' },
  {
    code: 43, name: 'IDMAP_MOUNT', ints: [i('usernsFd'), i('recursive'), i('mkkind'), i('mode')], strs: [s('source'), s('target')],
    doc: 'open_tree(source, OPEN_TREE_CLONE [+AT_RECURSIVE]), mount_setattr(MOUNT_ATTR_IDMAP, usernsFd), move_mount onto the rootfs path target (mkkind as MOUNT)',
  },
  {
    code: 44, name: 'TMPCOPYUP', ints: [i('flags'), i('mkkind'), i('mode')], strs: [s('source'), s('target'), s('fstype'), s('data')],
    doc: 'as MOUNT, then the new mount gets the contents, modes and owners of the directory it covers (podman\'s `tmpcopyup`)',
  },
  { code: 45, name: 'MEMPOLICY', ints: [i('mode'), i('maskWords', { rest: true, big: true })], strs: [], doc: 'set_mempolicy(mode (with MPOL_F_* flags), mask, 64 × words + 1)' },
  {
    code: 46, name: 'PROC_WRITE', ints: [], strs: [s('path'), s('content')],
    doc: 'one write into `/proc/<path>`: `/proc` must be the root of a procfs (fstatfs + inode 1), a leading `self/` or `thread-self/` is resolved with readlinkat, the file is opened with openat2 RESOLVE_BENEATH\\|NO_SYMLINKS\\|NO_MAGICLINKS\\|NO_XDEV (a fake or covered /proc is an error, errno 0: CVE-2019-16884, CVE-2025-52881). Used for sysctl and LSM labels',
  },
  {
    code: 47, name: 'CGROUP_JOIN', ints: [i('fds', { rest: true })], strs: [s('paths', { rest: true })],
    doc: 'write `0` to each fd (a v1 `tasks` file, or a `cgroup.procs` where the clone into the cgroup2 cgroup was refused, that the parent opened O_WRONLY; paths name them for errors), then close it: moves the calling thread without the RCU grace period a `cgroup.procs` write of the pid waits for. create: the first op; exec: right after the last FORK',
  },
  {
    code: 48, name: 'STDIO_CHOWN', ints: [i('uid')], strs: [],
    doc: 'fds 0, 1, 2 that uid does not own get uid as owner (the group stays: devpts\' `gid=5`), as runc\'s fixStdioPermissions; /dev/null, regular files and directories are left alone; EINVAL, EPERM, EROFS are not errors. Before USER, for a process user other than root',
  },
  {
    code: 49, name: 'UMOUNT', ints: [i('flags'), i('cover')], strs: [s('path')],
    doc: 'umount2(path, flags) (plain path); with cover, EINVAL or EPERM: mount an empty tmpfs on path instead. `--no-pivot`: before MOVE_ROOT, every full procfs and sysfs mount outside the rootfs goes (runc\'s msMoveRoot), so the kernel\'s mount_too_revealing check refuses a fresh proc in the container',
  },
  {
    code: 50, name: 'OPEN_TREE', ints: [i('slot'), i('recursive')], strs: [s('path')],
    doc: 'open_tree(path, OPEN_TREE_CLONE [+AT_RECURSIVE]): a detached clone of a bind source, kept in slot (0-255). Made first thing when the container gets a new user and mount namespace, with the host\'s credentials: the source may lie where the container\'s root cannot reach (runc\'s mount sources opened before the user namespace)',
  },
  {
    code: 51, name: 'BIND_TREE', ints: [i('slot'), i('mkkind'), i('mode')], strs: [s('target')],
    doc: 'move_mount the clone in slot onto the rootfs path target (mkkind as MOUNT), close it',
  },
];
