import type { Ctx } from '../context.js';
import { out } from '../output.js';
import type { ParsedArgs } from '../table.js';
import { Store } from '../../container/store.js';
import { runtimeState } from '../../container/status.js';

export default async function state(ctx: Ctx, args: ParsedArgs): Promise<number> {
  const r = new Store(ctx.root).load(args._[0]!);
  out(`${JSON.stringify(runtimeState(r), null, 2)}\n`);
  return 0;
}
