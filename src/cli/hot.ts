// The commands engines call most often between the others (`state`, `kill`), in their plain
// form, without loading the command line (cli/main.ts, the command table, the flag parser, the
// logger) or node:fs (file I/O through libc, cli/lean.ts): each of those costs bun start-up time
// and resident pages on every call.
//
// Only a command line this recognises completely, and only a container in the expected shape,
// is handled here; for anything else (other flags, a missing or corrupt state, a stopped
// container, an error of any kind) `runHot` answers undefined and the full command line runs
// the command from the start, with its messages. Nothing here has an effect before the point
// where it can no longer fail (the output, the signal).
import { currentStatusAsync, runtimeState } from '../container/status.js';
import { Store } from '../container/store.js';
import { parseSignal } from '../container/signals.js';
import { writeText } from '../io.js';
import { openLog } from '../log.js';
import { sys } from '../sysfile.js';
import { useLibc } from './lean.js';

interface HotLine {
  root: string;
  log?: string;
  command: 'state' | 'kill';
  args: string[];
}

/** An absolute path without '.', '..' or '//' (what parseGlobals takes as it is). */
function plainAbsolute(p: string): boolean {
  return p.startsWith('/') && !p.includes('//') && !p.includes('/./') && !p.includes('/../') && !p.endsWith('/.') && !p.endsWith('/..');
}

/** The global flags engines pass (--root, --log, --log-format, --systemd-cgroup), then the command. */
export function parseHot(argv: readonly string[]): HotLine | undefined {
  let root: string | undefined;
  let log: string | undefined;
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('-')) break;
    const eq = a.indexOf('=');
    const key = eq < 0 ? a : a.slice(0, eq);
    if (key === '--systemd-cgroup' && eq < 0) continue;
    if (key !== '--root' && key !== '--log' && key !== '--log-format') return undefined;
    let value: string | undefined;
    if (eq >= 0) value = a.slice(eq + 1);
    else value = argv[++i];
    if (value === undefined) return undefined;
    if (key === '--root') root = value;
    else if (key === '--log') log = value;
    else if (value !== 'text' && value !== 'json') return undefined;
  }
  const command = argv[i];
  const args = argv.slice(i + 1);
  if (command !== 'state' && command !== 'kill') return undefined;
  if (args.some((a) => a.startsWith('-'))) return undefined;
  if (command === 'state' ? args.length !== 1 : args.length < 1 || args.length > 2) return undefined;
  if (root === undefined) {
    // The default root as parseGlobals has it for root without XDG_RUNTIME_DIR; others: full path.
    if ((process.geteuid?.() ?? 0) !== 0 || process.env.XDG_RUNTIME_DIR) return undefined;
    root = '/run/tsrun';
  }
  if (!plainAbsolute(root)) return undefined;
  if (root.length > 1 && root.endsWith('/')) root = root.slice(0, -1);
  return { root, log, command, args };
}

/** --log FILE is opened (created) at start-up, as runc does; nothing here writes to it. */
function touchLog(file: string | undefined): boolean {
  if (file === undefined || file === '/dev/stderr') return true;
  try {
    sys().close(openLog(file));
    return true;
  } catch {
    return false;
  }
}

/** Runs a hot command; undefined: not handled, run the full command line instead. */
export async function runHot(argv: readonly string[]): Promise<number | undefined> {
  const line = parseHot(argv);
  if (!line) return undefined;
  await useLibc();
  if (!touchLog(line.log)) return undefined;
  try {
    const r = await new Store(line.root).tryLoadAsync(line.args[0]!);
    if (!r) return undefined;
    const status = await currentStatusAsync(r);
    if (line.command === 'state') {
      await writeText(1, `${JSON.stringify(runtimeState(r, status), null, 2)}\n`);
      return 0;
    }
    // kill: the init of a created or running container; paused (SIGKILL thaws) and stopped ones,
    // and any failure, take the full path.
    if (status !== 'created' && status !== 'running') return undefined;
    process.kill(r.pid, parseSignal(line.args[1] ?? 'SIGTERM'));
    return 0;
  } catch {
    return undefined;
  }
}
