// createContainer hooks: their path resolves in the runtime namespace, they run in the
// container's namespaces (config.md). While the container's init waits at SYNC 'H' (mounts done,
// before pivot_root, so host paths are still visible in its mount namespace), a second
// tsrun-init joins the init's namespaces, forks (so that a joined pid/time namespace applies)
// and runs the hooks with HOOK ops.
import * as fs from 'node:fs';
import type { Hook, State } from '../spec/types.js';
import type { PlanOp } from '../shim/plan.js';
import { Op } from '../shim/ops.js';
import { NS_FLAGS } from '../linux/constants.js';
import { hookOp } from '../linux/create-plan.js';
import { launchInit } from '../shim/init-protocol.js';
import type { Native, Rlimit } from '../shim/native.js';

// The user namespace last: host root may join the others (owned by the container's user
// namespace, a child of ours) as it is, but once in the container's user namespace it could no
// longer open the non-dumpable init's /proc/<pid>/ns files. The mount namespace just before it:
// /proc/<pid> still resolves there (before pivot_root, the host's /proc is mounted at /proc).
// The time namespace of the container's process is the init's time_for_children.
const JOIN: Array<[keyof typeof NS_FLAGS, string, string]> = [
  ['ipc', 'ipc', 'ipc'],
  ['uts', 'uts', 'uts'],
  ['network', 'net', 'net'],
  ['pid', 'pid', 'pid'],
  ['cgroup', 'cgroup', 'cgroup'],
  ['time', 'time_for_children', 'time'],
  ['mount', 'mnt', 'mnt'],
  ['user', 'user', 'user'],
];

function nsId(file: string): string | undefined {
  try {
    return fs.readlinkSync(file);
  } catch {
    return undefined;
  }
}

/** The plan of the hook runner: join the namespaces of `pid` that differ from ours, run the hooks. */
export function containerHooksPlan(pid: number, hooks: readonly Hook[], state: string): PlanOp[] {
  const ops: PlanOp[] = [];
  let forks = false;
  for (const [type, theirs, ours] of JOIN) {
    const path = `/proc/${pid}/ns/${theirs}`;
    const id = nsId(path);
    if (id === undefined || id === nsId(`/proc/self/ns/${ours}`)) continue;
    ops.push({ op: Op.SETNS, ints: [NS_FLAGS[type]], strs: [path], what: `createContainer hooks: join the container's ${type} namespace` });
    if (type === 'user') ops.push({ op: Op.SET_ROOT_IDS, what: 'createContainer hooks: become root in the user namespace' });
    if (type === 'pid' || type === 'time') forks = true;
  }
  if (forks) ops.push({ op: Op.FORK, what: 'createContainer hooks: fork into the pid namespace' });
  // Like the hooks tsrun runs itself (hooks.ts): without `env`, a hook gets tsrun's environment.
  const ownEnv = Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ''}`);
  for (const h of hooks) ops.push(hookOp('createContainer', h.env ? h : { ...h, env: ownEnv }, state));
  ops.push({ op: Op.READY, what: 'createContainer hooks: done' });
  return ops;
}

/** Runs the createContainer hooks in the namespaces of the waiting init `pid`; throws on failure. */
export async function runContainerHooks(native: Native, pid: number, hooks: readonly Hook[], state: State, rlimits: readonly Rlimit[]): Promise<void> {
  if (!hooks.length) return;
  const launched = await launchInit({ native, cloneFlags: 0, rlimits, plan: containerHooksPlan(pid, hooks, JSON.stringify(state)) });
  // READY is the last op: the runner exits right after it.
  native.waitpid(launched.pid, 0);
}
