import type { Ctx } from '../context.js';
import { out } from '../output.js';
import type { ParsedArgs } from '../table.js';
import { Store } from '../../container/store.js';
import { currentStatusAsync, runtimeState } from '../../container/status.js';

export default async function state(ctx: Ctx, args: ParsedArgs): Promise<number> {
  const r = await new Store(ctx.root).loadAsync(args._[0]!);
  await out(`${JSON.stringify(runtimeState(r, await currentStatusAsync(r)), null, 2)}\n`);
  return 0;
}
