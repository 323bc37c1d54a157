// The command table: names, flags (runc's names, short forms and help text) and positional
// arguments of every command. Loaded by every invocation, so it is plain data: each command's
// code is imported lazily through `load`.
import type { Ctx } from './context.js';

export type FlagType = 'boolean' | 'string' | 'number' | 'array';

export interface FlagDef {
  name: string;
  alias?: string;
  type: FlagType;
  desc: string;
  default?: string | number | boolean;
  /** The value's name in man pages (`--bundle dir`); "value" when not given. */
  value?: string;
  /** What shell completion offers for the value: files, directories or fixed words. */
  complete?: 'file' | 'dir' | readonly string[];
}

export interface ParsedArgs {
  /** Positional arguments (for exec/ps: everything after the first one, unparsed). */
  _: string[];
  /** Flag values by long name: boolean | string | number | string[]; absent when not given and without default. */
  flags: Record<string, string | number | boolean | string[] | undefined>;
}

export interface CommandModule {
  default(ctx: Ctx, args: ParsedArgs): Promise<number>;
}

export interface CommandDef {
  name: string;
  summary: string;
  /** Usage after `tsrun <name> [command options]`. */
  usage: string;
  flags: FlagDef[];
  /** Positional argument count bounds. */
  minArgs: number;
  maxArgs: number;
  /**
   * Flag parsing stops after this many positionals (the rest belongs to the container process
   * or to ps), like runc's exec/ps. Other commands accept flags anywhere, like runc.
   */
  haltAfter?: number;
  /** The first positional is a container id (named in error lines). */
  takesId: boolean;
  /** Parsed by the small built-in parser rather than yargs (start-up cost: hot commands). */
  fast: boolean;
  /** File I/O through libc rather than node:fs (cli/lean.ts): the command does little else. */
  lean?: boolean;
  load(): Promise<CommandModule>;
}

const CONSOLE_SOCKET = "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal";
const PRESERVE_FDS = 'Pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)';
const PID_FILE = 'specify the file to write the process id to';
const NO_PIVOT = 'do not use pivot root to jail process inside rootfs.  This should be used whenever the rootfs is on top of a ramdisk';
const NO_NEW_KEYRING = 'do not create a new session keyring for the container.  This will cause the container to inherit the calling processes session key';
const BUNDLE = 'path to the root of the bundle directory, defaults to the current directory';

const CREATE_FLAGS: FlagDef[] = [
  { name: 'bundle', alias: 'b', type: 'string', desc: BUNDLE, default: '.', value: 'dir', complete: 'dir' },
  { name: 'console-socket', type: 'string', desc: CONSOLE_SOCKET, value: 'path', complete: 'file' },
  { name: 'pid-file', type: 'string', desc: PID_FILE, value: 'path', complete: 'file' },
  { name: 'no-pivot', type: 'boolean', desc: NO_PIVOT },
  { name: 'no-new-keyring', type: 'boolean', desc: NO_NEW_KEYRING },
  { name: 'preserve-fds', type: 'number', desc: PRESERVE_FDS, default: 0, value: 'N' },
];

// checkpoint and restore: runc's flags (its 1.1 command line), meanings in src/criu/options.ts.
const CG_MODES = ['soft', 'full', 'strict', 'ignore'] as const;
const CRIU_COMMON = {
  workPath: { name: 'work-path', type: 'string', desc: 'path for saving work files and logs', value: 'dir', complete: 'dir' },
  tcp: { name: 'tcp-established', type: 'boolean', desc: 'allow open tcp connections' },
  unixSk: { name: 'ext-unix-sk', type: 'boolean', desc: 'allow external unix sockets' },
  shellJob: { name: 'shell-job', type: 'boolean', desc: 'allow shell jobs' },
  lazy: { name: 'lazy-pages', type: 'boolean', desc: 'use userfaultfd to lazily restore memory pages' },
  locks: { name: 'file-locks', type: 'boolean', desc: 'handle file locks, for safety' },
  cgMode: { name: 'manage-cgroups-mode', type: 'string', desc: "cgroups mode: 'soft' (default), 'full', 'strict' and 'ignore'", value: 'mode', complete: CG_MODES },
  emptyNs: { name: 'empty-ns', type: 'array', desc: "create a namespace, but don't restore its properties (only network)", value: 'ns', complete: ['network'] },
  dedup: { name: 'auto-dedup', type: 'boolean', desc: 'enable auto deduplication of memory images' },
} satisfies Record<string, FlagDef>;

