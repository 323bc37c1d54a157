// `start`: release the init waiting on the exec fifo, then run poststart hooks.
import * as fs from 'node:fs';
import type { Ctx } from '../cli/context.js';
import { TsrunError, describeError } from '../errors.js';
import { runHooks } from './hooks.js';
import { withLock } from './lock.js';
import type { ContainerRecord } from './record.js';
import { currentStatus, specState } from './status.js';
import { Store } from './store.js';

export async function start(ctx: Ctx, id: string): Promise<void> {
  const store = new Store(ctx.root);
  const record = await withLock(ctx.root, id, () => {
    const r = store.load(id);
    const status = currentStatus(r);
    if (status !== 'created') {
      if (status === 'stopped') throw new TsrunError('cannot start a container that has stopped');
      throw new TsrunError(`cannot start an already ${status} container`);
    }
    markStarted(store, r);
    return r;
  });
  poststart(ctx, record);
}

/** Releases the init and records that the container runs; the fifo has done its job. */
export function markStarted(store: Store, r: ContainerRecord): void {
  release(r);
  r.status = 'running';
  const fifo = r.execFifo;
  delete r.execFifo;
  store.save(r);
  if (fifo) fs.rmSync(fifo, { force: true });
}

/** Wakes the init: one byte into the exec fifo it holds open. */
export function release(r: ContainerRecord): void {
  if (!r.execFifo) throw new TsrunError('cannot start: the container has no exec fifo');
  let fd: number;
  try {
    fd = fs.openSync(r.execFifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENXIO') throw new TsrunError('cannot start: the container init is not waiting (it has exited)');
    throw new TsrunError(`cannot start: open exec fifo: ${describeError(e)}`);
  }
  try {
    fs.writeSync(fd, '0');
  } finally {
    fs.closeSync(fd);
  }
}

/** Poststart hook failures only warn (runtime.md: the lifecycle continues). */
export function poststart(ctx: Ctx, r: ContainerRecord): void {
  const hooks = r.hooks?.poststart;
  if (!hooks?.length) return;
  try {
    runHooks('poststart', hooks, specState(r, 'running'), { cwd: r.bundle });
  } catch (e) {
    ctx.log.warn(describeError(e));
  }
}
