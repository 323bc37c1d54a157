// The commands engines call most often (cli/hot-line.ts) run from here without the full command
// line: no command table (help texts, every command's flags), flag parser or yargs check, and
// for `state`, `kill` and `start` no node:fs (file I/O through libc, cli/lean.ts). Each of those
// costs bun start-up time and resident pages on every call. The command runs through the same
// module as from cli/main.ts, with the same context; an error is reported by cli/main.ts's
// report() (loaded then), so the messages, the log and the exit status are the full path's.
import { createLogger } from '../log.js';
import type { Ctx, Logger } from './context.js';
import { printableId, type HotLine } from './hot-line.js';
import { useLibc } from './lean.js';
import type { ParsedArgs } from './table.js';

const LEAN = new Set(['state', 'kill', 'start']);

const load = {
  state: () => import('./commands/state.js'),
  kill: () => import('./commands/kill.js'),
  start: () => import('./commands/start.js'),
  delete: () => import('./commands/delete.js'),
  pause: () => import('./commands/pause.js'),
  resume: () => import('./commands/resume.js'),
};

/** Runs the command of a hot command line; returns the exit status. */
export async function runHot(line: HotLine): Promise<number> {
  let log: Logger | undefined;
  let where = '';
  try {
    if (LEAN.has(line.command)) await useLibc();
    log = createLogger({ file: line.log, format: line.logFormat, debug: line.debug });
    where = `${line.command} ${printableId(line.args[0]!)}`;
    const ctx: Ctx = { root: line.root, log, debug: line.debug, systemdCgroup: line.systemdCgroup, rootless: 'auto' };
    const flags: ParsedArgs['flags'] = line.command === 'delete' ? { force: line.flag } : line.command === 'kill' ? { all: line.flag } : {};
    return await (await load[line.command]()).default(ctx, { _: line.args, flags });
  } catch (e) {
    return (await import('./main.js')).report(e, where, log, line.debug);
  }
}