const CHECKPOINT_FLAGS: FlagDef[] = [
  { name: 'image-path', type: 'string', desc: 'path for saving criu image files (default: ./checkpoint)', value: 'dir', complete: 'dir' },
  CRIU_COMMON.workPath,
  { name: 'parent-path', type: 'string', desc: 'path for previous criu image files in pre-dump (relative to --image-path)', value: 'dir', complete: 'dir' },
  { name: 'leave-running', type: 'boolean', desc: 'leave the process running after checkpointing' },
  CRIU_COMMON.tcp,
  CRIU_COMMON.unixSk,
  CRIU_COMMON.shellJob,
  CRIU_COMMON.lazy,
  { name: 'status-fd', type: 'number', desc: 'criu writes \\0 to this FD once lazy-pages is ready', default: -1, value: 'fd' },
  { name: 'page-server', type: 'string', desc: 'ADDRESS:PORT of the page server', value: 'address:port' },
  CRIU_COMMON.locks,
  { name: 'pre-dump', type: 'boolean', desc: "dump container's memory information only, leave the container running after this" },
  CRIU_COMMON.cgMode,
  CRIU_COMMON.emptyNs,
  CRIU_COMMON.dedup,
];

const RESTORE_FLAGS: FlagDef[] = [
  { name: 'console-socket', type: 'string', desc: CONSOLE_SOCKET, value: 'path', complete: 'file' },
  { name: 'image-path', type: 'string', desc: 'path to criu image files for restoring (default: ./checkpoint)', value: 'dir', complete: 'dir' },
  CRIU_COMMON.workPath,
  CRIU_COMMON.tcp,
  CRIU_COMMON.unixSk,
  CRIU_COMMON.shellJob,
  CRIU_COMMON.locks,
  CRIU_COMMON.cgMode,
  { name: 'bundle', alias: 'b', type: 'string', desc: 'path to the root of the bundle directory (default: the current directory)', value: 'dir', complete: 'dir' },
  { name: 'detach', alias: 'd', type: 'boolean', desc: "detach from the container's process" },
  { name: 'pid-file', type: 'string', desc: PID_FILE, value: 'path', complete: 'file' },
  { name: 'no-subreaper', type: 'boolean', desc: 'disable the use of the subreaper used to reap reparented processes' },
  { name: 'no-pivot', type: 'boolean', desc: NO_PIVOT },
  CRIU_COMMON.emptyNs,
  CRIU_COMMON.dedup,
  CRIU_COMMON.lazy,
  { name: 'lsm-profile', type: 'string', desc: 'Specify an LSM profile to be used during restore in the form of TYPE:NAME.', value: 'TYPE:NAME' },
  { name: 'lsm-mount-context', type: 'string', desc: 'Specify an LSM mount context to be used during restore.', value: 'context' },
];

const FORMAT: FlagDef = { name: 'format', alias: 'f', type: 'string', desc: 'select one of: table or json', default: 'table', value: 'format', complete: ['table', 'json'] };

const ID = '<container-id>';

