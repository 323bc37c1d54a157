// Like runc (checkProcMount), /proc is a procfs: a mount of type proc, or a bind mount of a
// procfs (the host's /proc when there is no pid namespace). tsrun-init reaches the exec fifo
// through /proc/self/fd, and sysctl, oom_score_adj and masked paths are written there.
import { resolve } from 'node:path';
import type { HostFacts } from '../linux/host-facts.js';
import { isBind } from './semantics.js';
import type { Mount, Spec } from './types.js';

/** The problem with the config's /proc, worded as the whole line; undefined when there is none. */
export function procMountProblem(spec: Spec, bundle: string, host: Pick<HostFacts, 'isProcfs'>): string | undefined {
  const mounts = spec.mounts ?? [];
  const atProc = (m: Mount) => m.destination.replace(/\/+$/, '') === '/proc';
  if (!mounts.some(atProc)) return 'config.json /mounts: a mount of type "proc" at /proc is required';
  const i = mounts.findIndex((m) => atProc(m) && !isProcMount(m, bundle, host));
  if (i < 0) return undefined;
  const m = mounts[i]!;
  const what = isBind(m) ? `a bind mount of ${m.source ?? ''}, which is not a procfs` : `a mount of type "${m.type ?? ''}"`;
  return `config.json /mounts/${i}: /proc must be a procfs (type "proc", or a bind mount of one), not ${what}`;
}

function isProcMount(m: Mount, bundle: string, host: Pick<HostFacts, 'isProcfs'>): boolean {
  if (!isBind(m)) return m.type === 'proc';
  return host.isProcfs(resolve(bundle, m.source ?? ''));
}
