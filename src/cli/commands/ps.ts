import { spawnSync } from 'node:child_process';
import { TsrunError } from '../../errors.js';
import type { Ctx } from '../context.js';
import { out } from '../output.js';
import type { ParsedArgs } from '../table.js';
import { Store } from '../../container/store.js';
import { isAlive } from '../../container/status.js';
import type { ContainerRecord } from '../../container/record.js';

async function containerPids(r: ContainerRecord): Promise<number[]> {
  if (r.cgroup) {
    const cg = await import('../../cgroups/index.js');
    return [...(await cg.pids(r.cgroup))].sort((a, b) => a - b);
  }
  return isAlive(r.pid, r.pidStartTime) ? [r.pid] : [];
}

/** Keeps the header and the lines of `psOutput` whose PID column is one of `pids`. */
export function filterPs(psOutput: string, pids: ReadonlySet<number>): string {
  const lines = psOutput.split('\n');
  const header = lines[0] ?? '';
  const pidIndex = header.trim().split(/\s+/).indexOf('PID');
  if (pidIndex < 0) throw new TsrunError("couldn't find PID field in ps output");
  const kept = lines.slice(1).filter((l) => l.trim() && pids.has(Number(l.trim().split(/\s+/)[pidIndex])));
  return [header, ...kept].map((l) => `${l}\n`).join('');
}

export default async function ps(ctx: Ctx, args: ParsedArgs): Promise<number> {
  const format = args.flags.format as string;
  if (format !== 'table' && format !== 'json') throw new TsrunError(`invalid format option "${format}": use table or json`);
  const r = new Store(ctx.root).load(args._[0]!);
  const pids = await containerPids(r);
  if (format === 'json') {
    await out(`${JSON.stringify(pids)}\n`);
    return 0;
  }
  const psArgs = args._.length > 1 ? args._.slice(1) : ['-ef'];
  const res = spawnSync('ps', psArgs, { encoding: 'utf8' });
  if (res.error) throw new TsrunError('ps', { cause: res.error });
  if (res.status !== 0) throw new TsrunError(`ps ${psArgs.join(' ')}: exit status ${res.status}: ${(res.stderr || res.stdout).trim()}`);
  await out(filterPs(res.stdout, new Set(pids)));
  return 0;
}
