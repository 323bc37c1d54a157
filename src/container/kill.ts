// `kill`: sending a signal to the init, or with --all to every process of the container's cgroup
// (the signal names: signals.ts).
import { TsrunError } from '../errors.js';
import type { ContainerRecord } from './record.js';
import { requireStatus } from './lifecycle.js';
import { currentStatusAsync } from './status.js';

export { parseSignal } from './signals.js';

/** Sends a signal to one pid; a process that is already gone (ESRCH) is not an error. */
export function signalPid(pid: number, sig: number): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw new TsrunError(`unable to signal pid ${pid}`, { cause: e });
  }
}

/**
 * Signals the container's init (checking its start time, so a recycled pid is never hit) or,
 * with `all`, every process in its cgroup (frozen meanwhile so nothing forks past us).
 */
export async function killContainer(r: ContainerRecord, sig: number, all = false): Promise<void> {
  // Not stopped: the pid is alive and still the init that started at r.pidStartTime.
  const status = await currentStatusAsync(r);
  requireStatus(all ? 'kill --all' : 'kill', status);
  if (status === 'stopped') {
    // runc: --all of a stopped container succeeds; processes its init left in the cgroup (a
    // container sharing another's pid namespace) are still signalled.
    if (r.cgroup && (await cgroupHasProcesses(r.cgroup))) await signalCgroup(r.cgroup, sig);
    return;
  }
  if (all && r.cgroup) {
    await signalCgroup(r.cgroup, sig);
    return;
  }
  try {
    process.kill(r.pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') throw new TsrunError('container not running');
    throw new TsrunError('unable to signal init', { cause: e });
  }
  // runc: a frozen init would not die until thawed; only SIGKILL thaws (other signals wait for resume).
  if (status === 'paused' && sig === 9 && r.cgroup) {
    const cg = await import('../cgroups/manage.js');
    cg.thaw(r.cgroup);
  }
}

async function cgroupHasProcesses(handle: NonNullable<ContainerRecord['cgroup']>): Promise<boolean> {
  const cg = await import('../cgroups/manage.js');
  try {
    return cg.pids(handle).length > 0;
  } catch {
    return false; // the cgroup is gone (deleted or never made): nothing to signal
  }
}

/** Signals every process of a cgroup: freeze, list, signal, thaw (SIGKILL'd tasks die only once thawed). */
export async function signalCgroup(handle: NonNullable<ContainerRecord['cgroup']>, sig: number): Promise<void> {
  const cg = await import('../cgroups/manage.js');
  const wasFrozen = await cg.isFrozen(handle);
  if (!wasFrozen) await cg.freeze(handle);
  try {
    for (const pid of await cg.pids(handle)) signalPid(pid, sig);
  } finally {
    if (!wasFrozen || sig === 9) await cg.thaw(handle);
  }
}
