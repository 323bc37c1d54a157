import * as fs from 'node:fs';
import { TsrunError } from '../../errors.js';
import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import type { Resources } from '../../spec/types.js';
import { readAsGo } from '../../spec/go-keys.js';
import { resourcesFromUpdateFlags } from '../../cgroups/update-flags.js';
import { update } from '../../container/update.js';

function readResources(file: string): Resources {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new TsrunError('cannot read the resources', { cause: e });
  }
  try {
    const v: unknown = readAsGo(JSON.parse(text), 'resources');
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Resources;
  } catch (e) {
    throw new TsrunError(`invalid resources (${file === '-' ? 'stdin' : file}): ${(e as Error).message}`);
  }
}

export default async function updateCommand(ctx: Ctx, args: ParsedArgs): Promise<number> {
  const id = args._[0]!;
  const { resources: file, ...rest } = args.flags;
  let resources: Resources;
  if (typeof file === 'string') {
    resources = readResources(file);
  } else {
    // Only the flags given, as their raw strings.
    const given: Record<string, string> = {};
    for (const [k, v] of Object.entries(rest)) if (typeof v === 'string') given[k] = v;
    resources = resourcesFromUpdateFlags(given);
  }
  await update(ctx, id, resources);
  return 0;
}
