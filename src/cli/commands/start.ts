import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import { start } from '../../container/start.js';

export default async function startCommand(ctx: Ctx, args: ParsedArgs): Promise<number> {
  await start(ctx, args._[0]!);
  return 0;
}
