// Which command lines take the short path of cli/hot.ts: `state ID` and `kill ID [SIGNAL]` after
// the global flags engines pass. Plain string work and no imports: main.ts runs it on every call
// before it loads either path.
export interface HotLine {
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
