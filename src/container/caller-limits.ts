// Node and Bun raise their own RLIMIT_NOFILE soft limit to the hard limit at start-up; the
// container, exec'd processes and hooks must get the caller's limit instead (crun does; runc 1.1
// leaked the raised one). The built executable knows it (src/caller-nofile.ts); run from the
// sources, the parent process's limit is the best guess.
import * as fs from 'node:fs';
import { callerNofile } from '../caller-nofile.js';
import { koffi } from '../native/koffi.js';

const RLIMIT_NOFILE = 7;
const INFINITY = (1n << 64n) - 1n;

function parentNofile(ppid: number): [bigint, bigint] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${ppid}/limits`, 'utf8');
  } catch {
    return undefined;
  }
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const m = line && /^Max open files\s+(\S+)\s+(\S+)/.exec(line);
  if (!m) return undefined;
  const v = (s: string) => (s === 'unlimited' ? INFINITY : BigInt(s));
  return [v(m[1]!), v(m[2]!)];
}

/** (resource, soft, hard) triples to set in a cloned child (-1 for infinity): the caller's values. */
export function callerRlimits(ppid = process.ppid): [number, bigint, bigint][] {
  const nofile = callerNofile ?? parentNofile(ppid);
  if (!nofile) return [];
  const v = (n: bigint) => (n === INFINITY ? -1n : n);
  return [[RLIMIT_NOFILE, v(nofile[0]), v(nofile[1])]];
}

let restored = false;

/**
 * Puts tsrun's own RLIMIT_NOFILE back to the caller's, so that what it starts with
 * child_process (hooks) inherits that. Only with the built executable's exact value (not the
 * parent's guess); a failure leaves the limit as it is.
 */
export function restoreCallerNofile(): void {
  if (restored || !callerNofile) return;
  restored = true;
  try {
    const setrlimit = koffi().load('libc.so.6').func('int setrlimit(int resource, const uint64_t *rlim)');
    setrlimit(RLIMIT_NOFILE, BigUint64Array.from(callerNofile));
  } catch {
    /* keep the raised limit */
  }
}
