// Reads <bundle>/config.json: JSON syntax, then the project's schema, then semantic checks.
// Every failure is a ConfigError whose message is `config.json <json-pointer>: <reason>`;
// the CLI prefixes it with `tsrun: create ID: `.
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { locateJsonError } from './json-position.js';
import { checkSemantics, type SemanticIssue } from './semantics.js';
import type { Spec } from './types.js';
import { schemaIssue } from './validate.js';

export class ConfigError extends Error {
  /** JSON pointer into config.json ("" when the problem is the file itself). */
  readonly pointer: string;
  readonly reason: string;

  constructor(pointer: string, reason: string) {
    super(pointer === '' ? `config.json: ${reason}` : `config.json ${pointer}: ${reason}`);
    this.name = 'ConfigError';
    this.pointer = pointer;
    this.reason = reason;
  }
}

export interface LoadConfigOptions {
  /** Receives each warning (deprecated or ignored settings) as `config.json <pointer>: <reason>`. */
  warn?: (message: string) => void;
  /** Require a runnable process (create/run). Default true. */
  requireProcess?: boolean;
}

export function loadConfig(bundleDir: string, options: LoadConfigOptions = {}): Spec {
  const dir = resolve(bundleDir);
  const file = join(dir, 'config.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      if (!isDirectory(dir)) throw new ConfigError('', `bundle directory ${dir} does not exist`);
      throw new ConfigError('', `no such file in bundle ${dir}`);
    }
    throw new ConfigError('', `cannot read ${file}: ${(e as Error).message}`);
  }
  return parseConfig(text, dir, options);
}

/** Validates the text of a config.json whose bundle is `bundleDir` (see loadConfig). */
export function parseConfig(text: string, bundleDir: string, options: LoadConfigOptions = {}): Spec {
  const doc = parseJson(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  const issue = schemaIssue('config', doc);
  if (issue) throw new ConfigError(issue.pointer, issue.reason);
  const spec = doc as Spec;
  const issues = checkSemantics(spec, { bundleDir: resolve(bundleDir), requireProcess: options.requireProcess });
  const first = issues.find((i) => i.severity === 'error');
  if (first) throw new ConfigError(first.pointer, first.message);
  if (options.warn) for (const w of issues) options.warn(formatIssue(w));
  if (spec.process && spec.process.user === undefined) spec.process.user = { uid: 0, gid: 0 };
  return spec;
}

export function formatIssue(issue: SemanticIssue): string {
  return new ConfigError(issue.pointer, issue.message).message;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const where = locateJsonError(text);
    if (where) throw new ConfigError('', `invalid JSON: ${where.message} at line ${where.line} column ${where.column}`);
    throw new ConfigError('', `invalid JSON: ${(e as Error).message}`);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
