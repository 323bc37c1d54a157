// `tsrun --help` and `tsrun <command> --help`, in runc's layout, built from the command table
// and help-text.ts without yargs (start-up cost).
import { GLOBAL_FLAGS } from './globals.js';
import { HELP, OVERVIEW } from './help-text.js';
import { COMMANDS, type CommandDef, type FlagDef } from './table.js';
import { versionText } from './version.js';

/** `--bundle value, -b value` (runc's form). */
export function flagLabel(f: FlagDef): string {
  const v = f.type === 'boolean' ? '' : ' value';
  return `--${f.name}${v}${f.alias ? `, -${f.alias}${v}` : ''}`;
}

/** ` (default: "table")`, or '' when the flag has no default worth showing. */
export function defaultSuffix(f: FlagDef, dflt = f.default): string {
  if (dflt === undefined || f.type === 'boolean') return '';
  return ` (default: ${typeof dflt === 'string' ? JSON.stringify(dflt) : String(dflt)})`;
}

/** `tsrun create [command options] <container-id>`. */
export function usageLine(def: CommandDef): string {
  return `tsrun ${def.name}${def.flags.length ? ' [command options]' : ''}${def.usage ? ` ${def.usage}` : ''}`;
}

function columns(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `   ${a.padEnd(w)}  ${b}`.trimEnd()).join('\n');
}

const indent = (text: string) => text.split('\n').map((l) => (l ? `   ${l}` : '')).join('\n');

export const HELP_FLAG: FlagDef = { name: 'help', alias: 'h', type: 'boolean', desc: 'show help' };

export function topLevelHelp(defaultRoot: string): string {
  const cmds: [string, string][] = [...COMMANDS.values()].map((c) => [c.name, c.summary]);
  cmds.push(['help, h', 'Shows a list of commands or help for one command']);
  const globals: [string, string][] = [...GLOBAL_FLAGS, HELP_FLAG].map((f) => {
    const dflt = f.name === 'root' ? defaultRoot : f.default;
    return [flagLabel(f), `${f.desc}${defaultSuffix(f, dflt)}`];
  });
  return `NAME:
   tsrun - Open Container Initiative runtime

${OVERVIEW}

USAGE:
   tsrun [global options] command [command options] [arguments...]

VERSION:
${indent(versionText().replace(/^tsrun version /, ''))}
COMMANDS:
${columns(cmds)}

Run "tsrun <command> --help" for a command's options, "man tsrun-<command>" for more.

GLOBAL OPTIONS:
${columns(globals)}
`;
}

/** `tsrun <command> --help`. */
export function commandHelp(def: CommandDef): string {
  const h = HELP[def.name] ?? {};
  const parts = [`NAME:\n   tsrun ${def.name} - ${def.summary}`, `USAGE:\n   ${usageLine(def)}`];
  if (h.args) parts.push(h.args);
  if (h.description) parts.push(`DESCRIPTION:\n${indent(h.description)}`);
  if (h.example) parts.push(`EXAMPLE:\n${indent(h.example)}`);
  if (def.flags.length) parts.push(`OPTIONS:\n${columns(def.flags.map((f) => [flagLabel(f), `${f.desc}${defaultSuffix(f)}`]))}`);
  return `${parts.join('\n\n')}\n`;
}
