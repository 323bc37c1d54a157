import * as fs from 'node:fs';
import * as path from 'node:path';
import { TsrunError, errnoCode } from '../../errors.js';
import type { Ctx } from '../context.js';
import type { ParsedArgs } from '../table.js';
import { defaultSpec } from '../../spec/default-config.js';
import { detectMode } from '../../cgroups/paths.js';

export default async function spec(_ctx: Ctx, args: ParsedArgs): Promise<number> {
  const bundle = (args.flags.bundle as string | undefined) || '.';
  const st = fs.statSync(bundle, { throwIfNoEntry: false });
  if (!st) throw new TsrunError(`chdir ${bundle}: no such file or directory`);
  if (!st.isDirectory()) throw new TsrunError(`chdir ${bundle}: not a directory`);
  const file = path.join(bundle, 'config.json');
  const text = `${JSON.stringify(defaultSpec({ rootless: args.flags.rootless === true, cgroupV2: detectMode() === 'unified' }), null, '\t')}\n`;
  try {
    fs.writeFileSync(file, text, { flag: 'wx', mode: 0o666 });
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') throw new TsrunError('File config.json exists. Remove it first');
    throw e;
  }
  return 0;
}