const defs: CommandDef[] = [
  {
    name: 'checkpoint', summary: 'checkpoint a running container', usage: ID, flags: CHECKPOINT_FLAGS,
    minArgs: 1, maxArgs: 1, takesId: true, fast: true, load: () => import('./commands/checkpoint.js'),
  },
  {
    name: 'create', summary: 'create a container', usage: ID, flags: CREATE_FLAGS,
    minArgs: 1, maxArgs: 1, takesId: true, fast: true, load: () => import('./commands/create.js'),
  },
  {
    name: 'delete', summary: 'delete any resources held by the container often used with detached container', usage: ID,
    flags: [{ name: 'force', alias: 'f', type: 'boolean', desc: 'Forcibly deletes the container if it is still running (uses SIGKILL)' }],
    minArgs: 1, maxArgs: 1, takesId: true, fast: true, load: () => import('./commands/delete.js'),
  },
  {
    name: 'events', summary: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics', usage: ID,
    flags: [
      { name: 'interval', type: 'string', desc: 'set the stats collection interval (a duration such as 5s, 500ms or 1m)', default: '5s', value: 'duration' },
      { name: 'stats', type: 'boolean', desc: "display the container's stats then exit" },
    ],
    minArgs: 1, maxArgs: 1, takesId: true, fast: true, load: () => import('./commands/events.js'),
  },
  {
    name: 'exec', summary: 'execute new process inside the container',
    usage: `${ID} <command> [command options]  || -p process.json ${ID}`,
    flags: [
      { name: 'console-socket', type: 'string', desc: CONSOLE_SOCKET, value: 'path', complete: 'file' },
      { name: 'cwd', type: 'string', desc: 'current working directory in the container', value: 'dir' },
      { name: 'env', alias: 'e', type: 'array', desc: 'set environment variables (NAME=value; repeat the flag for more)', value: 'NAME=value' },
      { name: 'tty', alias: 't', type: 'boolean', desc: 'allocate a pseudo-TTY' },
      { name: 'user', alias: 'u', type: 'string', desc: 'UID (format: <uid>[:<gid>])', value: 'uid[:gid]' },
      { name: 'additional-gids', alias: 'g', type: 'array', desc: 'additional gids (repeat the flag for more)', value: 'gid' },
      { name: 'process', alias: 'p', type: 'string', desc: 'path to the process.json', value: 'path', complete: 'file' },
      { name: 'detach', alias: 'd', type: 'boolean', desc: "detach from the container's process" },
      { name: 'pid-file', type: 'string', desc: PID_FILE, value: 'path', complete: 'file' },
      { name: 'process-label', type: 'string', desc: 'set the asm process label for the process commonly used with selinux', value: 'label' },
      { name: 'apparmor', type: 'string', desc: 'set the apparmor profile for the process', value: 'profile' },
      { name: 'no-new-privs', type: 'boolean', desc: 'set the no new privileges value for the process' },
      { name: 'cap', alias: 'c', type: 'array', desc: 'add a capability to the bounding set for the process (repeat the flag for more)', value: 'CAP_NAME' },
      { name: 'preserve-fds', type: 'number', desc: PRESERVE_FDS, default: 0, value: 'N' },
      { name: 'cgroup', type: 'array', desc: 'run the process in an (existing) sub-cgroup(s). Format is [<controller>:]<cgroup>. This option can be used multiple times.', value: '[controller:]cgroup' },
      { name: 'ignore-paused', type: 'boolean', desc: 'allow exec in a paused container' },
    ],
    minArgs: 1, maxArgs: Infinity, haltAfter: 1, takesId: true, fast: true, load: () => import('./commands/exec.js'),
  },
  {
    name: 'features', summary: 'show the enabled features', usage: '', flags: [],
    minArgs: 0, maxArgs: 0, takesId: false, fast: false, load: () => import('./commands/features.js'),
  },
  {
    name: 'kill', summary: "kill sends the specified signal (default: SIGTERM) to the container's init process", usage: `${ID} [signal]`,
    flags: [{ name: 'all', alias: 'a', type: 'boolean', desc: 'send the specified signal to all processes inside the container' }],
    minArgs: 1, maxArgs: 2, takesId: true, fast: true, lean: true, load: () => import('./commands/kill.js'),
  },
  {
    name: 'list', summary: 'lists containers started by tsrun with the given root', usage: '',
    flags: [FORMAT, { name: 'quiet', alias: 'q', type: 'boolean', desc: 'display only container IDs' }],
    minArgs: 0, maxArgs: 0, takesId: false, fast: true, lean: true, load: () => import('./commands/list.js'),
  },
  {
    name: 'pause', summary: 'pause suspends all processes inside the container', usage: ID, flags: [],
    minArgs: 1, maxArgs: 1, takesId: true, fast: true, load: () => import('./commands/pause.js'),
  },
  {
    name: 'ps', summary: 'ps displays the processes running inside a container', usage: `${ID} [ps options]`, flags: [FORMAT],
    minArgs: 1, maxArgs: Infinity, haltAfter: 1, takesId: true, fast: true, load: () => import('./commands/ps.js'),
  },
  {
    name: 'restore', summary: 'restore a container from a previous checkpoint', usage: ID, flags: RESTORE_FLAGS,
    minArgs: 1, maxArgs: 1, takesId: true, fast: true, load: () => import('./commands/restore.js'),
  },
  {
    name: 'resume', summary: 'resumes all processes that have been previously paused', usage: ID, flags: [],
    minArgs: 1, maxArgs: 1, takesId: true, fast: true, load: () => import('./commands/resume.js'),
  },
  {
    name: 'run', summary: 'create and run a container', usage: ID,
    flags: [
      ...CREATE_FLAGS,
      { name: 'detach', alias: 'd', type: 'boolean', desc: "detach from the container's process" },
      { name: 'keep', type: 'boolean', desc: 'do not delete the container after it exits' },
      { name: 'no-subreaper', type: 'boolean', desc: 'disable the use of the subreaper used to reap reparented processes' },
    ],
    minArgs: 1, maxArgs: 1, takesId: true, fast: true, load: () => import('./commands/run.js'),
  },
  {
    name: 'spec', summary: 'create a new specification file', usage: '',
    flags: [
      { name: 'bundle', alias: 'b', type: 'string', desc: 'path to the root of the bundle directory', value: 'dir', complete: 'dir' },
      { name: 'rootless', type: 'boolean', desc: 'generate a configuration for a rootless container' },
    ],
    minArgs: 0, maxArgs: 0, takesId: false, fast: false, load: () => import('./commands/spec.js'),
  },
  {
    name: 'start', summary: 'executes the user defined process in a created container', usage: ID, flags: [],
    minArgs: 1, maxArgs: 1, takesId: true, fast: true, lean: true, load: () => import('./commands/start.js'),
  },
  {
    name: 'state', summary: 'output the state of a container', usage: ID, flags: [],
    minArgs: 1, maxArgs: 1, takesId: true, fast: true, lean: true, load: () => import('./commands/state.js'),
  },
  {
    name: 'update', summary: 'update container resource constraints', usage: ID,
    flags: [
      { name: 'resources', alias: 'r', type: 'string', desc: "path to the file containing the resources to update or '-' to read from the standard input", value: 'path', complete: 'file' },
      { name: 'blkio-weight', type: 'string', desc: 'Specifies per cgroup weight, range is from 10 to 1000', value: 'weight' },
      { name: 'cpu-period', type: 'string', desc: 'CPU CFS period to be used for hardcapping (in usecs). 0 to use system default', value: 'usecs' },
      { name: 'cpu-quota', type: 'string', desc: 'CPU CFS hardcap limit (in usecs). Allowed cpu time in a given period', value: 'usecs' },
      { name: 'cpu-share', type: 'string', desc: 'CPU shares (relative weight vs. other containers)', value: 'shares' },
      { name: 'cpu-rt-period', type: 'string', desc: 'CPU realtime period to be used for hardcapping (in usecs). 0 to use system default', value: 'usecs' },
      { name: 'cpu-rt-runtime', type: 'string', desc: 'CPU realtime hardcap limit (in usecs). Allowed cpu time in a given period', value: 'usecs' },
      { name: 'cpuset-cpus', type: 'string', desc: 'CPU(s) to use (for example 0-3 or 0,2)', value: 'cpus' },
      { name: 'cpuset-mems', type: 'string', desc: 'Memory node(s) to use (for example 0-1)', value: 'mems' },
      { name: 'memory', type: 'string', desc: 'Memory limit (in bytes; k, m and g suffixes are accepted)', value: 'bytes' },
      { name: 'memory-reservation', type: 'string', desc: 'Memory reservation or soft_limit (in bytes)', value: 'bytes' },
      { name: 'memory-swap', type: 'string', desc: "Total memory usage (memory + swap); set '-1' to enable unlimited swap", value: 'bytes' },
      { name: 'pids-limit', type: 'string', desc: 'Maximum number of pids allowed in the container', value: 'N' },
      { name: 'l3-cache-schema', type: 'string', desc: 'The string of Intel RDT/CAT L3 cache schema', value: 'schema' },
      { name: 'mem-bw-schema', type: 'string', desc: 'The string of Intel RDT/MBA memory bandwidth schema', value: 'schema' },
    ],
    minArgs: 1, maxArgs: 1, takesId: true, fast: true, load: () => import('./commands/update.js'),
  },
];

export const COMMANDS: ReadonlyMap<string, CommandDef> = new Map(defs.map((d) => [d.name, d]));
