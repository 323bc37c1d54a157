// Lifecycle of a cgroup: create, join, freeze, kill, remove.
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import type { Resources } from '../spec/types.js';
import { CgroupError, cgDir, cgroupRoot, describeError, errnoCode, parseKeyValues, readOptional, sleepMs, writeFile } from './fs.js';
import { type CgroupHandle, type Layout, layout, levels } from './paths.js';
import { applyToLayout, ensureV2Controller } from './resources.js';
import { stopScope } from './systemd/scope.js';
import { cpusetCopyIfEmpty, setCpusetV1 } from './v1.js';

/** Every directory of the cgroup: v1 hierarchies, then the cgroup2 one (unified or hybrid). */
function allDirs(l: Layout): string[] {
  const dirs = [...l.v1.values()].map((e) => e.dir);
  if (l.v2) dirs.push(l.v2.dir);
  return [...new Set(dirs)];
}

function mkdirLevels(mount: string, dir: string, created: string[]): void {
  for (const d of levels(mount, dir)) {
    try {
      fs.mkdirSync(d, 0o755);
      created.push(d);
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST') throw new CgroupError(`create ${d}: ${describeError(e)}`, errnoCode(e));
    }
  }
}

/** rmdir, retrying EBUSY for about a second while the kernel lets go of exited tasks (runc does too). */
function rmdirRetry(dir: string): void {
  let delay = 1;
  for (let tries = 0; ; tries++) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT') return;
      const n = code === 'EBUSY' ? procsIn(dir).length : 0;
      // Live processes will not leave by themselves: retrying is only worth it for an empty cgroup.
      if (code === 'EBUSY' && tries < (n > 0 ? 2 : 10)) {
        sleepMs(delay);
        delay *= 2;
        continue;
      }
      const why = describeError(e) + (n > 0 ? ` (${n} process${n === 1 ? '' : 'es'} still in it)` : '');
      throw new CgroupError(`remove ${dir}: ${why}`, code);
    }
  }
}

function subdirs(dir: string): string[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name));
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw new CgroupError(`read ${dir}: ${describeError(e)}`, errnoCode(e));
  }
}

/** Removes a cgroup and the cgroups below it, deepest first (runc RemovePath). */
function removeTree(dir: string): void {
  // Usually there is nothing below: try that first (a readdir per hierarchy costs more).
  try {
    fs.rmdirSync(dir);
    return;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
  }
  for (const sub of subdirs(dir)) removeTree(sub);
  rmdirRetry(dir);
}

function procsIn(dir: string): number[] {
  const text = readOptional(join(dir, 'cgroup.procs'));
  if (!text) return [];
  return text.split('\n').filter(Boolean).map(Number);
}

function collectProcs(dir: string, out: Set<number>): void {
  for (const p of procsIn(dir)) out.add(p);
  for (const sub of subdirs(dir)) collectProcs(sub, out);
}

/** The hierarchy whose cgroup.procs speaks for the container (runc uses devices on v1). */
function procsDir(l: Layout): string | undefined {
  if (l.mode === 'unified') return l.v2?.dir;
  for (const k of ['devices', 'pids', 'memory', 'freezer', 'cpuacct', 'cpu', 'cpuset', 'blkio', 'name=systemd']) {
    const e = l.v1.get(k);
    if (e) return e.dir;
  }
  return l.v2?.dir;
}

/**
 * Creates the cgroup in every hierarchy (an existing one is joined as is), initialises v1 cpuset,
 * enables the v2 controllers (unified host) and applies resources. On failure, the directories this
 * call created are removed again.
 */
