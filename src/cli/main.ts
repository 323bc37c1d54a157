// The command line: global flags and the command name are parsed by hand, then only that
// command's parser and code are loaded. Every error ends here, printed as one line.
import { TsrunError, UsageError, describeError } from '../errors.js';
import { createLogger } from '../log.js';
import type { Ctx, Logger } from './context.js';
import { parseFlags } from './flags.js';
import { defaultRoot, parseGlobals } from './globals.js';
import { COMMANDS, type CommandDef, type ParsedArgs } from './table.js';
import { out } from './output.js';
import { trace } from '../trace.js';
import { writeText } from '../io.js';
import { useLibc } from './lean.js';
import { printableId } from './hot-line.js';

function arity(def: CommandDef, n: number): void {
  if (n >= def.minArgs && n <= def.maxArgs) return;
  const want = def.minArgs === def.maxArgs ? `exactly ${def.minArgs}`
    : def.maxArgs === Infinity ? `at least ${def.minArgs}` : `${def.minArgs} to ${def.maxArgs}`;
  const usage = `tsrun ${def.name}${def.flags.length ? ' [command options]' : ''}${def.usage ? ` ${def.usage}` : ''}`;
  throw new UsageError(`${def.name}: requires ${want} argument(s), got ${n} (usage: ${usage})`);
}

async function showCommandHelp(def: CommandDef): Promise<number> {
  await out((await import('./help.js')).commandHelp(def));
  return 0;
}

/** Runs tsrun with `argv` (without the executable); returns the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  let log: Logger | undefined;
  let debug = false;
  let where = '';
  try {
    const g = parseGlobals(argv);
    debug = g.debug;
    if (g.command !== undefined && COMMANDS.get(g.command)?.lean) await useLibc();
    log = createLogger({ file: g.log, format: g.logFormat, debug: g.debug });
    if (g.version) {
      await out(await (await import('./version.js')).fullVersionText());
      return 0;
    }
    let name = g.command;
    if (name === 'help' || name === 'h') {
      const topic = g.rest[0];
      if (topic === undefined) name = undefined;
      else {
        const def = COMMANDS.get(topic);
        if (!def) throw new UsageError(`No help topic for '${topic}'`);
        return await showCommandHelp(def);
      }
    }
    if (name === undefined) {
      await out((await import('./help.js')).topLevelHelp(defaultRoot()));
      return 0;
    }
    const def = COMMANDS.get(name);
    if (!def) throw new UsageError(`unknown command "${name}" (see tsrun --help)`);
    if (g.help) return await showCommandHelp(def);
    let args: ParsedArgs & { help: boolean };
    if (def.fast) args = parseFlags(def, g.rest);
    else args = (await import('./yargs-command.js')).parseWithYargs(def, g.rest);
    if (args.help) return await showCommandHelp(def);
    arity(def, args._.length);
    if (def.takesId) where = `${def.name} ${printableId(args._[0] ?? '')}`;
    const ctx: Ctx = { root: g.root, log, debug: g.debug, systemdCgroup: g.systemdCgroup, rootless: g.rootless, criu: g.criu };
    trace(`${def.name}: flags parsed`);
    const mod = await def.load();
    trace(`${def.name}: module loaded`);
    return await mod.default(ctx, args);
  } catch (e) {
    return await report(e, where, log, debug);
  }
}

/** Prints (and logs) the one line of a failed command; returns the exit status. Also cli/hot.ts's. */
export async function report(e: unknown, where: string, log: Logger | undefined, debug: boolean): Promise<number> {
  const msg = describeError(e);
  const line = (where ? `${where}: ${msg}` : msg).replace(/[\r\n]+/g, ' ');
  await writeText(2, `tsrun: ${line}\n`);
  if (log?.toFile) log.error(line);
  if (debug && !(e instanceof UsageError)) {
    const stack = e instanceof Error && e.stack ? e.stack : String(e);
    if (log?.toFile) log.debug(stack);
    else await writeText(2, `${stack}\n`);
    if (e instanceof TsrunError && e.cause instanceof Error && e.cause.stack) {
      if (log?.toFile) log.debug(`caused by: ${e.cause.stack}`);
      else await writeText(2, `caused by: ${e.cause.stack}\n`);
    }
  }
  return e instanceof TsrunError && e.exitStatus !== undefined ? e.exitStatus : 1;
}
