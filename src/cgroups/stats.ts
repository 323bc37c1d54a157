// `events --stats`: runc's types.Stats (types/events.go), filled from v1 or v2 files like libcontainer does.
import * as fs from 'node:fs';
import { type CgDir, cgDir, parseKeyValues, parseUint } from './fs.js';
import { type CgroupHandle, type Layout, layout } from './paths.js';

export interface MemoryEntry { limit: number; usage?: number; max?: number; failcnt: number }
export interface HugetlbEntry { usage?: number; max?: number; failcnt: number }
export interface BlkioEntry { major?: number; minor?: number; op?: string; value?: number }
export interface RuncStats {
  cpu: {
    usage: { total?: number; percpu?: number[]; percpu_kernel?: number[]; percpu_user?: number[]; kernel: number; user: number };
    throttling: { periods?: number; throttledPeriods?: number; throttledTime?: number };
  };
  cpuset: {
    cpus?: number[]; cpu_exclusive: number; mems?: number[]; mem_hardwall: number; mem_exclusive: number;
    memory_migrate: number; memory_spread_page: number; memory_spread_slab: number; memory_pressure: number;
    sched_load_balance: number; sched_relax_domain_level: number;
  };
  memory: { cache?: number; usage: MemoryEntry; swap: MemoryEntry; kernel: MemoryEntry; kernelTCP: MemoryEntry; raw?: Record<string, number> };
  pids: { current?: number; limit?: number };
  blkio: {
    ioServiceBytesRecursive?: BlkioEntry[]; ioServicedRecursive?: BlkioEntry[]; ioQueueRecursive?: BlkioEntry[];
    ioServiceTimeRecursive?: BlkioEntry[]; ioWaitTimeRecursive?: BlkioEntry[]; ioMergedRecursive?: BlkioEntry[];
    ioTimeRecursive?: BlkioEntry[]; sectorsRecursive?: BlkioEntry[];
  };
  hugetlb: Record<string, HugetlbEntry>;
  intel_rdt: Record<string, never>;
  network_interfaces: null;
}

const MAX_U64 = 18446744073709551615;
const CLOCK_TICKS = 100; // sysconf(_SC_CLK_TCK) on Linux; runc hard-codes it too

/** Go's omitempty: zero numbers and empty lists are left out. */
function put<T extends object>(o: T, key: keyof T, v: number | unknown[] | undefined): void {
  if (v === undefined || v === 0 || (Array.isArray(v) && v.length === 0)) return;
  (o as Record<keyof T, unknown>)[key] = v;
}

const num = (d: CgDir, f: string): number | undefined => {
  const t = d.read(f);
  return t === undefined ? undefined : parseUint(t);
};

function emptyStats(): RuncStats {
  const entry = (): MemoryEntry => ({ limit: 0, failcnt: 0 });
  return {
    cpu: { usage: { kernel: 0, user: 0 }, throttling: {} },
    cpuset: {
      cpu_exclusive: 0, mem_hardwall: 0, mem_exclusive: 0, memory_migrate: 0, memory_spread_page: 0,
      memory_spread_slab: 0, memory_pressure: 0, sched_load_balance: 0, sched_relax_domain_level: 0,
    },
    memory: { usage: entry(), swap: entry(), kernel: entry(), kernelTCP: entry() },
    pids: {},
    blkio: {},
    hugetlb: {},
    intel_rdt: {},
    network_interfaces: null,
  };
}

