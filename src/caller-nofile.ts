// The RLIMIT_NOFILE tsrun was started with. Bun raises its soft limit to the hard limit before
// any JavaScript runs; the built executable's entry stub (ffi/entry/nofile-entry.S) reads the
// limit first and appends it as the last argument, "TSRUN_CALLER_NOFILE=<soft> <hard>" (the last
// one is always the stub's: the caller's arguments come before it). Taken out of process.argv
// here, first thing. No imports: `state` and `kill` load this too.
const PREFIX = 'TSRUN_CALLER_NOFILE=';

function take(): readonly [bigint, bigint] | undefined {
  const last = process.argv[process.argv.length - 1];
  if (process.argv.length < 3 || !last?.startsWith(PREFIX)) return undefined;
  process.argv.pop();
  const m = /^(\d{1,20}) (\d{1,20})$/.exec(last.slice(PREFIX.length));
  if (!m) return undefined;
  const [soft, hard] = [BigInt(m[1]!), BigInt(m[2]!)];
  return soft <= hard ? [soft, hard] : undefined;
}

/** [soft, hard] as the caller left them (RLIM_INFINITY as 2^64-1), or undefined when not known. */
export const callerNofile = take();
