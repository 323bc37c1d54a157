// `create`: bundle -> validated config -> launch plan -> tsrun-init waiting on the exec fifo.
// Every step registers its undo; any failure unwinds them all, so nothing is left behind.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../cli/context.js';
import { TsrunError } from '../errors.js';
import { trace } from '../trace.js';
import type { Hook, Process, Resources, Spec, State } from '../spec/types.js';
import { judgeBundle } from '../spec/judge.js';
import { buildCreatePlan, type CreatePlan } from '../linux/create-plan.js';
import { realHost, type HostFacts } from '../linux/host-facts.js';
import { initJson, pidInInit } from '../native/plan.js';
import { loadNative, type Native } from '../native/native.js';
import { initPath } from '../native/support-files.js';
import { applyResources, checkResourcesForMode, createCgroup, detectMode, openEntry, destroyCgroup, oomEvents, type CgroupHandle } from '../cgroups/index.js';
import { enterSystemdScope, memoryBound, resolveContainerCgroup } from './container-cgroup.js';
import { layout } from '../cgroups/paths.js';
import { effectiveDeviceRules } from '../linux/device-rules.js';
import type { HostCgroupMount } from '../cgroups/mounts.js';
import { callerRlimits } from './caller-limits.js';
import { prepareSeccomp, startInit } from './launch.js';
import { runHook, runHooks } from './runtime-hooks.js';
import { runContainerHooks } from './container-hooks.js';
import { creatingRecord, type ContainerRecord } from './record.js';
import { readStartTime } from './status.js';
import { Store } from './store.js';
import { hostRootfsBefore, unmountHostRootfs } from './host-rootfs.js';
import { withLock } from './lock.js';
import { fault } from './fault.js';
import { writeIdMaps } from './userns.js';
import { inUserNamespace, rootlessCgroups } from './rootless.js';
import { connectConsoleSocket, makeFifo } from './fds.js';
import { withHome } from '../linux/home-env.js';
import { withGrantableCaps } from '../linux/host-caps.js';
import { idmapNamespaces } from './idmap-userns.js';
import { moveNetDevices, netnsPath } from '../linux/net-devices.js';
import { writePidFile } from './pid-file.js';
import { checkPreexisting } from './cgroup-check.js';

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  noPivot: boolean;
  noNewKeyring: boolean;
  /** Internal (foreground run): an fd that receives the pty master instead of --console-socket. */
  consoleFd?: number;
}

export interface Created {
  record: ContainerRecord;
  native: Native;
}

/** Undo steps, run in reverse order when create fails. */
class Unwind {
  private steps: Array<() => void | Promise<void>> = [];
  private last: Array<() => void | Promise<void>> = [];
  add(fn: () => void | Promise<void>): void {
    this.steps.push(fn);
  }
  /** Runs after every undo step, once the container is gone (poststop hooks). */
  atEnd(fn: () => void | Promise<void>): void {
    this.last.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of [...this.steps.reverse(), ...this.last]) {
      try {
        await fn();
      } catch {
        // best effort: the first error is the one the user sees
      }
    }
    this.steps = [];
    this.last = [];
  }
}

export async function create(ctx: Ctx, o: CreateOptions): Promise<void> {
  await createContainer(ctx, o);
}