/** "0-2,5" -> [0,1,2,5] */
export function parseCpuList(s: string): number[] {
  const out: number[] = [];
  for (const part of s.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

/** Huge page sizes of the host as runc names them: "2MB", "1GB". */
export function hugePageSizes(): string[] {
  let names: string[];
  try {
    names = fs.readdirSync('/sys/kernel/mm/hugepages');
  } catch {
    return [];
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  const out: string[] = [];
  for (const n of names) {
    const m = /^hugepages-(\d+)kB$/.exec(n);
    if (!m) continue;
    let size = Number(m[1]) * 1024;
    let i = 0;
    while (size >= 1024 && i < units.length - 1) {
      size /= 1024;
      i++;
    }
    out.push(`${size}${units[i]}`);
  }
  return out;
}

function cpuV1(cpu: CgDir | undefined, acct: CgDir | undefined, s: RuncStats): void {
  if (cpu) {
    const st = parseKeyValues(cpu.read('cpu.stat'));
    put(s.cpu.throttling, 'periods', st.get('nr_periods'));
    put(s.cpu.throttling, 'throttledPeriods', st.get('nr_throttled'));
    put(s.cpu.throttling, 'throttledTime', st.get('throttled_time'));
  }
  if (!acct) return;
  put(s.cpu.usage, 'total', num(acct, 'cpuacct.usage'));
  put(s.cpu.usage, 'percpu', (acct.read('cpuacct.usage_percpu') ?? '').trim().split(/\s+/).filter(Boolean).map(Number));
  const all = acct.read('cpuacct.usage_all');
  if (all) {
    const kernel: number[] = [];
    const user: number[] = [];
    for (const line of all.trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length !== 3) continue;
      user.push(Number(f[1]));
      kernel.push(Number(f[2]));
    }
    put(s.cpu.usage, 'percpu_kernel', kernel);
    put(s.cpu.usage, 'percpu_user', user);
  }
  const st = parseKeyValues(acct.read('cpuacct.stat'));
  s.cpu.usage.user = Math.floor(((st.get('user') ?? 0) * 1e9) / CLOCK_TICKS);
  s.cpu.usage.kernel = Math.floor(((st.get('system') ?? 0) * 1e9) / CLOCK_TICKS);
}

function cpuV2(d: CgDir, s: RuncStats): void {
  const st = parseKeyValues(d.read('cpu.stat'));
  put(s.cpu.usage, 'total', (st.get('usage_usec') ?? 0) * 1000);
  s.cpu.usage.user = (st.get('user_usec') ?? 0) * 1000;
  s.cpu.usage.kernel = (st.get('system_usec') ?? 0) * 1000;
  put(s.cpu.throttling, 'periods', st.get('nr_periods'));
  put(s.cpu.throttling, 'throttledPeriods', st.get('nr_throttled'));
  put(s.cpu.throttling, 'throttledTime', (st.get('throttled_usec') ?? 0) * 1000);
}

function cpusetV1(d: CgDir, s: RuncStats): void {
  const c = s.cpuset;
  put(c, 'cpus', parseCpuList(d.read('cpuset.cpus') ?? ''));
  put(c, 'mems', parseCpuList(d.read('cpuset.mems') ?? ''));
  c.cpu_exclusive = num(d, 'cpuset.cpu_exclusive') ?? 0;
  c.mem_hardwall = num(d, 'cpuset.mem_hardwall') ?? 0;
  c.mem_exclusive = num(d, 'cpuset.mem_exclusive') ?? 0;
  c.memory_migrate = num(d, 'cpuset.memory_migrate') ?? 0;
  c.memory_spread_page = num(d, 'cpuset.memory_spread_page') ?? 0;
  c.memory_spread_slab = num(d, 'cpuset.memory_spread_slab') ?? 0;
  c.memory_pressure = num(d, 'cpuset.memory_pressure') ?? 0;
  c.sched_load_balance = num(d, 'cpuset.sched_load_balance') ?? 0;
  const lvl = d.read('cpuset.sched_relax_domain_level');
  c.sched_relax_domain_level = lvl === undefined ? 0 : Number(lvl.trim());
}

function memEntryV1(d: CgDir, prefix: string): MemoryEntry {
  const e: MemoryEntry = { limit: num(d, `${prefix}.limit_in_bytes`) ?? 0, failcnt: num(d, `${prefix}.failcnt`) ?? 0 };
  put(e, 'usage', num(d, `${prefix}.usage_in_bytes`));
  put(e, 'max', num(d, `${prefix}.max_usage_in_bytes`));
  return e;
}

function memoryV1(d: CgDir, s: RuncStats): void {
  const raw = parseKeyValues(d.read('memory.stat'));
  if (raw.size) s.memory.raw = Object.fromEntries(raw);
  put(s.memory, 'cache', raw.get('cache'));
  s.memory.usage = memEntryV1(d, 'memory');
  s.memory.swap = memEntryV1(d, 'memory.memsw');
  s.memory.kernel = memEntryV1(d, 'memory.kmem');
  s.memory.kernelTCP = memEntryV1(d, 'memory.kmem.tcp');
}

function memoryV2(d: CgDir, s: RuncStats): void {
  const raw = parseKeyValues(d.read('memory.stat'));
  if (raw.size) s.memory.raw = Object.fromEntries(raw);
  put(s.memory, 'cache', raw.get('file'));
  const usage = num(d, 'memory.current') ?? 0;
  const limit = num(d, 'memory.max') ?? MAX_U64;
  s.memory.usage = { limit, failcnt: parseKeyValues(d.read('memory.events')).get('max') ?? 0 };
  put(s.memory.usage, 'usage', usage);
  put(s.memory.usage, 'max', num(d, 'memory.peak'));
  // v1 reports swap as memory+swap; runc keeps that meaning on v2.
  const swapCur = num(d, 'memory.swap.current');
  if (swapCur !== undefined) {
    const swapMax = num(d, 'memory.swap.max') ?? MAX_U64;
    s.memory.swap = { limit: swapMax === MAX_U64 || limit === MAX_U64 ? MAX_U64 : swapMax + limit, failcnt: 0 };
    put(s.memory.swap, 'usage', swapCur + usage);
  }
}

function pidsStats(d: CgDir, s: RuncStats): void {
  put(s.pids, 'current', num(d, 'pids.current'));
  const max = (d.read('pids.max') ?? '').trim();
  if (max !== '' && max !== 'max') put(s.pids, 'limit', Number(max));
}

/** "8:0 Read 123" (v1 blkio files) */
function blkioFile(d: CgDir, file: string): BlkioEntry[] | undefined {
  const text = d.read(file);
  if (text === undefined) return undefined;
  const out: BlkioEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/[\s:]+/).filter(Boolean);
    if (f.length < 3) continue; // "Total N" and blank lines
    const e: BlkioEntry = {};
    put(e, 'major', Number(f[0]));
    put(e, 'minor', Number(f[1]));
    if (f.length === 4) e.op = f[2];
    put(e, 'value', Number(f[f.length - 1]));
    out.push(e);
  }
  return out;
}

