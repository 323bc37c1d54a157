// Which command lines take the short path of cli/hot.ts: the commands engines call between
// create and the end of a container (state, kill, start, delete, pause, resume) and a plain
// `list`, after the
// global flags engines pass. Plain string work and no imports: main.ts runs it on every call
// before it loads either path. Anything it does not take whole (other flags, --help, a flag
// value that the full parser would refuse, a wrong number of arguments) goes to the full
// command line, which has the messages.

export type HotCommand = 'state' | 'kill' | 'start' | 'delete' | 'pause' | 'resume' | 'list';

export interface HotLine {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
  command: HotCommand;
  /** Positional arguments. */
  args: string[];
  /** The command's boolean flag, when given: delete --force, kill --all. */
  flag: boolean;
}

/** Positional argument counts, and the one boolean flag (long, short) a command may have. */
const COMMANDS: Record<HotCommand, { min: number; max: number; flag?: [string, string] }> = {
  state: { min: 1, max: 1 },
  kill: { min: 1, max: 2, flag: ['--all', '-a'] },
  start: { min: 1, max: 1 },
  delete: { min: 1, max: 1, flag: ['--force', '-f'] },
  pause: { min: 1, max: 1 },
  resume: { min: 1, max: 1 },
  list: { min: 0, max: 0 },
};

/** An absolute path without '.', '..' or '//' (what parseGlobals takes as it is). */
function plainAbsolute(p: string): boolean {
  return p.startsWith('/') && !p.includes('//') && !p.includes('/./') && !p.includes('/../') && !p.endsWith('/.') && !p.endsWith('/..');
}

export function parseHot(argv: readonly string[]): HotLine | undefined {
  let root: string | undefined;
  let log: string | undefined;
  let logFormat: 'text' | 'json' = 'text';
  let debug = false;
  let systemdCgroup = false;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) break;
    if (a === '--systemd-cgroup') {
      systemdCgroup = true;
      continue;
    }
    if (a === '--debug') {
      debug = true;
      continue;
    }
    const eq = a.indexOf('=');
    const key = eq < 0 ? a : a.slice(0, eq);
    if (key !== '--root' && key !== '--log' && key !== '--log-format') return undefined;
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) return undefined;
    if (key === '--root') root = value;
    else if (key === '--log') log = value;
    else if (value === 'text' || value === 'json') logFormat = value;
    else return undefined;
  }
  const command = argv[i] as HotCommand;
  if (!Object.hasOwn(COMMANDS, command)) return undefined;
  const spec = COMMANDS[command];
  const args: string[] = [];
  let flag = false;
  for (const a of argv.slice(i + 1)) {
    if (spec.flag && (a === spec.flag[0] || a === spec.flag[1])) flag = true;
    else if (a.startsWith('-')) return undefined;
    else args.push(a);
  }
  if (args.length < spec.min || args.length > spec.max) return undefined;
  if (root === undefined) {
    // The default root as parseGlobals has it for root without XDG_RUNTIME_DIR; others: full path.
    if ((process.geteuid?.() ?? 0) !== 0 || process.env.XDG_RUNTIME_DIR) return undefined;
    root = '/run/tsrun';
  }
  if (!plainAbsolute(root)) return undefined;
  if (root.length > 1 && root.endsWith('/')) root = root.slice(0, -1);
  return { root, log, logFormat, debug, systemdCgroup, command, args, flag };
}

/** An id as it can stand in a one-line message: quoted when it holds blanks or control characters. */
export function printableId(id: string): string {
  let plain = id.length > 0;
  for (let i = 0; i < id.length && plain; i++) plain = id.charCodeAt(i) >= 0x21 && id.charCodeAt(i) <= 0x7e;
  return plain ? id : JSON.stringify(id);
}
