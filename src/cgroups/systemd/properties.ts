// linux.resources -> systemd unit properties, as runc's systemd driver maps them
// (opencontainers/cgroups systemd/v1.go, v2.go, devices/systemd.go). What has no property is
// written into the unit's delegated cgroup afterwards, as with the cgroupfs driver.
import type { DeviceCgroup, Resources } from '../../spec/types.js';
import { effectiveRules, type DeviceMatch } from '../devices-ebpf.js';
import { CgroupError } from '../fs.js';
import type { Variant } from '../../native/sd-bus.js';
import { convertBlkIOToIOWeight, convertCPUSharesToV2, convertMemorySwapToV2 } from '../v2.js';


export interface UnitProperty extends Variant {
  name: string;
}

const prop = (name: string, sig: string, value: unknown): UnitProperty => ({ name, sig, value });
const U64_MAX = 2n ** 64n - 1n;
/** systemd's default cpu.cfs_period (runc's defCPUQuotaPeriod). */
const DEFAULT_CPU_PERIOD = 100000;

/** systemd versions that added a property runc uses. */
const V_CPUSET = 244;
const V_CPU_QUOTA_PERIOD = 242;
const V_CPU_IDLE = 252;
const V_DEVICE_MAJOR_GLOB = 240;

export interface ScopeSpec {
  /** Unit name: "prefix-name.scope", or a ".slice". */
  unit: string;
  slice: string;
  /** What `systemctl status` shows. */
  description: string;
  /** The process the scope starts with. */
  pid: number;
  v2: boolean;
}

/** The properties every transient unit of a container gets (runc's Apply). */
export function unitProperties(s: ScopeSpec): UnitProperty[] {
  const props = [prop('Description', 's', s.description)];
  if (s.unit.endsWith('.slice')) props.push(prop('Wants', 'as', [s.slice]));
  else props.push(prop('Slice', 's', s.slice), prop('Delegate', 'b', true));
  if (s.pid > 0) props.push(prop('PIDs', 'au', [s.pid]));
  props.push(
    prop('MemoryAccounting', 'b', true),
    prop('CPUAccounting', 'b', true),
    prop(s.v2 ? 'IOAccounting' : 'BlockIOAccounting', 'b', true),
    prop('TasksAccounting', 'b', true),
    prop('DefaultDependencies', 'b', false),
  );
  return props;
}

/** runc's genV1ResourcesProperties / genV2ResourcesProperties, for systemd `version`. */
export function resourceProperties(r: Resources | undefined, v2: boolean, version: number, devices?: readonly DeviceCgroup[]): UnitProperty[] {
  const props: UnitProperty[] = [];
  const res: Resources = r ?? {};
  if (devices) props.push(...deviceProperties(devices, version));
  const mem = res.memory ?? {};
  const cpu = res.cpu ?? {};
  if (v2) {
    if (mem.limit !== undefined && mem.limit !== 0) props.push(prop('MemoryMax', 't', u64(mem.limit)));
    if (mem.reservation !== undefined && mem.reservation !== 0) props.push(prop('MemoryLow', 't', u64(mem.reservation)));
    const swap = convertMemorySwapToV2(mem.swap ?? 0, mem.limit ?? 0);
    if (swap !== 0) props.push(prop('MemorySwapMax', 't', u64(swap)));
    const idle = cpu.idle === 1 && version >= V_CPU_IDLE;
    if (idle) props.push(prop('CPUWeight', 't', 0n));
    else if (cpu.shares) props.push(prop('CPUWeight', 't', BigInt(convertCPUSharesToV2(cpu.shares))));
    if (res.blockIO?.weight) props.push(prop('IOWeight', 't', BigInt(convertBlkIOToIOWeight(res.blockIO.weight))));
  } else {
    if (mem.limit !== undefined && mem.limit !== 0) props.push(prop('MemoryLimit', 't', u64(mem.limit)));
    if (cpu.shares) props.push(prop('CPUShares', 't', BigInt(cpu.shares)));
    if (res.blockIO?.weight) props.push(prop('BlockIOWeight', 't', BigInt(res.blockIO.weight)));
  }
  props.push(...cpuQuotaProperties(cpu.quota ?? 0, cpu.period ?? 0, version));
  if (res.pids?.limit !== undefined) props.push(prop('TasksMax', 't', tasksMax(res.pids.limit)));
  if (version >= V_CPUSET) {
    if (cpu.cpus) props.push(prop('AllowedCPUs', 'ay', rangeToBits(cpu.cpus, 'linux.resources.cpu.cpus')));
    if (cpu.mems) props.push(prop('AllowedMemoryNodes', 'ay', rangeToBits(cpu.mems, 'linux.resources.cpu.mems')));
  }
  if (v2 && res.unified) props.push(...unifiedProperties(res.unified, version));
  return dedupe(props);
}

