import type { Ctx } from '../context.js';
import { out } from '../output.js';
import { featuresDocument } from '../../spec/features.js';
import { criuWorks } from '../../criu/detect.js';

const CHECKPOINT = 'io.github.tsrun.checkpoint.enabled';

export default async function features(ctx: Ctx): Promise<number> {
  const doc = featuresDocument();
  // Like runc's org.opencontainers.runc.checkpoint.enabled, but true only where criu works.
  doc.annotations = { ...doc.annotations, [CHECKPOINT]: String(criuWorks(ctx.criu).ok) };
  await out(`${JSON.stringify(doc, null, 4)}\n`);
  return 0;
}