export function createCgroup(h: CgroupHandle, resources: Resources | undefined): void {
  const l = layout(h);
  if (l.mode !== 'unified' && l.v1.size === 0) throw new CgroupError(`no cgroup v1 hierarchy is mounted under ${cgroupRoot()}`);
  const created: string[] = [];
  try {
    for (const { mount, dir } of l.v1.values()) mkdirLevels(mount, dir, created);
    if (l.v2) mkdirLevels(l.v2.mount, l.v2.dir, created);
    if (l.mode === 'unified' && l.v2) {
      // Like runc: every controller the host has, so `update` and stats find their files later.
      const avail = (cgDir(l.v2.mount).read('cgroup.controllers') ?? '').trim().split(/\s+/).filter(Boolean);
      for (const ctrl of avail) {
        try {
          ensureV2Controller(l.v2, ctrl);
        } catch {
          // A parent with processes refuses some controllers; setting that resource will say so.
        }
      }
    }
    const cs = l.v1.get('cpuset');
    if (cs) {
      for (const d of levels(cs.mount, dirname(cs.dir))) cpusetCopyIfEmpty(cgDir(d), cgDir(dirname(d)));
      // The requested cpus/mems first: copying the parent's could clash with a sibling's cpu_exclusive.
      if (resources) setCpusetV1(cgDir(cs.dir), resources);
      cpusetCopyIfEmpty(cgDir(cs.dir), cgDir(dirname(cs.dir)));
    }
    if (resources) applyToLayout(l, resources);
  } catch (e) {
    for (const d of created.reverse()) {
      try {
        rmdirRetry(d);
      } catch {
        // best effort: the original error is the one to report
      }
    }
    throw e;
  }
}

/** Moves pid (the whole process) into the cgroup in every hierarchy. */
export function addProcess(h: CgroupHandle, pid: number): void {
  for (const dir of allDirs(layout(h))) writeProcs(dir, pid);
}

function writeProcs(dir: string, pid: number): void {
  const file = join(dir, 'cgroup.procs');
  for (let tries = 0; ; tries++) {
    try {
      writeFile(file, String(pid));
      return;
    } catch (e) {
      // EINVAL: the task may still be in TASK_NEW right after clone; runc retries too.
      if (e instanceof CgroupError && e.code === 'EINVAL' && tries < 5) {
        sleepMs(30);
        continue;
      }
      throw e;
    }
  }
}

/**
 * How a process about to be spawned enters the cgroup without anyone writing its pid to a
 * cgroup.procs file: such a write takes the kernel's global threadgroup lock, whose first
 * writer waits for an RCU grace period (6–15 ms on this kind of host). The child is created in
 * the cgroup2 cgroup (clone3 CLONE_INTO_CGROUP into `intoFd`) and moves itself into each v1
 * hierarchy by writing "0" to its `tasks` file, which moves only the calling thread and skips
 * that lock.
 */
export interface CgroupEntry {
  /** The cgroup2 directory (O_DIRECTORY fd) to clone into, if the host has one. */
  intoFd?: number;
  /** The v1 `tasks` files, opened for writing, for the child to write "0" to. */
  tasks: { fd: number; path: string }[];
  /** Fallback where the kernel cannot clone into a cgroup: writes pid to the cgroup2 cgroup.procs. */
  addToV2(pid: number): void;
  /**
   * The same fallback done by the process itself: the cgroup2 cgroup.procs opened for writing
   * (writing "0" moves the writer's whole process; undefined without a cgroup2 hierarchy).
   */
  openV2Procs(): { fd: number; path: string } | undefined;
  /** Closes this process's copies of the fds. */
  close(): void;
}

// open(2) flags, spelled out: node:fs has no O_CLOEXEC.
const O_WRONLY = 1;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;

export function openEntry(h: CgroupHandle): CgroupEntry {
  const l = layout(h);
  const fds: number[] = [];
  const close = (): void => {
    for (const fd of fds.splice(0)) fs.closeSync(fd);
  };
  const open = (file: string, flags: number): number => {
    try {
      const fd = fs.openSync(file, flags);
      fds.push(fd);
      return fd;
    } catch (e) {
      close();
      throw new CgroupError(`join ${dirname(file)}: ${describeError(e)}`, errnoCode(e));
    }
  };
  const v1Dirs = [...new Set([...l.v1.values()].map((e) => e.dir))];
  const tasks = v1Dirs.map((d) => {
    const path = join(d, 'tasks');
    return { fd: open(path, O_WRONLY | O_CLOEXEC), path };
  });
  const v2 = l.v2;
  const intoFd = v2 ? open(v2.dir, O_DIRECTORY | O_CLOEXEC) : undefined;
  return {
    intoFd,
    tasks,
    addToV2: (pid) => {
      if (v2) writeProcs(v2.dir, pid);
    },
    openV2Procs: () => {
      if (!v2) return undefined;
      const path = join(v2.dir, 'cgroup.procs');
      return { fd: open(path, O_WRONLY | O_CLOEXEC), path };
    },
    close,
  };
}

