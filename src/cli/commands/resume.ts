import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import { resume } from '../../container/pause.js';

export default async function resumeCommand(ctx: Ctx, args: ParsedArgs): Promise<number> {
  await resume(ctx, args._[0]!);
  return 0;
}
