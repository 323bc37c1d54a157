// Namespaces: which ones clone() creates, which ones tsrun-init joins or unshares, and whether
// it has to fork so that the process lands in a new or joined pid namespace.
import type { IDMapping, Namespace, NamespaceType } from '../spec/types.js';
import type { PlanOp } from '../native/plan.js';
import { F_HOST, Op } from '../native/ops.js';
import { CLONE, NS_FLAGS } from './constants.js';

export interface NamespacePlan {
  /** Flags for clone(): the namespaces created together with the process. */
  cloneFlags: number;
  ops: PlanOp[];
  /** The parent must write uid/gid maps at SYNC 'U'. */
  userMaps: 'none' | 'atSync';
  /** tsrun-init forks: the container's pid arrives in a `P` message. */
  forks: boolean;
  newTypes: Set<NamespaceType>;
}

// Join order: the user namespace first (it grants the rights to join the others), mount last.
const JOIN_ORDER: NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];

export function planNamespaces(namespaces: readonly Namespace[], opts: { timeOffsets?: string }): NamespacePlan {
  const joins = JOIN_ORDER.flatMap((type) => namespaces.filter((n) => n.type === type && n.path));
  const newTypes = new Set(namespaces.filter((n) => !n.path).map((n) => n.type));
  const ops: PlanOp[] = [];
  let cloneFlags = 0;
  let userMaps: NamespacePlan['userMaps'] = 'none';
  let forks = false;
  // The cgroup namespace is always unshared by tsrun-init, after the parent placed it in its
  // cgroup; the time namespace too, so that its offsets are written before anything enters it.
  const lateFlags = (newTypes.has('cgroup') ? CLONE.NEWCGROUP : 0) | (newTypes.has('time') ? CLONE.NEWTIME : 0);
  let earlyFlags = 0;
  for (const t of newTypes) if (t !== 'cgroup' && t !== 'time') earlyFlags |= NS_FLAGS[t];

  // A new user namespace is always unshared by tsrun-init, never created by clone(): a process
  // that execs before its maps exist gets no capabilities in the namespace (its uid 0 does not
  // map yet), so tsrun-init must already run when the namespace is created.
  if (joins.length === 0 && !newTypes.has('user')) {
    cloneFlags = earlyFlags;
  } else {
    // Joins first (as host root), then the new namespaces, owned by the new (or joined) user
    // namespace; a new or joined pid namespace needs a fork to take effect.
    for (const n of joins) {
      ops.push({ op: Op.SETNS, ints: [NS_FLAGS[n.type]], strs: [n.path!], what: `join ${n.type} namespace ${n.path}` });
    }
    if (earlyFlags) ops.push({ op: Op.UNSHARE, ints: [earlyFlags], what: 'create namespaces' });
    if (newTypes.has('user')) {
      userMaps = 'atSync';
      ops.push({ op: Op.SYNC, ints: ['U'.charCodeAt(0)], what: 'write uid/gid maps' });
    }
    if (newTypes.has('user') || joins.some((n) => n.type === 'user')) {
      ops.push({ op: Op.SET_ROOT_IDS, what: 'become root in the user namespace' });
    }
    forks = newTypes.has('pid') || joins.some((n) => n.type === 'pid');
  }
  if (lateFlags) {
    ops.push({ op: Op.UNSHARE, ints: [lateFlags], what: 'create cgroup/time namespaces' });
  }
  if (lateFlags & CLONE.NEWTIME && opts.timeOffsets) {
    const what = 'write time namespace offsets';
    ops.push({ op: Op.WRITE_FILE, flags: F_HOST, strs: ['/proc/self/timens_offsets', opts.timeOffsets], what });
  }
  if (forks) ops.push({ op: Op.FORK, what: 'fork into the pid namespace' });
  return { cloneFlags, ops, userMaps, forks, newTypes };
}

export function formatIdMap(maps: readonly IDMapping[] | undefined): string {
  return (maps ?? []).map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** Time namespace offsets in /proc/<pid>/timens_offsets syntax. */
export function formatTimeOffsets(offsets: Record<string, { secs?: number; nanosecs?: number }>): string {
  return Object.entries(offsets)
    .map(([clock, o]) => `${clock} ${o.secs ?? 0} ${o.nanosecs ?? 0}\n`)
    .join('');
}