export async function createContainer(ctx: Ctx, o: CreateOptions): Promise<Created> {
  const store = new Store(ctx.root);
  store.dir(o.id); // validates the id before anything touches the disk
  const bundle = path.resolve(o.bundle);
  if (!fs.existsSync(bundle)) throw new TsrunError(`bundle ${bundle}: no such directory`);
  trace('create: start');
  const host = realHost({ inUserns: inUserNamespace() });
  // The bundle is judged whole before anything is made (src/spec/judge.ts).
  const loaded = judgeBundle(bundle, host, { id: o.id, cgroupDriver: { systemd: ctx.systemdCgroup, rootless: rootlessCgroups(ctx.rootless) } });
  trace('create: config loaded');
  const rootfsDir = path.resolve(bundle, loaded.root!.path);
  ctx.log.debug(`create ${o.id}: bundle ${bundle}, rootfs ${rootfsDir}, state in ${store.dir(o.id)}`);
  const warnCaps = (m: string) => ctx.log.warn(`create ${o.id}: ${m}`);
  const spec: Spec = loaded.process
    ? { ...loaded, process: withGrantableCaps(withListenFds(withHome(loaded.process, rootfsDir)), loaded.linux?.namespaces, warnCaps) }
    : loaded;
  if (spec.process?.terminal && o.consoleSocket === undefined && o.consoleFd === undefined) {
    throw new TsrunError('process.terminal is true: a --console-socket is required');
  }
  if (!spec.process?.terminal && o.consoleSocket !== undefined) {
    throw new TsrunError('--console-socket given but process.terminal is false');
  }
  if (o.pidFile && !fs.existsSync(path.dirname(path.resolve(o.pidFile)))) {
    throw new TsrunError(`--pid-file ${o.pidFile}: no such directory ${path.dirname(path.resolve(o.pidFile))}`);
  }
  const native = await loadNative();
  trace('create: native loaded');
  const unwind = new Unwind();
  try {
    const dir = store.createDir(o.id);
    fault('create:dir');
    unwind.add(() => store.remove(o.id));
    return await withLock(ctx.root, o.id, () => launch(ctx, o, spec, bundle, dir, store, native, unwind, host));
  } catch (e) {
    await unwind.run();
    throw e;
  }
}

