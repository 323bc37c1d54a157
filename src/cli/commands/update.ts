import * as fs from 'node:fs';
import { TsrunError } from '../../errors.js';
import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import type { Resources } from '../../spec/types.js';
import { dropNullMembers } from '../../spec/json-null.js';
import { applyResources, checkResourcesForMode, detectMode } from '../../cgroups/index.js';
import { resourcesFromUpdateFlags } from '../../cgroups/update-flags.js';
import { withLock } from '../../container/lock.js';
import { currentStatus } from '../../container/status.js';
import { Store } from '../../container/store.js';

function readResources(file: string): Resources {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new TsrunError('cannot read the resources', { cause: e });
  }
  try {
    const v: unknown = dropNullMembers(JSON.parse(text));
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Resources;
  } catch (e) {
    throw new TsrunError(`invalid resources (${file === '-' ? 'stdin' : file}): ${(e as Error).message}`);
  }
}

export default async function update(ctx: Ctx, args: ParsedArgs): Promise<number> {
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
  const store = new Store(ctx.root);
  store.load(id); // a missing container is an error before any lock file is made
  await withLock(ctx.root, id, async () => {
    const r = store.load(id);
    if (currentStatus(r) === 'stopped') throw new TsrunError('container not running');
    if (!r.cgroup) throw new TsrunError('container has no cgroup');
    // Like runc, update leaves the device rules alone: the container keeps its own list (the
    // config's rules plus the devices every container needs), never the file's bare rules.
    const { devices: _ignored, ...rest } = resources;
    checkResourcesForMode(rest, r.cgroup.mode ?? detectMode());
    await applyResources(r.cgroup, rest);
  });
  return 0;
}
