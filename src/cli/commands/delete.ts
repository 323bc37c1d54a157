import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import { deleteContainer } from '../../container/delete.js';

export default async function del(ctx: Ctx, args: ParsedArgs): Promise<number> {
  await deleteContainer(ctx, args._[0]!, { force: args.flags.force === true });
  return 0;
}
