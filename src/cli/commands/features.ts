import type { Ctx } from '../context.js';
import { out } from '../output.js';
import { featuresDocument } from '../../spec/features.js';

export default async function features(_ctx: Ctx): Promise<number> {
  await out(`${JSON.stringify(featuresDocument(), null, 4)}\n`);
  return 0;
}
