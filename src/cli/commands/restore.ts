import * as path from 'node:path';
import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import { criuOptions } from '../../criu/options.js';
import { restore } from '../../container/restore.js';

export default async function restoreCommand(ctx: Ctx, args: ParsedArgs): Promise<number> {
  const f = args.flags;
  const abs = (p: unknown) => (typeof p === 'string' && p !== '' ? path.resolve(p) : undefined);
  return restore(ctx, {
    id: args._[0]!,
    bundle: path.resolve((f.bundle as string | undefined) || '.'),
    consoleSocket: abs(f['console-socket']),
    pidFile: abs(f['pid-file']),
    detach: f.detach === true,
    noSubreaper: f['no-subreaper'] === true,
    noPivot: f['no-pivot'] === true,
    criu: criuOptions(args),
  });
}
