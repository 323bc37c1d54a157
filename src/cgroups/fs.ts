// File access to cgroupfs: one write per value, errors as one line naming the file and the cause.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { TsrunError, errnoCode, errnoMessage as describeError } from '../errors.js';

export const DEFAULT_ROOT = '/sys/fs/cgroup';

/** The cgroup mount root. TSRUN_CGROUP_ROOT points the module at a test double tree. */
export function cgroupRoot(): string {
  return process.env.TSRUN_CGROUP_ROOT || DEFAULT_ROOT;
}

/**
 * A failure of a cgroup operation; the message is the whole line ("cgroup: ..."). A TsrunError, so
 * the CLI prints that line: with only the errno `code`, it would print the bare strerror text.
 */
export class CgroupError extends TsrunError {
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(`cgroup: ${message}`);
    this.name = 'CgroupError';
    this.code = code;
  }
}

// The errno wording of the rest of tsrun (strerror(3), lower case, as runc prints it).
export { errnoCode, describeError };

function showValue(v: string): string {
  return /[\s"]/.test(v) || v === '' ? JSON.stringify(v) : v;
}

/** Writes value with a single write(2) into an existing file (no O_CREAT: a missing knob is ENOENT). */
export function writeFile(path: string, value: string): void {
  let fd: number;
  try {
    fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
  } catch (e) {
    throw new CgroupError(`write ${showValue(value)} to ${path}: ${describeError(e)}`, errnoCode(e));
  }
  try {
    fs.writeSync(fd, value);
  } catch (e) {
    throw new CgroupError(`write ${showValue(value)} to ${path}: ${describeError(e)}`, errnoCode(e));
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads a file; undefined when it does not exist. */
export function readOptional(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw new CgroupError(`read ${path}: ${describeError(e)}`, errnoCode(e));
  }
}

export function readFile(path: string): string {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new CgroupError(`read ${path}: ${describeError(e)}`, errnoCode(e));
  }
}

/** One cgroup directory. The resource setters only see this, so a recording double can test them. */
export interface CgDir {
  readonly path: string;
  write(file: string, value: string): void;
  /** The file's content, undefined when it does not exist. */
  read(file: string): string | undefined;
}

export function cgDir(path: string): CgDir {
  return {
    path,
    write: (file, value) => writeFile(join(path, file), value),
    read: (file) => readOptional(join(path, file)),
  };
}

let sleeper: Int32Array | undefined;
/** Blocking sleep (the module is synchronous; used only in short retry loops). */
export function sleepMs(ms: number): void {
  sleeper ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(sleeper, 0, 0, ms);
}

let warnHandler: (msg: string) => void = (msg) => {
  process.stderr.write(`tsrun: warning: ${msg}\n`);
};
/** Where ignored-but-set settings (kernel memory, ...) are reported; runc logs them as warnings. */
export function setWarningHandler(fn: (msg: string) => void): void {
  warnHandler = fn;
}
export function warn(msg: string): void {
  warnHandler(msg);
}

/** Parses a decimal cgroup value; "max" is 2^64-1 like runc. */
export function parseUint(s: string): number {
  const t = s.trim();
  if (t === 'max') return 18446744073709551615;
  const n = Number(t);
  return Number.isFinite(n) ? n : 0;
}

/** "key value" lines into a map (memory.stat, cpu.stat, memory.events, ...). */
export function parseKeyValues(text: string | undefined): Map<string, number> {
  const m = new Map<string, number>();
  if (!text) return m;
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    if (parts.length === 2 && parts[0]) m.set(parts[0], parseUint(parts[1]!));
  }
  return m;
}