async function launch(
  ctx: Ctx,
  o: CreateOptions,
  spec: Spec,
  bundle: string,
  dir: string,
  store: Store,
  native: Native,
  unwind: Unwind,
  host: HostFacts,
): Promise<Created> {
  const rootfs = path.resolve(bundle, spec.root!.path);
  const record: ContainerRecord = creatingRecord(o.id, spec, bundle, rootfs, { pid: process.pid, startTime: readStartTime(process.pid) ?? 0 });


  const cgroup: CgroupHandle = resolveContainerCgroup(ctx, spec, o.id);
  checkResourcesForMode(spec.linux?.resources, cgroup.mode ?? detectMode());
  checkPreexisting(ctx, o.id, cgroup);
  // Recorded before it exists: a create killed from here on leaves a cgroup that delete finds.
  record.cgroup = cgroup;
  if (!(spec.linux?.namespaces ?? []).some((n) => n.type === 'mount')) {
    // Likewise the rootfs mounts the init makes in the caller's mount namespace.
    const hostRootfs = hostRootfsBefore(rootfs);
    record.hostRootfs = hostRootfs;
    unwind.add(() => unmountHostRootfs(native, hostRootfs));
  }
  store.save(record);
  fault('create:record');
  // systemd driver: the unit is made once the init exists (it starts with the init's pid in it).
  const useCgroup = cgroup.systemd || placeCgroup(ctx, cgroup, spec);
  if (!useCgroup) {
    delete record.cgroup;
    store.save(record);
  }
  trace('create: cgroup created');
  ctx.log.debug(`create ${o.id}: cgroup ${useCgroup ? cgroup.path : 'none (rootless, not delegated)'}${cgroup.systemd ? ' (systemd)' : ''}`);
  if (useCgroup) unwind.add(() => destroyCgroup(cgroup, { kill: true }));
  fault('create:cgroup');

  const fifo = path.join(dir, 'exec.fifo');
  await makeFifo(native, fifo);
  fault('create:fifo');
  // O_PATH: tsrun-init opens it for writing at WAIT_START, which blocks until `start` reads.
  const fifoFd = fs.openSync(fifo, O_PATH);
  const ownFds = [fifoFd];
  const closeOwn = () => {
    for (const fd of ownFds.splice(0)) fs.closeSync(fd);
  };
  unwind.add(closeOwn);
  let consoleFd = spec.process?.terminal ? o.consoleFd : undefined;
  if (o.consoleSocket !== undefined) {
    consoleFd = await connectConsoleSocket(native, o.consoleSocket);
    ownFds.push(consoleFd);
  }
  const preserved = preservedFds(o.preserveFds);
  const idmaps = await idmapNamespaces(native, spec.mounts ?? []);
  unwind.add(() => idmaps.close());
  const seccomp = await prepareSeccomp(native, spec.linux?.seccomp);
  const listenerFd = seccomp.listenerFd;
  if (listenerFd !== undefined) ownFds.push(listenerFd);

  // pid: the init's; 'forked' when the plan forks, so that only tsrun-init learns the pid.
  const build = (initPid: number | 'forked'): CreatePlan => {
    const pid = initPid === 'forked' ? pidInInit() : initPid;
    const startState = initJson({ ociVersion: spec.ociVersion, id: o.id, status: 'created', pid, bundle, annotations: spec.annotations });
    return buildCreatePlan({
      host,
      spec,
      rootfs,
      bundle,
      noPivot: o.noPivot,
      cgroupDir: cgroupDirOf(cgroup),
      idmapFd: (m) => idmaps.fdOf(m),
      consoleFd,
      fifoFd,
      firstClosedFd: 3 + preserved.length,
      seccomp: seccomp.plan({ ociVersion: spec.ociVersion, id: o.id, status: 'creating', pid, bundle, annotations: spec.annotations }),
      startState,
      inUserns: inUserNamespace(),
    });
  };
  let plan: CreatePlan;
  try {
    plan = build(0);
  } catch (e) {
    throw new TsrunError((e as Error).message);
  }
  const stateOf = (pid: number) => ({ ociVersion: spec.ociVersion, id: o.id, status: 'creating' as const, pid, bundle, annotations: spec.annotations });
  let launched;
  trace('create: launching');
  // The init runs under the memory limit from its clone (v2) or its first op (v1), so it must
  // find its own binary in the page cache: read in by its page faults, it would be charged to the
  // container, and a tight limit with a cold cache made it thrash on its own text (v2 VM).
  if (useCgroup && memoryBound(spec.linux?.resources)) fs.readFileSync(initPath());
  const oomKilled = (e: unknown): TsrunError | undefined =>
    // runc's wording: the limit is on from the start, so an init that outgrows it is killed.
    useCgroup && oomEvents(cgroup) > 0 ? new TsrunError('container init was OOM-killed (memory limit too low?)', { cause: e }) : undefined;
  {
    launched = await startInit(ctx, {
      where: `create ${o.id}`,
      setup: `cloning tsrun-init, clone flags 0x${plan.cloneFlags.toString(16)}, plan of ${plan.ops.length} ops`,
      explain: oomKilled,
      cloneFlags: plan.cloneFlags,
      keepFds: [...preserved, ...(consoleFd !== undefined ? [consoleFd] : []), fifoFd, ...idmaps.fds, ...(listenerFd !== undefined ? [listenerFd] : [])],
      native,
      cgroup: useCgroup && !cgroup.systemd ? openEntry(cgroup) : undefined,
      onSpawn: (pid) => {
        if (cgroup.systemd) enterSystemdScope(o.id, cgroup, pid, spec);
        moveNetDevices(spec.linux?.netDevices, netnsPath(spec.linux?.namespaces, pid));
        fault('create:spawn');
      },
      plan: (pid) => build(plan.forks ? 'forked' : pid).ops,
      onSync: async (code, pid) => {
        fault('create:sync');
        if (code === 'U') writeIdMaps(pid, spec.linux?.uidMappings, spec.linux?.gidMappings);
        else if (code === 'H') {
          const hooks = spec.hooks ?? {};
          ctx.log.debug(`create ${o.id}: running hooks: prestart ${hooks.prestart?.length ?? 0}, createRuntime ${hooks.createRuntime?.length ?? 0}, createContainer ${hooks.createContainer?.length ?? 0}`);
          // runtime.md: a failing hook stops the container, which is then destroyed and its
          // poststop hooks run (lifecycle steps 12-13).
          unwind.atEnd(() => runPoststop(ctx, o.id, hooks.poststop, { ...stateOf(pid), status: 'stopped', pid: undefined }));
          runHooks('prestart', hooks.prestart, stateOf(pid));
          runHooks('createRuntime', hooks.createRuntime, stateOf(pid));
          await runContainerHooks(native, pid, hooks.createContainer ?? [], stateOf(pid), callerRlimits(), rootfs);
        } else throw new TsrunError(`tsrun-init asked for an unknown sync "${code}"`);
      },
    });
  }
  unwind.add(() => {
    try {
      process.kill(launched.pid, 9);
    } catch {
      /* gone */
    }
  });
  trace('create: init ready');
  ctx.log.debug(`init: closing the pipe to signal completion: create ${o.id}: container process ${launched.pid} set up, waiting for start`);
  fault('create:ready');
  // Like runc, the other limits apply once the init has built the rootfs (it mknod()s devices
  // that the device rules may deny).
  if (useCgroup) applyResources(cgroup, { ...laterResources(spec.linux?.resources), devices: effectiveDeviceRules(spec) });
  record.pid = launched.pid;
  record.pidStartTime = readStartTime(launched.pid) ?? 0;
  trace('create: resources applied');
  record.status = 'created';
  record.execFifo = fifo;
  store.save(record);
  fault('create:saved');
  if (o.pidFile) writePidFile(o.pidFile, launched.pid);
  closeOwn();
  idmaps.close();
  return { record, native };
}

