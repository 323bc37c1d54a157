// `delete`: a stopped container (or any, with force) loses its processes, its
// cgroup and its state directory; then poststop hooks run, and only warn on failure.
import type { Ctx } from '../cli/context.js';
import { TsrunError, describeError } from '../errors.js';
import { requireStatus } from './lifecycle.js';
import { withLock } from './lock.js';
import type { ContainerRecord } from './record.js';
import { currentStatus, isAlive, specState } from './status.js';
import { Store } from './store.js';
import { unmountHostRootfs } from './host-rootfs.js';
import { signalCgroup } from './kill.js';
import { fault } from './fault.js';
import { fs } from '../io.js';
import { unlinkIfThere } from '../sysfile.js';

const SIGKILL = 9;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits until the process is gone or a zombie (its parent reaps it, not us). */
export async function waitGone(pid: number, startTime: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 1; isAlive(pid, startTime); delay = Math.min(delay * 2, 20)) {
    if (Date.now() >= deadline) throw new TsrunError(`process ${pid} did not exit after SIGKILL`);
    await sleep(delay);
  }
}

export interface DeleteOptions {
  force: boolean;
}

/** Deletes container `id`. A missing container is an error, except with force (runc). */
export async function deleteContainer(ctx: Ctx, id: string, o: DeleteOptions): Promise<void> {
  const store = new Store(ctx.root);
  if (!store.tryLoad(id)) {
    if (!o.force) throw new TsrunError(`container ${id} does not exist`);
    // A create killed before it saved any state leaves <root>/<id> without state.json.
    if (!fs.existsSync(store.dir(id))) return;
  }
  try {
    await withLock(ctx.root, id, () => deleteLocked(ctx, store, id, o));
  } catch (e) {
    // Removed meanwhile by another delete (its state.json goes once all else is gone): with
    // --force, that is what was asked.
    if (o.force && !store.exists(id)) return;
    throw e;
  }
}

async function deleteLocked(ctx: Ctx, store: Store, id: string, o: DeleteOptions): Promise<void> {
  const r = store.tryLoad(id);
  if (!r) {
    if (o.force) return store.remove(id);
    throw new TsrunError(`container ${id} does not exist`);
  }
  fault('delete:lock');
  if (!o.force) requireStatus('delete', currentStatus(r), id);
  await destroy(ctx, store, r);
}

/** Kills what is left, removes the cgroup and the state, then runs the poststop hooks. */
export async function destroy(ctx: Ctx, store: Store, r: ContainerRecord): Promise<void> {
  if (isAlive(r.pid, r.pidStartTime)) {
    ctx.log.debug(`delete ${r.id}: killing the container's processes (init pid ${r.pid})`);
    if (r.cgroup) await signalCgroup(r.cgroup, SIGKILL);
    try {
      process.kill(r.pid, SIGKILL);
    } catch {
      // Gone already.
    }
    await waitGone(r.pid, r.pidStartTime);
  }
  fault('delete:kill');
  if (r.cgroup) {
    const cg = await import('../cgroups/manage.js');
    await cg.destroyCgroup(r.cgroup, { kill: true });
    ctx.log.debug(`delete ${r.id}: cgroup ${r.cgroup.path} removed`);
  }
  fault('delete:cgroup');
  if (r.hostRootfs) {
    try {
      unmountHostRootfs(await (await import('../native/native.js')).loadNative(), r.hostRootfs);
    } catch (e) {
      ctx.log.warn(`delete ${r.id}: cannot unmount the rootfs ${r.hostRootfs.path}: ${describeError(e)}`);
    }
  }
  if (r.execFifo) unlinkIfThere(r.execFifo);
  fault('delete:state');
  store.remove(r.id);
  ctx.log.debug(`delete ${r.id}: state removed${r.hooks?.poststop?.length ? `, running ${r.hooks.poststop.length} poststop hook(s)` : ''}`);
  // Spec: poststop hooks run once the container is deleted; a failing one is a warning and
  // the remaining ones still run.
  const poststop = r.hooks?.poststop ?? [];
  const { runHook } = poststop.length ? await import('./runtime-hooks.js') : { runHook: undefined };
  for (const hook of poststop) {
    try {
      runHook!('poststop', hook, specState(r, 'stopped'));
    } catch (e) {
      ctx.log.warn(`delete ${r.id}: ${describeError(e)}`);
    }
  }
}
