// `restore`: a new container (the id must be free) whose processes CRIU brings back from
// --image-path, in the bundle's configuration. As runc does it: criu swrk is put into the
// container's cgroup (limits set) before it restores, the rootfs is bind-mounted for CRIU's
// root, the bind mounts and namespaces the dump left external are handed back, the
// container's stdio pipes become ours (descriptors.json), hooks run at setup-namespaces, and
// the restored init (CRIU's sibling: our child) is recorded at post-restore. Any failure undoes
// every step: no state, cgroup, mount or process is left.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../cli/context.js';
import { TsrunError, describeError } from '../errors.js';
import type { Spec } from '../spec/types.js';
import { judgeBundle } from '../spec/judge.js';
import { realHost } from '../linux/host-facts.js';
import { inUserNamespace, rootlessCgroups } from './rootless.js';
import { loadNative, AF_UNIX, SOCK_CLOEXEC, SOCK_STREAM, PR_SET_CHILD_SUBREAPER, type Native } from '../native/native.js';
import { addProcess, applyResources, checkResourcesForMode, createCgroup, destroyCgroup, detectMode, type CgroupHandle } from '../cgroups/index.js';
import { enterSystemdScope, resolveContainerCgroup } from './container-cgroup.js';
import { effectiveDeviceRules } from '../linux/device-rules.js';
import type { CriuOptions } from '../criu/options.js';
import { ReqType, type CgroupRoot, type CriuOptsMsg } from '../criu/rpc.js';
import { criuCall, findCriu, type Notify } from '../criu/swrk.js';
import { criuFailureMessage } from '../criu/log.js';
import { checkFeatures, openDirFd } from '../criu/common.js';
import { criuConfigFile, externalBinds, readDescriptors, restoreExtMounts, restoreNamespaces, stdioInheritFds } from '../criu/externals.js';
import { mountCriuRoot } from '../criu/root-mount.js';
import { prepareRestoreMounts } from '../criu/restore-mounts.js';
import { creatingRecord, type ContainerRecord } from './record.js';
import { runHooks } from './runtime-hooks.js';
import { readStartTime } from './status.js';
import { Store } from './store.js';
import { withLock } from './lock.js';
import { connectConsoleSocket } from './fds.js';
import { writePidFile } from './pid-file.js';
import { destroy } from './delete.js';
import { waitForeground } from './foreground.js';

export interface RestoreOptions {
  id: string;
  bundle: string;
  consoleSocket?: string;
  pidFile?: string;
  detach: boolean;
  noSubreaper: boolean;
  /** Accepted like runc's: CRIU rebuilds the mount namespace itself, pivot_root or not. */
  noPivot: boolean;
  criu: CriuOptions;
}

/** Undo steps, run in reverse order when the restore fails. */
class Unwind {
  private steps: Array<() => void | Promise<void>> = [];
  add(fn: () => void | Promise<void>): void {
    this.steps.push(fn);
  }
  async run(): Promise<void> {
    for (const fn of this.steps.reverse()) {
      try {
        await fn();
      } catch {
        // best effort: the first error is the one the user sees
      }
    }
    this.steps = [];
  }
}