/** O_PATH (open(2)): a handle that neither reads nor writes; Node has no constant for it. */
const O_PATH = 0o10000000;

/** Poststop hooks of a container whose create failed after its hooks began: failures only warn. */
function runPoststop(ctx: Ctx, id: string, hooks: Hook[] | undefined, state: State): void {
  for (const hook of hooks ?? []) {
    try {
      runHook('poststop', hook, state);
    } catch (e) {
      ctx.log.warn(`create ${id}: ${(e as Error).message}`);
    }
  }
}

/** systemd socket activation: how many fds (from 3 on) the caller passes, per LISTEN_FDS. */
function listenFds(): number {
  const n = Number(process.env.LISTEN_FDS ?? '0');
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** fds 3.. that the container inherits: systemd's LISTEN_FDS, then --preserve-fds (runc). */
function preservedFds(preserve: number): number[] {
  return Array.from({ length: listenFds() + preserve }, (_, i) => 3 + i);
}

/** As runc: the container learns about passed sockets through LISTEN_FDS, with itself as LISTEN_PID. */
function withListenFds(p: Process): Process {
  const n = listenFds();
  if (!n) return p;
  const env = (p.env ?? []).filter((e) => !e.startsWith('LISTEN_FDS=') && !e.startsWith('LISTEN_PID='));
  return { ...p, env: [...env, `LISTEN_FDS=${n}`, 'LISTEN_PID=1'] };
}

/**
 * Creates the container's cgroup. Rootless (not root, or root of a user namespace: see
 * rootless.ts), a cgroup tree that is not delegated to the user is skipped, like runc does,
 * unless the config asks for limits.
 */
function placeCgroup(ctx: Ctx, cgroup: CgroupHandle, spec: Spec): boolean {
  try {
    createCgroup(cgroup, memoryBound(spec.linux?.resources));
    return true;
  } catch (e) {
    const code = (e as { code?: string }).code;
    const rootless = rootlessCgroups(ctx.rootless);
    if (!rootless || (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS')) throw e;
    const r = spec.linux?.resources ?? {};
    const limits = Object.keys(r).filter((k) => k !== 'devices');
    if (limits.length) {
      throw new TsrunError(`rootless: the cgroup ${cgroup.path} is not delegated to this user, so linux.resources.${limits[0]} cannot be applied: ${(e as Error).message}`);
    }
    ctx.log.debug(`rootless: cgroup skipped (${(e as Error).message})`);
    return false;
  }
}


/** linux.resources without what memoryBound() set. */
function laterResources(r: Resources | undefined): Resources | undefined {
  if (!r?.memory) return r;
  return { ...r, memory: { ...r.memory, limit: undefined, swap: undefined } };
}

/** Maps a host cgroup mount to the container's directory in it. */
function cgroupDirOf(h: CgroupHandle): (m: HostCgroupMount) => string | undefined {
  const l = layout(h);
  return (m) => {
    if (m.version === 2) return l.v2?.mount === m.mountPoint ? l.v2.dir : undefined;
    for (const v of l.v1.values()) if (v.mount === m.mountPoint) return v.dir;
    return undefined;
  };
}
