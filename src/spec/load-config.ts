// Reads <bundle>/config.json (and `exec --process` files): JSON syntax, null members dropped and
// keys matched to fields case-insensitively as Go reads them (go-keys.ts), then the project's
// schema, then semantic checks. Every failure is a ConfigError whose message is
// `config.json <json-pointer>: <reason>`; the CLI prefixes it with `tsrun: create ID: `.
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { locateJsonError } from './json-position.js';
import { readAsGo } from './go-keys.js';
import { checkProcessSemantics, checkSemantics, type SemanticIssue } from './semantics.js';
import type { Process, Spec } from './types.js';
import { schemaIssue } from './validate.js';

export class ConfigError extends Error {
  /** JSON pointer into the file ("" when the problem is the file itself). */
  readonly pointer: string;
  readonly reason: string;

  constructor(pointer: string, reason: string, file = 'config.json') {
    super(pointer === '' ? `${file}: ${reason}` : `${file} ${pointer}: ${reason}`);
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
  const doc = readAsGo(parseJson(text), 'config');
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

/**
 * Validates the text of an `exec --process` file like the process of config.json; `file` names
 * it in messages. A process without `user` runs as uid 0, gid 0 (runc: Go's zero value).
 */
export function parseProcess(text: string, file: string, options: Pick<LoadConfigOptions, 'warn'> = {}): Process {
  const doc = readAsGo(parseJson(text, file), 'process');
  const issue = schemaIssue('process', doc);
  if (issue) throw new ConfigError(issue.pointer, issue.reason, file);
  const process = doc as Process;
  const issues = checkProcessSemantics(process);
  const first = issues.find((i) => i.severity === 'error');
  if (first) throw new ConfigError(first.pointer, first.message, file);
  if (options.warn) for (const w of issues) options.warn(new ConfigError(w.pointer, w.message, file).message);
  if (process.user === undefined) process.user = { uid: 0, gid: 0 };
  return process;
}

export function formatIssue(issue: SemanticIssue): string {
  return new ConfigError(issue.pointer, issue.message).message;
}

function parseJson(withBom: string, file = 'config.json'): unknown {
  const text = withBom.charCodeAt(0) === 0xfeff ? withBom.slice(1) : withBom;
  try {
    return JSON.parse(text);
  } catch (e) {
    const where = locateJsonError(text);
    if (where) throw new ConfigError('', `invalid JSON: ${where.message} at line ${where.line} column ${where.column}`, file);
    throw new ConfigError('', `invalid JSON: ${(e as Error).message}`, file);
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