type BlkioKey = keyof RuncStats['blkio'];
// runc's preference order: BFQ debug, BFQ, CFQ, throttle recursive, throttle.
const BLKIO_GROUPS: Array<Array<[string, BlkioKey]>> = [
  [['blkio.bfq.sectors_recursive', 'sectorsRecursive'], ['blkio.bfq.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.bfq.io_wait_time_recursive', 'ioWaitTimeRecursive'], ['blkio.bfq.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.bfq.io_queued_recursive', 'ioQueueRecursive'], ['blkio.bfq.time_recursive', 'ioTimeRecursive'],
    ['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'], ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive']],
  [['blkio.bfq.io_serviced_recursive', 'ioServicedRecursive'], ['blkio.bfq.io_service_bytes_recursive', 'ioServiceBytesRecursive']],
  [['blkio.sectors_recursive', 'sectorsRecursive'], ['blkio.io_service_time_recursive', 'ioServiceTimeRecursive'],
    ['blkio.io_wait_time_recursive', 'ioWaitTimeRecursive'], ['blkio.io_merged_recursive', 'ioMergedRecursive'],
    ['blkio.io_queued_recursive', 'ioQueueRecursive'], ['blkio.time_recursive', 'ioTimeRecursive'],
    ['blkio.io_serviced_recursive', 'ioServicedRecursive'], ['blkio.io_service_bytes_recursive', 'ioServiceBytesRecursive']],
  [['blkio.throttle.io_serviced_recursive', 'ioServicedRecursive'], ['blkio.throttle.io_service_bytes_recursive', 'ioServiceBytesRecursive']],
  [['blkio.throttle.io_serviced', 'ioServicedRecursive'], ['blkio.throttle.io_service_bytes', 'ioServiceBytesRecursive']],
];

function blkioV1(d: CgDir, s: RuncStats): void {
  for (const group of BLKIO_GROUPS) {
    const first = blkioFile(d, group[0]![0]);
    if (!first || first.length === 0) continue; // this scheduler's files are absent or unused
    for (const [file, key] of group) put(s.blkio, key, blkioFile(d, file) ?? []);
    return;
  }
}

function ioV2(d: CgDir, s: RuncStats): void {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (d.read('io.stat') ?? '').split('\n')) {
    const [dev, ...items] = line.trim().split(/\s+/);
    const mm = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!mm) continue;
    for (const item of items) {
      const [k, v] = item.split('=');
      const target = k === 'rbytes' || k === 'wbytes' ? bytes : k === 'rios' || k === 'wios' ? ios : undefined;
      if (!target) continue;
      const e: BlkioEntry = {};
      put(e, 'major', Number(mm[1]));
      put(e, 'minor', Number(mm[2]));
      e.op = k!.startsWith('r') ? 'Read' : 'Write';
      put(e, 'value', Number(v));
      target.push(e);
    }
  }
  put(s.blkio, 'ioServiceBytesRecursive', bytes);
  put(s.blkio, 'ioServicedRecursive', ios);
}

