// The commands engines call most often between the others (`state`, `kill`), in their plain
// form, without loading the command line (cli/main.ts, the command table, the flag parser, the
// logger) or node:fs (file I/O through libc, cli/lean.ts): each of those costs bun start-up time
// and resident pages on every call.
//
// Only a command line this recognises completely, and only a container in the expected shape,
// is handled here; for anything else (other flags, a missing or corrupt state, a stopped
// container, an error of any kind) `runHot` answers undefined and the full command line runs
// the command from the start, with its messages. Nothing here has an effect before the point
// where it can no longer fail (the output, the signal).
import { currentStatusAsync, runtimeState } from '../container/status.js';
import { Store } from '../container/store.js';
import { parseSignal } from '../container/signals.js';
import { writeText } from '../io.js';
import { openLog } from '../log.js';
import { sys } from '../sysfile.js';
import { useLibc } from './lean.js';
import type { HotLine } from './hot-line.js';

/** --log FILE is opened (created) at start-up, as runc does; nothing here writes to it. */
function touchLog(file: string | undefined): boolean {
  if (file === undefined || file === '/dev/stderr') return true;
  try {
    sys().close(openLog(file));
    return true;
  } catch {
    return false;
  }
}

/** Runs a hot command (parseHot's); undefined: not handled, run the full command line instead. */
export async function runHot(line: HotLine): Promise<number | undefined> {
  await useLibc();
  if (!touchLog(line.log)) return undefined;
  try {
    const r = await new Store(line.root).tryLoadAsync(line.args[0]!);
    if (!r) return undefined;
    const status = await currentStatusAsync(r);
    if (line.command === 'state') {
      await writeText(1, `${JSON.stringify(runtimeState(r, status), null, 2)}\n`);
      return 0;
    }
    // kill: the init of a created or running container; paused (SIGKILL thaws) and stopped ones,
    // and any failure, take the full path.
    if (status !== 'created' && status !== 'running') return undefined;
    process.kill(r.pid, parseSignal(line.args[1] ?? 'SIGTERM'));
    return 0;
  } catch {
    return undefined;
  }
}
