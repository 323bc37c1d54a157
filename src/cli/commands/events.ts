import { TsrunError } from '../../errors.js';
import type { Ctx } from '../context.js';
import { out } from '../output.js';
import type { ParsedArgs } from '../table.js';
import { oomEvents, stats, statsToJSON } from '../../cgroups/index.js';
import { currentStatus } from '../../container/status.js';
import { accepts, requireStatus } from '../../container/lifecycle.js';
import { Store } from '../../container/store.js';

const UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration ("5s", "1m30s", "250ms"), in milliseconds. */
export function parseDuration(s: string): number {
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  if (s === '0') return 0;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) throw new TsrunError(`invalid duration "${s}"`);
    total += Number(m[1]) * UNITS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos === 0) throw new TsrunError(`invalid duration "${s}"`);
  return total;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// OOM kills are polled (runc waits on an eventfd); this bounds how late an "oom" event is.
const OOM_POLL_MS = 200;

export default async function events(ctx: Ctx, args: ParsedArgs): Promise<number> {
  const id = args._[0]!;
  const interval = parseDuration(args.flags.interval as string);
  if (interval <= 0) throw new TsrunError('duration interval must be greater than 0');
  const store = new Store(ctx.root);
  const once = args.flags.stats === true;
  let ooms: number | undefined;
  let nextStats = 0;
  for (;;) {
    const r = store.tryLoad(id);
    if (!r) {
      if (once) throw new TsrunError(`container ${id} does not exist`);
      return 0;
    }
    const status = currentStatus(r);
    if (!accepts('events', status)) {
      if (once) requireStatus('events', status);
      return 0;
    }
    if (r.cgroup && !once) {
      const n = oomEvents(r.cgroup);
      if (ooms !== undefined && n > ooms) await out(`${statsToJSON({ type: 'oom', id })}\n`);
      ooms = n;
    }
    if (Date.now() >= nextStats) {
      const data = r.cgroup ? stats(r.cgroup) : {};
      await out(`${statsToJSON({ type: 'stats', id, data })}\n`);
      if (once) return 0;
      nextStats = Date.now() + interval;
    }
    await sleep(Math.min(OOM_POLL_MS, Math.max(1, nextStats - Date.now())));
  }
}
