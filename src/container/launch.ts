// What `create` (and so `run`) and `exec` share to start a tsrun-init: the seccomp filter and
// its agent, the caller's limits, runc's debug records at the same moments, and one error shape.
import type { Ctx } from '../cli/context.js';
import { TsrunError } from '../errors.js';
import type { ProcessContext } from '../linux/process-plan.js';
import { compileSeccomp, processStateJson } from '../linux/seccomp.js';
import { InitOpError, launchInit, type LaunchOptions, type Launched } from '../native/init-protocol.js';
import type { Native } from '../native/native.js';
import type { Seccomp, State } from '../spec/types.js';
import { callerRlimits } from './caller-limits.js';
import { connectSeccompAgent } from './fds.js';

export interface PreparedSeccomp {
  /** The filter for the plan (with the agent's socket and state when it notifies); undefined: none. */
  plan: (state: State, processPid?: number) => ProcessContext['seccomp'];
  /** The agent's socket, for keepFds (closed by the caller). */
  listenerFd?: number;
}

/** Compiles the filter and connects to its agent (SCMP_ACT_NOTIFY) before the init exists. */
export async function prepareSeccomp(native: Native, cfg: Seccomp | undefined): Promise<PreparedSeccomp> {
  if (!cfg) return { plan: () => undefined };
  let compiled;
  try {
    compiled = await compileSeccomp(cfg);
  } catch (e) {
    throw new TsrunError((e as Error).message);
  }
  const listenerFd = compiled.notify ? await connectSeccompAgent(native, cfg.listenerPath!) : undefined;
  return {
    listenerFd,
    plan: (state, processPid = state.pid) => ({ ...compiled, listenerFd, listenerState: compiled.notify ? processStateJson(cfg, state, processPid) : undefined }),
  };
}

export interface StartInit extends Omit<LaunchOptions, 'rlimits' | 'onSpawn'> {
  /** "create ID" or "exec ID": where the debug records and errors come from. */
  where: string;
  /** What the debug record of the clone says (flags, plan size, the pid joined). */
  setup: string;
  onSpawn?: (pid: number) => void | Promise<void>;
  /** An error of the init's setup, turned into the user's line (e.g. create's OOM wording). */
  explain?: (e: unknown) => TsrunError | undefined;
}

/** Starts tsrun-init with the caller's limits; its step failures become one TsrunError line. */
export async function startInit(ctx: Ctx, o: StartInit): Promise<Launched> {
  ctx.log.debug(`nsexec container setup: ${o.where}: ${o.setup}`);
  try {
    return await launchInit({
      ...o,
      rlimits: callerRlimits(),
      onSpawn: async (pid) => {
        ctx.log.debug(`child process in init(): ${o.where}: tsrun-init is pid ${pid}`);
        await o.onSpawn?.(pid);
      },
    });
  } catch (e) {
    const explained = o.explain?.(e);
    if (explained) throw explained;
    if (e instanceof InitOpError) throw new TsrunError(e.message);
    throw e;
  }
}