/** Restores the container; returns the exit status (0 with --detach, else the container's). */
export async function restore(ctx: Ctx, o: RestoreOptions): Promise<number> {
  const store = new Store(ctx.root);
  store.dir(o.id);
  if (store.exists(o.id)) throw new TsrunError(`container with id ${o.id} already exists`);
  const bundle = path.resolve(o.bundle);
  if (!fs.existsSync(bundle)) throw new TsrunError(`bundle ${bundle}: no such directory`);
  const spec = judgeBundle(bundle, realHost({ inUserns: inUserNamespace() }), { id: o.id, cgroupDriver: { systemd: ctx.systemdCgroup, rootless: rootlessCgroups(ctx.rootless) } });
  const terminal = spec.process?.terminal === true;
  if (terminal && o.detach && o.consoleSocket === undefined) {
    throw new TsrunError('cannot allocate tty if tsrun will detach without setting console socket');
  }
  if (!terminal && o.consoleSocket !== undefined) throw new TsrunError('--console-socket given but process.terminal is false');
  if (o.pidFile && !fs.existsSync(path.dirname(o.pidFile))) throw new TsrunError(`--pid-file ${o.pidFile}: no such directory ${path.dirname(o.pidFile)}`);
  if (!fs.existsSync(o.criu.imagesDir)) throw new TsrunError(`--image-path ${o.criu.imagesDir}: no such directory`);
  const descriptors = readDescriptors(o.criu.imagesDir);
  const criu = findCriu(ctx.criu);
  const native = await loadNative();
  if (o.criu.lazyPages) await checkFeatures({ criu, native }, { lazyPages: true }, '--lazy-pages');
  if (!o.detach && !o.noSubreaper) native.prctl(PR_SET_CHILD_SUBREAPER, 1);
  // A terminal in the foreground: the pty master comes to us, proxied like `run` does.
  const pair = terminal && !o.detach && o.consoleSocket === undefined ? native.socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) : undefined;
  const unwind = new Unwind();
  let record: ContainerRecord;
  try {
    store.createDir(o.id);
    unwind.add(() => store.remove(o.id));
    record = await withLock(ctx.root, o.id, () => restoreLocked(ctx, o, spec, bundle, descriptors, criu, native, store, unwind, pair?.[1]));
  } catch (e) {
    await unwind.run();
    if (pair) for (const fd of pair) native.close(fd);
    throw e;
  }
  let master: number | undefined;
  if (pair) {
    native.close(pair[1]);
    if (native.pollIn(pair[0], 0)) master = native.recvFd(pair[0]);
    native.close(pair[0]);
  }
  if (o.detach) return 0;
  const status = await waitForeground({ pid: record.pid, native, master });
  await withLock(ctx.root, o.id, async () => {
    const r = store.tryLoad(o.id);
    if (r) await destroy(ctx, store, r);
  }).catch((e) => {
    throw new TsrunError(`delete after restore: ${describeError(e)}`);
  });
  return status;
}

