import { TsrunError } from '../../errors.js';
import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import { freeze } from '../../cgroups/index.js';
import { withLock } from '../../container/lock.js';
import { currentStatus } from '../../container/status.js';
import { Store } from '../../container/store.js';

export default async function pause(ctx: Ctx, args: ParsedArgs): Promise<number> {
  const id = args._[0]!;
  const store = new Store(ctx.root);
  store.load(id); // a missing container is an error before any lock file is made
  await withLock(ctx.root, id, async () => {
    const r = store.load(id);
    const status = currentStatus(r);
    if (status !== 'running' && status !== 'created') throw new TsrunError('container not running');
    if (!r.cgroup) throw new TsrunError('container has no cgroup to freeze');
    await freeze(r.cgroup);
    store.save({ ...r, status: 'paused' });
  });
  return 0;
}
