import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import { run } from '../../container/run.js';
import { createOptions } from './create.js';

export default async function runCommand(ctx: Ctx, args: ParsedArgs): Promise<number> {
  return run(ctx, {
    ...createOptions(args),
    detach: args.flags.detach === true,
    keep: args.flags.keep === true,
    noSubreaper: args.flags['no-subreaper'] === true,
  });
}
