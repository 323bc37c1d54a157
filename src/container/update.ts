// `update`: new resource limits for a container that has not stopped.
import type { Ctx } from '../cli/context.js';
import type { Resources } from '../spec/types.js';
import { applyResources, checkResourcesForMode, detectMode, updateScope } from '../cgroups/index.js';
import { withContainerCgroup } from './with-cgroup.js';

export async function update(ctx: Ctx, id: string, resources: Resources): Promise<void> {
  await withContainerCgroup(ctx, id, 'update', async (cgroup) => {
    // Like runc, update leaves the device rules alone: the container keeps its own list (the
    // config's rules plus the devices every container needs), never the file's bare rules.
    const { devices: _ignored, ...rest } = resources;
    checkResourcesForMode(rest, cgroup.mode ?? detectMode());
    // systemd driver: the unit's properties first (runc), then the files.
    if (cgroup.systemd) updateScope(cgroup, rest);
    await applyResources(cgroup, rest);
  });
}
