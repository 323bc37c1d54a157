import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import { Store } from '../../container/store.js';
import { killContainer, parseSignal } from '../../container/kill.js';

export default async function kill(ctx: Ctx, args: ParsedArgs): Promise<number> {
  const r = await new Store(ctx.root).loadAsync(args._[0]!);
  await killContainer(r, parseSignal(args._[1] ?? 'SIGTERM'), args.flags.all === true);
  return 0;
}
