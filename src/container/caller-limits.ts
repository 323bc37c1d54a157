// Node and Bun raise their own RLIMIT_NOFILE soft limit to the hard limit at start-up; the
// container must inherit the caller's limit instead (crun does; runc 1.1 leaked the raised one).
import * as fs from 'node:fs';

const RLIMIT_NOFILE = 7;

/** (resource, soft, hard) triples to restore in the cloned child: the parent process's values. */
export function callerRlimits(ppid = process.ppid): bigint[] {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${ppid}/limits`, 'utf8');
  } catch {
    return [];
  }
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const m = line && /^Max open files\s+(\S+)\s+(\S+)/.exec(line);
  if (!m) return [];
  const v = (s: string) => (s === 'unlimited' ? -1n : BigInt(s));
  return [BigInt(RLIMIT_NOFILE), v(m[1]!), v(m[2]!)];
}