function hugetlbV1(d: CgDir, s: RuncStats): void {
  for (const size of hugePageSizes()) {
    const usage = num(d, `hugetlb.${size}.usage_in_bytes`);
    if (usage === undefined) continue;
    const e: HugetlbEntry = { failcnt: num(d, `hugetlb.${size}.failcnt`) ?? 0 };
    put(e, 'usage', usage);
    put(e, 'max', num(d, `hugetlb.${size}.max_usage_in_bytes`));
    s.hugetlb[size] = e;
  }
}

function hugetlbV2(d: CgDir, s: RuncStats): void {
  for (const size of hugePageSizes()) {
    const usage = num(d, `hugetlb.${size}.current`);
    if (usage === undefined) continue;
    const e: HugetlbEntry = { failcnt: parseKeyValues(d.read(`hugetlb.${size}.events`)).get('max') ?? 0 };
    put(e, 'usage', usage);
    s.hugetlb[size] = e;
  }
}

export function statsOf(l: Layout): RuncStats {
  const s = emptyStats();
  const v1 = (k: string): CgDir | undefined => {
    const e = l.v1.get(k);
    return e ? cgDir(e.dir) : undefined;
  };
  const v2 = l.v2 ? cgDir(l.v2.dir) : undefined;
  // Per controller: its v1 hierarchy when mounted, else the cgroup2 directory (files absent are skipped).
  const cpu = v1('cpu');
  const acct = v1('cpuacct');
  if (cpu || acct) cpuV1(cpu, acct, s);
  else if (v2) cpuV2(v2, s);
  const cs = v1('cpuset');
  if (cs) cpusetV1(cs, s);
  const mem = v1('memory');
  if (mem) memoryV1(mem, s);
  else if (v2) memoryV2(v2, s);
  const p = v1('pids') ?? v2;
  if (p) pidsStats(p, s);
  const b = v1('blkio');
  if (b) blkioV1(b, s);
  else if (v2) ioV2(v2, s);
  const hg = v1('hugetlb');
  if (hg) hugetlbV1(hg, s);
  else if (v2) hugetlbV2(v2, s);
  return s;
}

export function stats(h: CgroupHandle): RuncStats {
  return statsOf(layout(h));
}

/**
 * JSON text of stats (or of an event holding them) with the two "unlimited" sentinels spelled
 * exactly: a JS number prints 2^64-1 as 18446744073709552000, which Go's uint64 decoder rejects.
 */
export function statsToJSON(value: unknown): string {
  return JSON.stringify(value)
    .replace(/\b18446744073709552000\b/g, '18446744073709551615')
    .replace(/\b9223372036854772000\b/g, '9223372036854771712');
}

