import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import { pause } from '../../container/pause.js';

export default async function pauseCommand(ctx: Ctx, args: ParsedArgs): Promise<number> {
  await pause(ctx, args._[0]!);
  return 0;
}
