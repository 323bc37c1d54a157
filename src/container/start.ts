// `start`: release the init waiting on the exec fifo, wait until it has exec'd the process (or a
// startContainer hook failed), then run poststart hooks. A failing startContainer or poststart
// hook fails `start`, and the container is destroyed (runtime.md lifecycle: continue at step 12).
// Hooks and destroy are loaded only when needed: they bring node:fs, koffi and child_process.
import type { Ctx } from '../cli/context.js';
import { TsrunError, describeError } from '../errors.js';
import { requireStatus } from './lifecycle.js';
import { withLock } from './lock.js';
import type { ContainerRecord } from './record.js';
import { currentStatus, isAlive, specState } from './status.js';
import { Store } from './store.js';
import { fault } from './fault.js';
import { signalName } from './signals.js';
import { O_NONBLOCK, O_RDONLY, sys, unlinkIfThere } from '../sysfile.js';

export async function start(ctx: Ctx, id: string): Promise<void> {
  const store = new Store(ctx.root);
  const record = await withLock(ctx.root, id, async () => {
    fault('start:lock');
    const r = store.load(id);
    requireStatus('start', currentStatus(r));
    await markStarted(ctx, store, r);
    return r;
  });
  await poststart(ctx, store, record);
}

/**
 * Releases the init and records that the container runs once the init is awake; returns when the
 * process is exec'd. A failing startContainer hook destroys the container and throws.
 */
export async function markStarted(ctx: Ctx, store: Store, r: ContainerRecord): Promise<void> {
  const fifo = r.execFifo;
  ctx.log.debug(`start ${r.id}: releasing the init (pid ${r.pid}) through the exec fifo ${fifo ?? '(none)'}`);
  const failure = release(r, () => {
    // The init is awake and no longer waits for `start`: it goes on to exec the process.
    fault('start:released');
    r.status = 'running';
    delete r.execFifo;
    store.save(r);
    fault('start:saved');
    if (fifo) unlinkIfThere(fifo);
  });
  if (failure) {
    ctx.log.debug(`start ${r.id}: startContainer hook failed, destroying the container`);
    await (await import('./delete.js')).destroy(ctx, store, r);
    throw new TsrunError(`startContainer: ${describeHookFailure(failure)}`);
  }
  ctx.log.debug(`start ${r.id}: the container process ${r.pid} runs`);
}

const SIGNAL_WORDS: Record<string, string> = {
  SIGSYS: 'bad system call',
  SIGKILL: 'killed',
  SIGSEGV: 'segmentation fault',
  SIGABRT: 'aborted',
  SIGBUS: 'bus error',
  SIGILL: 'illegal instruction',
  SIGFPE: 'floating point exception',
  SIGTERM: 'terminated',
};

/**
 * tsrun-init's `hook <path>: <exit N | signal N | timeout | cause>` (op HOOK) in words, with runc's
 * "error running hook": a hook killed by the container's seccomp filter reads "bad system call".
 */
export function describeHookFailure(line: string): string {
  const m = /^hook (.*?): (.*)$/s.exec(line);
  if (!m) return line;
  const [, file, detail] = m as unknown as [string, string, string];
  let why = detail;
  const sig = /^signal (\d+)$/.exec(detail);
  const exit = /^exit (\d+)$/.exec(detail);
  if (sig) {
    const name = signalName(Number(sig[1]));
    const words = name ? SIGNAL_WORDS[name] : undefined;
    why = `killed by signal ${name ?? sig[1]}${words ? ` (${words})` : ''}`;
  } else if (exit) why = `exit status ${exit[1]}`;
  else if (detail === 'timeout') why = 'timed out';
  return `error running hook ${file}: ${why}`;
}

const napCell = new Int32Array(new SharedArrayBuffer(4));
const nap = (ms: number): void => void Atomics.wait(napCell, 0, 0, ms);

/**
 * The exec fifo handshake (ffi/PLAN.md WAIT_START): opening the fifo for reading wakes the init,
 * which writes "0" once awake and keeps the write end open until its exec (O_CLOEXEC) closes it.
 * A failing startContainer hook writes its error first. Returns that error, or '' when the
 * init exec'd (or died: then the container is simply stopped).
 *
 * The fifo is read without blocking: a blocking open or read would hang forever if the init died
 * before it opened the fifo; while waiting for "0" we check that it is alive.
 */
export function release(r: ContainerRecord, onAwake: () => void): string {
  if (!r.execFifo) throw new TsrunError('cannot start: the container has no exec fifo');
  const s = sys();
  let fd: number;
  try {
    fd = s.open(r.execFifo, O_RDONLY | O_NONBLOCK);
  } catch (e) {
    throw new TsrunError(`cannot start: open exec fifo: ${describeError(e)}`);
  }
  const buf = new Uint8Array(512);
  const decoder = new TextDecoder();
  let out = '';
  let awake = false;
  let delay = 0.05;
  const since = performance.now();
  try {
    for (;;) {
      let n: number;
      try {
        n = s.read(fd, buf);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' && code !== 'EINTR') throw new TsrunError(`cannot start: read exec fifo: ${describeError(e)}`);
        n = -1; // the init holds the write end and has not written (yet)
      }
      if (n > 0) {
        out += decoder.decode(buf.subarray(0, n), { stream: true });
        if (!awake) {
          awake = true;
          delay = 0.05;
          onAwake();
        }
        continue;
      }
      if (n === 0) {
        if (awake) break; // EOF: exec'd (or died)
        // no writer: the init has not opened the fifo yet, or it is gone
        if (!isAlive(r.pid, r.pidStartTime)) throw new TsrunError('cannot start: the container init is not waiting (it has exited)');
      }
      nap(delay);
      // The init usually execs within a millisecond: short naps then, longer ones later (hooks).
      delay = Math.min(delay * 2, performance.now() - since < 20 ? 0.25 : 10);
    }
  } finally {
    s.close(fd);
  }
  return (out + decoder.decode()).slice(1).trim();
}

/** Poststart hooks; a failing one stops and destroys the container, and `start` fails. */
export async function poststart(ctx: Ctx, store: Store, r: ContainerRecord): Promise<void> {
  const hooks = r.hooks?.poststart;
  if (!hooks?.length) return;
  ctx.log.debug(`start ${r.id}: running ${hooks.length} poststart hook(s)`);
  try {
    (await import('./runtime-hooks.js')).runHooks('poststart', hooks, specState(r, 'running'), { cwd: r.bundle });
  } catch (e) {
    await withLock(ctx.root, r.id, async () => {
      const cur = store.tryLoad(r.id);
      if (cur && cur.pid === r.pid && cur.pidStartTime === r.pidStartTime) await (await import('./delete.js')).destroy(ctx, store, cur);
    });
    throw e;
  }
}
