import * as path from 'node:path';
import { UsageError } from '../../errors.js';
import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import { create, type CreateOptions } from '../../container/create.js';

/** The create options shared by create and run. */
export function createOptions(args: ParsedArgs): CreateOptions {
  const f = args.flags;
  const preserveFds = f['preserve-fds'] as number;
  if (preserveFds < 0) throw new UsageError(`--preserve-fds must not be negative`);
  const abs = (p: unknown) => (typeof p === 'string' && p !== '' ? path.resolve(p) : undefined);
  return {
    id: args._[0]!,
    bundle: path.resolve(f.bundle as string),
    pidFile: abs(f['pid-file']),
    consoleSocket: abs(f['console-socket']),
    preserveFds,
    noPivot: f['no-pivot'] === true,
    noNewKeyring: f['no-new-keyring'] === true,
  };
}

export default async function createCommand(ctx: Ctx, args: ParsedArgs): Promise<number> {
  await create(ctx, createOptions(args));
  return 0;
}