/** All processes in the cgroup and the cgroups below it. */
export function pids(h: CgroupHandle): number[] {
  const dir = procsDir(layout(h));
  const out = new Set<number>();
  if (dir) collectProcs(dir, out);
  return [...out].sort((a, b) => a - b);
}

/**
 * What a create finds in its cgroup before it makes it (runc 1.1's check): processes already in
 * it (runc warns; with systemd it errors) and whether it is frozen (runc refuses: the init would
 * hang). Like runc, one hierarchy speaks for all on v1.
 */
export function preexisting(h: CgroupHandle): { pids: number; frozen: boolean } {
  const l = layout(h);
  const dir = procsDir(l);
  const found = new Set<number>();
  if (dir) collectProcs(dir, found);
  let frozen = false;
  try {
    frozen = isFrozen(h);
  } catch {
    // no freezer here: nothing can be frozen
  }
  return { pids: found.size, frozen };
}

function freezerDir(l: Layout): { v1?: string; v2?: string } {
  const f = l.v1.get('freezer');
  if (f) return { v1: f.dir };
  if (l.v2) return { v2: l.v2.dir };
  throw new CgroupError('freezer: the freezer controller is not available on this host');
}

function freezeV1(dir: string): void {
  const state = join(dir, 'freezer.state');
  try {
    // runc's loop: a v1 freeze can stay FREEZING while tasks keep arriving; rewrite, thaw now and then.
    for (let i = 0; i < 1000; i++) {
      if (i % 50 === 49) {
        writeFile(state, 'THAWED');
        sleepMs(10);
      }
      writeFile(state, 'FROZEN');
      const got = (readOptional(state) ?? '').trim();
      if (got === 'FROZEN') return;
      if (got !== 'FREEZING') throw new CgroupError(`freeze ${dir}: unexpected freezer.state ${got}`);
      if (i % 25 === 24) sleepMs(1);
    }
    throw new CgroupError(`freeze ${dir}: still FREEZING, giving up`);
  } catch (e) {
    try {
      writeFile(state, 'THAWED');
    } catch {
      // keep the first error
    }
    throw e;
  }
}

function freezeV2(dir: string): void {
  writeFile(join(dir, 'cgroup.freeze'), '1');
  let delay = 1;
  for (let waited = 0; waited < 5000; waited += delay, delay = Math.min(delay * 2, 50)) {
    if (parseKeyValues(readOptional(join(dir, 'cgroup.events'))).get('frozen') === 1) return;
    sleepMs(delay);
  }
  writeFile(join(dir, 'cgroup.freeze'), '0');
  throw new CgroupError(`freeze ${dir}: cgroup.events did not report frozen 1`);
}

export function freeze(h: CgroupHandle): void {
  const f = freezerDir(layout(h));
  if (f.v1) freezeV1(f.v1);
  else freezeV2(f.v2!);
}

export function thaw(h: CgroupHandle): void {
  const f = freezerDir(layout(h));
  if (f.v1) writeFile(join(f.v1, 'freezer.state'), 'THAWED');
  else writeFile(join(f.v2!, 'cgroup.freeze'), '0');
}

export function isFrozen(h: CgroupHandle): boolean {
  const f = freezerDir(layout(h));
  if (f.v1) return (readOptional(join(f.v1, 'freezer.state')) ?? '').trim() === 'FROZEN';
  return (readOptional(join(f.v2!, 'cgroup.freeze')) ?? '').trim() === '1';
}

