import { TsrunError, describeError } from '../../errors.js';
import type { Ctx } from '../context.js';
import { out } from '../output.js';
import type { ParsedArgs } from '../table.js';
import { Store } from '../../container/store.js';
import { runtimeState, type RuntimeState } from '../../container/status.js';
import { sys } from '../../sysfile.js';

/** uid -> user name from /etc/passwd (runc shows the owner of the state directory). */
function userNames(): Map<number, string> {
  const names = new Map<number, string>();
  try {
    for (const line of sys().readFile('/etc/passwd').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && !names.has(Number(f[2]))) names.set(Number(f[2]), f[0]!);
    }
  } catch {
    // no passwd: numeric owners
  }
  return names;
}

/** Go's text/tabwriter as runc uses it (minwidth 12, padding 3); the last column is not padded. */
export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.slice(0, -1).forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 12, cell.length + 3); });
  }
  return rows.map((row) => row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i]!) : cell)).join('') + '\n').join('');
}

export default async function list(ctx: Ctx, args: ParsedArgs): Promise<number> {
  const format = args.flags.format as string;
  if (format !== 'table' && format !== 'json') throw new TsrunError(`invalid format option "${format}": use table or json`);
  const store = new Store(ctx.root);
  const names = userNames();
  const states: RuntimeState[] = [];
  for (const id of store.list()) {
    try {
      const r = store.tryLoad(id);
      if (!r) continue;
      const uid = sys().ownerUid(`${ctx.root}/${id}`);
      states.push({ ...runtimeState(r), owner: names.get(uid) ?? `#${uid}` });
    } catch (e) {
      ctx.log.warn(`list: ${id}: ${describeError(e)}`);
    }
  }
  if (args.flags.quiet === true) {
    await out(states.map((s) => `${s.id}\n`).join(''));
  } else if (format === 'json') {
    await out(`${JSON.stringify(states)}\n`);
  } else {
    await out(table([['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'],
      ...states.map((s) => [s.id, String(s.pid), s.status, s.bundle, s.created, s.owner])]));
  }
  return 0;
}
