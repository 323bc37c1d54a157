// config.json -> the launch plan of a new container (see ffi/PLAN.md), in runc's init order.
// The config has been judged (src/spec/judge.ts): the builders do not check it again.
import type { Hook, Mount, Spec } from '../spec/types.js';
import { mountLabelProblem } from '../spec/lsm-labels.js';
import type { PlanOp } from '../native/plan.js';
import { Op } from '../native/ops.js';
import { formatTimeOffsets, planNamespaces } from './namespaces-plan.js';
import { planBindTrees, planMaskedReadonly, planRootfs, planRootfsFinal } from './rootfs-plan.js';
import { consoleOp, planProcess, type ProcessContext } from './process-plan.js';
import type { HostCgroupMount } from '../cgroups/mounts.js';
import type { HostFacts } from './host-facts.js';
import { planMemoryPolicy } from './memory-policy.js';

export interface CreatePlanInput {
  spec: Spec;
  rootfs: string;
  bundle: string;
  noPivot: boolean;
  /** The host directory of the container's cgroup in a hierarchy (for cgroup bind mounts). */
  cgroupDir: (h: HostCgroupMount) => string | undefined;
  /** fd of the user namespace of an idmapped mount. */
  idmapFd?: (m: Mount) => number | undefined;
  consoleFd?: number;
  /** fd of the exec fifo in tsrun-init (an O_PATH fd: WAIT_START opens it for writing). */
  fifoFd: number;
  /** 3 + preserved fds: everything from here on is closed at exec. */
  firstClosedFd: number;
  seccomp?: ProcessContext['seccomp'];
  /** State JSON for startContainer hooks. */
  startState: string;
  /** What the plan needs to know of the host: realHost(), or a test double. */
  host: HostFacts;
  /** tsrun itself runs in a user namespace (rootless podman): mknod is refused there too. */
  inUserns?: boolean;
}

export interface CreatePlan {
  cloneFlags: number;
  ops: PlanOp[];
  userMaps: 'none' | 'atSync';
  forks: boolean;
  /** tsrun-init stops at SYNC 'H' for prestart/createRuntime/createContainer hooks. */
  syncsHooks: boolean;
}

export function hookOp(kind: string, h: Hook, stdin: string): PlanOp {
  const args = h.args && h.args.length ? h.args : [h.path];
  const env = h.env ?? [];
  return {
    op: Op.HOOK,
    ints: [h.timeout ?? 0, args.length, env.length],
    strs: [h.path, stdin, ...args, ...env],
    what: `${kind} hook ${h.path}`,
  };
}

export function buildCreatePlan(i: CreatePlanInput): CreatePlan {
  const { spec } = i;
  const linux = spec.linux ?? {};
  const process = spec.process!;
  const namespaces = linux.namespaces ?? [];
  // The one assertion left: a label write that no LSM of the host takes (judged in src/spec).
  const labelProblem = mountLabelProblem(linux.mountLabel, i.host.lsm);
  if (labelProblem) throw new Error(labelProblem);
  const ns = planNamespaces(namespaces, {
    timeOffsets: linux.timeOffsets ? formatTimeOffsets(linux.timeOffsets) : undefined,
  });
  const hooks = spec.hooks ?? {};
  const syncsHooks = Boolean(hooks.prestart?.length || hooks.createRuntime?.length || hooks.createContainer?.length);
  // Non-dumpable once the namespaces exist: an unprivileged parent must still be able to write
  // the id maps of a dumpable init (/proc/<pid>/uid_map is owned by root otherwise).
  // a new user and mount namespace: the bind sources are cloned first, with the host's credentials
  // (as the host's root only: an unprivileged caller may not clone mounts of the host's namespace)
  const trees = ns.newTypes.has('user') && ns.newTypes.has('mount') && i.host.hostRoot ? planBindTrees(spec, i.bundle, i.host) : undefined;
  const ops: PlanOp[] = [...(trees?.ops ?? []), ...ns.ops, { op: Op.DUMPABLE, ints: [0], what: 'make the init non-dumpable' }];
  const hooksSync: PlanOp[] = syncsHooks ? [{ op: Op.SYNC, ints: ['H'.charCodeAt(0)], what: 'run createRuntime hooks' }] : [];
  ops.push(
    ...planRootfs(spec, {
      host: i.host,
      rootfs: i.rootfs,
      bundle: i.bundle,
      noPivot: i.noPivot,
      callerMountNs: !namespaces.some((n) => n.type === 'mount'),
      userns: i.inUserns === true || ns.newTypes.has('user') || namespaces.some((n) => n.type === 'user'),
      cgroupns: ns.newTypes.has('cgroup'),
      cgroupDir: i.cgroupDir,
      idmapFd: i.idmapFd,
      mountLabel: linux.mountLabel,
      treeSlot: trees && ((m) => trees.slotOf.get(m)),
    }, hooksSync),
  );
  // the console before /dev and the root turn read-only (runc: setupConsole, then finalizeRootfs)
  if (i.consoleFd !== undefined) ops.push(consoleOp(process, i.consoleFd, true));
  ops.push(...planRootfsFinal(spec));
  if (spec.hostname !== undefined) ops.push({ op: Op.HOSTNAME, strs: [spec.hostname], what: `set hostname "${spec.hostname}"` });
  if (spec.domainname !== undefined) ops.push({ op: Op.DOMAINNAME, strs: [spec.domainname], what: `set domainname "${spec.domainname}"` });
  for (const [key, value] of Object.entries(linux.sysctl ?? {})) {
    // PROC_WRITE: only ever into the container's procfs, whatever the rootfs made of /proc
    const file = 'sys/' + key.replace(/\./g, '/');
    ops.push({ op: Op.PROC_WRITE, strs: [file, value], what: `write sysctl ${key}=${value}` });
  }
  ops.push(...planMaskedReadonly(spec));
  if (linux.personality) ops.push({ op: Op.PERSONALITY, ints: [PERSONALITY_DOMAIN[linux.personality.domain]!], what: `set personality ${linux.personality.domain}` });
  ops.push(...planMemoryPolicy(linux.memoryPolicy));
  const beforeExec: PlanOp[] = [
    { op: Op.READY, what: 'report ready' },
    { op: Op.WAIT_START, ints: [i.fifoFd], what: 'wait for start' },
    ...(hooks.startContainer ?? []).map((h) => hookOp('startContainer', h, i.startState)),
  ];
  ops.push(...planProcess(process, { consoleDone: i.consoleFd !== undefined, seccomp: i.seccomp, firstClosedFd: i.firstClosedFd, beforeExec, lsm: i.host.lsm }));
  return { cloneFlags: ns.cloneFlags, ops, userMaps: ns.userMaps, forks: ns.forks, syncsHooks };
}

/** The schema allows these two domains only. */
const PERSONALITY_DOMAIN: Record<string, number> = { LINUX: 0x0000, LINUX32: 0x0008 };
