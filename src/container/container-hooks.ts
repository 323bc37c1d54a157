// createContainer hooks: their path resolves in the runtime namespace, they run in the
// container's namespaces (config.md). While the container's init waits at SYNC 'H' (mounts done,
// before pivot_root, so host paths are still visible in its mount namespace), a second
// tsrun-init joins the init's namespaces, forks (so that a joined pid/time namespace applies)
// and runs the hooks with HOOK ops.
import * as fs from 'node:fs';
import type { Hook, State } from '../spec/types.js';
import type { PlanOp } from '../native/plan.js';
import { F_HOST, Op } from '../native/ops.js';
import { NS_FLAGS } from '../linux/constants.js';
import { hookOp } from '../linux/create-plan.js';
import { launchInit } from '../native/init-protocol.js';
import type { Native, Rlimit } from '../native/native.js';

// The user namespace first: it grants the rights to join the others (rootless, too), the mount
// namespace last. The time namespace of the container's process is the init's time_for_children.
const JOIN: Array<[keyof typeof NS_FLAGS, string, string]> = [
  ['user', 'user', 'user'],
  ['ipc', 'ipc', 'ipc'],
  ['uts', 'uts', 'uts'],
  ['network', 'net', 'net'],
  ['pid', 'pid', 'pid'],
  ['cgroup', 'cgroup', 'cgroup'],
  ['time', 'time_for_children', 'time'],
  ['mount', 'mnt', 'mnt'],
];

function nsId(file: string): string | undefined {
  try {
    return fs.readlinkSync(file);
  } catch {
    return undefined;
  }
}

export interface JoinFd {
  type: keyof typeof NS_FLAGS;
  fd: number;
}

/**
 * Opens the namespaces of `pid` that differ from tsrun's own. Opened here, with tsrun's
 * credentials: once in the container's user namespace, the runner could not open the files of
 * the non-dumpable init any more.
 */
export function openNamespaces(pid: number): JoinFd[] {
  const out: JoinFd[] = [];
  try {
    for (const [type, theirs, ours] of JOIN) {
      const file = `/proc/${pid}/ns/${theirs}`;
      const id = nsId(file);
      if (id === undefined || id === nsId(`/proc/self/ns/${ours}`)) continue;
      out.push({ type, fd: fs.openSync(file, 'r') });
    }
  } catch (e) {
    for (const j of out) fs.closeSync(j.fd);
    throw e;
  }
  return out;
}

/** The plan of the hook runner: join the namespaces (fds it inherited), run the hooks. */
export function containerHooksPlan(joins: readonly JoinFd[], hooks: readonly Hook[], state: string, rootfs: string): PlanOp[] {
  const ops: PlanOp[] = [];
  for (const { type, fd } of joins) {
    ops.push({ op: Op.SETNS, ints: [NS_FLAGS[type]], strs: [`/proc/self/fd/${fd}`], what: `createContainer hooks: join the container's ${type} namespace` });
    if (type === 'user') ops.push({ op: Op.SET_ROOT_IDS, what: 'createContainer hooks: become root in the user namespace' });
  }
  if (joins.some((j) => j.type === 'pid' || j.type === 'time')) ops.push({ op: Op.FORK, what: 'createContainer hooks: fork into the pid namespace' });
  // As runc (the init chdirs to the rootfs before it runs them): relative paths of a hook are
  // in the container's rootfs, never in the runtime's working directory or the host's /.
  ops.push({ op: Op.CHDIR, flags: F_HOST, strs: [rootfs], what: `createContainer hooks: change to the rootfs ${rootfs}` });
  // Like the hooks tsrun runs itself (hooks.ts): without `env`, a hook gets tsrun's environment.
  const ownEnv = Object.entries(process.env).map(([k, v]) => `${k}=${v ?? ''}`);
  for (const h of hooks) ops.push(hookOp('createContainer', h.env ? h : { ...h, env: ownEnv }, state));
  ops.push({ op: Op.READY, what: 'createContainer hooks: done' });
  return ops;
}

/** Runs the createContainer hooks in the namespaces of the waiting init `pid`; throws on failure. */
export async function runContainerHooks(native: Native, pid: number, hooks: readonly Hook[], state: State, rlimits: readonly Rlimit[], rootfs: string): Promise<void> {
  if (!hooks.length) return;
  const joins = openNamespaces(pid);
  try {
    const plan = containerHooksPlan(joins, hooks, JSON.stringify(state), rootfs);
    const launched = await launchInit({ native, cloneFlags: 0, rlimits, keepFds: joins.map((j) => j.fd), plan });
    // READY is the last op: the runner exits right after it.
    native.waitpid(launched.pid, 0);
  } finally {
    for (const j of joins) fs.closeSync(j.fd);
  }
}
