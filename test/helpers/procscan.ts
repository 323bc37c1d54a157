// Finds what belongs to a test on the host: processes (by scanning /proc) and cgroups.
import { readFileSync, readdirSync, readlinkSync, type Dirent } from 'node:fs';
import { basename, join } from 'node:path';
import type { TestContext } from './context.js';
import { sampleRootfs } from './runtime.js';

export interface ProcInfo {
  pid: number;
  state: string;
  startTime: string;
}

export interface TestProcess {
  pid: number;
  cmdline: string;
  why: string;
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

function link(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

/** pid -> state and start time (field 22 of stat; tells a recycled pid from the old one). */
export function listProcesses(): Map<number, ProcInfo> {
  const out = new Map<number, ProcInfo>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = read(`/proc/${e}/stat`);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(e), { pid: Number(e), state: fields[0] ?? '?', startTime: fields[19] ?? '' });
  }
  return out;
}

function under(p: string | undefined, dirs: Iterable<string>): boolean {
  if (!p) return false;
  for (const d of dirs) if (p === d || p.startsWith(d + '/')) return true;
  return false;
}

/**
 * The live (non-zombie) processes of a test: its bundles' processes (the
 * TSRUN_TEST_MARK env var makeBundle adds), anything naming one of its ids or
 * paths, anything in a cgroup named after one of its ids, anything whose root
 * or cwd is in its dirs. With `before`, only processes started since then are
 * considered, and also any new `runc init` / tsrun-init (a container init that
 * never exec'd carries none of the marks above).
 */
export function testProcesses(c: TestContext, before?: Map<number, ProcInfo>): TestProcess[] {
  const found: TestProcess[] = [];
  const ids = [...c.ids];
  const markVar = `TSRUN_TEST_MARK=${c.mark}`;
  for (const p of listProcesses().values()) {
    if (p.pid === process.pid || p.state === 'Z' || p.state === 'X') continue;
    const old = before?.get(p.pid);
    if (before && old && old.startTime === p.startTime) continue;
    const cmdv = (read(`/proc/${p.pid}/cmdline`) ?? '').split('\0').filter((s) => s !== '');
    const cmdline = cmdv.join(' ');
    const why: string[] = [];
    if ((read(`/proc/${p.pid}/environ`) ?? '').split('\0').includes(markVar)) why.push('runs a bundle of this test');
    const id = ids.find((i) => cmdline.includes(i));
    if (id) why.push(`command line names ${id}`);
    if (cmdv.some((a) => under(a, [c.dir]))) why.push('command line names the test dir');
    const cg = read(`/proc/${p.pid}/cgroup`) ?? '';
    const cgId = ids.find((i) => cg.split('\n').some((l) => l.split(':')[2]?.split('/').some((part) => part.includes(i))));
    if (cgId) why.push(`in a cgroup named after ${cgId}`);
    const root = link(`/proc/${p.pid}/root`);
    const cwd = link(`/proc/${p.pid}/cwd`);
    if (under(root, [c.dir]) || under(cwd, [c.dir])) why.push('root or cwd in the test dir');
    if (before) {
      const exe = link(`/proc/${p.pid}/exe`) ?? '';
      if (basename(exe).startsWith('tsrun-init') || basename(cmdv[0] ?? '').startsWith('tsrun-init')) why.push('a tsrun-init');
      if (cmdv[0] !== undefined && basename(cmdv[0]) === 'runc' && cmdv[1] === 'init') why.push('a runc init');
      if (under(root, [sampleRootfs]) || under(cwd, [sampleRootfs])) why.push('root or cwd in the shared rootfs');
    }
    if (why.length) found.push({ pid: p.pid, cmdline, why: why.join(', ') });
  }
  return found;
}

/** Cgroup dirs (any hierarchy, up to 6 levels down) whose name contains one of the ids. */
export function cgroupDirsNamed(ids: string[]): string[] {
  const found: string[] = [];
  if (ids.length === 0) return found;
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
      if (ids.some((id) => e.name.includes(id))) found.push(p);
      if (depth < 6) walk(p, depth + 1);
    }
  };
  walk('/sys/fs/cgroup', 0);
  return found.sort();
}
