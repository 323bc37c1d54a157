// `pause` and `resume`: freeze and thaw the container's cgroup, as the lifecycle allows.
import type { Ctx } from '../cli/context.js';
import { TsrunError } from '../errors.js';
import { freeze, thaw } from '../cgroups/index.js';
import { requireStatus, statusAfter } from './lifecycle.js';
import { withLock } from './lock.js';
import { currentStatus } from './status.js';
import { Store } from './store.js';

export async function pause(ctx: Ctx, id: string): Promise<void> {
  const store = new Store(ctx.root);
  store.load(id); // a missing container is an error before any lock file is made
  await withLock(ctx.root, id, async () => {
    const r = store.load(id);
    requireStatus('pause', currentStatus(r));
    if (!r.cgroup) throw new TsrunError('container has no cgroup to freeze');
    await freeze(r.cgroup);
    store.save({ ...r, status: statusAfter('pause', r.execFifo !== undefined) });
  });
}

export async function resume(ctx: Ctx, id: string): Promise<void> {
  const store = new Store(ctx.root);
  store.load(id);
  await withLock(ctx.root, id, async () => {
    const r = store.load(id);
    requireStatus('resume', currentStatus(r));
    if (!r.cgroup) throw new TsrunError('container has no cgroup to thaw');
    await thaw(r.cgroup);
    store.save({ ...r, status: statusAfter('resume', r.execFifo !== undefined) });
  });
}