function signalAll(l: Layout, list: number[]): void {
  // Freeze first so nothing forks between listing and killing; killed tasks die once thawed.
  let fz: { v1?: string; v2?: string } | undefined;
  try {
    fz = freezerDir(l);
    if (fz.v1) freezeV1(fz.v1);
    else freezeV2(fz.v2!);
  } catch {
    fz = undefined; // kill anyway
  }
  const all = new Set(list);
  const dir = procsDir(l);
  if (fz && dir) collectProcs(dir, all);
  for (const pid of all) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      if (errnoCode(e) !== 'ESRCH') throw new CgroupError(`kill ${pid}: ${describeError(e)}`, errnoCode(e));
    }
  }
  if (fz?.v1) writeFile(join(fz.v1, 'freezer.state'), 'THAWED');
  else if (fz?.v2) writeFile(join(fz.v2, 'cgroup.freeze'), '0');
}

/**
 * SIGKILL everything in the cgroup and wait until it is empty. cgroup.kill where the kernel has it;
 * on v1 hosts the processes listed in v1 are signalled too (a process may sit in the v1 cgroups
 * without being in the hybrid cgroup2 one, e.g. one joined by a runtime that ignores cgroup2).
 */
function killAll(l: Layout): void {
  const killFile = l.v2 && fs.existsSync(join(l.v2.dir, 'cgroup.kill')) ? join(l.v2.dir, 'cgroup.kill') : undefined;
  const dir = procsDir(l);
  if (!dir) return;
  for (let attempt = 0; attempt < 300; attempt++) {
    const out = new Set<number>();
    collectProcs(dir, out);
    if (out.size === 0) return;
    if (attempt % 20 === 0) {
      if (killFile) writeFile(killFile, '1');
      if (!killFile || l.mode !== 'unified') signalAll(l, [...out]);
      releaseFromFrozenAncestor(l, out);
    }
    sleepMs(10);
  }
  // Still busy after ~3 s (a task stuck in the kernel): rmdir reports it.
}

/**
 * A v1 cgroup under a frozen ancestor stays frozen after our thaw, and its SIGKILLed tasks cannot
 * die there: move them to the freezer hierarchy's root, which thaws them (cgroup v2 kills frozen
 * tasks by itself).
 */
function releaseFromFrozenAncestor(l: Layout, pids: Set<number>): void {
  const f = l.v1.get('freezer');
  if (!f || (readOptional(join(f.dir, 'freezer.state')) ?? '').trim() !== 'FROZEN') return;
  for (const pid of pids) {
    try {
      writeFile(join(f.mount, 'cgroup.procs'), String(pid));
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * Removes the cgroup (and any cgroups below it) from every hierarchy, after killing what is left in
 * it if asked. Like runc, created parents are left in place.
 */
export function destroyCgroup(h: CgroupHandle, opts?: { kill?: boolean }): void {
  const l = layout(h);
  if (opts?.kill) killAll(l);
  let first: unknown;
  // systemd driver: the unit goes first (systemd removes its cgroup); what systemd does not
  // manage (v1 hierarchies it leaves alone, sub-cgroups) is removed below as with cgroupfs.
  if (h.systemd && h.unit) {
    try {
      stopScope(h);
    } catch (e) {
      first = e;
    }
  }
  for (const dir of allDirs(l)) {
    try {
      removeTree(dir);
    } catch (e) {
      first ??= e;
    }
  }
  if (first) throw first;
}

/** OOM kills so far: memory.oom_control oom_kill (v1) or memory.events oom_kill (v2). */
export function oomEvents(h: CgroupHandle): number {
  const l = layout(h);
  const m = l.v1.get('memory');
  if (m) return parseKeyValues(readOptional(join(m.dir, 'memory.oom_control'))).get('oom_kill') ?? 0;
  if (l.v2) return parseKeyValues(readOptional(join(l.v2.dir, 'memory.events'))).get('oom_kill') ?? 0;
  return 0;
}