async function restoreLocked(
  ctx: Ctx, o: RestoreOptions, spec: Spec, bundle: string, descriptors: string[], criu: string, native: Native,
  store: Store, unwind: Unwind, ptyFd: number | undefined,
): Promise<ContainerRecord> {
  const rootfs = path.resolve(bundle, spec.root!.path);
  const record: ContainerRecord = creatingRecord(o.id, spec, bundle, rootfs, { pid: process.pid, startTime: readStartTime(process.pid) ?? 0 });

  const cgroup: CgroupHandle = resolveContainerCgroup(ctx, spec, o.id);
  record.cgroup = cgroup;
  store.save(record);
  checkResourcesForMode(spec.linux?.resources, cgroup.mode ?? detectMode());
  // systemd driver: the unit is made with criu's pid in it, once criu runs.
  if (!cgroup.systemd) createCgroup(cgroup, undefined);
  unwind.add(() => destroyCgroup(cgroup, { kill: true }));

  const fds: number[] = [];
  unwind.add(() => {
    for (const fd of fds.splice(0)) fs.closeSync(fd);
  });
  const ns = restoreNamespaces(spec);
  fds.push(...ns.fds);
  const c = o.criu;
  const opts: CriuOptsMsg = {
    imagesDirFd: openDirFd(c.imagesDir, fds),
    evasiveDevices: true,
    logLevel: 4,
    logFile: 'restore.log',
    rstSibling: true,
    manageCgroups: true,
    manageCgroupsMode: c.manageCgroupsMode,
    notifyScripts: true,
    shellJob: c.shellJob,
    extUnixSk: c.extUnixSk,
    tcpEstablished: c.tcpEstablished,
    fileLocks: c.fileLocks,
    emptyNs: c.emptyNs,
    orphanPtsMaster: true,
    autoDedup: c.autoDedup,
    lazyPages: c.lazyPages,
    joinNs: ns.joinNs,
    inheritFd: [...stdioInheritFds(descriptors), ...ns.inheritFd],
    extMnt: restoreExtMounts(externalBinds(spec, bundle, cgroup), spec.linux?.maskedPaths ?? []),
  };
  if (c.lsmProfile) opts.lsmProfile = c.lsmProfile;
  if (c.lsmMountContext) opts.lsmMountContext = c.lsmMountContext;
  let logDir = c.imagesDir;
  if (c.workDir) {
    fs.mkdirSync(c.workDir, { recursive: true, mode: 0o700 });
    opts.workDirFd = openDirFd(c.workDir, fds);
    logDir = c.workDir;
  }
  const config = criuConfigFile(spec.annotations);
  if (config) opts.configFile = config;

  let consoleFd = ptyFd;
  if (o.consoleSocket !== undefined) {
    consoleFd = await connectConsoleSocket(native, o.consoleSocket);
    fds.push(consoleFd);
  }
  const mount = mountCriuRoot(rootfs, ctx.root, o.id);
  opts.root = mount.root;
  try {
    prepareRestoreMounts(rootfs, bundle, spec.mounts ?? []);
  } catch (e) {
    mount.release();
    throw e;
  }
  const state = (pid: number) => ({ ociVersion: spec.ociVersion, id: o.id, status: 'creating' as const, pid, bundle, annotations: spec.annotations });
  let restored: number | undefined;
  unwind.add(() => {
    if (restored !== undefined) native.kill(restored, 9);
  });
  const onNotify = (n: Notify): void => {
    switch (n.script) {
      case 'setup-namespaces':
        runHooks('prestart', spec.hooks?.prestart, state(n.pid));
        runHooks('createRuntime', spec.hooks?.createRuntime, state(n.pid));
        break;
      case 'post-restore':
        restored = n.pid;
        record.pid = n.pid;
        record.pidStartTime = readStartTime(n.pid) ?? 0;
        record.status = 'running';
        record.created = new Date().toISOString();
        store.save(record);
        break;
      case 'orphan-pts-master':
        if (n.fd < 0) throw new TsrunError('criu sent no pty master with orphan-pts-master');
        if (consoleFd === undefined) throw new TsrunError('the restored container has a terminal: restore it with --console-socket');
        native.sendFd(consoleFd, n.fd);
        break;
      default:
        // network-lock/unlock and the rest: tsrun configures no network.
        break;
    }
  };
  let resp;
  try {
    resp = await criuCall({
      criu,
      native,
      keepFds: [...fds].sort((a, b) => a - b),
      onSpawn: (pid) => {
        // As runc: CRIU restores from inside the container's cgroup, with the limits set.
        if (cgroup.systemd) enterSystemdScope(o.id, cgroup, pid, spec);
        else addProcess(cgroup, pid);
        applyResources(cgroup, { ...spec.linux?.resources, devices: effectiveDeviceRules(spec) });
        opts.cgRoot = cgroupRoots(pid);
      },
      onNotify,
    }, { type: ReqType.RESTORE, opts });
  } finally {
    mount.release();
  }
  if (!resp.success) {
    const detail = resp.crErrmsg ?? (resp.crErrno ? `errno ${resp.crErrno}` : undefined);
    throw new TsrunError(criuFailureMessage('criu restore', path.join(logDir, 'restore.log'), detail));
  }
  const pid = resp.restore?.pid ?? restored;
  if (!pid) throw new TsrunError('criu restore: no pid in its answer');
  if (record.pid !== pid || record.status !== 'running') {
    restored = pid;
    record.pid = pid;
    record.pidStartTime = readStartTime(pid) ?? 0;
    record.status = 'running';
    store.save(record);
  }
  if (o.pidFile) writePidFile(o.pidFile, pid);
  for (const fd of fds.splice(0)) fs.closeSync(fd);
  return record;
}

/** runc's cg_root list: criu's own cgroups (the container's, now) per controller, from /proc/<pid>/cgroup. */
function cgroupRoots(pid: number): CgroupRoot[] {
  const out: CgroupRoot[] = [];
  for (const line of fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const ctrl of m[1]!.split(',')) out.push({ ctrl, path: m[2]! });
  }
  return out;
}
