// What the bench reads from the host: memory, a process's PSS, a container's
// memory cgroup, leftovers, and the machine description for RESULTS.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, type Dirent } from 'node:fs';
import { cpus, hostname, loadavg } from 'node:os';
import { join } from 'node:path';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function meminfoKb(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(read('/proc/meminfo') ?? '');
  return m ? Number(m[1]) : NaN;
}

/** PSS (kB) of a process from /proc/PID/smaps_rollup; NaN when it is gone. */
export function pssKb(pid: number): number {
  const m = /^Pss:\s+(\d+) kB/m.exec(read(`/proc/${pid}/smaps_rollup`) ?? '');
  return m ? Number(m[1]) : NaN;
}

/** The v1 memory cgroup dir of a process, if any. */
export function memoryCgroupOf(pid: number): string | undefined {
  for (const line of (read(`/proc/${pid}/cgroup`) ?? '').split('\n')) {
    const [, ctrls, path] = line.split(':');
    if (ctrls?.split(',').includes('memory') && path !== undefined) {
      const dir = join('/sys/fs/cgroup/memory', path);
      if (existsSync(dir)) return dir;
    }
  }
  return undefined;
}

export function cgroupBytes(dir: string, file: string): number {
  const v = read(join(dir, file));
  return v === undefined ? NaN : Number(v.trim());
}

/**
 * kB charged to a v1 memory cgroup, counted exactly: user pages (total_rss +
 * total_cache from memory.stat) plus kernel memory (memory.kmem.usage_in_bytes).
 * memory.usage_in_bytes itself moves in per-CPU batches of 64 pages (256 KiB).
 */
export function chargedKb(dir: string): number {
  const stat = read(join(dir, 'memory.stat')) ?? '';
  const field = (k: string) => Number(new RegExp(`^${k} (\\d+)$`, 'm').exec(stat)?.[1] ?? NaN);
  const kmem = cgroupBytes(dir, 'memory.kmem.usage_in_bytes');
  return (field('total_rss') + field('total_cache') + (Number.isFinite(kmem) ? kmem : 0)) / 1024;
}

/** On-CPU time (ms) of all threads of a process so far, from /proc/PID/task/TID/schedstat. */
export function cpuMsOf(pid: number): number {
  let ns = 0;
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) ns += Number((read(`/proc/${pid}/task/${t}/schedstat`) ?? '0').split(' ')[0]);
  } catch {
    return NaN;
  }
  return ns / 1e6;
}

export function alive(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return false;
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

export async function waitGone(pids: number[], timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pids.every((p) => !alive(p))) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Cgroup dirs (any v1/v2 hierarchy, 4 levels down) whose name starts with the prefix. */
export function cgroupsNamed(prefix: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = join(dir, e.name);
      if (e.name.startsWith(prefix)) found.push(p);
      else if (depth < 4) walk(p, depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found;
}

/** Live processes in a cgroup whose path names the prefix. */
export function processesNamed(prefix: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const cg = read(`/proc/${e}/cgroup`) ?? '';
    if (cg.includes(`/${prefix}`) && alive(Number(e))) out.push(Number(e));
  }
  return out;
}

export interface Machine {
  date: string;
  host: string;
  cpu: string;
  nproc: number;
  memTotalMiB: number;
  kernel: string;
  os: string;
  cgroups: string;
  loadStart: string;
}

export function machine(): Machine {
  const os = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(read('/etc/os-release') ?? '')?.[1] ?? '?';
  const mounts = (read('/proc/self/mountinfo') ?? '').split('\n').map((l) => {
    const f = l.split(' ');
    const sep = f.indexOf('-');
    return { at: f[4] ?? '', type: f[sep + 1] ?? '' };
  });
  const v1 = mounts.filter((m) => m.type === 'cgroup' && m.at.startsWith('/sys/fs/cgroup/')).map((m) => m.at.slice('/sys/fs/cgroup/'.length));
  const v2 = mounts.find((m) => m.type === 'cgroup2');
  const cgroups = v1.length === 0 ? 'cgroup v2' : `hybrid: v1 ${v1.join(', ')}${v2 ? ` + cgroup2 at ${v2.at}` : ''}`;
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    host: hostname(),
    cpu: cpus()[0]?.model ?? '?',
    nproc: Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()) || cpus().length,
    memTotalMiB: Math.round(meminfoKb('MemTotal') / 1024),
    kernel: spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim(),
    os,
    cgroups,
    loadStart: loadavg().map((x) => x.toFixed(2)).join(' '),
  };
}
