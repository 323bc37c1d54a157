// Where a container's cgroup is and, with the systemd driver, how the init enters it: shared by
// create and restore.
import type { Ctx } from '../cli/context.js';
import { addProcess, createCgroup, resolveCgroup, startScope, userManagerCgroup, type CgroupHandle } from '../cgroups/index.js';
import { effectiveDeviceRules } from '../linux/device-rules.js';
import type { Resources, Spec } from '../spec/types.js';
import { rootlessCgroups } from './rootless.js';

/** runc's rules for where the cgroup is; systemd driver, rootless: inside the user's systemd instance. */
export function resolveContainerCgroup(ctx: Ctx, spec: Spec, id: string): CgroupHandle {
  if (!ctx.systemdCgroup) return resolveCgroup(spec.linux?.cgroupsPath, id, { systemd: false });
  // The cgroupsPath form was judged with the bundle (spec/systemd-cgroup.ts), before any bus is asked.
  const rootless = rootlessCgroups(ctx.rootless);
  return resolveCgroup(spec.linux?.cgroupsPath, id, { systemd: true, rootless, managerCgroup: rootless ? userManagerCgroup() : undefined });
}

/**
 * systemd driver: the transient unit with the init in it and the properties for the resources;
 * then the hierarchies systemd does not manage (v1) are joined, and the memory limit written, as
 * placeCgroup does for cgroupfs.
 */
export function enterSystemdScope(id: string, cgroup: CgroupHandle, pid: number, spec: Spec): void {
  startScope(cgroup, pid, {
    description: `tsrun container ${id}`,
    resources: spec.linux?.resources,
    devices: effectiveDeviceRules(spec),
    annotations: spec.annotations,
  });
  createCgroup(cgroup, memoryBound(spec.linux?.resources));
  addProcess(cgroup, pid);
}


/**
 * The memory limit (and memory+swap) goes on the cgroup before the init enters it. Set after
 * the rootfs is built, as runc does, it meets what the kernel has charged meanwhile in per-CPU
 * batches of 256 KiB: v1 refuses a limit below that with EBUSY, v2 reclaims and may OOM-kill
 * the init, although the container needs far less. The OOM killer switch waits with the rest
 * (disabled on a limit the init outgrows, create would hang instead of failing).
 */
export function memoryBound(r: Resources | undefined): Resources | undefined {
  const m = r?.memory;
  if (!m || (!m.limit && !m.swap)) return undefined;
  return { memory: { limit: m.limit, swap: m.swap } };
}
