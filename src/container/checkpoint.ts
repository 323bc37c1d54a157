// `checkpoint`: CRIU dumps a running (or paused) container into --image-path. On success the
// container is destroyed unless --leave-running or --pre-dump; on any failure it is left as it
// was (CRIU resumes the tasks it froze) and the error carries CRIU's complaint and its log.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Ctx } from '../cli/context.js';
import { TsrunError, describeError } from '../errors.js';
import { loadConfig } from '../spec/load-config.js';
import { loadNative } from '../native/native.js';
import type { CriuOptions } from '../criu/options.js';
import { ReqType, reqTypeName, type CriuOptsMsg, type CriuReqMsg } from '../criu/rpc.js';
import { criuCall, findCriu, type Notify } from '../criu/swrk.js';
import { criuFailureMessage } from '../criu/log.js';
import { checkFeatures, openDirFd, statusFdOk } from '../criu/common.js';
import {
  DESCRIPTORS_FILE, criuConfigFile, dumpExtMounts, dumpExternalNamespaces, externalBinds, freezeCgroup, stdioLinks,
} from '../criu/externals.js';
import { isFrozen, thaw, type CgroupHandle } from '../cgroups/index.js';
import { destroy } from './delete.js';
import { withLock } from './lock.js';
import { currentStatus } from './status.js';
import { Store } from './store.js';

function thawIfFrozen(ctx: Ctx, id: string, cgroup: CgroupHandle): void {
  try {
    if (isFrozen(cgroup)) thaw(cgroup);
  } catch (e) {
    ctx.log.warn(`checkpoint ${id}: cannot thaw the container after the failed dump: ${describeError(e)}`);
  }
}

export async function checkpoint(ctx: Ctx, id: string, o: CriuOptions): Promise<void> {
  const store = new Store(ctx.root);
  store.load(id);
  await withLock(ctx.root, id, async () => {
    const r = store.load(id);
    const status = currentStatus(r);
    if (status !== 'running' && status !== 'paused') throw new TsrunError(`container cannot be checkpointed in ${status} state`);
    // The mounts and masked paths are the config's: the bundle's config.json, as for create.
    let spec;
    try {
      spec = loadConfig(r.bundle);
    } catch (e) {
      throw new TsrunError(`read the container's config: ${describeError(e)}`);
    }
    const criu = findCriu(ctx.criu);
    const native = await loadNative();
    const fds: number[] = [];
    let dumped = false;
    try {
      fs.mkdirSync(o.imagesDir, { recursive: true, mode: 0o700 });
      const imagesFd = openDirFd(o.imagesDir, fds);
      const opts: CriuOptsMsg = {
        imagesDirFd: imagesFd,
        logLevel: 4,
        logFile: 'dump.log',
        root: r.rootfs,
        manageCgroups: true,
        manageCgroupsMode: o.manageCgroupsMode,
        notifyScripts: true,
        pid: r.pid,
        shellJob: o.shellJob,
        leaveRunning: o.leaveRunning,
        tcpEstablished: o.tcpEstablished,
        extUnixSk: o.extUnixSk,
        fileLocks: o.fileLocks,
        emptyNs: o.emptyNs,
        orphanPtsMaster: true,
        autoDedup: o.autoDedup,
        lazyPages: o.lazyPages,
        external: dumpExternalNamespaces(spec),
      };
      let logDir = o.imagesDir;
      if (o.workDir) {
        fs.mkdirSync(o.workDir, { recursive: true, mode: 0o700 });
        opts.workDirFd = openDirFd(o.workDir, fds);
        logDir = o.workDir;
      }
      const config = criuConfigFile(r.annotations);
      if (config) opts.configFile = config;
      const freezer = freezeCgroup(r.cgroup);
      if (freezer) opts.freezeCgroup = freezer;
      if (o.pageServer) opts.ps = o.pageServer;
      if (o.parentImage) {
        opts.parentImg = o.parentImage;
        opts.trackMem = true;
      }
      const call = { criu, native, keepFds: fds };
      if (o.preDump) await checkFeatures(call, { memTrack: true }, 'pre-dump (memory tracking)');
      if (o.lazyPages) {
        await checkFeatures(call, { lazyPages: true }, '--lazy-pages');
        // CRIU (3.15+) says "status-ready" when its page server is up; then \0 goes to
        // --status-fd (runc's way with these CRIU versions, rather than CRIU's own status_fd).
        if (o.statusFd !== -1) statusFdOk(o.statusFd);
      }
      if (!o.preDump) {
        opts.extMnt = dumpExtMounts(externalBinds(spec, r.bundle, r.cgroup), spec.linux?.maskedPaths ?? [], r.pid);
        // runc's descriptors.json: restore hands the new stdio in place of these pipes.
        fs.writeFileSync(path.join(o.imagesDir, DESCRIPTORS_FILE), JSON.stringify(stdioLinks(r.pid)), { mode: 0o600 });
      }
      const req: CriuReqMsg = { type: o.preDump ? ReqType.PRE_DUMP : ReqType.DUMP, opts };
      let statusFd = o.statusFd;
      const onNotify = (n: Notify): void => {
        if (n.script !== 'status-ready' || statusFd === -1) return;
        try {
          fs.writeSync(statusFd, Buffer.from([0]));
          fs.closeSync(statusFd);
        } catch (e) {
          ctx.log.warn(`checkpoint ${id}: cannot write \\0 to --status-fd ${statusFd}: ${describeError(e)}`);
        }
        statusFd = -1;
      };
      const resp = await criuCall({ ...call, keepFds: [...fds].sort((a, b) => a - b), onNotify }, req);
      if (!resp.success) {
        const detail = resp.crErrmsg ?? (resp.crErrno ? `errno ${resp.crErrno}` : undefined);
        throw new TsrunError(criuFailureMessage(`criu ${reqTypeName(req.type).toLowerCase().replace('_', '-')}`, path.join(logDir, 'dump.log'), detail));
      }
      dumped = true;
    } finally {
      for (const fd of fds) fs.closeSync(fd);
      // A criu that died or was cut off mid-dump may leave the freezer on: a running container
      // must not stay frozen because its checkpoint failed.
      if (!dumped && status === 'running' && r.cgroup) thawIfFrozen(ctx, id, r.cgroup);
    }
    // CRIU killed the container's processes after the dump: what is left goes like `delete`.
    if (!o.leaveRunning && !o.preDump) await destroy(ctx, store, r);
  });
}
