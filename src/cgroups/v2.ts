// linux.resources -> cgroup v2 files (runc libcontainer/cgroups/fs2 and its conversions).
import type { Resources } from '../spec/types.js';
import { CgroupError, type CgDir, warn } from './fs.js';
import { pidsMaxValue } from './v1.js';

/** v2 ".max/.low" value: -1 is "max", 0 is unset (""). */
function numToStr(v: number): string {
  if (v === 0) return '';
  if (v === -1) return 'max';
  return String(v);
}

/** OCI swap is memory+swap; cgroup v2 memory.swap.max is swap alone (runc ConvertMemorySwapToCgroupV2Value). */
export function convertMemorySwapToV2(memorySwap: number, memory: number): number {
  if (memory === -1 && memorySwap === 0) return -1;
  if (memorySwap === -1 || memorySwap === 0) return memorySwap;
  if (memory === -1) return memorySwap;
  if (memory === 0) throw new CgroupError('memory.swap: unable to set swap limit without memory limit');
  if (memory < 0) throw new CgroupError(`memory.limit: invalid memory value: ${memory}`);
  if (memorySwap < memory) throw new CgroupError('memory.swap: memory+swap limit should be >= memory limit');
  return memorySwap - memory;
}

/**
 * cpu.shares [2..262144] -> cpu.weight [1..10000], linearly, as runc 1.1 (the reference runc here,
 * and what runc's integration suite v1.1.15 checks: 100 shares are weight 4, 1024 are 39).
 * runc >= 1.3.2 and crun map 1024 onto 100 instead (a quadratic in log2); see docs/runc-behaviour.md.
 */
