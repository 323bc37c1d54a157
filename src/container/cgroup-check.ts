// create's check of a cgroup that already exists, as runc 1.1 does it before anything is made.
import type { Ctx } from '../cli/context.js';
import { TsrunError } from '../errors.js';
import { preexisting, type CgroupHandle } from '../cgroups/index.js';

/** runc 1.1: a cgroup with processes in it is a warning (an error with systemd), a frozen one an error. */
export function checkPreexisting(ctx: Ctx, id: string, cgroup: CgroupHandle): void {
  let found;
  try {
    found = preexisting(cgroup);
  } catch (e) {
    // Unreadable (rootless, not delegated): placeCgroup decides what that means.
    ctx.log.debug(`create ${id}: cgroup ${cgroup.path} not checked: ${(e as Error).message}`);
    return;
  }
  const { pids, frozen } = found;
  if (pids > 0) {
    const msg = `container's cgroup is not empty: ${pids} process(es) found`;
    if (cgroup.systemd) throw new TsrunError(`cgroup ${cgroup.path}: ${msg}`);
    ctx.log.warn(`create ${id}: cgroup ${cgroup.path}: ${msg}`);
    ctx.log.warn(`create ${id}: DEPRECATED: running a container in a non-empty cgroup will not be supported (runc 1.2 refuses it)`);
  }
  if (frozen) throw new TsrunError(`cgroup ${cgroup.path}: container's cgroup unexpectedly frozen`);
}