/** Later properties of the same name win in systemd too; sending one keeps `systemctl show` tidy. */
function dedupe(props: UnitProperty[]): UnitProperty[] {
  const last = new Map<string, number>();
  props.forEach((p, i) => {
    if (p.name !== 'DeviceAllow') last.set(p.name, i);
  });
  return props.filter((p, i) => p.name === 'DeviceAllow' || last.get(p.name) === i);
}

function u64(n: number): bigint {
  return n < 0 ? U64_MAX : BigInt(n);
}

/** systemd refuses TasksMax=0; a negative limit is infinity (runc). */
function tasksMax(limit: number): bigint {
  if (limit < 0) return U64_MAX;
  return limit === 0 ? 1n : BigInt(limit);
}

/**
 * runc's addCPUQuota: CPUQuotaPerSecUSec rounded up to systemd's 1% steps. As runc 1.1 (and its
 * suite), the cgroup's own cpu.max keeps the quota asked for.
 */
function cpuQuotaProperties(quota: number, period: number, version: number): UnitProperty[] {
  const props: UnitProperty[] = [];
  if (period !== 0 && version >= V_CPU_QUOTA_PERIOD) props.push(prop('CPUQuotaPeriodUSec', 't', BigInt(period)));
  if (quota === 0 && period === 0) return props;
  let perSec = U64_MAX;
  if (quota > 0) {
    let usec = Math.floor((quota * 1000000) / (period || DEFAULT_CPU_PERIOD));
    if (usec % 10000 !== 0) usec = (Math.floor(usec / 10000) + 1) * 10000;
    perSec = BigInt(usec);
  }
  props.push(prop('CPUQuotaPerSecUSec', 't', perSec));
  return props;
}

