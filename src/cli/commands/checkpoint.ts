import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import { criuOptions } from '../../criu/options.js';
import { checkpoint } from '../../container/checkpoint.js';
import { Store } from '../../container/store.js';
import { currentStatus } from '../../container/status.js';
import { TsrunError } from '../../errors.js';

export default async function checkpointCommand(ctx: Ctx, args: ParsedArgs): Promise<number> {
  const id = args._[0]!;
  // runc's order: the container and its state first, then the options (image paths).
  const r = new Store(ctx.root).load(id);
  const status = currentStatus(r);
  if (status !== 'running' && status !== 'paused') throw new TsrunError(`container cannot be checkpointed in ${status} state`);
  await checkpoint(ctx, id, criuOptions(args));
  return 0;
}
