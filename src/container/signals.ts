// Signal names and numbers as runc's `kill` takes them: names with or without SIG, any case,
// numbers, RTMIN+n / RTMAX-n. Its own module: the hot path of `kill` (cli/hot.ts) loads it too.
import { TsrunError } from '../errors.js';

// Linux x86-64/arm64 numbering.
const SIGNALS: Record<string, number> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10,
  SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17, CONT: 18,
  STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27,
  WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31, UNUSED: 31,
};
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/** Parses "KILL", "SIGKILL", "kill", "9", "RTMIN+3"; throws `unknown signal "x"`. */
export function parseSignal(raw: string): number {
  if (raw.length > 0 && [...raw].every((c) => c >= '0' && c <= '9')) {
    const n = Number(raw);
    if (n >= 0 && n <= SIGRTMAX) return n;
    throw new TsrunError(`unknown signal "${raw}"`);
  }
  let name = raw.toUpperCase();
  if (name.startsWith('SIG')) name = name.slice(3);
  const known = SIGNALS[name];
  if (known !== undefined) return known;
  const rt = /^RTM(IN|AX)(?:([+-])(\d+))?$/.exec(name);
  if (rt) {
    const base = rt[1] === 'IN' ? SIGRTMIN : SIGRTMAX;
    const n = base + (rt[2] === '-' ? -1 : 1) * Number(rt[3] ?? 0);
    if (n >= SIGRTMIN && n <= SIGRTMAX) return n;
  }
  throw new TsrunError(`unknown signal "${raw}"`);
}

/** "SIGKILL" for 9: the first name of a signal number, or undefined (runtime-hooks, start). */
export function signalName(n: number): string | undefined {
  for (const name in SIGNALS) if (SIGNALS[name] === n) return `SIG${name}`;
  return undefined;
}
