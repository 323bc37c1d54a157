// Resource limit names and numbers for Linux (asm-generic/resource.h, same on x86_64).

export const RLIMITS = {
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
} as const;

export type RlimitName = keyof typeof RLIMITS;

export const RLIMIT_NAMES: readonly RlimitName[] = Object.keys(RLIMITS) as RlimitName[];

/** RLIM_INFINITY: (rlim_t)-1. Configs write it as 18446744073709551615, which JSON.parse rounds up to 2^64. */
export const RLIM_INFINITY = 0xffff_ffff_ffff_ffffn;

export function isRlimitName(name: string): name is RlimitName {
  return Object.prototype.hasOwnProperty.call(RLIMITS, name);
}

export function rlimitNumber(name: string): number | undefined {
  return isRlimitName(name) ? RLIMITS[name] : undefined;
}