/** runc's RangeToBits: "0-2,5" -> the bitmask systemd's AllowedCPUs takes, lowest byte first. */
export function rangeToBits(list: string, field: string): Uint8Array {
  const bits: number[] = [];
  for (const raw of list.split(',')) {
    const r = raw.trim();
    if (r === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(r);
    if (!m) throw new CgroupError(`${field}=${JSON.stringify(list)}: invalid range ${JSON.stringify(r)}`);
    const start = Number(m[1]);
    const end = m[2] === undefined ? start : Number(m[2]);
    if (start > end) throw new CgroupError(`${field}=${JSON.stringify(list)}: invalid range ${JSON.stringify(r)}`);
    if (end > 1 << 16) throw new CgroupError(`${field}=${JSON.stringify(list)}: ${end} is out of range`);
    for (let i = start; i <= end; i++) bits.push(i);
  }
  if (bits.length === 0) throw new CgroupError(`${field}=${JSON.stringify(list)}: empty value`);
  const out = new Uint8Array(Math.floor(Math.max(...bits) / 8) + 1);
  for (const b of bits) out[b >> 3]! |= 1 << (b & 7);
  return out;
}

/** runc's unifiedResToSystemdProps: the linux.resources.unified keys systemd has a property for. */
function unifiedProperties(unified: Record<string, string>, version: number): UnitProperty[] {
  const props: UnitProperty[] = [];
  const field = (k: string) => `linux.resources.unified[${JSON.stringify(k)}]`;
  const num = (k: string, v: string): bigint => {
    if (v === 'max') return U64_MAX;
    if (!/^\d+$/.test(v)) throw new CgroupError(`${field(k)}: invalid value ${JSON.stringify(v)}`);
    return BigInt(v);
  };
  const idle = (unified['cpu.idle'] ?? '').trim() === '1' && version >= V_CPU_IDLE;
  for (const [k, raw] of Object.entries(unified)) {
    const v = raw.trim();
    switch (k) {
      case 'cpu.idle':
        if (idle) props.push(prop('CPUWeight', 't', 0n));
        break;
      case 'cpu.max': {
        const f = v.split(/\s+/);
        if (f.length < 1 || f.length > 2) throw new CgroupError(`${field(k)}: invalid value ${JSON.stringify(v)}`);
        const quota = f[0] === 'max' ? 0 : Number(num(k, f[0]!));
        const period = f.length === 2 ? Number(num(k, f[1]!)) : DEFAULT_CPU_PERIOD;
        props.push(...cpuQuotaProperties(quota, period, version));
        break;
      }
      case 'cpu.weight':
        if (!idle) props.push(prop('CPUWeight', 't', num(k, v)));
        break;
      case 'cpuset.cpus':
      case 'cpuset.mems':
        if (version >= V_CPUSET) props.push(prop(k === 'cpuset.cpus' ? 'AllowedCPUs' : 'AllowedMemoryNodes', 'ay', rangeToBits(v, field(k))));
        break;
      case 'memory.high':
      case 'memory.low':
      case 'memory.min':
      case 'memory.max':
      case 'memory.swap.max': {
        const name = { 'memory.high': 'MemoryHigh', 'memory.low': 'MemoryLow', 'memory.min': 'MemoryMin', 'memory.max': 'MemoryMax', 'memory.swap.max': 'MemorySwapMax' }[k];
        props.push(prop(name, 't', num(k, v)));
        break;
      }
      case 'pids.max': {
        const n = num(k, v);
        props.push(prop('TasksMax', 't', n === 0n ? 1n : n));
        break;
      }
      default:
      // written into the cgroup's files only
    }
  }
  return props;
}

/**
 * DevicePolicy/DeviceAllow. systemd's device program and tsrun's own filter (written afterwards,
 * exact) must both allow an access, so systemd is given an allow list that is never stricter than
 * the rules: every allow rule (a wildcard it cannot express widens to the whole type), and no
 * policy at all where the rules allow by default (a deny list, which systemd cannot express).
 */
export function deviceProperties(rules: readonly DeviceCgroup[], version: number): UnitProperty[] {
  const { rules: live, defaultAllow } = effectiveRules(rules);
  if (defaultAllow) return [prop('DevicePolicy', 's', 'auto'), prop('DeviceAllow', 'a(ss)', [])];
  const allow: [string, string][] = [];
  const seen = new Set<string>();
  const add = (path: string, perms: string) => {
    const key = `${path} ${perms}`;
    if (!seen.has(key)) {
      seen.add(key);
      allow.push([path, perms]);
    }
  };
  for (const m of live) {
    if (!m.allow) continue;
    const perms = permsOf(m);
    for (const kind of m.type === 'a' ? (['c', 'b'] as const) : [m.type]) {
      const group = kind === 'c' ? 'char-' : 'block-';
      if (m.major < 0 || (m.minor < 0 && version < V_DEVICE_MAJOR_GLOB)) add(`${group}*`, perms);
      else if (m.minor < 0) add(`${group}${m.major}`, perms);
      else add(`/dev/${kind === 'c' ? 'char' : 'block'}/${m.major}:${m.minor}`, perms);
    }
  }
  // The empty DeviceAllow first clears what an existing unit had (runc).
  return [prop('DeviceAllow', 'a(ss)', []), prop('DevicePolicy', 's', 'strict'), prop('DeviceAllow', 'a(ss)', allow)];
}

function permsOf(m: DeviceMatch): string {
  return `${m.access & 2 ? 'r' : ''}${m.access & 4 ? 'w' : ''}${m.access & 1 ? 'm' : ''}`;
}
