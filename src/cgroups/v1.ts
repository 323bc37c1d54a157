// linux.resources -> cgroup v1 files, one function per controller (runc libcontainer/cgroups/fs).
import { deviceAccess } from './device-access.js';
import type { DeviceCgroup, Resources } from '../spec/types.js';
import { CgroupError, type CgDir, warn } from './fs.js';

const s = (n: number): string => String(n);

export function setCpusetV1(d: CgDir, r: Resources): void {
  if (r.cpu?.cpus) d.write('cpuset.cpus', r.cpu.cpus);
  if (r.cpu?.mems) d.write('cpuset.mems', r.cpu.mems);
}

/** A v1 cpuset cgroup starts with empty cpus/mems, which makes adding a task fail: copy the parent's. */
export function cpusetCopyIfEmpty(d: CgDir, parent: CgDir): void {
  for (const f of ['cpuset.cpus', 'cpuset.mems']) {
    if ((d.read(f) ?? '').trim() === '') d.write(f, (parent.read(f) ?? '').trim());
  }
}

/** The devices.allow/deny line of a rule; null for a rule that names none of r, w, m. */
export function deviceRuleString(rule: DeviceCgroup): string | null {
  const n = (v: number | undefined): string => (v === undefined || v < 0 ? '*' : String(v));
  const access = deviceAccess(rule.access);
  return access === null ? null : `${rule.type ?? 'a'} ${n(rule.major)}:${n(rule.minor)} ${access}`;
}

/** Deny everything first, then the rules in order (a later "a" allow switches back to allow-all). */
export function setDevicesV1(d: CgDir, r: Resources): void {
  if (!r.devices?.length) return;
  d.write('devices.deny', 'a');
  for (const rule of r.devices) {
    const line = deviceRuleString(rule);
    if (line !== null) d.write(rule.allow ? 'devices.allow' : 'devices.deny', line);
  }
}

function writeMemoryLimit(d: CgDir, limit: number): void {
  try {
    d.write('memory.limit_in_bytes', s(limit));
  } catch (e) {
    if (e instanceof CgroupError && e.code === 'EBUSY') {
      // The kernel refuses a limit below what it cannot reclaim: say how much is in use.
      const usage = (d.read('memory.usage_in_bytes') ?? '?').trim();
      const peak = (d.read('memory.max_usage_in_bytes') ?? '?').trim();
      throw new CgroupError(`${e.message.replace(/^cgroup: /, '')} (current usage: ${usage}, peak usage: ${peak})`, e.code);
    }
    throw e;
  }
}

export function setMemoryV1(d: CgDir, r: Resources): void {
  const m = r.memory;
  if (!m) return;
  const limit = m.limit ?? 0;
  let swap = m.swap ?? 0;
  // Unlimited memory with swap unset means unlimited memory+swap (when swap accounting exists).
  if (limit === -1 && swap === 0 && d.read('memory.memsw.limit_in_bytes') !== undefined) swap = -1;

  // memsw must stay >= limit at every step: raise memsw first when growing, limit first when shrinking.
  let done = false;
  if (limit !== 0 && swap !== 0) {
    const cur = Number((d.read('memory.limit_in_bytes') ?? '0').trim());
    if (swap === -1 || cur < swap) {
      d.write('memory.memsw.limit_in_bytes', s(swap));
      writeMemoryLimit(d, limit);
      done = true;
    }
  }
  if (!done) {
    if (limit !== 0) writeMemoryLimit(d, limit);
    if (swap !== 0) d.write('memory.memsw.limit_in_bytes', s(swap));
  }

  if (m.kernel !== undefined) warn('linux.resources.memory.kernel is ignored (kernel memory limits are deprecated)');
  // NOT RECOMMENDED but still a limit cgroup v1 enforces (unlike kmem.limit_in_bytes): apply it
  // where the kernel has the knob, as crun does.
  if (m.kernelTCP) {
    if (d.read('memory.kmem.tcp.limit_in_bytes') !== undefined) d.write('memory.kmem.tcp.limit_in_bytes', s(m.kernelTCP));
    else warn('linux.resources.memory.kernelTCP is ignored: this kernel has no memory.kmem.tcp.limit_in_bytes');
  }
  if (m.reservation) d.write('memory.soft_limit_in_bytes', s(m.reservation));
  if (m.disableOOMKiller) d.write('memory.oom_control', '1');
  if (m.swappiness !== undefined && m.swappiness !== -1) {
    if (m.swappiness < 0 || m.swappiness > 100) {
      throw new CgroupError(`memory.swappiness: invalid value ${m.swappiness}, valid range is 0-100`);
    }
    d.write('memory.swappiness', s(m.swappiness));
  }
}

export function setCpuRtV1(d: CgDir, r: Resources): void {
  if (r.cpu?.realtimePeriod) d.write('cpu.rt_period_us', s(r.cpu.realtimePeriod));
  if (r.cpu?.realtimeRuntime) d.write('cpu.rt_runtime_us', s(r.cpu.realtimeRuntime));
}

