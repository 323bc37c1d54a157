// `pause` and `resume`: freeze and thaw the container's cgroup, as the lifecycle allows.
import type { Ctx } from '../cli/context.js';
// manage.ts, not index.ts: the lifecycle needs none of resources, stats or the systemd driver's
// set-up that index.ts re-exports (~23 kB less JS to load).
import { freeze, thaw } from '../cgroups/manage.js';
import { statusAfter } from './lifecycle.js';
import { withContainerCgroup } from './with-cgroup.js';

export async function pause(ctx: Ctx, id: string): Promise<void> {
  await withContainerCgroup(ctx, id, 'pause', async (cgroup, r, store) => {
    await freeze(cgroup);
    store.save({ ...r, status: statusAfter('pause', r.execFifo !== undefined) });
  });
}

export async function resume(ctx: Ctx, id: string): Promise<void> {
  await withContainerCgroup(ctx, id, 'resume', async (cgroup, r, store) => {
    await thaw(cgroup);
    store.save({ ...r, status: statusAfter('resume', r.execFifo !== undefined) });
  });
}
