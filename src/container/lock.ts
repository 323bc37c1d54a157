// A per-container exclusive lock without flock(2) (neither Node nor Bun has it without FFI).
//
// The lock is the file <root>/<id>/.lock (inside the container's own directory, so that
// nothing is left under --root once a container is gone), holding its owner's
// identity "<pid> <starttime>". It is created complete and atomically with link(2) from a
// private temporary file, so it is never seen half-written. A holder that died (pid gone,
// zombie, or the pid now belongs to a process with another start time) leaves a stale lock.
//
// Removing a stale lock must not remove a live one that replaced it in the meantime. A
// stealer first takes a "steal token" named after the lock and the stale content (link(2)
// again: one winner), re-reads the lock under the token and unlinks it only if it still holds
// that content. A dead identity never comes back, so a late stealer that gets the token after
// the stale lock is gone finds other content and leaves it alone. Tokens of stealers that
// died are stale locks themselves and are removed the same way.
import { TsrunError, errnoCode } from '../errors.js';
import { sys, unlinkIfThere, writeFile } from '../sysfile.js';
import { Store } from './store.js';
import { isAlive, readStartTime } from './status.js';

export const LOCK_FILE = '.lock';

export interface LockOptions {
  /** How long to wait for a live holder before failing with "container <id> is busy" (default 5000 ms). */
  timeoutMs?: number;
}

const held = new Map<string, number>();
let tmpCounter = 0;

export function lockPath(root: string, id: string): string {
  return `${new Store(root).dir(id)}/${LOCK_FILE}`;
}

// Paths are built from the (normalized) state root: string operations, no node:path to load.
const dirname = (p: string): string => p.slice(0, p.lastIndexOf('/')) || '/';
const basename = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

let identity: string | undefined;
function myIdentity(): string {
  return (identity ??= `${process.pid} ${readStartTime(process.pid) ?? 0}\n`);
}

function readOrUndefined(file: string): string | undefined {
  try {
    return sys().readFile(file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/** The owner named in a lock file is no longer there. */
export function isStale(content: string): boolean {
  // "<pid> <starttime>\n" (no regular expression: see spec/ids.ts)
  const f = (content.endsWith('\n') ? content.slice(0, -1) : content).split(' ');
  const digits = (s: string | undefined) => !!s && [...s].every((c) => c >= '0' && c <= '9');
  if (f.length !== 2 || !digits(f[0]) || !digits(f[1])) return true;
  return !isAlive(Number(f[0]), Number(f[1]));
}

// FNV-1a: short token names whatever the id's length; a collision only serialises stealers.
function hash(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}

function tryLink(src: string, dst: string): boolean {
  try {
    sys().link(src, dst);
    return true;
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') return false;
    // The container's directory was removed (deleted meanwhile).
    if (errnoCode(e) === 'ENOENT') throw new TsrunError(`container ${basename(dirname(dst))} does not exist`);
    throw e;
  }
}

/** The token a stealer of `file` holding stale `content` must take first. */
export function stealToken(file: string, content: string): string {
  return `${dirname(file)}/.steal.${hash(file)}.${hash(content)}`;
}

/** Removes `file` if it still holds `content` (a stale identity); `mine` is a file holding ours. */
export function removeStale(file: string, content: string, mine: string, depth = 0): void {
  if (depth > 4) return;
  const token = stealToken(file, content);
  if (!tryLink(mine, token)) {
    const owner = readOrUndefined(token);
    if (owner !== undefined && isStale(owner)) removeStale(token, owner, mine, depth + 1);
    return;
  }
  try {
    if (readOrUndefined(file) === content) sys().unlink(file);
  } finally {
    unlinkIfThere(token);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function acquire(root: string, id: string, file: string, timeoutMs: number): Promise<void> {
  const dir = dirname(file);
  const me = myIdentity();
  const mine = `${dir}/.tmp.${process.pid}.${tmpCounter++}`;
  const gone = () => new TsrunError(`container ${id} does not exist`);
  try {
    writeFile(mine, me, 0o600);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') throw gone();
    throw e;
  }
  try {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
      if (tryLink(mine, file)) return;
      const owner = readOrUndefined(file);
      // Released between our link and read: try again at once.
      if (owner === undefined) continue;
      if (isStale(owner)) {
        removeStale(file, owner, mine);
        if (readOrUndefined(file) !== owner) continue;
      }
      if (Date.now() >= deadline) {
        throw new TsrunError(`container ${id} is busy (locked by pid ${owner.split(' ')[0]})`);
      }
      await sleep(delay);
    }
  } finally {
    unlinkIfThere(mine);
  }
}

function release(file: string): void {
  // Only ever remove our own lock.
  if (readOrUndefined(file) === myIdentity()) unlinkIfThere(file);
}

/**
 * Runs `fn` holding the container's exclusive lock. Re-entrant within one process (nested
 * calls; it does not serialise concurrent async flows of one process). Waits up to
 * `timeoutMs` for another live holder; a dead holder's lock is taken over.
 */
export async function withLock<T>(root: string, id: string, fn: () => T | Promise<T>, opts: LockOptions = {}): Promise<T> {
  const file = lockPath(root, id);
  const depth = held.get(file) ?? 0;
  if (depth === 0) await acquire(root, id, file, opts.timeoutMs ?? 5000);
  held.set(file, depth + 1);
  try {
    return await fn();
  } finally {
    const d = held.get(file)! - 1;
    if (d === 0) {
      held.delete(file);
      release(file);
    } else {
      held.set(file, d);
    }
  }
}
