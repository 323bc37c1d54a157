// Schema validation of config.json, state and features documents with the validators that
// scripts/build-validators.ts compiled from schema/*.json, and the wording of their errors.
import type { ErrorObject } from 'ajv';
import { escapePointerToken, valueAt } from './json-pointer.js';
import {
  type CompiledValidator,
  validateConfig,
  validateFeatures,
  validateProcess,
  validateState,
} from './generated/validators.js';

export { escapePointerToken, pointerTokens, valueAt } from './json-pointer.js';

/** One problem in a document: where (RFC 6901 JSON pointer, "" for the root) and why. */
export interface DocumentIssue {
  pointer: string;
  reason: string;
}

export type DocumentKind = 'config' | 'state' | 'features' | 'process';

const VALIDATORS: Record<DocumentKind, CompiledValidator> = {
  config: validateConfig,
  state: validateState,
  features: validateFeatures,
  process: validateProcess,
};

/** The first schema violation of `doc`, or null when it matches the project's schema. */
export function schemaIssue(kind: DocumentKind, doc: unknown): DocumentIssue | null {
  const validate = VALIDATORS[kind];
  if (validate(doc)) return null;
  const err = validate.errors?.[0];
  if (!err) return { pointer: '', reason: 'does not match the schema' };
  return describeSchemaError(err, doc);
}

/** A short rendering of a JSON value for messages. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

/** Patterns of schema/*.json, said in words. */
const PATTERN_WORDS: Record<string, string> = {
  '^RLIMIT_[A-Z]+$': 'must be an rlimit name such as RLIMIT_NOFILE',
  '^[-0-9, ]*$': 'must be a CPU list such as 0-3,7',
  '^MB:[^\\n]*$': 'must start with "MB:" and be a single line',
  '^[1-9][0-9]*[KMG]B$': 'must be a page size such as 64KB, 2MB or 1GB',
  '^CAP_[A-Z_]+$': 'must be a capability name such as CAP_CHOWN',
  '^/': 'must be an absolute path',
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function describeSchemaError(err: ErrorObject, doc: unknown): DocumentIssue {
  const p = err.params as Record<string, unknown>;
  const pointer = err.instancePath;
  const value = valueAt(doc, pointer);
  switch (err.keyword) {
    case 'required':
      return {
        pointer: `${pointer}/${escapePointerToken(String(p.missingProperty))}`,
        reason: 'is required but missing',
      };
    case 'type': {
      const want = String(p.type)
        .split(',')
        .map((t) => TYPE_NAMES[t] ?? t)
        .join(' or ');
      return { pointer, reason: `must be ${want}, not ${jsonType(value)}` };
    }
    case 'enum': {
      const allowed = (p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      return { pointer, reason: `must be one of ${allowed}; got ${show(value)}` };
    }
    case 'minimum':
      return { pointer, reason: `must be at least ${String(p.limit)}; got ${show(value)}` };
    case 'maximum':
      return { pointer, reason: `must be at most ${String(p.limit)}; got ${show(value)}` };
    case 'minItems':
      return { pointer, reason: `must contain at least ${plural(Number(p.limit), 'item')}` };
    case 'maxItems':
      return { pointer, reason: `must contain at most ${plural(Number(p.limit), 'item')}` };
    case 'minLength':
      return { pointer, reason: `must be at least ${plural(Number(p.limit), 'character')} long` };
    case 'pattern': {
      const words = PATTERN_WORDS[String(p.pattern)] ?? `must match the pattern ${String(p.pattern)}`;
      return { pointer, reason: `${words}; got ${show(value)}` };
    }
    case 'additionalProperties':
      return {
        pointer: `${pointer}/${escapePointerToken(String(p.additionalProperty))}`,
        reason: `unknown property "${String(p.additionalProperty)}" is not allowed here`,
      };
    default:
      return { pointer, reason: err.message ?? `fails the schema keyword ${err.keyword}` };
  }
}
