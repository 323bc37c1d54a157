// The systemd cgroup driver's steps on a container's cgroup: the transient unit made for the init,
// its properties changed by `update`, and its removal. The files systemd has no property for are
// written by the cgroupfs code, into the unit's delegated cgroup, as runc does.
import type { DeviceCgroup, Resources } from '../../spec/types.js';
import { join } from 'node:path';
import { CgroupError, cgDir, readOptional } from '../fs.js';
import { readCpuMax } from '../v2.js';
import type { CgroupHandle } from '../paths.js';
import { detectMode, layout } from '../paths.js';
import { annotationProperties } from './gvariant.js';
import { Systemd } from './manager.js';
import { resourceProperties, unitProperties } from './properties.js';

const connections = new Map<boolean, Systemd>();

function systemdFor(h: Pick<CgroupHandle, 'userBus'>): Systemd {
  const user = h.userBus === true;
  let sd = connections.get(user);
  if (!sd) {
    sd = Systemd.connect(user);
    connections.set(user, sd);
  }
  return sd;
}

function unitOf(h: CgroupHandle): string {
  if (!h.unit) throw new CgroupError(`cgroup ${h.path}: no systemd unit recorded`);
  return h.unit;
}

export interface ScopeOptions {
  description: string;
  resources: Resources | undefined;
  /** The device rules in effect (the config's and the defaults). */
  devices: readonly DeviceCgroup[];
  annotations: Record<string, string> | undefined;
}

/** Starts the container's transient unit with `pid` in it and the resources systemd has properties for. */
export function startScope(h: CgroupHandle, pid: number, o: ScopeOptions): void {
  const sd = systemdFor(h);
  const v2 = (h.mode ?? detectMode()) === 'unified';
  const unit = unitOf(h);
  const resources = resourceProperties(o.resources, v2, sd.version(), o.devices);
  const properties = [
    ...unitProperties({ unit, slice: h.slice ?? 'system.slice', description: o.description, pid, v2 }),
    ...resources,
    ...annotationProperties(o.annotations),
  ];
  sd.startUnit(unit, properties);
}

/** `update`: the unit's properties (the caller writes the files afterwards, as runc does). */
export function updateScope(h: CgroupHandle, resources: Resources): void {
  const sd = systemdFor(h);
  sd.setProperties(unitOf(h), resourceProperties(withCurrentCpuMax(h, resources), (h.mode ?? detectMode()) === 'unified', sd.version()));
}

/** Stops the unit (systemd removes its cgroup) and resets it if it failed: nothing of it is left. */
export function stopScope(h: CgroupHandle): void {
  systemdFor(h).stopUnit(unitOf(h));
}

/** Rootless: where the user's systemd instance keeps its units' cgroups. */
export function userManagerCgroup(): string {
  return systemdFor({ userBus: true }).controlGroup();
}

/**
 * systemd's CPU quota is one property for both halves: an update of only the quota or only the
 * period keeps the other one from the cgroup (runc keeps it in its state for the same reason).
 */
function withCurrentCpuMax(h: CgroupHandle, r: Resources): Resources {
  const c = r.cpu;
  if (!c || !c.quota === !c.period) return r;
  const l = layout(h);
  let quota = -1;
  let period = 100000;
  if (l.v2) {
    const cur = readCpuMax(cgDir(l.v2.dir));
    quota = cur.quota === 'max' ? -1 : Number(cur.quota);
    period = Number(cur.period);
  } else {
    const cpu = l.v1.get('cpu');
    if (cpu) {
      quota = Number(readOptional(join(cpu.dir, 'cpu.cfs_quota_us'))?.trim() ?? -1);
      period = Number(readOptional(join(cpu.dir, 'cpu.cfs_period_us'))?.trim() ?? 100000);
    }
  }
  return { ...r, cpu: { ...c, quota: c.quota || quota, period: c.period || period } };
}
