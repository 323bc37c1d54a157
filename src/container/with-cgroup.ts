// The shape of the commands that change a live container's cgroup (pause, resume, update): load
// the record, take its lock, check the lifecycle, then act on the cgroup.
import type { Ctx } from '../cli/context.js';
import { TsrunError } from '../errors.js';
import type { CgroupHandle } from '../cgroups/index.js';
import { requireStatus, type LifecycleCommand } from './lifecycle.js';
import { withLock } from './lock.js';
import type { ContainerRecord } from './record.js';
import { currentStatus } from './status.js';
import { Store } from './store.js';

export async function withContainerCgroup(
  ctx: Ctx,
  id: string,
  command: LifecycleCommand,
  act: (cgroup: CgroupHandle, r: ContainerRecord, store: Store) => void | Promise<void>,
): Promise<void> {
  const store = new Store(ctx.root);
  store.load(id); // a missing container is an error before any lock file is made
  await withLock(ctx.root, id, async () => {
    const r = store.load(id);
    requireStatus(command, currentStatus(r));
    if (!r.cgroup) throw new TsrunError(`container has no cgroup to ${command}`);
    await act(r.cgroup, r, store);
  });
}
