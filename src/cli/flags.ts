// A small command-line parser with the semantics of runc's (Go flag via urfave/cli):
// `--name value`, `--name=value`, `-name value`, `-n value`, booleans as `--x` or `--x=false`,
// repeatable array flags, `--` ends the flags. Bundled one-letter booleans (`-ti`) are accepted
// too, which runc refuses. It costs nothing at start-up, unlike yargs.
import { UsageError } from '../errors.js';
import type { FlagDef, ParsedArgs } from './table.js';

export interface ParseSpec {
  /** Name used in error messages (`create: ...`); '' for none. */
  name: string;
  flags: readonly FlagDef[];
  /** Stop parsing flags after this many positionals. */
  haltAfter?: number;
}

const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

const pre = (spec: ParseSpec) => (spec.name ? `${spec.name}: ` : '');

function lookup(flags: readonly FlagDef[], key: string): FlagDef | undefined {
  for (const f of flags) if (f.name === key || f.alias === key) return f;
  return undefined;
}

/** Rewrites every flag token into the canonical `--name[=value]` form; throws on unknown flags. */
export function canonicalize(spec: ParseSpec, argv: readonly string[]): { tokens: string[]; help: boolean } {
  const tokens: string[] = [];
  let positionals = 0;
  let help = false;
  const halted = () => spec.haltAfter !== undefined && positionals >= spec.haltAfter;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (halted() || arg === '-' || !arg.startsWith('-')) {
      tokens.push(arg);
      if (!halted()) positionals++;
      continue;
    }
    if (arg === '--') {
      tokens.push(...argv.slice(i));
      break;
    }
    const body = arg.slice(arg.startsWith('--') ? 2 : 1);
    const eq = body.indexOf('=');
    const key = eq < 0 ? body : body.slice(0, eq);
    const inline = eq < 0 ? undefined : body.slice(eq + 1);
    if (key === 'help' || key === 'h') {
      help = true;
      continue;
    }
    const def = lookup(spec.flags, key);
    if (!def && !arg.startsWith('--') && inline === undefined && key.length > 1) {
      // -ti: one-letter booleans bundled together.
      const parts = [...key].map((c) => lookup(spec.flags, c));
      if (parts.every((p) => p?.type === 'boolean' && p.alias)) {
        for (const p of parts) tokens.push(`--${p!.name}`);
        continue;
      }
    }
    if (!def) throw new UsageError(`${pre(spec)}flag provided but not defined: ${arg}`);
    if (def.type === 'boolean') {
      if (inline !== undefined && !TRUE.has(inline) && !FALSE.has(inline)) {
        throw new UsageError(`${pre(spec)}invalid boolean value "${inline}" for --${def.name}`);
      }
      tokens.push(inline === undefined || TRUE.has(inline) ? `--${def.name}` : `--${def.name}=false`);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${pre(spec)}flag needs an argument: --${def.name}`);
      value = argv[++i]!;
    }
    if (def.type === 'number' && !/^[-+]?\d+$/.test(value)) {
      throw new UsageError(`${pre(spec)}invalid value "${value}" for --${def.name}: not an integer`);
    }
    tokens.push(`--${def.name}=${value}`);
  }
  return { tokens, help };
}

/** Parses `argv` (the arguments after the command name); `help` is set by -h/--help. */
export function parseFlags(spec: ParseSpec, argv: readonly string[]): ParsedArgs & { help: boolean } {
  const { tokens, help } = canonicalize(spec, argv);
  const out: ParsedArgs & { help: boolean } = { _: [], flags: {}, help };
  for (const f of spec.flags) out.flags[f.name] = f.default ?? (f.type === 'boolean' ? false : undefined);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (!t.startsWith('--') || out._.length >= (spec.haltAfter ?? Infinity)) {
      out._.push(t);
      continue;
    }
    if (t === '--') {
      out._.push(...tokens.slice(i + 1));
      break;
    }
    const eq = t.indexOf('=');
    const name = eq < 0 ? t.slice(2) : t.slice(2, eq);
    const value = eq < 0 ? undefined : t.slice(eq + 1);
    const def = lookup(spec.flags, name)!;
    switch (def.type) {
      case 'boolean':
        out.flags[name] = value !== 'false';
        break;
      case 'number':
        out.flags[name] = Number(value);
        break;
      case 'array': {
        const prev = out.flags[name];
        out.flags[name] = [...(Array.isArray(prev) ? prev : []), value!];
        break;
      }
      default:
        out.flags[name] = value!;
    }
  }
  return out;
}
