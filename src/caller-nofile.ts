// The RLIMIT_NOFILE tsrun was started with. Bun raises its soft limit to the hard limit before
// any JavaScript runs; the built executable's entry stub (ffi/entry/nofile-entry.S) reads the
// limit first and appends it as the last argument, "TSRUN_CALLER_NOFILE=<soft> <hard>" (the last
// one is always the stub's: the caller's arguments come before it). Taken out of process.argv
// here, first thing. No imports: `state` and `kill` load this too.
const PREFIX = 'TSRUN_CALLER_NOFILE=';

function isDigits(s: string): boolean {
  if (s.length < 1 || s.length > 20) return false;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 48 || s.charCodeAt(i) > 57) return false;
  return true;
}

function take(): readonly [bigint, bigint] | undefined {
  const last = process.argv[process.argv.length - 1];
  if (process.argv.length < 3 || !last?.startsWith(PREFIX)) return undefined;
  process.argv.pop();
  // "<soft> <hard>", each 1-20 digits (no regular expression: see spec/ids.ts).
  const f = last.slice(PREFIX.length).split(' ');
  if (f.length !== 2 || !f.every(isDigits)) return undefined;
  const [soft, hard] = [BigInt(f[0]!), BigInt(f[1]!)];
  return soft <= hard ? [soft, hard] : undefined;
}

/** [soft, hard] as the caller left them (RLIM_INFINITY as 2^64-1), or undefined when not known. */
export const callerNofile = take();
