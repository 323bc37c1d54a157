// `run`: create + start, then (unless --detach) wait for the process and delete the container.
import type { Ctx } from '../cli/context.js';
import { TsrunError } from '../errors.js';
import { trace } from '../trace.js';
import { AF_UNIX, SOCK_CLOEXEC, SOCK_STREAM, PR_SET_CHILD_SUBREAPER } from '../native/native.js';
import { createContainer, type CreateOptions } from './create.js';
import { destroy } from './delete.js';
import { waitForeground } from './foreground.js';
import { markStarted, poststart } from './start.js';
import { Store } from './store.js';
import { withLock } from './lock.js';

export interface RunOptions extends CreateOptions {
  detach: boolean;
  keep: boolean;
  noSubreaper?: boolean;
}

export async function run(ctx: Ctx, o: RunOptions): Promise<number> {
  let pair: [number, number] | undefined;
  const { loadNative } = await import('../native/native.js');
  const native = await loadNative();
  if (!o.detach && !o.noSubreaper) native.prctl(PR_SET_CHILD_SUBREAPER, 1);
  if (!o.detach && o.consoleSocket === undefined) {
    pair = native.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  }
  const store = new Store(ctx.root);
  let record;
  try {
    ({ record } = await createContainer(ctx, { ...o, consoleFd: pair?.[1] }));
  } finally {
    if (pair) native.close(pair[1]);
  }
  let master: number | undefined;
  if (pair) {
    if (record.process?.terminal) {
      master = native.recvFd(pair[0]);
      native.clearOnlcr(master);
    }
    native.close(pair[0]);
  }
  // Forward signals from now on: start returns only once the process runs, and a signal in
  // between must reach the container, not kill tsrun.
  if (!o.detach && master === undefined) native.forwardBegin(record.pid);
  await withLock(ctx.root, o.id, () => markStarted(ctx, store, record)).catch(async (e) => {
    // A container that cannot start (its init died) is not left behind by `run`.
    await withLock(ctx.root, o.id, async () => {
      const r = store.tryLoad(o.id);
      if (r && r.pid === record.pid) await destroy(ctx, store, r);
    }).catch(() => undefined);
    throw e;
  });
  await poststart(ctx, store, record);
  if (o.detach) return 0;
  const status = await waitForeground({ pid: record.pid, native, master });
  trace('run: exited');
  ctx.log.debug(`run ${o.id}: the container process exited, status ${status}`);
  if (!o.keep) {
    await withLock(ctx.root, o.id, async () => {
      const r = store.tryLoad(o.id);
      if (r) await destroy(ctx, store, r);
    }).catch((e) => {
      throw new TsrunError(`delete after run: ${(e as Error).message}`);
    });
  }
  return status;
}
