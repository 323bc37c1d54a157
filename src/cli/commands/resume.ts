import { TsrunError } from '../../errors.js';
import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import { thaw } from '../../cgroups/index.js';
import { withLock } from '../../container/lock.js';
import { currentStatus } from '../../container/status.js';
import { Store } from '../../container/store.js';

export default async function resume(ctx: Ctx, args: ParsedArgs): Promise<number> {
  const id = args._[0]!;
  const store = new Store(ctx.root);
  store.load(id); // a missing container is an error before any lock file is made
  await withLock(ctx.root, id, async () => {
    const r = store.load(id);
    if (currentStatus(r) !== 'paused') throw new TsrunError('container not paused');
    if (!r.cgroup) throw new TsrunError('container has no cgroup to thaw');
    await thaw(r.cgroup);
    // A container paused before `start` still has its exec fifo.
    store.save({ ...r, status: r.execFifo ? 'created' : 'running' });
  });
  return 0;
}
