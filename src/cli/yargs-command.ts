// yargs for one command at a time: the cold commands' parser and every command's --help.
// Only the command being run is described to yargs (building all of them costs start-up time).
import yargs from 'yargs';
import type { Options } from 'yargs';
import { canonicalize } from './flags.js';
import { DESCRIPTIONS } from './help-text.js';
import type { CommandDef, ParsedArgs } from './table.js';

function build(def: CommandDef, tokens: string[]) {
  const options: Record<string, Options> = {};
  for (const f of def.flags) {
    options[f.name] = {
      // Arrays are repeated flags (`-e A -e B`): yargs' array type would also swallow positionals.
      type: f.type === 'array' ? 'string' : f.type,
      describe: f.desc,
      ...(f.alias ? { alias: f.alias } : {}),
      ...(f.default !== undefined ? { default: f.default } : {}),
    };
  }
  const usage = `tsrun ${def.name}${def.flags.length ? ' [command options]' : ''}${def.usage ? ` ${def.usage}` : ''}`;
  return yargs(tokens)
    .scriptName('tsrun')
    .locale('en')
    .usage(`${usage}\n\n${def.summary}\n\n${DESCRIPTIONS[def.name] ?? ''}`.trimEnd())
    .options(options)
    .parserConfiguration({
      'camel-case-expansion': false,
      'boolean-negation': false,
      'dot-notation': false,
      'duplicate-arguments-array': true,
      'halt-at-non-option': def.haltAfter !== undefined,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'short-option-groups': false,
      'strip-aliased': true,
    })
    .version(false)
    .help(false)
    .strictOptions()
    .exitProcess(false)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    });
}

/** `tsrun <command> --help`. */
export async function commandHelp(def: CommandDef): Promise<string> {
  return `${await build(def, []).getHelp()}\n`;
}

/** Parses the arguments of `def` with yargs (after the shared flag checks of canonicalize). */
export function parseWithYargs(def: CommandDef, argv: readonly string[]): ParsedArgs & { help: boolean } {
  const { tokens, help } = canonicalize(def, argv);
  if (help) return { _: [], flags: {}, help };
  const a = build(def, tokens).parseSync();
  const out: ParsedArgs & { help: boolean } = { _: a._.map(String), flags: {}, help: false };
  for (const f of def.flags) {
    const v = a[f.name] as string | number | boolean | string[] | undefined;
    if (f.type === 'array') out.flags[f.name] = v === undefined ? undefined : ([] as unknown[]).concat(v).map(String);
    else if (f.type === 'boolean') out.flags[f.name] = v === true;
    else out.flags[f.name] = Array.isArray(v) ? v[v.length - 1] : v; // Go flag: the last one wins
  }
  return out;
}
