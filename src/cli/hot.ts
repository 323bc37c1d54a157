// The commands engines call most often (cli/hot-line.ts) run from here without the full command
// line: no command table (help texts, every command's flags), flag parser or yargs check, and
// for `state`, `kill`, `start` and `list` no node:fs (file I/O through libc, cli/lean.ts). Each of those
// costs bun start-up time and resident pages on every call. The command runs through the same
// module as from cli/main.ts, with the same context; an error is reported by cli/main.ts's
// report() (loaded then), so the messages, the log and the exit status are the full path's.
import { createLogger } from '../log.js';
import type { Ctx, Logger } from './context.js';
import { printableId, type HotLine } from './hot-line.js';
import { useLibc } from './lean.js';
import type { ParsedArgs } from './table.js';

const LEAN = new Set(['state', 'kill', 'start', 'list']);

const load = {
  state: () => import('./commands/state.js'),
  kill: () => import('./commands/kill.js'),
  start: () => import('./commands/start.js'),
  delete: () => import('./commands/delete.js'),
  pause: () => import('./commands/pause.js'),
  resume: () => import('./commands/resume.js'),
  list: () => import('./commands/list.js'),
};

/** The flag values the full parser would give (defaults included). */
function flagsOf(line: HotLine): ParsedArgs['flags'] {
  switch (line.command) {
    case 'delete':
      return { force: line.flag };
    case 'kill':
      return { all: line.flag };
    case 'list':
      return { format: 'table' };
    default:
      return {};
  }
}

/** Runs the command of a hot command line; returns the exit status. */
export async function runHot(line: HotLine): Promise<number> {
  let log: Logger | undefined;
  let where = '';
  try {
    if (LEAN.has(line.command)) await useLibc();
    log = createLogger({ file: line.log, format: line.logFormat, debug: line.debug });
    if (line.args.length) where = `${line.command} ${printableId(line.args[0]!)}`;
    const ctx: Ctx = { root: line.root, log, debug: line.debug, systemdCgroup: line.systemdCgroup, rootless: 'auto' };
    return await (await load[line.command]()).default(ctx, { _: line.args, flags: flagsOf(line) });
  } catch (e) {
    return (await import('./main.js')).report(e, where, log, line.debug);
  }
}