export function setCpuV1(d: CgDir, r: Resources): void {
  const c = r.cpu;
  if (!c) return;
  if (c.shares) {
    d.write('cpu.shares', s(c.shares));
    const got = Number((d.read('cpu.shares') ?? '').trim());
    if (c.shares > got) throw new CgroupError(`cpu.shares: the maximum allowed cpu-shares is ${got}`);
    if (c.shares < got) throw new CgroupError(`cpu.shares: the minimum allowed cpu-shares is ${got}`);
  }
  // A new period or burst may be refused (EINVAL) until the new quota is in: retry after it.
  let period = '';
  if (c.period) {
    period = s(c.period);
    try {
      d.write('cpu.cfs_period_us', period);
      period = '';
    } catch (e) {
      if (!(e instanceof CgroupError && e.code === 'EINVAL') || !c.quota) throw e;
    }
  }
  let burst = '';
  if (c.burst !== undefined) {
    burst = s(c.burst);
    try {
      d.write('cpu.cfs_burst_us', burst);
      burst = '';
    } catch (e) {
      if (!(e instanceof CgroupError && e.code === 'EINVAL') || !c.quota) throw e;
    }
  }
  if (c.quota) {
    d.write('cpu.cfs_quota_us', s(c.quota));
    if (period) d.write('cpu.cfs_period_us', period);
    if (burst) d.write('cpu.cfs_burst_us', burst);
  }
  if (c.idle !== undefined) d.write('cpu.idle', s(c.idle));
  setCpuRtV1(d, r);
}

/** pids.limit (runtime-spec 1.3): > 0 and 0 are literal limits, negative means "max". */
export function pidsMaxValue(limit: number): string {
  return limit < 0 ? 'max' : s(limit);
}

export function setPids(d: CgDir, r: Resources): void {
  if (r.pids?.limit !== undefined) d.write('pids.max', pidsMaxValue(r.pids.limit));
}

export function setBlkioV1(d: CgDir, r: Resources): void {
  const b = r.blockIO;
  if (!b) return;
  // CFQ's knobs, or BFQ's when CFQ's are absent (newer kernels).
  const cfq = d.read('blkio.weight') !== undefined;
  const weightFile = cfq ? 'blkio.weight' : 'blkio.bfq.weight';
  const weightDeviceFile = cfq ? 'blkio.weight_device' : 'blkio.bfq.weight_device';
  if (b.weight) d.write(weightFile, s(b.weight));
  if (b.leafWeight) d.write('blkio.leaf_weight', s(b.leafWeight));
  for (const wd of b.weightDevice ?? []) {
    if (wd.weight) d.write(weightDeviceFile, `${wd.major}:${wd.minor} ${wd.weight}`);
    if (wd.leafWeight) d.write('blkio.leaf_weight_device', `${wd.major}:${wd.minor} ${wd.leafWeight}`);
  }
  const throttles: Array<[string, typeof b.throttleReadBpsDevice]> = [
    ['blkio.throttle.read_bps_device', b.throttleReadBpsDevice],
    ['blkio.throttle.write_bps_device', b.throttleWriteBpsDevice],
    ['blkio.throttle.read_iops_device', b.throttleReadIOPSDevice],
    ['blkio.throttle.write_iops_device', b.throttleWriteIOPSDevice],
  ];
  for (const [file, list] of throttles) {
    for (const td of list ?? []) d.write(file, `${td.major}:${td.minor} ${td.rate}`);
  }
}

export function setHugetlbV1(d: CgDir, r: Resources): void {
  let rsvd = true;
  for (const h of r.hugepageLimits ?? []) {
    const prefix = `hugetlb.${h.pageSize}`;
    d.write(`${prefix}.limit_in_bytes`, s(h.limit));
    if (!rsvd) continue;
    try {
      d.write(`${prefix}.rsvd.limit_in_bytes`, s(h.limit));
    } catch (e) {
      if (e instanceof CgroupError && e.code === 'ENOENT') rsvd = false; // kernel without reservation accounting
      else throw e;
    }
  }
}

export function setNetClsV1(d: CgDir, r: Resources): void {
  if (r.network?.classID) d.write('net_cls.classid', s(r.network.classID));
}

export function setNetPrioV1(d: CgDir, r: Resources): void {
  for (const p of r.network?.priorities ?? []) d.write('net_prio.ifpriomap', `${p.name} ${p.priority}`);
}

/** rdma.max has the same format on v1 and v2. */
export function setRdma(d: CgDir, r: Resources): void {
  for (const [device, l] of Object.entries(r.rdma ?? {})) {
    let cmd = device;
    if (l.hcaHandles !== undefined) cmd += ` hca_handle=${l.hcaHandles}`;
    if (l.hcaObjects !== undefined) cmd += ` hca_object=${l.hcaObjects}`;
    d.write('rdma.max', cmd);
  }
}