export function convertCPUSharesToV2(shares: number): number {
  if (shares === 0) return 0;
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio weight [10..1000] -> io.weight [1..10000] (runc ConvertBlkIOToIOWeightValue). */
export function convertBlkIOToIOWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

export function setMemoryV2(d: CgDir, r: Resources): void {
  const m = r.memory;
  if (!m) return;
  const limit = m.limit ?? 0;
  const swapReq = m.swap ?? 0;
  if (m.kernel !== undefined || m.kernelTCP !== undefined) warn('linux.resources.memory.kernel and kernelTCP are ignored (kernel memory limits are deprecated)');
  if (m.swappiness !== undefined && m.swappiness !== -1) warn('linux.resources.memory.swappiness is ignored on cgroup v2');
  if (m.disableOOMKiller) warn('linux.resources.memory.disableOOMKiller is ignored on cgroup v2');
  if (limit === 0 && swapReq === 0 && !m.reservation) return;

  if (m.checkBeforeUpdate && (limit > 0 || swapReq > 0)) {
    const usage = Number((d.read('memory.current') ?? '').trim());
    if (Number.isFinite(usage) && d.read('memory.current') !== undefined) {
      if (swapReq > 0 && swapReq <= usage) throw new CgroupError(`memory: rejecting memory+swap limit ${swapReq} <= usage ${usage}`);
      if (limit > 0 && limit <= usage) throw new CgroupError(`memory: rejecting memory limit ${limit} <= usage ${usage}`);
    }
  }

  const swap = convertMemorySwapToV2(swapReq, limit);
  let swapStr = numToStr(swap);
  if (swapStr === '' && swap === 0 && swapReq > 0) swapStr = '0'; // memory == memory+swap: no swap
  if (swapStr !== '') {
    try {
      d.write('memory.swap.max', swapStr);
    } catch (e) {
      // No swap accounting: "no limit" and "no swap" are what the host gives anyway.
      if (!(e instanceof CgroupError && e.code === 'ENOENT' && (swapStr === 'max' || swapStr === '0'))) throw e;
    }
  }
  const max = numToStr(limit);
  if (max !== '') d.write('memory.max', max);
  const low = numToStr(m.reservation ?? 0);
  if (low !== '') d.write('memory.low', low);
}

/** cpu.max as it is: the quota ("max" or microseconds) and the period ("100000" when unreadable). */
export function readCpuMax(d: CgDir): { quota: string; period: string } {
  const [quota = 'max', period = '100000'] = (d.read('cpu.max') ?? 'max 100000').trim().split(/\s+/);
  return { quota, period };
}

export function setCpuV2(d: CgDir, r: Resources): void {
  const c = r.cpu;
  if (!c) return;
  if (c.realtimePeriod || c.realtimeRuntime) {
    throw new CgroupError('cpu.realtimePeriod/realtimeRuntime: real-time group scheduling is not supported on cgroup v2');
  }
  if (c.idle !== undefined) d.write('cpu.idle', String(c.idle));
  const weight = convertCPUSharesToV2(c.shares ?? 0);
  if (weight !== 0) d.write('cpu.weight', String(weight));

  let burst = '';
  if (c.burst !== undefined) {
    burst = String(c.burst);
    try {
      d.write('cpu.max.burst', burst);
      burst = '';
    } catch (e) {
      // Refused until the new quota is in: retry after cpu.max.
      if (!(e instanceof CgroupError && e.code === 'EINVAL') || !c.quota) throw e;
    }
  }
  if (c.quota || c.period) {
    // cpu.max holds both: keep the current value of the one not given (runc update relies on its config for that).
    const { quota: curQuota, period: curPeriod } = readCpuMax(d);
    let quota: string;
    if (c.quota) quota = c.quota > 0 ? String(c.quota) : 'max';
    else quota = curQuota ?? 'max';
    const period = c.period ? String(c.period) : curPeriod || '100000';
    d.write('cpu.max', `${quota} ${period}`);
    if (burst) d.write('cpu.max.burst', burst);
  }
}

export function setCpusetV2(d: CgDir, r: Resources): void {
  if (r.cpu?.cpus) d.write('cpuset.cpus', r.cpu.cpus);
  if (r.cpu?.mems) d.write('cpuset.mems', r.cpu.mems);
}

export function setPidsV2(d: CgDir, r: Resources): void {
  if (r.pids?.limit !== undefined) d.write('pids.max', pidsMaxValue(r.pids.limit));
}

export function setIoV2(d: CgDir, r: Resources): void {
  const b = r.blockIO;
  if (!b) return;
  const bfq = d.read('io.bfq.weight') !== undefined;
  if (b.weight) {
    if (bfq) d.write('io.bfq.weight', String(b.weight));
    else d.write('io.weight', String(convertBlkIOToIOWeight(b.weight)));
  }
  if (b.leafWeight) warn('linux.resources.blockIO.leafWeight is ignored on cgroup v2');
  for (const wd of b.weightDevice ?? []) {
    if (!wd.weight) continue;
    // Only BFQ has per-device weights; io.weight takes "major:minor weight" too (iocost).
    d.write(bfq ? 'io.bfq.weight' : 'io.weight', `${wd.major}:${wd.minor} ${bfq ? wd.weight : convertBlkIOToIOWeight(wd.weight)}`);
  }
  const throttles: Array<[string, typeof b.throttleReadBpsDevice]> = [
    ['rbps', b.throttleReadBpsDevice],
    ['wbps', b.throttleWriteBpsDevice],
    ['riops', b.throttleReadIOPSDevice],
    ['wiops', b.throttleWriteIOPSDevice],
  ];
  for (const [key, list] of throttles) {
    // v1 uses 0 to remove a limit; io.max spells that "max" (0 is refused).
    for (const td of list ?? []) d.write('io.max', `${td.major}:${td.minor} ${key}=${td.rate === 0 ? 'max' : td.rate}`);
  }
}

export function setHugetlbV2(d: CgDir, r: Resources): void {
  let rsvd = true;
  for (const h of r.hugepageLimits ?? []) {
    const prefix = `hugetlb.${h.pageSize}`;
    d.write(`${prefix}.max`, String(h.limit));
    if (!rsvd) continue;
    try {
      d.write(`${prefix}.rsvd.max`, String(h.limit));
    } catch (e) {
      if (e instanceof CgroupError && e.code === 'ENOENT') rsvd = false;
      else throw e;
    }
  }
}

/** linux.resources.unified: written verbatim; the file must exist. */
export function setUnified(d: CgDir, r: Resources): void {
  for (const [key, value] of Object.entries(r.unified ?? {})) {
    if (key.includes('/') || key === '.' || key === '..') throw new CgroupError(`unified resource ${JSON.stringify(key)} must be a file name (no slashes)`);
    try {
      d.write(key, value);
    } catch (e) {
      if (e instanceof CgroupError && e.code === 'ENOENT') {
        throw new CgroupError(`unified resource ${key}: no such cgroup file (${d.path}/${key})`, 'ENOENT');
      }
      throw e;
    }
  }
}
