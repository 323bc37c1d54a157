// The global flags (before the command name), parsed by hand: this runs on every invocation.
import { path } from '../io.js';
import { UsageError } from '../errors.js';
import { honorsXdgRuntimeDir } from '../container/rootless.js';
import { parseFlags } from './flags.js';
import type { FlagDef } from './table.js';

export const GLOBAL_FLAGS: FlagDef[] = [
  { name: 'debug', type: 'boolean', desc: 'enable debug logging' },
  { name: 'log', type: 'string', desc: "set the log file to write tsrun logs to (default is '/dev/stderr')", value: 'path', complete: 'file' },
  { name: 'log-format', type: 'string', desc: "set the log format ('text' (default), or 'json')", default: 'text', value: 'format', complete: ['text', 'json'] },
  { name: 'root', type: 'string', desc: 'root directory for storage of container state (this should be located in tmpfs)', value: 'dir', complete: 'dir' },
  { name: 'criu', type: 'string', desc: 'path to the criu binary used for checkpoint and restore', value: 'path', complete: 'file' },
  { name: 'systemd-cgroup', type: 'boolean', desc: 'enable systemd cgroup support, expects cgroupsPath to be of form "slice:prefix:name" for e.g. "system.slice:tsrun:434234"' },
  { name: 'rootless', type: 'string', desc: "ignore cgroup permission errors ('true', 'false', or 'auto')", default: 'auto', value: 'value', complete: ['true', 'false', 'auto'] },
  { name: 'version', alias: 'v', type: 'boolean', desc: 'print the version' },
];

export interface Globals {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  debug: boolean;
  systemdCgroup: boolean;
  rootless: boolean | 'auto';
  criu?: string;
  help: boolean;
  version: boolean;
  /** The command name, if any. */
  command?: string;
  /** Everything after the command name. */
  rest: string[];
}

export function defaultRoot(): string {
  const uid = process.geteuid?.() ?? 0;
  if (honorsXdgRuntimeDir()) return path.join(process.env.XDG_RUNTIME_DIR!, 'tsrun');
  return uid === 0 ? '/run/tsrun' : `/run/user/${uid}/tsrun`;
}

/** path.resolve(root), without loading node:path for the usual absolute, normal path. */
function resolveRoot(root: string): string {
  const normal = root.startsWith('/') && !root.includes('//') && !root.includes('/./') && !root.includes('/../') &&
    !root.endsWith('/.') && !root.endsWith('/..');
  if (!normal) return path.resolve(root);
  return root.length > 1 && root.endsWith('/') ? root.slice(0, -1) : root;
}

export function parseGlobals(argv: readonly string[]): Globals {
  const p = parseFlags({ name: '', flags: GLOBAL_FLAGS, haltAfter: 1 }, argv);
  const f = p.flags;
  const format = f['log-format'] as string;
  if (format !== 'text' && format !== 'json') throw new UsageError(`invalid log format "${format}": use 'text' or 'json'`);
  const rl = f.rootless as string;
  if (rl !== 'true' && rl !== 'false' && rl !== 'auto') throw new UsageError(`invalid --rootless value "${rl}": use 'true', 'false' or 'auto'`);
  const root = (f.root as string | undefined) ?? defaultRoot();
  return {
    root: resolveRoot(root),
    log: f.log as string | undefined,
    logFormat: format,
    debug: f.debug === true,
    systemdCgroup: f['systemd-cgroup'] === true,
    rootless: rl === 'auto' ? 'auto' : rl === 'true',
    criu: f.criu as string | undefined,
    help: p.help,
    version: f.version === true,
    command: p._[0],
    rest: p._.slice(1),
  };
}
