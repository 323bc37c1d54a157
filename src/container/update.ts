// `update`: new resource limits for a container that has not stopped.
import type { Ctx } from '../cli/context.js';
import { TsrunError } from '../errors.js';
import type { Resources } from '../spec/types.js';
import { applyResources, checkResourcesForMode, detectMode } from '../cgroups/index.js';
import { requireStatus } from './lifecycle.js';
import { withLock } from './lock.js';
import { currentStatus } from './status.js';
import { Store } from './store.js';

export async function update(ctx: Ctx, id: string, resources: Resources): Promise<void> {
  const store = new Store(ctx.root);
  store.load(id); // a missing container is an error before any lock file is made
  await withLock(ctx.root, id, async () => {
    const r = store.load(id);
    requireStatus('update', currentStatus(r));
    if (!r.cgroup) throw new TsrunError('container has no cgroup');
    // Like runc, update leaves the device rules alone: the container keeps its own list (the
    // config's rules plus the devices every container needs), never the file's bare rules.
    const { devices: _ignored, ...rest } = resources;
    checkResourcesForMode(rest, r.cgroup.mode ?? detectMode());
    await applyResources(r.cgroup, rest);
  });
}
