// The launch plan of `tsrun exec`: join every namespace of a running container, fork into its
// pid namespace, then the same process set-up as the container's own process.
import type { NamespaceType, Process } from '../spec/types.js';
import type { PlanOp } from '../native/plan.js';
import { Op } from '../native/ops.js';
import { NS_FLAGS, NS_NAMES } from './constants.js';
import { planProcess, type ProcessContext } from './process-plan.js';
import type { HostFacts } from './host-facts.js';

export interface ExecPlanInput {
  /** What the plan needs to know of the host: realHost(), or a test double. */
  host: HostFacts;
  /** Host pid of the container's init. */
  pid: number;
  process: Process;
  consoleFd?: number;
  firstClosedFd: number;
  seccomp?: ProcessContext['seccomp'];
}

// The user namespace first: it grants the rights to join the others; mount last.
const ORDER: NamespaceType[] = ['user', 'ipc', 'uts', 'network', 'pid', 'cgroup', 'time', 'mount'];


export function buildExecPlan(i: ExecPlanInput): PlanOp[] {
  const ops: PlanOp[] = [{ op: Op.DUMPABLE, ints: [0], what: 'make the exec helper non-dumpable' }];
  let joinsUser = false;
  let sharesMountNs = false;
  for (const type of ORDER) {
    const name = NS_NAMES[type];
    const target = `/proc/${i.pid}/ns/${name}`;
    const theirs = i.host.readlink(target);
    if (theirs === undefined) throw new Error(`container init ${i.pid} is gone (no ${target})`);
    if (theirs === i.host.readlink(`/proc/self/ns/${name}`)) {
      // shared with the host
      if (type === 'mount') sharesMountNs = true;
      continue;
    }
    if (type === 'user') joinsUser = true;
    ops.push({ op: Op.SETNS, ints: [NS_FLAGS[type]], strs: [target], what: `join the container's ${type} namespace` });
  }
  if (joinsUser) ops.push({ op: Op.SET_ROOT_IDS, what: 'become root in the user namespace' });
  if (sharesMountNs) {
    // The container runs in tsrun's mount namespace, chrooted to its rootfs: setns cannot put
    // the process there, so chroot to the init's root (runc leaves it at the host's /).
    const root = `/proc/${i.pid}/root`;
    ops.push({ op: Op.ROOTFS, strs: [root], what: `open the container's root ${root}` });
    ops.push({ op: Op.MOVE_ROOT, ints: [1], what: `chroot to the container's root ${root}` });
  }
  ops.push({ op: Op.FORK, what: "fork into the container's pid namespace" });
  ops.push(
    ...planProcess(i.process, {
      consoleFd: i.consoleFd,
      seccomp: i.seccomp,
      firstClosedFd: i.firstClosedFd,
      beforeExec: [{ op: Op.READY, what: 'report ready' }],
      lsm: i.host.lsm,
    }),
  );
  return ops;
}
